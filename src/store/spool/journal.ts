// An append-only journal of opaque records on local disk, with a separate cursor file that says how
// far replay has got. Each record is
//   magic "INL1" | payload length u32 | appended-at ms f64 | CRC-32 of (appended-at, payload) u32 | payload
// all little-endian. append() resolves only after the record is on disk (fdatasync), which is what
// lets the caller answer a device. A record cut short by a crash was never acknowledged and is
// dropped at open; a damaged record is moved aside with everything after it, and reported.
import { open, readFile, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x314c4e49; // "INL1" read as little-endian u32
const HEADER_BYTES = 20;
/** No single upload comes near this; a larger length field means the header is damaged. */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export interface JournalRecord {
  offset: number;
  /** Offset just past this record: where the cursor goes once it is replayed. */
  end: number;
  appendedAt: number;
  payload: Buffer;
}

export interface RecoveryReport {
  pending: number;
  droppedTailBytes: number;
  /** Set when a damaged record was found: the file its bytes (and all after it) were moved to. */
  damagedCopy: string | null;
}

function header(payload: Buffer, appendedAt: number): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(payload.length, 4);
  head.writeDoubleLE(appendedAt, 8);
  head.writeUInt32LE(crc32(payload, crc32(head.subarray(8, 16))), 16);
  return head;
}

async function fsyncDirectory(dir: string): Promise<void> {
  // Makes a new or renamed file's directory entry durable. Windows cannot open a directory for
  // syncing; NTFS journals the metadata itself there.
  if (process.platform === 'win32') return;
  const handle = await open(dir, constants.O_RDONLY);
  try { await handle.sync(); } finally { await handle.close(); }
}

export class Journal {
  readonly file: string;
  private readonly cursorFile: string;
  private handle: FileHandle | null = null;
  private size = 0;
  private cursor = 0;
  /** Offsets and append times of the records not yet replayed, oldest first. */
  private readonly pending: { offset: number; appendedAt: number }[] = [];

  constructor(file: string) {
    this.file = file;
    this.cursorFile = `${file}.cursor`;
  }

  get depth(): number { return this.pending.length; }
  /** Offset just past the last record: records before it were journaled before now. */
  get end(): number { return this.size; }
  get oldestAppendedAt(): number | null { return this.pending[0]?.appendedAt ?? null; }

  /** Opens (creating if needed) and scans from the cursor: counts pending records, repairs the tail. */
  async open(): Promise<RecoveryReport> {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const existed = await stat(this.file).then(() => true, () => false);
    this.handle = await open(this.file, 'a+');
    if (!existed) await fsyncDirectory(path.dirname(this.file));
    this.size = (await this.handle.stat()).size;
    this.cursor = await readFile(this.cursorFile, 'utf8').then((t) => Number(JSON.parse(t).offset) || 0, () => 0);
    // A crash between emptying the journal and resetting the cursor leaves the cursor past the end.
    if (this.cursor > this.size) this.cursor = 0;
    const report: RecoveryReport = { pending: 0, droppedTailBytes: 0, damagedCopy: null };
    let offset = this.cursor;
    while (offset < this.size) {
      const record = await this.readAt(offset);
      if (record === 'short') {
        report.droppedTailBytes = this.size - offset;
        await this.truncate(offset);
        break;
      }
      if (record === 'damaged') {
        report.damagedCopy = `${this.file}.damaged-${Date.now()}`;
        const rest = Buffer.alloc(this.size - offset);
        await this.handle.read(rest, 0, rest.length, offset);
        await writeFile(report.damagedCopy, rest, { flush: true });
        await this.truncate(offset);
        break;
      }
      this.pending.push({ offset, appendedAt: record.appendedAt });
      offset = record.end;
    }
    report.pending = this.pending.length;
    return report;
  }

  private async truncate(length: number): Promise<void> {
    await this.handle!.truncate(length);
    await this.handle!.sync();
    this.size = length;
  }

  private async readAt(offset: number): Promise<JournalRecord | 'short' | 'damaged'> {
    const head = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await this.handle!.read(head, 0, HEADER_BYTES, offset);
    if (bytesRead < HEADER_BYTES) return 'short';
    if (head.readUInt32LE(0) !== MAGIC) return 'damaged';
    const length = head.readUInt32LE(4);
    if (length > MAX_RECORD_BYTES) return 'damaged';
    if (offset + HEADER_BYTES + length > this.size) return 'short';
    const payload = Buffer.alloc(length);
    await this.handle!.read(payload, 0, length, offset + HEADER_BYTES);
    if (crc32(payload, crc32(head.subarray(8, 16))) !== head.readUInt32LE(16)) {
      // The last record torn by a crash fails its checksum too: that is a short write, not damage.
      return offset + HEADER_BYTES + length === this.size ? 'short' : 'damaged';
    }
    return { offset, end: offset + HEADER_BYTES + length, appendedAt: head.readDoubleLE(8), payload };
  }

  /** Appends one record and returns once it is durable. Callers serialise appends. */
  async append(payload: Buffer, appendedAt: number): Promise<void> {
    const record = Buffer.concat([header(payload, appendedAt), payload]);
    const offset = this.size;
    // 'a+' appends at the end whatever position is given; the size is tracked to know the offset.
    await this.handle!.write(record, 0, record.length, null);
    await this.handle!.datasync();
    this.size += record.length;
    this.pending.push({ offset, appendedAt });
  }

  /**
   * The oldest records not yet replayed, at most `limit` and, past the first, at most `maxBytes` of
   * payload: a chunk of large backlogs stays small enough to commit, and the first record always comes.
   */
  async peek(limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<JournalRecord[]> {
    const records: JournalRecord[] = [];
    let bytes = 0;
    for (const p of this.pending.slice(0, limit)) {
      const record = await this.readAt(p.offset);
      if (typeof record === 'string') throw new Error(`spool journal ${this.file} changed under Inlet at offset ${p.offset}`);
      bytes += record.payload.length;
      if (records.length && bytes > maxBytes) break;
      records.push(record);
    }
    return records;
  }

  /** Marks every record before `end` replayed; when none is left, empties the journal. */
  async advance(end: number): Promise<void> {
    while (this.pending.length && this.pending[0].offset < end) this.pending.shift();
    if (!this.pending.length && end >= this.size) {
      // Truncate first: a crash before the cursor is reset leaves a cursor past the end, read as 0.
      await this.truncate(0);
      end = 0;
    }
    this.cursor = end;
    const temp = `${this.cursorFile}.tmp`;
    await writeFile(temp, JSON.stringify({ offset: end }), { flush: true });
    await rename(temp, this.cursorFile);
    await fsyncDirectory(path.dirname(this.file));
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}
