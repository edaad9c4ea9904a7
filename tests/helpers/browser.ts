import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless, as root, and quiet on a machine with no network beyond localhost. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Without chromium a developer's `npm test` skips browser tests; CI installs it and never skips. */
export const canRunBrowser = existsSync(CHROMIUM) || Boolean(process.env.CI);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** The visible text of a locale string: markup dropped, cut before the first placeholder/line. */
export function visible(text: string): string {
  return text
    .replace(/<[^>]+>/g, "")
    .split("{{")[0]!
    .split("\n")[0]!
    .trim();
}

/** Viewports a person uses: a phone and a desktop. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
} as const;
export const DESKTOP: { viewport: { width: number; height: number } } = {
  viewport: { width: 1280, height: 720 },
};
