/**
 * The public calendar addresses over real HTTP: the hearings feature's routes on the app's HTTP
 * server (port 0), fetched with the global fetch, the files read back with ical.js.
 */
import { asc } from "drizzle-orm";
import { Hono } from "hono";
import ICAL from "ical.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BotDeps } from "../../src/bot/context";
import { LocaleCache } from "../../src/bot/locale-cache";
import { parseConfig } from "../../src/config";
import { municipalities } from "../../src/db/schema";
import { hearingRoutes } from "../../src/features/hearings/routes";
import { type HearingRow, hearings } from "../../src/features/hearings/schema";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { type RunningServer, startHttpServer } from "../../src/http/server";
import { createLogger } from "../../src/logger";
import { useTestDatabase } from "../helpers/db";

const PUBLIC_URL = "https://aimak.example.kg";
const database = useTestDatabase(seedDemoDirectoryIfEmpty);
let server: RunningServer;
let base: string;
/** Two municipalities of the shipped directory. */
let town: { id: number; nameKy: string; nameRu: string };
let other: { id: number };
let empty: { id: number };
const ids: Record<string, number> = {};

const DAY = 24 * 60 * 60_000;

async function insertHearing(
  name: string,
  values: Partial<typeof hearings.$inferInsert> & { municipalityId: number },
): Promise<HearingRow> {
  const [row] = await database.db
    .insert(hearings)
    .values({
      kind: "draft_budget",
      status: "published",
      title: { ky: `Бюджет угуусу ${name}`, ru: `Слушания по бюджету ${name}` },
      agenda: { ky: "Күн тартиби", ru: "Повестка" },
      startsAt: new Date(Date.now() + 10 * DAY),
      durationMin: 120,
      place: { ky: "Айыл өкмөтү", ru: "Айыл окмоту" },
      reminderOffsets: [],
      publishedAt: new Date(),
      ...values,
    })
    .returning();
  ids[name] = row!.id;
  return row!;
}

beforeAll(async () => {
  const all = await database.db.select().from(municipalities).orderBy(asc(municipalities.id));
  town = all[0]!;
  other = all[1]!;
  empty = all[2]!;
  await insertHearing("published", { municipalityId: town.id, sequence: 2 });
  await insertHearing("draft", { municipalityId: town.id, status: "draft", publishedAt: null });
  await insertHearing("held", {
    municipalityId: town.id,
    kind: "budget_report",
    status: "held",
    startsAt: new Date(Date.now() - 20 * DAY),
    heldAt: new Date(Date.now() - 20 * DAY),
  });
  await insertHearing("cancelled", {
    municipalityId: town.id,
    status: "cancelled",
    sequence: 4,
    cancelReason: "Зал оңдолууда",
    cancelledAt: new Date(),
  });
  await insertHearing("elsewhere", { municipalityId: other.id });

  const config = parseConfig({ LOG_LEVEL: "silent", PORT: "0", PUBLIC_URL });
  const logger = createLogger("silent");
  const deps: BotDeps = {
    db: database.db,
    config,
    logger,
    locales: new LocaleCache(),
    botUsername: undefined,
  };
  const http = new Hono();
  http.route("/", hearingRoutes(deps));
  server = await startHttpServer(http, "127.0.0.1", 0, logger);
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(() => server?.close());

function events(text: string): { calendar: ICAL.Component; events: ICAL.Event[] } {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return { calendar, events: calendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v)) };
}

const status = (e: ICAL.Event) => e.component.getFirstPropertyValue("status");

