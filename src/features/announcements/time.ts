/** Offset of a time zone from UTC at an instant, in ms (positive east of Greenwich). */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant of a wall-clock time in a time zone. */
export function zonedTime(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - zoneOffsetMs(guess, timeZone);
  return new Date(guess - zoneOffsetMs(first, timeZone));
}

/**
 * Reads a send time typed by staff, in the deployment's time zone: "14:30" (today, or tomorrow
 * when that has passed), "25.12 09:00" or "25.12.2026 09:00". Undefined when unreadable.
 */
export function parseSendTime(input: string, timeZone: string, now = new Date()): Date | undefined {
  const m = /^\s*(?:(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2,4}))?\s+)?(\d{1,2})[:.](\d{2})\s*$/.exec(
    input,
  );
  if (!m) return undefined;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  if (hour > 23 || minute > 59) return undefined;
  const today = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  })
    .format(now)
    .split("-")
    .map(Number) as [number, number, number];
  if (m[1] === undefined) {
    const at = zonedTime(timeZone, today[0], today[1], today[2], hour, minute);
    return at.getTime() > now.getTime() ? at : new Date(at.getTime() + 86_400_000);
  }
  const day = Number(m[1]);
  const month = Number(m[2]);
  let year = m[3] ? Number(m[3]) : today[0];
  if (year < 100) year += 2000;
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const at = zonedTime(timeZone, year, month, day, hour, minute);
  // "25.01" typed in December means next January.
  if (!m[3] && at.getTime() < now.getTime() - 86_400_000) {
    return zonedTime(timeZone, year + 1, month, day, hour, minute);
  }
  return at;
}
