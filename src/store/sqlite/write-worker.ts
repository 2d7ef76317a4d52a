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
// Checkpoints (copying the WAL into the database file, with an fsync of that file) run after the
// group's answer is posted rather than inside its COMMIT, where SQLite's automatic checkpoint puts
// them: a device's acknowledgement then waits for its own data's fsync only, and after a logger
// backlog the checkpoint overlaps the main thread's parsing of the next upload. Durability is the
// WAL's: a committed transaction is on disk before the answer either way.
db.exec('PRAGMA wal_autocheckpoint = 0');
const writer = new SqliteWriter(db);
/** About SQLite's automatic threshold (1,000 pages of 4 KiB), estimated from what the groups carried. */
const CHECKPOINT_AFTER_BYTES = 4 * 1024 * 1024;
/** Bytes a stored sample adds across its row, its indexes and the hourly rollup, roughly. */
const BYTES_PER_SAMPLE = 64;
let writtenSinceCheckpoint = 0;

function checkpointIfDue(): void {
  if (writtenSinceCheckpoint < CHECKPOINT_AFTER_BYTES) return;
  writtenSinceCheckpoint = 0;
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch {
    // A busy or failing checkpoint is retried after a later group; the data is safe in the WAL.
  }
}

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
  writtenSinceCheckpoint += request.group.raw.length + request.group.samples.length * BYTES_PER_SAMPLE + request.group.batches.length * 512;
  checkpointIfDue();
});
