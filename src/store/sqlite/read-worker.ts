// Worker thread for everything people ask of an SQLite store that is not a device's upload: the
// viewer's reads (charts, tables, exports, reports, events, alarms) on a query-only connection of its
// own (WAL lets it read while the writer commits), and the refusal archive's writes on another, so
// that neither a long export nor a busy lock ever holds up the thread that answers devices.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from './sqlite-store.ts';
import { SQLITE_PRAGMAS } from './writer.ts';
import { archiveRefusalsOn } from './refusal-archive.ts';
import type { NewEvent, RefusalArchiveLimits, RefusalRecord } from '../store.ts';

export interface ReadRequest { id: number; method: string; args: unknown[] }
export type ReadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; code?: string };

// On Linux a thread has its own nice value: this one yields the CPU to the thread that answers devices
// when both want it (a long export on a busy two-core server). Elsewhere this may fail: no matter.
try { os.setPriority(10); } catch { /* not permitted or not per thread here */ }

const { file } = workerData as { file: string };
const reader = new SqliteStore({ file, queryOnly: true, writeInWorker: false });
reader.readSchema();   // the gateway migrated the file before starting this worker
let archive: DatabaseSync | null = null;
/** The viewer's sessions are written here too (a sign-in must not wait for the write lock on the thread answering devices). */
let sessions: SqliteStore | null = null;
const SESSION_WRITES = new Set(['saveSession', 'deleteSessions']);

/** Methods a caller may run here: reads only, and the refusal archive. */
export const READ_METHODS = new Set([
  'latestValues', 'series', 'samples', 'events', 'alarms', 'alarmLimits', 'listDevices', 'deviceLiveness', 'listChannels', 'getDevice', 'quarantined', 'refusals',
  // the unit versions every chart, table and CSV export reads (unit-versions.ts)
  'channelUnits',
  'csvRows', 'listSessions', 'findDeviceByToken',
]);

async function run(method: string, args: unknown[]): Promise<unknown> {
  if (method === 'archiveRefusals') {
    if (!archive) {
      archive = new DatabaseSync(file);
      archive.exec(SQLITE_PRAGMAS);
    }
    const [refusals, events, limits, chainKey] = args as [RefusalRecord[], NewEvent[], RefusalArchiveLimits, Uint8Array | null | undefined];
    archiveRefusalsOn(archive, refusals.map((r) => ({ ...r, bodySha256: Buffer.from(r.bodySha256), bodyPrefix: Buffer.from(r.bodyPrefix) })), events, limits, chainKey ?? null);
    return undefined;
  }
  if (SESSION_WRITES.has(method)) {
    sessions ??= new SqliteStore({ file, writeInWorker: false });
    return (sessions as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](...args);
  }
  if (method === 'sessionWrites') return (sessions?.sessionWrites ?? 0) + reader.sessionWrites;
  if (method === 'viewerReads') return reader.viewerReads;
  if (method === 'csvDaysFormatted') return reader.csvDaysFormatted;
  if (!READ_METHODS.has(method)) throw new Error(`${method} is not a read the reader worker runs`);
  return (reader as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](...args);
}

parentPort!.on('message', (request: ReadRequest | 'close') => {
  if (request === 'close') {
    if (reader) reader.close().catch(() => undefined);
    sessions?.close().catch(() => undefined);
    archive?.close();
    parentPort!.close();
    return;
  }
  run(request.method, request.args).then(
    (value) => parentPort!.postMessage({ id: request.id, ok: true, value } satisfies ReadReply),
    (err: Error & { code?: string }) => parentPort!.postMessage({ id: request.id, ok: false, error: err.message, code: err.code } satisfies ReadReply),
  );
});
