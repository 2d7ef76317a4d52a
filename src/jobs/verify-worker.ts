// The verification worker (started by verify-in-worker.ts): the nightly verifyIncrementally on its own query-only
// connection to the SQLite file, at a lower priority than the thread that answers devices.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { verifyIncrementally } from './verify-incremental.ts';
import type { VerifyJob, VerifyReply } from './verify-in-worker.ts';

// Yield the CPU to the thread that answers devices when both want it (Linux: per-thread nice).
try { os.setPriority(10); } catch { /* not permitted or not per thread here */ }
const { file, options } = workerData as VerifyJob;
const port = parentPort!;
const reader = new SqliteStore({ file, queryOnly: true, writeInWorker: false });
try {
  reader.readSchema();
  const { nowAt, chainKey, ...rest } = options;
  const key = chainKey ? { ...chainKey, key: Buffer.from(chainKey.key) } : chainKey;
  const report = await verifyIncrementally(reader, { ...rest, chainKey: key, ...(nowAt !== undefined ? { now: () => nowAt } : {}) });
  port.postMessage({ ok: true, report } satisfies VerifyReply);
} catch (err) {
  port.postMessage({ ok: false, error: (err as Error).message } satisfies VerifyReply);
} finally {
  await reader.close().catch(() => undefined);
}
