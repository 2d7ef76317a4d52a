// The viewer's view of an SQLite store: the same Store interface, with reads (and the refusal
// archive) answered by a worker thread on its own connection (read-worker.ts) and everything else
// passed to the gateway's store. node:sqlite is synchronous: a read on the main thread would stop
// device uploads for as long as it runs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Store } from '../store.ts';
import type { ReadReply } from './read-worker.ts';
import { StoreUnavailableError } from '../errors.ts';
import { WORKER_YOUNG_GENERATION_MIB } from '../../memory.ts';

const WORKER_FILE = fileURLToPath(new URL(`./read-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Store methods the worker answers (read-worker.ts READ_METHODS plus the archive). */
const OFFLOADED = new Set([
  'latestValues', 'series', 'samples', 'events', 'alarms', 'alarmLimits', 'listDevices', 'listChannels', 'getDevice', 'quarantined', 'refusals',
  'archiveRefusals', 'channelUnits', 'csvRows', 'saveSession', 'deleteSessions', 'listSessions', 'findDeviceByToken',
]);

/** Buffers cross a worker boundary as Uint8Arrays: give callers the Buffers the interface promises. */
function revive(method: string, value: unknown): unknown {
  if (method === 'refusals') {
    return (value as { bodySha256: Uint8Array; bodyPrefix: Uint8Array }[]).map((r) => ({ ...r, bodySha256: Buffer.from(r.bodySha256), bodyPrefix: Buffer.from(r.bodyPrefix) }));
  }
  return value;
}

/**
 * How long the reader worker may sit without a request before it is stopped. A worker thread is a
 * V8 instance of its own (15-20 MB): an idle gateway, or one that only takes uploads, gives it back
 * between the offline sweep's minutes and the viewer's visits; the next read starts a new one (~0.1 s).
 */
export const READER_IDLE_MS = 10_000;

export class SqliteReadSide {
  private worker: Worker | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Measured-data reads answered by the workers already stopped for idleness. */
  private viewerReadsOfStoppedWorkers = 0;
  private readonly idleMs: number;
  private nextId = 1;
  private readonly waiting = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly file: string;
  /** The gateway's store, with reads going to the worker. */
  readonly store: Store;

  constructor(store: Store, file: string, idleMs = READER_IDLE_MS) {
    this.file = file;
    this.idleMs = idleMs;
    this.store = new Proxy(store, {
      get: (target, prop, receiver) => {
        // The archive links its events under the gateway's current chain key, passed with each call.
        if (prop === 'archiveRefusals') return (...args: unknown[]) => this.call(prop, [...args, (target as { eventChainKey?: Uint8Array | null }).eventChainKey ?? null]);
        if (typeof prop === 'string' && OFFLOADED.has(prop)) return (...args: unknown[]) => this.call(prop, args);
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private start(): Worker {
    const worker = new Worker(WORKER_FILE, { workerData: { file: this.file }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MIB } });
    worker.on('message', (reply: ReadReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (!w) return;
      if (reply.ok) w.resolve(revive(w.method, reply.value));
      else w.reject(/SQLITE_BUSY|database is locked|unable to open/i.test(reply.error) ? new StoreUnavailableError(reply.error) : new Error(reply.error));
      if (this.waiting.size === 0) this.stopWhenIdle();
    });
    const fail = (err: Error) => {
      // A worker stopped for idleness (or by close()) has no request left: those waiting belong to its successor.
      if (this.worker !== worker) return;
      this.worker = null;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(new StoreUnavailableError(`SQLite reader worker failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new StoreUnavailableError(`SQLite reader worker exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  /** (Re)arms the idle timer: the worker stops once it has had no request for idleMs. */
  private stopWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => { this.idleTimer = null; void this.stopIfIdle(); }, this.idleMs);
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

  /** Whether the reader worker is running (it stops after READER_IDLE_MS without a request). */
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
      this.worker!.postMessage({ id, method, args });
    });
  }

  /** Measured-data reads the worker's connection answered (isolation.test.ts). */
  async viewerReads(): Promise<number> {
    const current = await this.call('viewerReads', []) as number;
    return this.viewerReadsOfStoppedWorkers + current;
  }

  /** Viewer session writes the worker made (isolation.test.ts). */
  async sessionWrites(): Promise<number> {
    return await this.call('sessionWrites', []) as number;
  }

  /** CSV export days the worker read and formatted (isolation.test.ts). */
  async csvDaysFormatted(): Promise<number> {
    return await this.call('csvDaysFormatted', []) as number;
  }

  async close(): Promise<void> {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    await new Promise<void>((resolve) => { worker.once('exit', () => resolve()); worker.postMessage('close'); });
    // Reads still waiting had only this worker to answer them (its exit no longer rejects them: see start()).
    for (const w of this.waiting.values()) w.reject(new StoreUnavailableError('the SQLite reader was closed'));
    this.waiting.clear();
  }
}
