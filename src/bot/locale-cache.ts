import type { Locale } from "../locales";

/**
 * The locale of recently active chats. Conversations build fresh context objects on every
 * replay and must not query the database for them; the user middleware refreshes this cache on
 * every update before conversations run, so it always holds the current choice.
 */
export class LocaleCache {
  private readonly map = new Map<number, Locale>();

  constructor(private readonly capacity = 100_000) {}

  get(chatId: number): Locale | undefined {
    return this.map.get(chatId);
  }

  delete(chatId: number): void {
    this.map.delete(chatId);
  }

  set(chatId: number, locale: Locale): void {
    this.map.delete(chatId);
    this.map.set(chatId, locale);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }
}
