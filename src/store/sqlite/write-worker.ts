// Worker thread that owns the SQLite write connection: the main thread keeps parsing uploads
// while a group commits, and the next group forms meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { SQLITE_PRAGMAS, SqliteWriter, WRITER_BUSY_TIMEOUT_MS, isUnavailable } from './writer.ts';
import type { WriteGroup } from './write-group.ts';

export interface WriteRequest { id: number; group: WriteGroup }
export type WriteOutcome = { ok: true; result: import('../../domain/types.ts').CommitResult } | { ok: false; error: string; unavailable: boolean };
export interface WriteReply { id: number; outcomes?: WriteOutcome[]; groupError?: string; unavailable?: boolean; commitMs: number | null }

const db = new DatabaseSync((workerData as { file: string }).file);
db.exec(SQLITE_PRAGMAS);
db.exec(`PRAGMA busy_timeout = ${WRITER_BUSY_TIMEOUT_MS}`);
const writer = new SqliteWriter(db);

parentPort!.on('message', (request: WriteRequest | 'close') => {
  if (request === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriteReply;
  try {
    const results = writer.writeGroup(request.group);
    reply = {
      id: request.id, commitMs: writer.lastCommitMs,
      outcomes: results.map((r) => (r instanceof Error ? { ok: false, error: r.message, unavailable: isUnavailable(r) } : { ok: true, result: r })),
    };
  } catch (err) {
    reply = { id: request.id, groupError: (err as Error).message, unavailable: isUnavailable(err), commitMs: null };
  }
  parentPort!.postMessage(reply);
});
