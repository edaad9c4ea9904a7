/**
 * The public chart of a closed poll's result, in each language:
 *   GET /polls/{id}/chart/{ky|ru|en}.png
 * The result message's photo is this path (the web chat shows it from here; for Telegram the
 * app uploads it from here, see src/delivery/app-files.ts). A closed poll's counts never change,
 * so the image is immutable; a poll not closed (or unknown) is 404: no early results leak.
 */
import { Hono } from "hono";
import type { BotDeps } from "../../bot/context";
import { isLocale } from "../../locales";
import { serviceOf } from "./bot-common";
import { pollChart } from "./chart";

/** Rendered charts of closed polls (a result goes to thousands at once), newest kept. */
const charts = new Map<string, ArrayBuffer>();
const MAX_CHARTS = 200;

function remember(key: string, png: ArrayBuffer): void {
  if (charts.size >= MAX_CHARTS) {
    const oldest = charts.keys().next().value;
    if (oldest !== undefined) charts.delete(oldest);
  }
  charts.set(key, png);
}

export function pollRoutes(deps: BotDeps): Hono {
  const app = new Hono();
  app.get("/polls/:id{[0-9]{1,15}}/chart/:file{(ky|ru|en)\\.png}", async (c) => {
    const id = Number(c.req.param("id"));
    const lang = c.req.param("file").slice(0, 2);
    if (!isLocale(lang)) return c.text("Not found", 404);
    const key = `${id}:${lang}`;
    let png = charts.get(key);
    if (!png) {
      const result = await serviceOf(deps).closedResult(id);
      if (!result) return c.text("Not found", 404);
      const bytes = pollChart(result.poll, result.tally, lang, deps.config.timezone);
      png = new Uint8Array(bytes).buffer;
      remember(key, png);
    }
    return c.body(png, 200, {
      "Content-Type": "image/png",
      "Cache-Control": "public, max-age=31536000, immutable",
    });
  });
  return app;
}
