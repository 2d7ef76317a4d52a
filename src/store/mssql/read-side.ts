// The viewer's view of a SQL Server store: the same Store interface, with the viewer's reads answered
// by a worker thread on a connection pool of its own (read-worker.ts) and everything else passed to
// the gateway's store. Reads on SQL Server are asynchronous, but decoding their rows and formatting a
// CSV export are not: a 16-channel, 400-day export is minutes of CPU that must not be spent on the
// thread that answers devices. Sign-ins, sessions, changes and refusals stay on the gateway's pool:
// they are small, and the ingest path must not wait for a worker to start.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store.ts';
import { READER_IDLE_MS, WorkerReadSide, reviveRefusals } from '../worker-read-side.ts';

const WORKER_FILE = fileURLToPath(new URL(`./read-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Store methods the worker answers (read-worker.ts refuses any other): reads only. */
export const MSSQL_READ_METHODS: ReadonlySet<string> = new Set([
  'latestValues', 'series', 'samples', 'channelSamples', 'events', 'alarms', 'alarmLimits', 'listDevices', 'deviceLiveness', 'listChannels', 'getDevice',
  'quarantined', 'refusals', 'channelUnits', 'csvRows',
]);

export class MssqlReadSide extends WorkerReadSide {
  constructor(store: Store, connectionString: string, idleMs = READER_IDLE_MS) {
    super(store, { workerFile: WORKER_FILE, workerData: { connectionString }, offloaded: MSSQL_READ_METHODS, idleMs, revive: reviveRefusals });
  }

  protected override get name(): string {
    return 'the SQL Server reader worker';
  }

  /** Viewer session writes the worker made: none, SQL Server sessions are written on the gateway's pool. */
  async sessionWrites(): Promise<number> {
    return 0;
  }
}
