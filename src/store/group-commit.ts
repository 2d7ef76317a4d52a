// Group commit: batches submitted while a write is running, or in the same turn of the event
// loop, share the next transaction. Each submitter's promise settles only after that
// transaction is durable (or failed), which is what lets ingest acknowledge a device.

export interface GroupCommitOptions<T = unknown> {
  maxGroup: number;
  /**
   * Caps on what one group carries besides its count: a group stops before the item that would take
   * it past `rows` or `bytes` (as `weigh` counts them). The first item always goes, so an item larger
   * than a cap is written alone rather than never.
   */
  limits?: { rows: number; bytes: number; weigh: (item: T) => { rows: number; bytes: number } };
}

interface Pending<T, R> { item: T; resolve: (r: R) => void; reject: (e: Error) => void }

/** The writer returns one result or Error per item, in order; throwing fails the whole group. */
export type GroupWriter<T, R> = (items: T[]) => (R | Error)[] | Promise<(R | Error)[]>;

export class GroupCommitter<T, R> {
  private queue: Pending<T, R>[] = [];
  private running: Promise<void> | null = null;
  private scheduled = false;

  private readonly writer: GroupWriter<T, R>;
  private readonly options: GroupCommitOptions<T>;

  constructor(writer: GroupWriter<T, R>, options: GroupCommitOptions<T>) {
    this.writer = writer;
    this.options = options;
  }

  get pending(): number { return this.queue.length; }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate runs after the poll phase, so every request parsed in this turn joins the group.
    setImmediate(() => { this.scheduled = false; this.running = this.runGroups(); });
  }

  private async runGroups(): Promise<void> {
    while (this.queue.length) {
      const group = this.queue.splice(0, this.nextGroupSize());
      try {
        const results = await this.writer(group.map((p) => p.item));
        group.forEach((p, i) => {
          const r = results[i];
          if (r instanceof Error) p.reject(r); else p.resolve(r as R);
        });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        for (const p of group) p.reject(error);
      }
    }
    this.running = null;
  }

  /** How many of the queued items the next group takes: up to maxGroup, within the row and byte caps. */
  private nextGroupSize(): number {
    const limits = this.options.limits;
    const most = Math.min(this.options.maxGroup, this.queue.length);
    if (!limits) return most;
    let rows = 0;
    let bytes = 0;
    for (let n = 0; n < most; n++) {
      const w = limits.weigh(this.queue[n].item);
      rows += w.rows;
      bytes += w.bytes;
      if (n > 0 && (rows > limits.rows || bytes > limits.bytes)) return n;
    }
    return most;
  }

  /** Resolves once everything submitted so far has been written. */
  async drain(): Promise<void> {
    while (this.running || this.scheduled || this.queue.length) {
      if (this.running) await this.running;
      else await new Promise((r) => setImmediate(r));
    }
  }
}
