/**
 * The public calendar addresses of hearings, linkable from a municipality's own website:
 *   GET /hearings/{id}.ics                   one hearing (sent with the announcement)
 *   GET /municipalities/{id}/hearings.ics    a municipality's feed to subscribe to
 * Both take an optional `?lang=ky|ru|en` (default Kyrgyz). Drafts are never shown: a draft, like
 * an unknown id, is 404.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { BotDeps } from "../../bot/context";
import { isLocale, type Locale } from "../../locales";
import { displayName, getMunicipality } from "../municipalities/service";
import { hearingCalendar, municipalityCalendar } from "./ics";
import { HearingsService } from "./service";
import { hearingSettingsOf } from "./types";

/**
 * Calendar apps poll a subscribed feed every few hours at most; five minutes keeps a reschedule
 * or a cancellation visible soon without every poll reaching the database.
 */
const CACHE_CONTROL = "public, max-age=300";

/** Ids are positive and fit in PostgreSQL's integer types; anything else matches nothing. */
function idOf(text: string, max: number): number | undefined {
  const id = Number(text);
  return Number.isSafeInteger(id) && id > 0 && id <= max ? id : undefined;
}

const MAX_BIGINT_ID = Number.MAX_SAFE_INTEGER;
const MAX_INT_ID = 2_147_483_647;

/** The language asked for; unknown values fall back to Kyrgyz rather than failing a calendar. */
function localeOf(c: Context): Locale {
  const lang = c.req.query("lang");
  return isLocale(lang) ? lang : "ky";
}

function calendarResponse(c: Context, body: string, filename: string): Response {
  return c.body(body, 200, {
    "Content-Type": "text/calendar; charset=utf-8",
    "Content-Disposition": `inline; filename="${filename}"`,
    "Cache-Control": CACHE_CONTROL,
  });
}

export function hearingRoutes(deps: BotDeps): Hono {
  const app = new Hono();
  const service = new HearingsService(deps.db, hearingSettingsOf(deps.config));

  app.get("/hearings/:file{[0-9]+\\.ics}", async (c) => {
    const id = idOf(c.req.param("file").slice(0, -".ics".length), MAX_BIGINT_ID);
    const hearing = id === undefined ? undefined : await service.publicHearing(id);
    if (!hearing) return c.text("Not found", 404);
    const municipality = await getMunicipality(deps.db, hearing.municipalityId);
    const locale = localeOf(c);
    const body = hearingCalendar(hearing, {
      municipalityName: municipality ? displayName(municipality, locale) : "",
      publicUrl: deps.config.publicUrl,
      locale,
    });
    return calendarResponse(c, body, `hearing-${hearing.id}.ics`);
  });

  app.get("/municipalities/:id{[0-9]+}/hearings.ics", async (c) => {
    const id = idOf(c.req.param("id"), MAX_INT_ID);
    const municipality = id === undefined ? undefined : await getMunicipality(deps.db, id);
    if (!municipality) return c.text("Not found", 404);
    const locale = localeOf(c);
    const body = municipalityCalendar(await service.publicHearingsOf(municipality.id), {
      municipalityName: displayName(municipality, locale),
      publicUrl: deps.config.publicUrl,
      locale,
    });
    return calendarResponse(c, body, `hearings-${municipality.id}.ics`);
  });

  return app;
}