describe("GET /hearings/{id}.ics", () => {
  it("serves a published hearing's calendar file", async () => {
    const res = await fetch(`${base}/hearings/${ids.published}.ics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      `inline; filename="hearing-${ids.published}.ics"`,
    );
    expect(res.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const text = await res.text();
    expect(text.startsWith("BEGIN:VCALENDAR\r\n")).toBe(true);
    const { calendar, events: all } = events(text);
    expect(calendar.getFirstPropertyValue("method")).toBe("PUBLISH");
    expect(all).toHaveLength(1);
    expect(all[0]!.uid).toBe(`hearing-${ids.published}@aimak.example.kg`);
    expect(all[0]!.sequence).toBe(2);
    expect(all[0]!.summary).toBe("Бюджет угуусу published");
    expect(all[0]!.description).toContain(town.nameKy);
    expect(all[0]!.component.getFirstPropertyValue("url")).toBe(
      `${PUBLIC_URL}/hearings/${ids.published}.ics`,
    );
  });

  it("speaks the language asked for, and Kyrgyz for an unknown one", async () => {
    const ru = events(await (await fetch(`${base}/hearings/${ids.published}.ics?lang=ru`)).text());
    expect(ru.events[0]!.summary).toBe("Слушания по бюджету published");
    expect(ru.events[0]!.description).toContain(town.nameRu);
    const xx = await fetch(`${base}/hearings/${ids.published}.ics?lang=xx`);
    expect(xx.status).toBe(200);
    expect(events(await xx.text()).events[0]!.summary).toBe("Бюджет угуусу published");
  });

  it("says METHOD:CANCEL and STATUS:CANCELLED for a cancelled hearing", async () => {
    const res = await fetch(`${base}/hearings/${ids.cancelled}.ics`);
    expect(res.status).toBe(200);
    const { calendar, events: all } = events(await res.text());
    expect(calendar.getFirstPropertyValue("method")).toBe("CANCEL");
    expect(status(all[0]!)).toBe("CANCELLED");
    expect(all[0]!.sequence).toBe(4);
    expect(all[0]!.description).toContain("Зал оңдолууда");
  });

  it("serves a held hearing too", async () => {
    const res = await fetch(`${base}/hearings/${ids.held}.ics`);
    expect(res.status).toBe(200);
    expect(status(events(await res.text()).events[0]!)).toBe("CONFIRMED");
  });

  it("answers 404 for drafts, unknown ids and addresses that are not ids", async () => {
    for (const path of [
      `/hearings/${ids.draft}.ics`,
      "/hearings/987654321.ics",
      "/hearings/0.ics",
      "/hearings/99999999999999999999999.ics",
      "/hearings/abc.ics",
      `/hearings/${ids.published}`,
      `/hearings/${ids.published}.ics.txt`,
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type") ?? "", path).not.toContain("text/calendar");
    }
  });
});

describe("GET /municipalities/{id}/hearings.ics", () => {
  it("lists the municipality's published, held and cancelled hearings, not drafts", async () => {
    const res = await fetch(`${base}/municipalities/${town.id}/hearings.ics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      `inline; filename="hearings-${town.id}.ics"`,
    );
    const { calendar, events: all } = events(await res.text());
    expect(calendar.getFirstPropertyValue("method")).toBe("PUBLISH");
    expect(calendar.getFirstPropertyValue("x-wr-calname")).toBe(`Коомдук угуулар · ${town.nameKy}`);
    const uids = all.map((e) => e.uid).sort();
    expect(uids).toEqual(
      [ids.published, ids.held, ids.cancelled].map((id) => `hearing-${id}@aimak.example.kg`).sort(),
    );
    const cancelled = all.find((e) => e.uid.startsWith(`hearing-${ids.cancelled}@`))!;
    expect(status(cancelled)).toBe("CANCELLED");
  });

  it("names the municipality in Russian on request", async () => {
    const res = await fetch(`${base}/municipalities/${town.id}/hearings.ics?lang=ru`);
    const { calendar } = events(await res.text());
    expect(calendar.getFirstPropertyValue("x-wr-calname")).toBe(
      `Публичные слушания · ${town.nameRu}`,
    );
  });

  it("keeps each municipality's hearings to itself", async () => {
    const res = await fetch(`${base}/municipalities/${other.id}/hearings.ics`);
    expect(events(await res.text()).events.map((e) => e.uid)).toEqual([
      `hearing-${ids.elsewhere}@aimak.example.kg`,
    ]);
  });

  it("serves an empty calendar for a municipality without hearings", async () => {
    const res = await fetch(`${base}/municipalities/${empty.id}/hearings.ics`);
    expect(res.status).toBe(200);
    expect(events(await res.text()).events).toEqual([]);
  });

  it("answers 404 for unknown municipalities and ids that are not ids", async () => {
    for (const path of [
      "/municipalities/987654/hearings.ics",
      "/municipalities/99999999999/hearings.ics",
      "/municipalities/0/hearings.ics",
      "/municipalities/abc/hearings.ics",
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
    }
  });
});
