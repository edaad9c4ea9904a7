/**
 * The web chat's side of the fuzzer: requests to every web chat endpoint (and a few others) with
 * no cookie, a forged one, another session's cookie, wrong CSRF tokens, wrong methods and
 * content types, malformed and huge bodies — beside valid sends and presses of real sessions.
 */
import type { Dice } from "./random";

/** Percent-encoded, lone surrogates dropped (they cannot be encoded). */
function uri(text: string): string {
  return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ""));
}

export interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** A session the fuzzer opened through POST /chat/session, as the page would. */
export interface WebSession {
  cookie: string;
  csrf: string;
  /** The callback data of the buttons last seen in its history. */
  buttons: { messageId: number; data: string }[];
}

const PATHS = [
  "/",
  "/chat/session",
  "/chat/send",
  "/chat/press",
  "/chat/history",
  "/chat/events",
  "/chat/assets/app.js",
  "/chat/assets/..%2F..%2Fpackage.json",
  "/chat/assets/index.html",
  "/chat/assets/x.exe",
  "/chat/",
  "/chat/unknown",
  "/healthz",
  "/hearings/1.ics",
  "/hearings/99999999999999999999999.ics",
  "/municipalities/1/hearings.ics",
  "/municipalities/0/hearings.ics",
  "/polls/1/chart/ru.png",
  "/polls/999999999999999/chart/ky.png",
  "/telegram/webhook",
  "/whatsapp/webhook",
  "/cli/run",
  "/%00",
  "/../../etc/passwd",
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/jsonx",
  "",
];
const TEXTS = [
  "/start",
  "/help",
  "/settings",
  "/hearings",
  "/polls",
  "/privacy",
  "/mydata",
  "сокулук",
  "сколько депутатов в айылном кенеше",
  "<img src=x onerror=alert(1)>",
  "1",
  "ооба",
];

export class RequestGenerator {
  constructor(
    private readonly dice: Dice,
    private readonly sessions: WebSession[],
    private readonly origin: string,
  ) {}

  next(): FuzzRequest {
    const d = this.dice;
    const kind = d.weighted<string>([
      [20, "valid_send"],
      [12, "valid_press"],
      [6, "history"],
      [3, "events"],
      [5, "new_session"],
      [8, "no_cookie"],
      [8, "forged_cookie"],
      [6, "other_session"],
      [8, "bad_csrf"],
      [10, "malformed_body"],
      [3, "huge_body"],
      [6, "wrong_content_type"],
      [8, "wrong_method"],
      [5, "random_path"],
      [3, "cross_origin"],
    ]);
    return { kind, ...this.build(kind) };
  }

