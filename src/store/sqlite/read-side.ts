// The viewer's view of an SQLite store: the same Store interface, with reads (and the refusal
// archive) answered by a worker thread on its own connection (read-worker.ts) and everything else
// passed to the gateway's store. node:sqlite is synchronous: a read on the main thread would stop
// device uploads for as long as it runs. The worker's life (start, idle stop, close) is WorkerReadSide's.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store.ts';
import { StoreUnavailableError } from '../errors.ts';
import { READER_IDLE_MS, WorkerReadSide, reviveRefusals } from '../worker-read-side.ts';

const WORKER_FILE = fileURLToPath(new URL(`./read-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Store methods the worker answers (read-worker.ts READ_METHODS plus the archive). */
const OFFLOADED = new Set([
  'latestValues', 'series', 'samples', 'events', 'alarms', 'alarmLimits', 'listDevices', 'deviceLiveness', 'listChannels', 'getDevice', 'quarantined', 'refusals',
  'archiveRefusals', 'channelUnits', 'csvRows', 'saveSession', 'deleteSessions', 'listSessions', 'findDeviceByToken',
]);

export { READER_IDLE_MS };

export class SqliteReadSide extends WorkerReadSide {
  constructor(store: Store, file: string, idleMs = READER_IDLE_MS) {
    super(store, {
      workerFile: WORKER_FILE, workerData: { file }, offloaded: OFFLOADED, idleMs, revive: reviveRefusals,
      toError: (reply) => (/SQLITE_BUSY|database is locked|unable to open/i.test(reply.error) ? new StoreUnavailableError(reply.error) : new Error(reply.error)),
      // The archive links its events under the gateway's current chain key, passed with each call.
      extraArgs: (method, target) => (method === 'archiveRefusals' ? [(target as { eventChainKey?: Uint8Array | null }).eventChainKey ?? null] : []),
    });
  }

  protected override get name(): string {
    return 'the SQLite reader worker';
  }

  /** Viewer session writes the worker made (isolation.test.ts). */
  async sessionWrites(): Promise<number> {
    return await this.call('sessionWrites', []) as number;
  }
}
