// Worker thread that gathers and draws one report on a connection of its own, so that the seconds
// a long report takes are never spent on the thread that answers devices. One worker per report:
// it opens the store, reads, draws, answers once and ends (nothing to leak between gateways in tests).
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { Store } from '../store/store.ts';
import { buildReport, ReportRequestError } from './model.ts';
import { renderReportPdf } from './pdf.ts';
import type { DrawJob, DrawReply } from './draw.ts';

const job = workerData as DrawJob;
let store: Store | null = null;
let reply: DrawReply;
try {
  // only the driver in use is loaded: the worker starts for every report
  store = job.target.kind === 'mssql'
    ? new (await import('../store/mssql/mssql-store.ts')).MssqlStore({ connectionString: job.target.connectionString })
    : new (await import('../store/sqlite/sqlite-store.ts')).SqliteStore({ file: job.target.file, writeInWorker: false });
  const model = await buildReport(store, job.request, job.settings, job.now);
  const pdf = await renderReportPdf(model, job.issue);
  reply = { ok: true, model, pdf: new Uint8Array(pdf), threadId };
} catch (err) {
  reply = { ok: false, message: (err as Error).message, requestError: err instanceof ReportRequestError };
} finally {
  await store?.close().catch(() => undefined);
}
parentPort!.postMessage(reply!);
