// A batch as a journal record. Binary, so that the thread answering devices spends little on it:
//   version 1 (u8) | meta length u32 | raw length u32 | sample count u32 | meta (JSON) | raw body |
//   samples as columns: device id, channel, time, value, error code (f64 each, NaN for none) | alarm codes (u8)
// little-endian. The upload key is not in the record: it is derived from the record's journal
// position when the record is applied, so that a record applied twice (after a crash) is stored once.
// Records written by earlier versions are JSON with the raw body in base64, and carry their own key.
import type { Batch, SampleRow } from '../../domain/types.ts';
import { ALARM_CODES } from '../../domain/sample-columns.ts';

const VERSION = 1;
const HEAD = 13;
const ALARM_CODE: Record<string, number> = { no: 0, hi: 1, lo: 2 };

/**
 * A batch ready to be written as a record: its size is known at once, and its bytes are written
 * straight into the buffer of the journal group that takes it (copy()), so that an upload costs the
 * answering thread no buffer of its own (a Buffer per upload is memory outside the heap for the
 * collector to track, then copied once more into the group).
 */
export class BatchRecord {
  readonly batch: Batch;
  readonly length: number;
  private readonly metaText: string;
  private readonly metaLength: number;

  constructor(batch: Batch) {
    this.batch = batch;
    const { upload, samples } = batch;
    // The meta is the batch without its raw body and samples, which follow it in binary (a key set
    // to undefined is left out of the JSON; spreads are cheaper here than rest destructuring).
    this.metaText = JSON.stringify({ ...batch, samples: undefined, upload: { ...upload, raw: undefined } });
    this.metaLength = Buffer.byteLength(this.metaText);
    this.length = HEAD + this.metaLength + upload.raw.length + samples.length * 41;
  }

  /** Writes the record at `at` (as Buffer.copy does, so that a group takes Buffers and records alike). */
  copy(out: Buffer, at: number): number {
    const { upload: { raw }, samples } = this.batch;
    const n = samples.length;
    out.writeUInt8(VERSION, at);
    out.writeUInt32LE(this.metaLength, at + 1);
    out.writeUInt32LE(raw.length, at + 5);
    out.writeUInt32LE(n, at + 9);
    out.write(this.metaText, at + HEAD, this.metaLength, 'utf8');
    raw.copy(out, at + HEAD + this.metaLength);
    const columns = at + HEAD + this.metaLength + raw.length;
    for (let i = 0; i < n; i++) {
      const s = samples[i];
      out.writeDoubleLE(s.deviceId, columns + i * 8);
      out.writeDoubleLE(s.channel, columns + (n + i) * 8);
      out.writeDoubleLE(s.time, columns + (2 * n + i) * 8);
      out.writeDoubleLE(s.value ?? Number.NaN, columns + (3 * n + i) * 8);
      out.writeDoubleLE(s.errorCode ?? Number.NaN, columns + (4 * n + i) * 8);
    }
    const alarms = columns + 40 * n;
    for (let i = 0; i < n; i++) out[alarms + i] = ALARM_CODE[samples[i].alarm];
    return this.length;
  }
}

/** The batch as a record of its own. */
export function encodeBatch(batch: Batch): Buffer {
  const record = new BatchRecord(batch);
  const out = Buffer.allocUnsafe(record.length);
  record.copy(out, 0);
  return out;
}

export function decodeBatch(payload: Buffer): Batch {
  if (payload[0] !== VERSION) {
    // An earlier version's JSON record.
    const parsed = JSON.parse(payload.toString('utf8')) as Batch & { upload: { raw: string } };
    return { ...parsed, upload: { ...parsed.upload, raw: Buffer.from(parsed.upload.raw, 'base64') } };
  }
  const metaLength = payload.readUInt32LE(1);
  const rawLength = payload.readUInt32LE(5);
  const n = payload.readUInt32LE(9);
  const meta = JSON.parse(payload.toString('utf8', HEAD, HEAD + metaLength)) as Omit<Batch, 'samples'> & { upload: Omit<Batch['upload'], 'raw'> };
  const rawAt = HEAD + metaLength;
  const raw = Buffer.from(payload.subarray(rawAt, rawAt + rawLength));
  const at = rawAt + rawLength;
  const samples: SampleRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const value = payload.readDoubleLE(at + (3 * n + i) * 8);
    const errorCode = payload.readDoubleLE(at + (4 * n + i) * 8);
    samples[i] = {
      deviceId: payload.readDoubleLE(at + i * 8), channel: payload.readDoubleLE(at + (n + i) * 8), time: payload.readDoubleLE(at + (2 * n + i) * 8),
      value: Number.isNaN(value) ? null : value, errorCode: Number.isNaN(errorCode) ? null : errorCode, alarm: ALARM_CODES[payload[at + 40 * n + i]],
    };
  }
  return { ...meta, upload: { ...meta.upload, raw }, samples };
}

/** The upload key of the journal record at `position`: hex, so that keys sort as positions do. */
export function uploadKeyOf(journalId: string, position: number): string {
  return `${journalId}:${position.toString(16).padStart(12, '0')}`;
}

/** A batch's record split without building an object per sample (decodeBatch does): its meta, its raw body, where its sample columns are. */
export interface RecordParts {
  meta: Omit<Batch, 'samples'> & { upload: Omit<Batch['upload'], 'raw'> };
  raw: Buffer;
  sampleCount: number;
  /** Offset in the payload of the first sample column (n f64 device ids, then channels, times, values, error codes; then n alarm bytes). */
  samplesAt: number;
}

/** The parts of a record of this version; null for an earlier version's JSON record (decode it with decodeBatch). */
export function recordParts(payload: Buffer): RecordParts | null {
  if (payload[0] !== VERSION) return null;
  const metaLength = payload.readUInt32LE(1);
  const rawLength = payload.readUInt32LE(5);
  const sampleCount = payload.readUInt32LE(9);
  const rawAt = HEAD + metaLength;
  return {
    meta: JSON.parse(payload.toString('utf8', HEAD, rawAt)) as RecordParts['meta'],
    raw: payload.subarray(rawAt, rawAt + rawLength), sampleCount, samplesAt: rawAt + rawLength,
  };
}
