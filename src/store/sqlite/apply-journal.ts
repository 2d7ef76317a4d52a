// The SQLite side of the journal's apply: records arrive as the journal's own bytes and are
// checked, decoded (their sample columns copied as bytes, no object per sample), keyed and written
// here, on the write thread, in one group (writer.ts sorts the group's samples by key). Only a summary goes back to the thread that answers devices. The
// caller decides durability (write-worker.ts): the journal keeps every record until a sync covers it.
import type { AppliedChunk, JournalChunk } from '../store.ts';
import { splitRecords } from '../spool/journal.ts';
import { uploadKeyOf } from '../spool/record-codec.ts';
import { packJournalRecords } from './write-group.ts';
import { isUnavailable, type SqliteWriter } from './writer.ts';

export class ChunkUnavailableError extends Error {}

/** Throws ChunkUnavailableError when the database could not take the chunk (nothing to count as applied). */
export function applyJournalChunk(writer: SqliteWriter, chunk: JournalChunk): AppliedChunk {
  const records = splitRecords(chunk.bytes, chunk.position);
  if (!records.length) return { applied: 0, durable: false, refused: [] };
  const results = writer.writeGroup(packJournalRecords(records.map((r) => r.payload), (i) => uploadKeyOf(chunk.journalId, records[i].offset),
    records.map((r) => r.offset < chunk.maybeStoredBefore)));
  const refused: AppliedChunk['refused'] = [];
  for (const [i, r] of results.entries()) {
    if (!(r instanceof Error)) continue;
    if (isUnavailable(r)) throw new ChunkUnavailableError(r.message);
    refused.push({ position: records[i].offset, error: r.message, payload: new Uint8Array(records[i].payload) });
  }
  return { applied: records.length - refused.length, durable: false, refused };
}
