import type { MessageView } from "../../src/channels/webchat/hub";
import { WAIT_MS, waitFor } from "./wait";

/** A person's browser on the web chat, over real HTTP: the cookie and the page's token. */
export class WebchatClient {
  cookie = "";
  csrf = "";
  userId = 0;

  constructor(
    readonly base: string,
    private readonly acceptLanguage = "ky",
  ) {}

  /** Opens (or resumes) the session as the page does. */
  async session(): Promise<{ userId: number; locale: string; maxLength: number }> {
    const res = await fetch(`${this.base}/chat/session`, {
      method: "POST",
      headers: {
        "accept-language": this.acceptLanguage,
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
    });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0] ?? "";
    const body = (await res.json()) as {
      userId: number;
      csrf: string;
      locale: string;
      maxLength: number;
    };
    this.userId = body.userId;
    this.csrf = body.csrf;
    return body;
  }

  /** The headers the page sends with a change. */
  pageHeaders(): Record<string, string> {
    return {
      cookie: this.cookie,
      "content-type": "application/json",
      "x-aimak-csrf": this.csrf,
      "accept-language": this.acceptLanguage,
    };
  }

  send(text: string, headers: Record<string, string> = this.pageHeaders()): Promise<Response> {
    return fetch(`${this.base}/chat/send`, {
      method: "POST",
      headers,
      body: JSON.stringify({ text }),
    });
  }

  press(
    messageId: number,
    data: string,
    headers: Record<string, string> = this.pageHeaders(),
  ): Promise<Response> {
    return fetch(`${this.base}/chat/press`, {
      method: "POST",
      headers,
      body: JSON.stringify({ messageId, data }),
    });
  }

  async history(): Promise<MessageView[]> {
    const res = await fetch(`${this.base}/chat/history`, { headers: { cookie: this.cookie } });
    return ((await res.json()) as { messages: MessageView[] }).messages;
  }

  /** Polls the history until a message satisfies `test` (the bot answers asynchronously). */
  waitFor(test: (m: MessageView) => boolean, timeoutMs = WAIT_MS): Promise<MessageView> {
    return waitFor(
      async () => (await this.history()).find(test),
      timeoutMs,
      `a web chat message to user ${this.userId} matching ${test.toString()}`,
    );
  }
}
