/** Counts the requests being handled, so a shutdown can wait for them to finish. */
export class InFlightTracker {
  private count = 0;
  private waiters: Array<() => void> = [];

  /** Marks one request as started. */
  enter(): void {
    this.count += 1;
  }

  /** Marks one request as finished. */
  leave(): void {
    this.count = Math.max(0, this.count - 1);
    if (this.count === 0) this.waiters.splice(0).forEach((wake) => wake());
  }

  /** How many requests are being handled. */
  get size(): number {
    return this.count;
  }

  /** Resolves once nothing is in flight, or after `limitMs`, whichever comes first. */
  async idle(limitMs: number): Promise<void> {
    if (this.count === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, limitMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
