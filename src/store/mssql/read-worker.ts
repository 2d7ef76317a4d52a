// Worker thread for the viewer's reads of a SQL Server store (read-side.ts): charts, tables, CSV
// exports, events, alarms, on a connection pool of its own ("Inlet reader"), never the gateway's.
// The driver's decoding of result rows and the CSV formatting are CPU work: here they run beside the
// thread that answers devices instead of on it, and a long export never takes a connection the
// gateway's own work (sign-ins, changes, the jobs) waits for. It runs reads only.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { MssqlStore } from './mssql-store.ts';
import { StoreUnavailableError } from '../errors.ts';
import type { ReadReply, ReadRequest } from '../worker-read-side.ts';
import { MSSQL_READ_METHODS } from './read-side.ts';

// On Linux a thread has its own nice value: this one yields the CPU to the thread that answers devices
// when both want it. Elsewhere (Windows) this may fail: no matter.
try { os.setPriority(10); } catch { /* not permitted or not per thread here */ }

const { connectionString } = workerData as { connectionString: string };
const reader = new MssqlStore({ connectionString, purpose: 'reader' });
/** The gateway migrated the database before starting this worker: only which columns it has is read. */
let schemaRead: Promise<void> | null = null;

async function run(method: string, args: unknown[]): Promise<unknown> {
  if (method === 'viewerReads') return reader.viewerReads;
  if (method === 'csvDaysFormatted') return reader.csvDaysFormatted;
  if (method === 'sessionWrites') return 0;   // sessions are written by the gateway's own pool on SQL Server
  if (!MSSQL_READ_METHODS.has(method)) throw new Error(`${method} is not a read the reader worker runs`);
  // A failed attempt (the server away) is tried again with the next read.
  schemaRead ??= reader.readSchema().catch((err: unknown) => { schemaRead = null; throw err; });
  await schemaRead;
  return (reader as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](...args);
}

parentPort!.on('message', (request: ReadRequest | 'close') => {
  if (request === 'close') {
    reader.close().catch(() => undefined).finally(() => parentPort!.close());
    return;
  }
  run(request.method, request.args).then(
    (value) => parentPort!.postMessage({ id: request.id, ok: true, value } satisfies ReadReply),
    (err: Error & { code?: string }) => parentPort!.postMessage({
      id: request.id, ok: false, error: err.message, code: err.code, unavailable: err instanceof StoreUnavailableError,
    } satisfies ReadReply),
  );
});
