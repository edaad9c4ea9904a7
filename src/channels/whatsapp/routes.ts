import { createHmac, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseWebhook, type WhatsAppInbound } from "./inbound";

export const WHATSAPP_WEBHOOK_PATH = "/whatsapp/webhook";
/** Meta's webhook bodies are a few kilobytes; anything near this is not from Meta. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

interface RoutesLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WhatsAppRoutesDeps {
  appSecret: string;
  verifyToken: string;
  inbound: WhatsAppInbound;
  logger: RoutesLogger;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether `header` ("sha256=<hex>") is the HMAC-SHA256 of exactly these bytes with the secret. */
export function validSignature(
  raw: Uint8Array,
  header: string | undefined,
  secret: string,
): boolean {
  if (!header?.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(raw).digest("hex");
  return sameSecret(header.slice("sha256=".length).toLowerCase(), expected);
}

/**
 * Meta's webhook: the verification handshake (GET) and signed notifications (POST). A POST is
 * answered as soon as its messages are stored in the inbox: 401 for a missing or wrong signature
 * (nothing is read), 413 for an oversized body, 200 for anything signed (also shapes Aimak does
 * not know, so Meta does not retry them for days), 500 only when the database could not store
 * it (then Meta delivers it again).
 */
export function whatsappRoutes(deps: WhatsAppRoutesDeps): Hono {
  const app = new Hono();

  app.get(WHATSAPP_WEBHOOK_PATH, (c) => {
    const mode = c.req.query("hub.mode");
    const token = c.req.query("hub.verify_token") ?? "";
    const challenge = c.req.query("hub.challenge") ?? "";
    if (mode !== "subscribe" || !sameSecret(token, deps.verifyToken)) {
      return c.text("Forbidden", 403);
    }
    return c.text(challenge, 200);
  });

  app.post(
    WHATSAPP_WEBHOOK_PATH,
    bodyLimit({ maxSize: WEBHOOK_BODY_LIMIT, onError: (c) => c.text("Payload Too Large", 413) }),
    async (c) => {
      const raw = new Uint8Array(await c.req.arrayBuffer());
      if (!validSignature(raw, c.req.header("x-hub-signature-256"), deps.appSecret)) {
        return c.text("Unauthorized", 401);
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.from(raw).toString("utf8"));
      } catch {
        deps.logger.warn({ bytes: raw.length }, "whatsapp: a signed webhook that is not JSON");
        return c.text("OK", 200);
      }
      const parsed = parseWebhook(body);
      if (parsed.unknown > 0) {
        deps.logger.warn(
          { unknown: parsed.unknown },
          "whatsapp: webhook parts of unknown shape ignored",
        );
      }
      try {
        await deps.inbound.accept(parsed);
      } catch (err) {
        deps.logger.error({ err }, "whatsapp: could not store a webhook; Meta will send it again");
        return c.text("Try again", 500);
      }
      return c.text("OK", 200);
    },
  );

  return app;
}
