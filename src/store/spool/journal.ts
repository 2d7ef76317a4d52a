// An append-only journal of opaque records on local disk, kept in segment files, with a cursor file
// that says how far the store has applied it. Every upload is journaled here before its device is
// answered; the store applies the records later, in large batches.
//
// Each record is
//   magic "INL1" | payload length u32 | appended-at ms f64 | CRC-32 of (appended-at, payload) u32 | payload
// all little-endian. A record's position is global: the segment's start position (its file name,
// 20 decimal digits) plus its offset in that file, so positions only grow and a cursor is one number.
//
// appendMany() writes a whole group of records with one write and one fdatasync (group fsync), and
// resolves only once they are on disk, which is what lets the caller answer devices. A record cut
// short by a crash was never acknowledged and is dropped at open; a damaged record is moved aside
// with everything after it, and reported.
//
// advance() moves the cursor in memory; the cursor file follows what the store holds durably (a
// store may commit without fsync and sync now and then), rewritten at most every cursorEveryMs (or
// when a segment becomes deletable, or at close). A cursor that lags after a crash only means some
// records are applied again: the store recognises each by its upload key and stores it once. A
// segment is deleted only after a cursor past its end is on disk, so a crash during deletion leaves
// at worst a segment that the next open deletes.
import { open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { constants, existsSync, fdatasync, ftruncateSync, mkdirSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x314c4e49; // "INL1" read as little-endian u32
const HEADER_BYTES = 20;
/** No single upload comes near this; a larger length field means the header is damaged. */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;
const SEGMENT_SUFFIX = '.seg';
const SEGMENT_NAME = /^(\d{20})\.seg$/;

export interface JournalRecord {
  /** Global position of the record. */
  offset: number;
  /** Position just past this record: where the cursor goes once it is applied. */
  end: number;
  appendedAt: number;
  payload: Buffer;
}

export interface RecoveryReport {
  pending: number;
  droppedTailBytes: number;
  /** Set when a damaged record was found: the file its bytes (and all after it) were moved to. */
  damagedCopy: string | null;
  /** Segments already applied that a crash left behind, deleted now. */
  staleSegmentsDeleted: number;
}

export interface JournalOptions {
  /** A segment that has reached this size is closed and the next append starts a new one. */
  segmentBytes?: number;
  /** The cursor file is rewritten at most this often (a lagging cursor costs re-application only). */
  cursorEveryMs?: number;
  now?: () => number;
}

function writeHeader(into: Buffer, at: number, payload: Uint8Array, appendedAt: number): void {
  into.writeUInt32LE(MAGIC, at);
  into.writeUInt32LE(payload.length, at + 4);
  into.writeDoubleLE(appendedAt, at + 8);
  into.writeUInt32LE(crc32(payload, crc32(into.subarray(at + 8, at + 16))), at + 16);
}

/**
 * A record's payload as a group write takes it: a Buffer, or anything that knows its length and
 * writes itself into the group's buffer (record-codec.ts BatchRecord), saving a buffer per record.
 */
export interface RecordPayload {
  readonly length: number;
  copy(target: Buffer, targetStart: number): number;
}

/**
 * Splits records framed as in the journal, back to back, the first at position `start`; checks
 * each one's checksum (bytes read back from disk, or handed to another thread).
 */
export function splitRecords(bytes: Uint8Array, start: number): JournalRecord[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: JournalRecord[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (at + HEADER_BYTES > buffer.length || buffer.readUInt32LE(at) !== MAGIC) throw new Error(`journal bytes damaged at position ${start + at}`);
    const length = buffer.readUInt32LE(at + 4);
    const payload = buffer.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
    if (payload.length !== length || crc32(payload, crc32(buffer.subarray(at + 8, at + 16))) !== buffer.readUInt32LE(at + 16)) {
      throw new Error(`journal record at position ${start + at} fails its checksum`);
    }
    records.push({ offset: start + at, end: start + at + HEADER_BYTES + length, appendedAt: buffer.readDoubleLE(at + 8), payload });
    at += HEADER_BYTES + length;
  }
  return records;
}

/**
 * fdatasync by descriptor, on libuv's pool. The callback API costs the answering thread less than
 * FileHandle.datasync() and its promise machinery: a probe writing 37 KB groups and syncing each,
 * three alternating rounds of 2,000: 55.6-74.4 against 60.5-90.6 µs of main-thread CPU per group.
 * The handle stays open meanwhile: it is closed only after the syncs in flight (writeGroup, close).
 */
function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

async function fsyncDirectory(dir: string): Promise<void> {
  // Makes a new, renamed or deleted file's directory entry durable. Windows cannot open a directory
  // for syncing; NTFS journals the metadata itself there.
  if (process.platform === 'win32') return;
  const handle = await open(dir, constants.O_RDONLY);
  try { await handle.sync(); } finally { await handle.close(); }
}

interface Segment { start: number; file: string; size: number }

/** A group of records written by writeGroup(), durable once syncGroup() has returned for it. */
export interface WrittenGroup { positions: number[]; start: number; bytes: Buffer; appendedAt: number; handle: FileHandle; synced: boolean }
interface PendingRecord { offset: number; end: number; appendedAt: number }

export class Journal {
  readonly dir: string;
  /** The journal of earlier versions: one file, taken over as the segment at position 0. */
  readonly legacyFile: string;
  private readonly cursorFile: string;
  private readonly segmentBytes: number;
  private readonly cursorEveryMs: number;
  private readonly now: () => number;
  private segments: Segment[] = [];
  private handle: FileHandle | null = null;
  private cursor = 0;
  /** Records before this are durable in the store (the cursor file may still lag). */
  private storedCursor = 0;
  /** The cursor as the cursor file holds it. */
  private durableCursor = 0;
  private lastCursorWrite = 0;
  /** Positions and append times of the records not yet applied, oldest first. */
  private pending: PendingRecord[] = [];
  private pendingHead = 0;
  /** Groups written and not yet all synced, in write order. */
  private readonly written: WrittenGroup[] = [];
  private readonly syncing = new Set<Promise<void>>();

  constructor(dir: string, options: JournalOptions = {}) {
    this.dir = dir;
    this.legacyFile = path.join(dir, 'spool.journal');
    this.cursorFile = path.join(dir, 'spool.journal.cursor');
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.cursorEveryMs = options.cursorEveryMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get depth(): number { return this.pending.length - this.pendingHead; }
  /** Position just past the last record: records before it were journaled before now. */
  get end(): number { const last = this.segments.at(-1); return last ? last.start + last.size : 0; }
  /** Position up to which records are applied (in memory; the cursor file may lag). */
  get applied(): number { return this.cursor; }
  /** Position just past the last record offered to the apply (synced). */
  get pendingEnd(): number { return this.pending.at(-1)?.end ?? this.cursor; }
  get oldestAppendedAt(): number | null { return this.pending[this.pendingHead]?.appendedAt ?? null; }
  /** Segment files on disk, oldest first (for tests and /health). */
  get segmentFiles(): string[] { return this.segments.map((s) => s.file); }

  private segmentFile(start: number): string {
    return path.join(this.dir, `${String(start).padStart(20, '0')}${SEGMENT_SUFFIX}`);
  }

  /** Opens (creating if needed) and scans from the cursor: counts pending records, repairs the tail. */
  async open(): Promise<RecoveryReport> {
    mkdirSync(this.dir, { recursive: true });
    const report: RecoveryReport = { pending: 0, droppedTailBytes: 0, damagedCopy: null, staleSegmentsDeleted: 0 };
    let names = (await readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    if (!names.length && await stat(this.legacyFile).then(() => true, () => false)) {
      // An earlier version's single journal file: its offsets are positions from 0, and its cursor file is ours.
      await rename(this.legacyFile, this.segmentFile(0));
      await fsyncDirectory(this.dir);
      names = [path.basename(this.segmentFile(0))];
    }
    for (const name of names) {
      const start = Number(SEGMENT_NAME.exec(name)![1]);
      const file = path.join(this.dir, name);
      this.segments.push({ start, file, size: (await stat(file)).size });
    }
    this.cursor = await readFile(this.cursorFile, 'utf8').then((t) => Number(JSON.parse(t).offset) || 0, () => 0);
    // Segments wholly before the cursor were applied; a crash while deleting them left them here.
    while (this.segments.length > 1 && this.segments[1].start <= this.cursor) {
      await rm(this.segments.shift()!.file, { force: true });
      report.staleSegmentsDeleted++;
    }
    if (!this.segments.length) {
      // Positions continue from the cursor, so that a stale cursor can never point into new records.
      const start = this.cursor;
      await writeFile(this.segmentFile(start), new Uint8Array(0), { flush: true });
      await fsyncDirectory(this.dir);
      this.segments.push({ start, file: this.segmentFile(start), size: 0 });
    }
    const first = this.segments[0];
    // A cursor outside the journal's range (lost cursor file, or one from before a reset) starts at the first record.
    if (this.cursor < first.start || this.cursor > this.end) this.cursor = first.start;
    this.durableCursor = this.cursor;
    this.storedCursor = this.cursor;
    this.lastCursorWrite = this.now();
    if (report.staleSegmentsDeleted) await fsyncDirectory(this.dir);

    for (let s = 0; s < this.segments.length; s++) {
      const segment = this.segments[s];
      const handle = await open(segment.file, 'r');
      try {
        let offset = Math.max(this.cursor, segment.start) - segment.start;
        while (offset < segment.size) {
          const record = await readAt(handle, segment, offset);
          if (record === 'ok-end') break;
          if (record === 'short' && s === this.segments.length - 1) {
            report.droppedTailBytes = segment.size - offset;
            await this.truncateSegment(segment, offset);
            break;
          }
          if (record === 'short' || record === 'damaged') {
            report.damagedCopy = path.join(this.dir, `spool.damaged-${this.now()}`);
            const rest = Buffer.alloc(segment.size - offset);
            await handle.read(rest, 0, rest.length, offset);
            await writeFile(report.damagedCopy, rest, { flush: true });
            await this.truncateSegment(segment, offset);
            // Later segments follow a damaged record; they go aside too, whole, to keep order plain.
            for (const later of this.segments.splice(s + 1)) {
              await rename(later.file, `${report.damagedCopy}-${path.basename(later.file)}`);
            }
            await fsyncDirectory(this.dir);
            break;
          }
          this.pending.push({ offset: segment.start + offset, end: segment.start + record.end, appendedAt: record.appendedAt });
          offset = record.end;
        }
      } finally {
        await handle.close();
      }
    }
    const last = this.segments.at(-1)!;
    this.handle = await open(last.file, 'a+');
    report.pending = this.depth;
    return report;
  }

  private async truncateSegment(segment: Segment, length: number): Promise<void> {
    const handle = await open(segment.file, 'r+');
    try { await handle.truncate(length); await handle.sync(); } finally { await handle.close(); }
    segment.size = length;
  }

  /**
   * Appends records in one write and one fdatasync and returns their positions once they are durable.
   * Callers serialise appends.
   */
  async appendMany(payloads: readonly RecordPayload[], appendedAt: number): Promise<number[]> {
    return (await this.appendGroup(payloads, appendedAt)).positions;
  }

  /**
   * appendMany, also returning the bytes written (the records as framed on disk, back to back)
   * and the position of the first: the caller may keep them to apply without reading them back.
   */
  async appendGroup(payloads: readonly RecordPayload[], appendedAt: number): Promise<WrittenGroup> {
    const group = await this.writeGroup(payloads, appendedAt);
    await this.syncGroup(group);
    return group;
  }

  /**
   * Writes a group of records without waiting for the disk (callers serialise writes). The group
   * is durable, and its records are offered to the apply, once syncGroup() returns for it.
   * Several groups may be syncing at once: an fdatasync covers everything written before it, so a
   * group answered after its own sync is durable whichever sync finishes first.
   */
  async writeGroup(payloads: readonly RecordPayload[], appendedAt: number): Promise<WrittenGroup> {
    let last = this.segments.at(-1)!;
    if (last.size >= this.segmentBytes) {
      // The old segment's handle closes: its syncs in flight finish first.
      await Promise.allSettled([...this.syncing]);
      last = await this.startSegment();
    }
    let total = 0;
    for (const payload of payloads) {
      if (payload.length > MAX_RECORD_BYTES) throw new Error(`a journal record of ${payload.length} bytes is over the limit`);
      total += HEADER_BYTES + payload.length;
    }
    const bytes = Buffer.allocUnsafeSlow(total);
    const positions: number[] = [];
    const start = last.start + last.size;
    let at = 0;
    for (const payload of payloads) {
      // The payload first: the header's checksum covers it.
      payload.copy(bytes, at + HEADER_BYTES);
      writeHeader(bytes, at, bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + payload.length), appendedAt);
      positions.push(start + at);
      at += HEADER_BYTES + payload.length;
    }
    // Written from this thread: the write only copies into the page cache (the fdatasync, which waits
    // for the disk, runs on libuv's pool in syncGroup). A pool write cost every group one more round
    // trip between threads before its sync could start: more latency per answer, and two more thread
    // wake-ups, which on a virtual machine's two cores cost the answering thread more than the copy.
    // 'a+' appends at the end whatever position is given; the size is tracked to know positions.
    const handle = this.handle!;
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(handle.fd, bytes, done, bytes.length - done, null);
    } catch (err) {
      // A group written in part (a full disk) is cut off again, so that the next group starts where
      // positions say it does; should that fail too, the next open drops the torn tail.
      try { ftruncateSync(handle.fd, last.size); } catch { /* see above */ }
      throw err;
    }
    last.size += bytes.length;
    const group: WrittenGroup = { positions, start, bytes, appendedAt, handle, synced: false };
    this.written.push(group);
    return group;
  }

  /** Waits until the group is on disk; then it (and any earlier group already synced) goes to the apply, in write order. */
  async syncGroup(group: WrittenGroup): Promise<void> {
    const sync = datasync(group.handle.fd);
    this.syncing.add(sync);
    try {
      await sync;
    } finally {
      this.syncing.delete(sync);
      // Even a failed sync leaves the bytes in the file, where the next open finds them: they are applied
      // like the rest (their devices, told to retry, resend; the store keeps one copy of each sample).
      group.synced = true;
      while (this.written.length && this.written[0].synced) {
        const g = this.written.shift()!;
        const end = g.start + g.bytes.length;
        for (let i = 0; i < g.positions.length; i++) {
          this.pending.push({ offset: g.positions[i], end: i + 1 < g.positions.length ? g.positions[i + 1] : end, appendedAt: g.appendedAt });
        }
      }
    }
  }

  /** Appends one record and returns once it is durable. */
  async append(payload: Buffer, appendedAt: number): Promise<number> {
    return (await this.appendMany([payload], appendedAt))[0];
  }

  /**
   * The oldest records not yet applied as raw bytes (framed as on disk, one segment at most), from
   * the first pending record up to `before` (exclusive), at most `limit` records and about
   * `maxBytes` bytes (at least one record).
   */
  async readPending(limit: number, before: number, maxBytes = 64 * 1024 * 1024): Promise<{ start: number; end: number; count: number; bytes: Buffer } | null> {
    const i = this.pendingHead;
    if (i >= this.pending.length || this.pending[i].offset >= before) return null;
    const first = this.pending[i];
    const segment = this.segmentOf(first.offset);
    let j = i;
    while (j < this.pending.length && j - i < limit && this.pending[j].offset < before && this.pending[j].end <= segment.start + segment.size
      && (j === i || this.pending[j].end - first.offset <= maxBytes)) j++;
    const end = this.pending[j - 1].end;
    const bytes = Buffer.allocUnsafeSlow(end - first.offset);
    const handle = await open(segment.file, 'r');
    try { await handle.read(bytes, 0, bytes.length, first.offset - segment.start); } finally { await handle.close(); }
    return { start: first.offset, end, count: j - i, bytes };
  }

  private async startSegment(): Promise<Segment> {
    const start = this.end;
    const file = this.segmentFile(start);
    const handle = await open(file, 'a+');
    await fsyncDirectory(this.dir);
    await this.handle?.close();
    this.handle = handle;
    const segment = { start, file, size: 0 };
    this.segments.push(segment);
    return segment;
  }

  /** The oldest records not yet applied, at most `limit` records and about `maxBytes` bytes (at least one). */
  async peek(limit: number, maxBytes = 64 * 1024 * 1024): Promise<JournalRecord[]> {
    const records: JournalRecord[] = [];
    let i = this.pendingHead;
    // The cap counts every record returned, across segments; the first record comes however large.
    let total = 0;
    while (i < this.pending.length && records.length < limit) {
      if (records.length && total + (this.pending[i].end - this.pending[i].offset) > maxBytes) break;
      // One read per run of records that lie in the same segment.
      const first = this.pending[i];
      const segment = this.segmentOf(first.offset);
      let j = i;
      let bytes = 0;
      while (j < this.pending.length && records.length + (j - i) < limit && this.pending[j].end <= segment.start + segment.size
        && ((j === i && records.length === 0) || total + bytes + (this.pending[j].end - this.pending[j].offset) <= maxBytes)) {
        bytes += this.pending[j].end - this.pending[j].offset;
        j++;
      }
      total += bytes;
      const buffer = Buffer.alloc(bytes);
      const handle = await open(segment.file, 'r');
      try { await handle.read(buffer, 0, bytes, first.offset - segment.start); } finally { await handle.close(); }
      for (let k = i; k < j; k++) {
        const p = this.pending[k];
        const at = p.offset - first.offset;
        const head = buffer.subarray(at, at + HEADER_BYTES);
        const payload = buffer.subarray(at + HEADER_BYTES, p.end - first.offset);
        if (head.readUInt32LE(0) !== MAGIC || crc32(payload, crc32(head.subarray(8, 16))) !== head.readUInt32LE(16)) {
          throw new Error(`spool journal ${segment.file} changed under Inlet at position ${p.offset}`);
        }
        records.push({ offset: p.offset, end: p.end, appendedAt: p.appendedAt, payload });
      }
      i = j;
      if (total >= maxBytes) break;
    }
    return records;
  }

  /** Pending records' positions and append times (not their payloads), oldest first, at most `limit`. */
  pendingPositions(limit: number): readonly PendingRecord[] {
    return this.pending.slice(this.pendingHead, this.pendingHead + limit);
  }

  private segmentOf(position: number): Segment {
    for (let s = this.segments.length - 1; s >= 0; s--) if (this.segments[s].start <= position) return this.segments[s];
    throw new Error(`no journal segment holds position ${position}`);
  }

  /**
   * Marks every record before `end` applied and (unless `storedDurably` is before it) durable in the
   * store. The cursor file follows what is durable: at most every cursorEveryMs, at once when
   * `force` is set, and before any segment wholly applied is deleted.
   */
  async advance(end: number, force = false, storedDurably = end): Promise<void> {
    while (this.pendingHead < this.pending.length && this.pending[this.pendingHead].offset < end) this.pendingHead++;
    if (this.pendingHead > 4096 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    this.cursor = Math.max(this.cursor, end);
    this.storedCursor = Math.max(this.storedCursor, Math.min(storedDurably, this.cursor));
    const deletable = this.segments.length > 1 && this.segments[1].start <= this.storedCursor;
    if (force || deletable || this.now() - this.lastCursorWrite >= this.cursorEveryMs) await this.writeCursor();
    while (this.segments.length > 1 && this.segments[1].start <= this.durableCursor) {
      await rm(this.segments.shift()!.file, { force: true });
      if (this.segments.length === 1 || this.segments[1].start > this.durableCursor) await fsyncDirectory(this.dir);
    }
  }

  private async writeCursor(): Promise<void> {
    if (this.storedCursor === this.durableCursor) { this.lastCursorWrite = this.now(); return; }
    const cursor = this.storedCursor;
    const temp = `${this.cursorFile}.tmp`;
    await writeFile(temp, JSON.stringify({ offset: cursor }), { flush: true });
    await rename(temp, this.cursorFile);
    await fsyncDirectory(this.dir);
    this.durableCursor = cursor;
    this.lastCursorWrite = this.now();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.syncing]);
    if (this.handle) await this.writeCursor();
    await this.handle?.close();
    this.handle = null;
  }
}

async function readAt(handle: FileHandle, segment: Segment, offset: number): Promise<{ end: number; appendedAt: number } | 'short' | 'damaged' | 'ok-end'> {
  if (offset >= segment.size) return 'ok-end';
  const head = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await handle.read(head, 0, HEADER_BYTES, offset);
  if (bytesRead < HEADER_BYTES) return 'short';
  if (head.readUInt32LE(0) !== MAGIC) return 'damaged';
  const length = head.readUInt32LE(4);
  if (length > MAX_RECORD_BYTES) return 'damaged';
  if (offset + HEADER_BYTES + length > segment.size) return 'short';
  const payload = Buffer.alloc(length);
  await handle.read(payload, 0, length, offset + HEADER_BYTES);
  if (crc32(payload, crc32(head.subarray(8, 16))) !== head.readUInt32LE(16)) {
    // The last record torn by a crash fails its checksum too: that is a short write, not damage.
    return offset + HEADER_BYTES + length === segment.size ? 'short' : 'damaged';
  }
  return { end: offset + HEADER_BYTES + length, appendedAt: head.readDoubleLE(8) };
}

/**
 * Bytes of journal records not yet applied, read without opening the journal (a running gateway
 * owns it): the segments' total end less the cursor. 0 when there is no journal. For `inlet verify`
 * and other tools that read the database beside a gateway.
 */
export function unappliedJournalBytes(dir: string): number {
  let names: string[];
  try { names = readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort(); } catch { return 0; }
  const legacy = path.join(dir, 'spool.journal');
  const last = names.at(-1);
  const end = last ? Number(SEGMENT_NAME.exec(last)![1]) + statSync(path.join(dir, last)).size : existsSync(legacy) ? statSync(legacy).size : 0;
  let cursor = 0;
  try { cursor = Number(JSON.parse(readFileSync(path.join(dir, 'spool.journal.cursor'), 'utf8')).offset) || 0; } catch { /* no cursor yet */ }
  const first = names[0] ? Number(SEGMENT_NAME.exec(names[0])![1]) : 0;
  return Math.max(0, end - Math.max(cursor, first));
}

/**
 * The last complete record not yet applied, as the segment files hold it now, read without opening
 * the journal (a running gateway owns it), with the journal's id: records are applied in order, so
 * once the store holds this record's upload key it holds every record acknowledged before it.
 * Null when the cursor file says everything is applied. For `inlet backup`.
 */
export function lastUnappliedRecord(dir: string): { journalId: string; position: number } | null {
  let names: string[];
  try { names = readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort(); } catch { return null; }
  let journalId = '';
  try { journalId = readFileSync(path.join(dir, 'journal.id'), 'utf8').trim(); } catch { return null; }
  let cursor = 0;
  try { cursor = Number(JSON.parse(readFileSync(path.join(dir, 'spool.journal.cursor'), 'utf8')).offset) || 0; } catch { /* no cursor yet */ }
  let last: number | null = null;
  for (const name of names) {
    const start = Number(SEGMENT_NAME.exec(name)![1]);
    const file = path.join(dir, name);
    if (start + statSync(file).size <= cursor) continue;
    const bytes = readFileSync(file);
    // Records begin at the segment's start, and the cursor always sits at a record's end.
    let at = Math.max(0, cursor - start);
    while (at + HEADER_BYTES <= bytes.length && bytes.readUInt32LE(at) === MAGIC) {
      const end = at + HEADER_BYTES + bytes.readUInt32LE(at + 4);
      if (end > bytes.length) break;     // still being written
      last = start + at;
      at = end;
    }
  }
  return last === null ? null : { journalId, position: last };
}
