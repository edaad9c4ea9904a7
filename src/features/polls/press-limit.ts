/**
 * How many vote presses one person may make per minute, per app instance. The one-vote rule
 * does not rest on it (the voter key does); it keeps one person's script from flooding the
 * database with changes. In memory: a press costs nothing extra, and a person's presses reach
 * one instance at a time anyway (Telegram delivers a chat's updates in order).
 */
export class PressLimit {
  private readonly windows = new Map<number, { startedAt: number; presses: number }>();
  private sweptAt = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts a press; false when the person is over the limit in the current window. */
  take(userId: number, now = Date.now()): boolean {
    const w = this.windows.get(userId);
    if (!w || now - w.startedAt >= this.windowMs) {
      // Forget people whose window ended, at most once a window: sweeping on every press of a
      // busy poll (100,000 people within a minute) would cost more than the votes.
      if (now - this.sweptAt >= this.windowMs) this.sweep(now);
      this.windows.set(userId, { startedAt: now, presses: 1 });
      return true;
    }
    w.presses++;
    return w.presses <= this.max;
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [id, w] of this.windows) {
      if (now - w.startedAt >= this.windowMs) this.windows.delete(id);
    }
  }
}
