// Waiting between attempts at something unavailable (the database, mostly): each wait doubles up
// to a maximum, a success starts again from the first, and wake() ends the current wait at once
// (new work arrived, or the gateway is stopping).
export class Backoff {
  private readonly firstMs: number;
  private readonly maxMs: number;
  private nextWaitMs: number;
  private wakeUp: (() => void) | null = null;

  constructor(firstMs: number, maxMs: number) {
    this.firstMs = firstMs;
    this.maxMs = maxMs;
    this.nextWaitMs = firstMs;
  }

  /** How long the next sleep() waits, for the log line that announces it. */
  get nextMs(): number { return this.nextWaitMs; }

  sleep(): Promise<void> {
    const ms = this.nextWaitMs;
    this.nextWaitMs = Math.min(ms * 2, this.maxMs);
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.wakeUp = null; resolve(); };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  reset(): void { this.nextWaitMs = this.firstMs; }

  wake(): void { this.wakeUp?.(); }
}
