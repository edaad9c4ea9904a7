import type { MessageView } from "../../src/channels/webchat/hub";
import { createPerson, parseCookie } from "../../src/channels/webchat/visitors";
import type { Database } from "../../src/db/client";
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
    this.remember(res);
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

  /** Keeps a cookie the server sets, as a browser does (it is replaced after the first message). */
  private remember(res: Response): Response {
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0] ?? "";
    return res;
  }

  /**
   * Makes the session's visitor a person now, as their first message would (a new session has
   * no users row until then): for tests that set the person up in the database directly.
   */
  async becomePerson(db: Database): Promise<number> {
    const cookie = parseCookie(this.cookie.slice(this.cookie.indexOf("=") + 1));
    if (!cookie) throw new Error("no session to make a person of");
    this.userId = (await createPerson(db, cookie)).id;
    return this.userId;
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
    }).then((res) => this.remember(res));
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
    }).then((res) => this.remember(res));
  }

  async history(): Promise<MessageView[]> {
    const res = this.remember(
      await fetch(`${this.base}/chat/history`, { headers: { cookie: this.cookie } }),
    );
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
