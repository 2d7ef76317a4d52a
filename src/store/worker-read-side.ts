// The viewer's view of a store whose reads a worker thread answers on a connection of its own: the
// same Store interface, the methods in `offloaded` sent to the worker, everything else passed to the
// gateway's store. Both adapters use it (sqlite/read-side.ts, mssql/read-side.ts), so that the API,
// the jobs and the CLI keep one code path whichever store is configured. The worker starts on the
// first read and stops after idleMs without one.
import { Worker } from 'node:worker_threads';
import type { Store } from './store.ts';
import { StoreUnavailableError } from './errors.ts';
import { WORKER_YOUNG_GENERATION_MIB } from '../memory.ts';
import { IdleWorker } from './idle-worker.ts';
import { routeMethods } from './route-methods.ts';

/**
 * How long the reader worker may sit without a request before it is stopped. A worker thread is a
 * V8 instance of its own (15-20 MB): an idle gateway, or one that only takes uploads, gives it back
 * between the offline sweep's minutes and the viewer's visits; the next read starts a new one (~0.1 s).
 */
export const READER_IDLE_MS = 10_000;

/** Buffers cross a worker boundary as Uint8Arrays: give callers of refusals() the Buffers the interface promises. */
export function reviveRefusals(method: string, value: unknown): unknown {
  if (method === 'refusals') {
    return (value as { bodySha256: Uint8Array; bodyPrefix: Uint8Array }[]).map((r) => ({ ...r, bodySha256: Buffer.from(r.bodySha256), bodyPrefix: Buffer.from(r.bodyPrefix) }));
  }
  return value;
}

export interface ReadRequest { id: number; method: string; args: unknown[] }
/** `unavailable`: the worker's store judged the error a passing one (StoreUnavailableError). */
export type ReadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; code?: string; unavailable?: boolean };

export interface WorkerReadSideOptions {
  workerFile: string;
  workerData: unknown;
  /** Store methods the worker answers. */
  offloaded: ReadonlySet<string>;
  idleMs: number;
  /** Gives callers back what the interface promises (Buffers cross a worker boundary as Uint8Arrays). */
  revive?: (method: string, value: unknown) => unknown;
  /** The error a failed reply becomes: StoreUnavailableError when it will likely pass. */
  toError?: (reply: Extract<ReadReply, { ok: false }>) => Error;
  /** Extra arguments the worker needs with some calls (SQLite's archive: the current chain key). */
  extraArgs?: (method: string, target: Store) => unknown[];
}

export class WorkerReadSide {
  private readonly thread: IdleWorker<ReadReply>;
  /** Measured-data reads answered by the workers already stopped for idleness. */
  private viewerReadsOfStoppedWorkers = 0;
  private readonly options: WorkerReadSideOptions;
  /** The gateway's store, with reads going to the worker. */
  readonly store: Store;

  constructor(store: Store, options: WorkerReadSideOptions) {
    this.options = options;
    this.thread = new IdleWorker<ReadReply>({
      name: () => this.name,
      idleMs: options.idleMs,
      start: () => new Worker(options.workerFile, { workerData: options.workerData, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MIB } }),
      unrefWhenIdle: true,
      // Its count of measured-data reads is kept, so that viewerReads() keeps counting across workers.
      beforeIdleStop: async () => {
        const reads = await this.call('viewerReads', []).catch(() => 0) as number;
        return () => { this.viewerReadsOfStoppedWorkers += reads; };
      },
    });
    this.store = routeMethods(store, options.offloaded, (method, args) => this.call(method, [...args, ...(options.extraArgs?.(method, store) ?? [])]));
  }

  /** For error messages. */
  protected get name(): string {
    return 'the reader worker';
  }

  /** Whether the reader worker is running (it stops after idleMs without a request). */
  get running(): boolean {
    return this.thread.running;
  }

  async call(method: string, args: unknown[]): Promise<unknown> {
    const reply = await this.thread.request((id) => ({ id, method, args } satisfies ReadRequest));
    const { revive, toError } = this.options;
    if (reply.ok) return revive ? revive(method, reply.value) : reply.value;
    throw toError ? toError(reply) : reply.unavailable ? new StoreUnavailableError(reply.error) : new Error(reply.error);
  }

  /** Measured-data reads the worker's connection answered (isolation tests). */
  async viewerReads(): Promise<number> {
    const current = await this.call('viewerReads', []) as number;
    return this.viewerReadsOfStoppedWorkers + current;
  }

  /** CSV export days the worker read and formatted (isolation tests). */
  async csvDaysFormatted(): Promise<number> {
    return await this.call('csvDaysFormatted', []) as number;
  }

  async close(): Promise<void> {
    await this.thread.close();
  }
}
