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

export class SqliteReadSide {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly file: string;
  /** The gateway's store, with reads going to the worker. */
  readonly store: Store;

  constructor(store: Store, file: string) {
    this.file = file;
    this.store = new Proxy(store, {
      get: (target, prop, receiver) => {
        if (typeof prop === 'string' && OFFLOADED.has(prop)) return (...args: unknown[]) => this.call(prop, args);
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private start(): Worker {
    const worker = new Worker(WORKER_FILE, { workerData: { file: this.file } });
    worker.on('message', (reply: ReadReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (!w) return;
      if (reply.ok) w.resolve(revive(w.method, reply.value));
      else w.reject(/SQLITE_BUSY|database is locked|unable to open/i.test(reply.error) ? new StoreUnavailableError(reply.error) : new Error(reply.error));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(new StoreUnavailableError(`SQLite reader worker failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new StoreUnavailableError(`SQLite reader worker exited with code ${code}`)));
    worker.unref();
    return worker;
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
    return await this.call('viewerReads', []) as number;
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
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    await new Promise<void>((resolve) => { worker.once('exit', () => resolve()); worker.postMessage('close'); });
  }
}
