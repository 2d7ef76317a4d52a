// The viewer's view of a store whose reads a worker thread answers on a connection of its own: the
// same Store interface, the methods in `offloaded` sent to the worker, everything else passed to the
// gateway's store. Both adapters use it (sqlite/read-side.ts, mssql/read-side.ts), so that the API,
// the jobs and the CLI keep one code path whichever store is configured. The worker starts on the
// first read and stops after idleMs without one.
import { Worker } from 'node:worker_threads';
import type { Store } from './store.ts';
import { StoreUnavailableError } from './errors.ts';
import { WORKER_YOUNG_GENERATION_MIB } from '../memory.ts';

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
  private worker: Worker | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Measured-data reads answered by the workers already stopped for idleness. */
  private viewerReadsOfStoppedWorkers = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly options: WorkerReadSideOptions;
  /** The gateway's store, with reads going to the worker. */
  readonly store: Store;

  constructor(store: Store, options: WorkerReadSideOptions) {
    this.options = options;
    this.store = new Proxy(store, {
      get: (target, prop, receiver) => {
        if (typeof prop === 'string' && options.offloaded.has(prop)) {
          return (...args: unknown[]) => this.call(prop, [...args, ...(options.extraArgs?.(prop, target) ?? [])]);
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private start(): Worker {
    const { workerFile, workerData, revive, toError } = this.options;
    const worker = new Worker(workerFile, { workerData, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MIB } });
    worker.on('message', (reply: ReadReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (!w) return;
      if (reply.ok) w.resolve(revive ? revive(w.method, reply.value) : reply.value);
      else w.reject(toError ? toError(reply) : reply.unavailable ? new StoreUnavailableError(reply.error) : new Error(reply.error));
      if (this.waiting.size === 0) this.stopWhenIdle();
    });
    const fail = (err: Error) => {
      // A worker stopped for idleness (or by close()) has no request left: those waiting belong to its successor.
      if (this.worker !== worker) return;
      this.worker = null;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(new StoreUnavailableError(`${this.name} failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new StoreUnavailableError(`${this.name} exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  /** For error messages. */
  protected get name(): string {
    return 'the reader worker';
  }

  /** (Re)arms the idle timer: the worker stops once it has had no request for idleMs. */
  private stopWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => { this.idleTimer = null; void this.stopIfIdle(); }, this.options.idleMs);
    this.idleTimer.unref();
  }

  private async stopIfIdle(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.waiting.size > 0) return;
    // Its count of measured-data reads is kept, so that viewerReads() keeps counting across workers.
    const reads = await this.call('viewerReads', []).catch(() => 0) as number;
    if (this.worker !== worker || this.waiting.size > 0) return;   // a request came meanwhile: it stays
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    this.viewerReadsOfStoppedWorkers += reads;
    this.worker = null;
    worker.postMessage('close');
  }

  /** Whether the reader worker is running (it stops after idleMs without a request). */
  get running(): boolean {
    return this.worker !== null;
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    this.worker ??= this.start();
    const id = this.nextId++;
    // Referenced while it owes an answer: a start that awaits a read (the sessions kept in the
    // store) before anything else holds the event loop must not end the process instead.
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { method, resolve, reject });
      this.worker!.postMessage({ id, method, args } satisfies ReadRequest);
    });
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
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    // An idle worker is unref'd: without this, a process whose last work is this close() (the
    // gateway's stop) could end before the worker's exit, with the close still pending (exit code 13).
    worker.ref();
    await new Promise<void>((resolve) => { worker.once('exit', () => resolve()); worker.postMessage('close'); });
    // Reads still waiting had only this worker to answer them (its exit no longer rejects them: see start()).
    for (const w of this.waiting.values()) w.reject(new StoreUnavailableError(`${this.name} was closed`));
    this.waiting.clear();
  }
}