  private build(kind: string): Omit<FuzzRequest, "kind"> {
    const d = this.dice;
    const s = d.pick(this.sessions);
    const page = (session: WebSession) => ({
      cookie: `aimak_chat=${session.cookie}`,
      "x-aimak-csrf": session.csrf,
      "content-type": "application/json",
      origin: this.origin,
    });
    switch (kind) {
      case "valid_send":
        return {
          method: "POST",
          path: "/chat/send",
          headers: page(s),
          body: JSON.stringify({ text: d.pick(TEXTS) }),
        };
      case "valid_press": {
        const button = s.buttons.length > 0 ? d.pick(s.buttons) : { messageId: 1, data: "lang:ru" };
        return {
          method: "POST",
          path: "/chat/press",
          headers: page(s),
          body: JSON.stringify(button),
        };
      }
      case "history":
        return {
          method: "GET",
          path: "/chat/history",
          headers: { cookie: `aimak_chat=${s.cookie}` },
        };
      case "events":
        return {
          method: "GET",
          path: "/chat/events",
          headers: { cookie: `aimak_chat=${s.cookie}` },
        };
      case "new_session":
        return {
          method: "POST",
          path: "/chat/session",
          headers: {
            origin: this.origin,
            "accept-language": d.pick(["ky", "ru-RU,ru;q=0.9", "en", "zz", d.headerJunk(30), ""]),
          },
        };
      case "no_cookie":
        return {
          method: d.pick(["GET", "POST"]),
          path: d.pick(["/chat/send", "/chat/press", "/chat/history", "/chat/events"]),
          headers: { "content-type": "application/json", origin: this.origin },
          body: JSON.stringify({ text: "hi" }),
        };
      case "forged_cookie": {
        const forged = d.pick([
          d.junk(d.int(0, 60)),
          "A".repeat(43),
          "x".repeat(d.int(100, 8000)),
          `${s.cookie.slice(0, -1)}A`,
          "%ZZ%",
          "a=b; c",
        ]);
        return {
          method: d.pick(["GET", "POST"]),
          path: d.pick(["/chat/send", "/chat/press", "/chat/history", "/chat/session"]),
          headers: {
            cookie: `aimak_chat=${uri(forged)}`,
            "x-aimak-csrf": s.csrf,
            "content-type": "application/json",
            origin: this.origin,
          },
          body: JSON.stringify({ text: "hi", messageId: 1, data: "lang:ru" }),
        };
      }
      case "other_session": {
        const other = d.pick(this.sessions);
        const button =
          other.buttons.length > 0 ? d.pick(other.buttons) : { messageId: 1, data: "lang:ky" };
        // Another session's cookie with this one's CSRF token, or another session's button.
        return d.chance(0.5)
          ? {
              method: "POST",
              path: "/chat/send",
              headers: { ...page(other), "x-aimak-csrf": s.csrf },
              body: '{"text":"hi"}',
            }
          : { method: "POST", path: "/chat/press", headers: page(s), body: JSON.stringify(button) };
      }
      case "bad_csrf":
        return {
          method: "POST",
          path: d.pick(["/chat/send", "/chat/press"]),
          headers: {
            ...page(s),
            "x-aimak-csrf": d.pick(["", "x", s.csrf.slice(1), d.headerJunk(44)]),
          },
          body: '{"text":"hi"}',
        };
      case "malformed_body":
        return {
          method: "POST",
          path: d.pick(["/chat/send", "/chat/press", "/chat/session"]),
          headers: page(s),
          body: d.pick([
            "",
            "{",
            "null",
            "[]",
            "42",
            '"text"',
            '{"text":null}',
            '{"text":42}',
            '{"text":["a"]}',
            '{"text":{"toString":"x"}}',
            '{"__proto__":{"text":"polluted"}}',
            '{"constructor":{"prototype":{"x":1}}}',
            `{"text":"${"x".repeat(5000)}"}`,
            '{"text":"\\ud800"}',
            '{"text":"a\\u0000b"}',
            '{"messageId":"1e400","data":"lang:ru"}',
            '{"messageId":-1,"data":"lang:ru"}',
            `{"messageId":${2 ** 53},"data":"lang:ru"}`,
            '{"messageId":1,"data":42}',
            `{"messageId":1,"data":"${"д".repeat(40)}"}`,
            `${"[".repeat(3000)}${"]".repeat(3000)}`,
            "\u0000",
          ]),
        };
      case "huge_body":
        return {
          method: "POST",
          path: d.pick(["/chat/send", "/chat/press", "/chat/session", "/telegram/webhook"]),
          headers: page(s),
          body: JSON.stringify({ text: "я".repeat(d.int(40_000, 200_000)) }),
        };
      case "wrong_content_type":
        return {
          method: "POST",
          path: d.pick(["/chat/send", "/chat/press", "/chat/session"]),
          headers: { ...page(s), "content-type": d.pick(TYPES) },
          body: d.chance(0.5) ? "text=hi" : '{"text":"hi"}',
        };
      case "wrong_method":
        return {
          method: d.pick(METHODS),
          path: d.pick([
            "/chat/send",
            "/chat/press",
            "/chat/session",
            "/chat/history",
            "/",
            "/healthz",
          ]),
          headers: page(s),
          ...(d.chance(0.5) ? { body: '{"text":"hi"}' } : {}),
        };
      case "random_path":
        return {
          method: d.pick(METHODS),
          path: d.chance(0.7) ? d.pick(PATHS) : `/${uri(d.junk(d.int(1, 100)))}`,
          headers: d.chance(0.5) ? page(s) : {},
        };
      case "cross_origin":
        return {
          method: "POST",
          path: d.pick(["/chat/send", "/chat/press", "/chat/session"]),
          headers: {
            ...page(s),
            ...(d.chance(0.5)
              ? { origin: "https://evil.example" }
              : { "sec-fetch-site": "cross-site" }),
          },
          body: '{"text":"hi"}',
        };
      default:
        return { method: "GET", path: "/", headers: {} };
    }
  }
}
