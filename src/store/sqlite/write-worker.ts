// Worker thread that owns the SQLite write connection: the main thread keeps parsing uploads
// while a group commits, and the next group forms meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { SQLITE_PRAGMAS, SqliteWriter, WRITER_BUSY_TIMEOUT_MS, isUnavailable, journalCheckpointPages } from './writer.ts';
import type { WriteGroup } from './write-group.ts';
import type { AppliedChunk, JournalChunk } from '../store.ts';
import { ChunkUnavailableError, applyJournalChunk } from './apply-journal.ts';
import { releaseBytes } from '../release-bytes.ts';
import { SqliteStore } from './sqlite-store.ts';
import { WRITE_THREAD_READS, type WriteThreadRead } from './write-thread-reads.ts';

export interface WriteRequest { id: number; group: WriteGroup }
/** The journal's apply: records as the journal's bytes, decoded here (apply-journal.ts). */
export interface JournalRequest { id: number; journal: JournalChunk }
export interface ChainKeyMessage { chainKey: Uint8Array | null }
export type WriteOutcome = { ok: true; result: import('../../domain/types.ts').CommitResult } | { ok: false; error: string; unavailable: boolean };
export interface ReadRequest { id: number; read: { method: WriteThreadRead; args: unknown[] } }
export interface WriteReply { id: number; outcomes?: WriteOutcome[]; applied?: AppliedChunk; value?: unknown; groupError?: string; unavailable?: boolean; commitMs: number | null }

/**
 * Under saturation the thread answering devices comes first: it only journals, and this thread's
 * apply can lag and catch up (the lag is on /health). On Linux a thread has its own nice value;
 * elsewhere the thread keeps the process's priority.
 */
const APPLY_NICE = Number(process.env.INLET_APPLY_NICE ?? 10);
if (process.platform === 'linux' && APPLY_NICE > 0) {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), APPLY_NICE);
  } catch {
    // Not permitted or no /proc: the apply runs at normal priority.
  }
}

const db = new DatabaseSync((workerData as { file: string }).file);
db.exec(SQLITE_PRAGMAS);
db.exec(`PRAGMA busy_timeout = ${WRITER_BUSY_TIMEOUT_MS}`);
const writer = new SqliteWriter(db);

/**
 * A group that writes this much (a logger backlog) would make SQLite checkpoint inside its COMMIT:
 * copy the whole WAL into the database file and fsync that file before the device is answered.
 * For such a group automatic checkpoints are off, and the thread checkpoints right after posting the
 * answer, while the main thread goes on (parsing the next upload). Small groups keep SQLite's own
 * checkpoints every 1,000 pages, which stay small. Durability is the WAL's either way.
 */
const LARGE_GROUP_BYTES = 1024 * 1024;
/** Bytes a stored sample adds across its row, its indexes and the hourly rollup, roughly. */
const BYTES_PER_SAMPLE = 64;
const AUTOCHECKPOINT_PAGES = 1000; // SQLite's default
let autocheckpointPages = AUTOCHECKPOINT_PAGES;
function useAutocheckpoint(pages: number): void {
  if (pages === autocheckpointPages) return;
  db.exec(`PRAGMA wal_autocheckpoint = ${pages}`);
  autocheckpointPages = pages;
}

function isLarge(group: WriteGroup): boolean {
  return group.raw.length + group.samples.length * BYTES_PER_SAMPLE >= LARGE_GROUP_BYTES;
}

function checkpointNow(): void {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch {
    // A busy or failing checkpoint is left to a later one; the data is safe in the WAL.
  }
}

const initialKey = (workerData as { chainKey: Uint8Array | null }).chainKey;
writer.chainKey = initialKey ? new Uint8Array(initialKey) : null;

/**
 * The journal's records are on disk already, so their commits here need not be fsync'd one by one
 * (synchronous=NORMAL); every fsync this thread saves is one the journal's own appends, which
 * devices wait for, do not queue behind on the same disk. A chunk the journal asks to sync commits
 * with synchronous=FULL: that fsync of the WAL covers every commit before it, so everything applied
 * is then durable and the journal may move its cursor past it.
 */
function applyJournal(request: JournalRequest): WriteReply {
  try {
    if (!request.journal.sync) db.exec('PRAGMA synchronous = NORMAL');
    const applied = applyJournalChunk(writer, request.journal);
    // A commit that wrote nothing syncs nothing: the cursor then waits for the next synced chunk.
    applied.durable = request.journal.sync && writer.lastGroupWrote;
    return { id: request.id, applied, commitMs: writer.lastCommitMs };
  } catch (err) {
    return { id: request.id, groupError: (err as Error).message, unavailable: err instanceof ChunkUnavailableError || isUnavailable(err), commitMs: null };
  } finally {
    db.exec('PRAGMA synchronous = FULL');
  }
}

/** The offline sweep's reads (write-thread-reads.ts), on a read-only connection of this thread's, opened at the first. */
let reads: SqliteStore | null = null;
async function answerRead(request: ReadRequest): Promise<WriteReply> {
  try {
    if (!WRITE_THREAD_READS.has(request.read.method)) throw new Error(`${String(request.read.method)} is not read on the write thread`);
    if (!reads) {
      reads = new SqliteStore({ file: (workerData as { file: string }).file, queryOnly: true, writeInWorker: false });
      reads.readSchema();
    }
    const value = await (reads[request.read.method] as (...args: unknown[]) => Promise<unknown>).apply(reads, request.read.args);
    return { id: request.id, value, commitMs: null };
  } catch (err) {
    return { id: request.id, groupError: (err as Error).message, unavailable: isUnavailable(err), commitMs: null };
  }
}

parentPort!.on('message', (request: WriteRequest | JournalRequest | ReadRequest | ChainKeyMessage | 'close') => {
  if (request === 'close') {
    void reads?.close();
    db.close();
    parentPort!.close();
    return;
  }
  if ('chainKey' in request) {
    writer.chainKey = request.chainKey;
    return;
  }
  if ('read' in request) {
    void answerRead(request).then((reply) => parentPort!.postMessage(reply));
    return;
  }
  if ('journal' in request) {
    // No device waits for this commit (they were answered from the journal): SQLite's own checkpoints are fine here.
    useAutocheckpoint(journalCheckpointPages(request.journal.bytes.byteLength));
    parentPort!.postMessage(applyJournal(request));
    // The reply (a refused record's bytes included) is cloned by now: the chunk's bytes go at once.
    releaseBytes(request.journal.bytes);
    return;
  }
  const large = isLarge(request.group);
  useAutocheckpoint(large ? 0 : AUTOCHECKPOINT_PAGES);
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
  if (large) {
    checkpointNow();
    useAutocheckpoint(AUTOCHECKPOINT_PAGES);
  }
});
