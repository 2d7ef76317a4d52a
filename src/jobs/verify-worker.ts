// The verification worker (started by verify-in-worker.ts): the nightly verifyIncrementally on a
// connection of its own, at a lower priority than the thread that answers devices: a query-only
// connection to the SQLite file, or on SQL Server a pool of its own ("Inlet reader"). It writes nothing:
// the gateway records the outcome.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Store } from '../store/store.ts';
import { verifyIncrementally } from './verify-incremental.ts';
import type { VerifyJob, VerifyReply } from './verify-in-worker.ts';

// Yield the CPU to the thread that answers devices when both want it (Linux: per-thread nice).
try { os.setPriority(10); } catch { /* not permitted or not per thread here */ }
const { target, options } = workerData as VerifyJob;
const port = parentPort!;

/** A store that can settle which columns its schema has without migrating it. */
type Reader = Store & { readSchema(): void | Promise<void> };

/** The store to verify. Only the driver in use is loaded. */
async function openReader(): Promise<Reader> {
  if (target.kind === 'mssql') {
    const { MssqlStore } = await import('../store/mssql/mssql-store.ts');
    return new MssqlStore({ connectionString: target.connectionString, purpose: 'reader' });
  }
  const { SqliteStore } = await import('../store/sqlite/sqlite-store.ts');
  return new SqliteStore({ file: target.file, queryOnly: true, writeInWorker: false });
}

let reader: Reader | null = null;
try {
  reader = await openReader();
  await reader.readSchema();   // which columns it has (the gateway migrated it)
  const { nowAt, chainKey, ...rest } = options;
  const key = chainKey ? { ...chainKey, key: Buffer.from(chainKey.key) } : chainKey;
  const report = await verifyIncrementally(reader, { ...rest, chainKey: key, ...(nowAt !== undefined ? { now: () => nowAt } : {}) });
  port.postMessage({ ok: true, report } satisfies VerifyReply);
} catch (err) {
  port.postMessage({ ok: false, error: (err as Error).message } satisfies VerifyReply);
} finally {
  await reader?.close().catch(() => undefined);
}
