/** One server-sent event as the page's EventSource would see it. */
export interface SseEvent {
  event: string;
  data: string;
}

/** A web chat page's event stream (GET /chat/events) read over real HTTP. */
export interface EventStreamReader {
  status: number;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Resolves when the server ended the stream (or it was closed here). */
  ended: Promise<void>;
  /** Whether the server has ended the stream. */
  isEnded(): boolean;
  close(): void;
  /** The parsed data of every `message` event so far. */
  messages(): { id: number; fromBot: boolean; text: string }[];
}

export async function openEventStream(base: string, cookie: string): Promise<EventStreamReader> {
  const abort = new AbortController();
  const res = await fetch(`${base}/chat/events`, { headers: { cookie }, signal: abort.signal });
  const events: SseEvent[] = [];
  let done = false;
  const reader = res.body?.getReader();
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader?.read().catch(() => undefined);
      if (!chunk || chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let i = buffer.indexOf("\n\n"); i >= 0; i = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event: SseEvent = { event: "message", data: "" };
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event.event = line.slice(6).trim();
          else if (line.startsWith("data:")) event.data += line.slice(5).trim();
        }
        events.push(event);
      }
    }
    done = true;
  })();
  return {
    status: res.status,
    events,
    ended,
    isEnded: () => done,
    close: () => abort.abort(),
    messages: () =>
      events
        .filter((e) => e.event === "message")
        .map((e) => JSON.parse(e.data) as { id: number; fromBot: boolean; text: string }),
  };
}
