// Where a report is gathered and drawn: on this thread (tests with an in-memory store, the CLI) or
// in a worker thread with a store connection of its own (the gateway: API and scheduled reports),
// so that ingest is never held up by a person's report.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, threadId } from 'node:worker_threads';
import type { InletConfig } from '../config/schema.ts';
import { dataPath } from '../config/load.ts';
import type { Store } from '../store/store.ts';
import { buildReport, ReportRequestError, type ReportModel, type ReportRequest, type ReportSettings } from './model.ts';
import type { Issue } from './pdf.ts';

/** threadId: the thread that drew it (0: the main thread). */
export type DrawReport = (request: ReportRequest, settings: ReportSettings, now: number, issue: Issue) => Promise<{ model: ReportModel; pdf: Buffer; threadId: number }>;

export type StoreTarget = { kind: 'sqlite'; file: string } | { kind: 'mssql'; connectionString: string };

export interface DrawJob { target: StoreTarget; request: ReportRequest; settings: ReportSettings; now: number; issue: Issue }
export type DrawReply = { ok: true; model: ReportModel; pdf: Uint8Array; threadId: number } | { ok: false; message: string; requestError: boolean };

const WORKER_FILE = fileURLToPath(new URL(`./draw-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export function drawInThread(store: Store): DrawReport {
  return async (request, settings, now, issue) => {
    const model = await buildReport(store, request, settings, now);
    // pdfkit and its fonts are loaded when a report is drawn, not with the gateway: an idle gateway does without their memory.
    const { renderReportPdf } = await import('./pdf.ts');
    return { model, pdf: await renderReportPdf(model, issue), threadId };
  };
}

export function storeTarget(config: InletConfig): StoreTarget {
  return config.store.kind === 'mssql'
    ? { kind: 'mssql', connectionString: config.store.mssql.connectionString }
    : { kind: 'sqlite', file: dataPath(config, config.store.sqlite.file) };
}

/**
 * Draws in a worker thread reading the configured database. Where the worker's file is not shipped
 * beside this one (a bundle that left it out), draws on this thread rather than not at all.
 */
export function drawInWorker(config: InletConfig, store: Store): DrawReport {
  if (!existsSync(WORKER_FILE) || (config.store.kind === 'sqlite' && config.store.sqlite.file === ':memory:')) return drawInThread(store);
  const target = storeTarget(config);
  return (request, settings, now, issue) => new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_FILE, { workerData: { target, request, settings, now, issue } satisfies DrawJob });
    let answered = false;
    worker.once('message', (reply: DrawReply) => {
      answered = true;
      if (reply.ok) resolve({ model: reply.model, pdf: Buffer.from(reply.pdf.buffer, reply.pdf.byteOffset, reply.pdf.byteLength), threadId: reply.threadId });
      else reject(reply.requestError ? new ReportRequestError(reply.message) : new Error(reply.message));
    });
    worker.once('error', (err) => { if (!answered) { answered = true; reject(err); } });
    worker.once('exit', (code) => { if (!answered) reject(new Error(`the report worker stopped (exit code ${code}) before it answered`)); });
  });
}
