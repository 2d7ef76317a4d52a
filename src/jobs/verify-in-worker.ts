// Runs the nightly verification on a thread of its own (issue 15: nothing heavy on the thread that
// answers devices). It walks every chain and recomputes every hash: minutes of reads and SHA-256
// on a large store. The worker (verify-worker.ts) uses its own query-only SQLite connection, or on
// SQL Server a connection pool of its own ("Inlet reader"), at a lower priority; the gateway's thread
// only records the outcome (recordVerification: a few rows).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { VerifyOptions } from './verify.ts';
import type { IncrementalReport } from './verify-incremental.ts';
import type { StoreTarget } from '../report/draw.ts';

export interface VerifyJob {
  /** The database to verify: an SQLite file (a path: as before) or either store's target. */
  target: StoreTarget;
  options: Omit<VerifyOptions, 'onProgress' | 'now'> & { nowAt?: number };
}
export type VerifyReply = { ok: true; report: IncrementalReport } | { ok: false; error: string };

const WORKER_FILE = fileURLToPath(new URL(`./verify-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Runs the nightly verifyIncrementally on the database in a worker thread; resolves with its report. */
export function verifyInWorker(database: string | StoreTarget, options: VerifyJob['options']): Promise<IncrementalReport> {
  const target: StoreTarget = typeof database === 'string' ? { kind: 'sqlite', file: database } : database;
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_FILE, { workerData: { target, options } satisfies VerifyJob });
    let settled = false;
    worker.once('message', (reply: VerifyReply) => {
      settled = true;
      if (reply.ok) resolve(revive(reply.report));
      else reject(new Error(reply.error));
    });
    worker.once('error', (err) => { if (!settled) { settled = true; reject(err); } });
    worker.once('exit', (code) => { if (!settled) { settled = true; reject(new Error(`the verification worker exited with code ${code}`)); } });
  });
}

/** Buffers cross a worker boundary as Uint8Arrays: give callers the Buffers the report promises. */
function revive(report: IncrementalReport): IncrementalReport {
  return {
    ...report,
    heads: report.heads.map((h) => ({ ...h, hash: Buffer.from(h.hash) })),
    ...(report.eventsHead ? { eventsHead: { ...report.eventsHead, hash: Buffer.from(report.eventsHead.hash) } } : {}),
  };
}

