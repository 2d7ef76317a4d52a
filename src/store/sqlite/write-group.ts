// A group of batches in the form the SQLite writer takes them: every sample of the group in one set
// of columns and every raw body in one byte array, so that handing a group to the write thread is
// one message with three transferred buffers instead of a structured clone of one object per sample
// (and of each raw body's whole backing buffer, which for a socket read is far larger than the body).
import type { Batch, Channel, EventRow } from '../../domain/types.ts';
import { allocateSampleColumns, packSampleRows, setSample, type SampleColumns } from '../../domain/sample-columns.ts';
import { decodeBatch, recordParts, type RecordParts } from '../spool/record-codec.ts';

export interface WireUpload extends Omit<Batch['upload'], 'raw'> {
  /** The raw body is group.raw[rawStart, rawEnd). */
  rawStart: number;
  rawEnd: number;
}

export interface WireBatch {
  upload: WireUpload;
  /** The batch's samples are rows [sampleStart, sampleEnd) of group.samples. */
  sampleStart: number;
  sampleEnd: number;
  channels: Channel[];
  events: EventRow[];
  /** Quarantined readings, already as the JSON the quarantine table keeps. */
  quarantineJson: string | null;
  deviceSeen: Batch['deviceSeen'];
  suspend: Batch['suspend'];
  /** The batch may be stored already (a replay): its upload key is looked up before anything is written. */
  maybeStored: boolean;
}

export interface WriteGroup {
  batches: WireBatch[];
  raw: Uint8Array;
  samples: SampleColumns;
}

/** `maybeStored[i]` false: batch i is new for certain (first apply of a journal record), no key lookup. */
export function packWriteGroup(batches: readonly Batch[], maybeStored?: readonly boolean[]): WriteGroup {
  let rawLength = 0;
  for (const b of batches) rawLength += b.upload.raw.length;
  const raw = new Uint8Array(rawLength);
  const samples = packSampleRows(batches.map((b) => b.samples));
  let rawAt = 0;
  let sampleAt = 0;
  const wire = batches.map((b, i): WireBatch => {
    const { raw: body, ...upload } = b.upload;
    raw.set(body, rawAt);
    const w: WireBatch = {
      upload: { ...upload, rawStart: rawAt, rawEnd: rawAt + body.length },
      sampleStart: sampleAt, sampleEnd: sampleAt + b.samples.length,
      channels: b.channels, events: b.events,
      quarantineJson: b.quarantine ? JSON.stringify(b.quarantine) : null,
      deviceSeen: b.deviceSeen, suspend: b.suspend, maybeStored: maybeStored?.[i] ?? true,
    };
    rawAt += body.length;
    sampleAt += b.samples.length;
    return w;
  });
  return { batches: wire, raw, samples };
}

/** The buffers a packed group owns alone, to transfer rather than copy. */
export function transferList(group: WriteGroup): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>([group.raw.buffer as ArrayBuffer, group.samples.time.buffer as ArrayBuffer, group.samples.alarm.buffer as ArrayBuffer]);
  return [...buffers];
}

/** The host stores f64 little-endian, as journal records do: their sample columns are copied byte for byte. */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * packWriteGroup straight from journal records (record-codec.ts), for the apply: each record's
 * sample columns are copied into the group's columns as bytes, without an object per sample.
 * `keyOf(i)` is the upload key of record i (a record of an earlier version carries its own).
 */
export function packJournalRecords(payloads: readonly Buffer[], keyOf: (i: number) => string, maybeStored: readonly boolean[]): WriteGroup {
  const parts = payloads.map((p) => (LITTLE_ENDIAN ? recordParts(p) : null));
  const older = parts.map((part, i) => (part ? null : decodeBatch(payloads[i])));
  let rawLength = 0;
  let sampleCount = 0;
  for (let i = 0; i < payloads.length; i++) {
    rawLength += parts[i]?.raw.length ?? older[i]!.upload.raw.length;
    sampleCount += parts[i]?.sampleCount ?? older[i]!.samples.length;
  }
  // Records split from one chunk of the journal lie in one buffer, on the thread that writes them: the
  // bodies are read where they are (a copy of every body cost as much as hashing it). Otherwise (a
  // record of an earlier version, decoded) each body is copied into a buffer of the group's own.
  const shared = sharedBuffer(parts, payloads);
  const raw = shared ?? new Uint8Array(rawLength);
  const samples = allocateSampleColumns(sampleCount);
  const numbers = [samples.deviceId, samples.channel, samples.time, samples.value, samples.errorCode]
    .map((c) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  let rawAt = 0;
  let sampleAt = 0;
  const batches = payloads.map((payload, i): WireBatch => {
    const part = parts[i];
    const meta = part ? part.meta : older[i]!;
    const body = part ? part.raw : older[i]!.upload.raw;
    const n = part ? part.sampleCount : older[i]!.samples.length;
    if (part) {
      for (let c = 0; c < 5; c++) payload.copy(numbers[c], sampleAt * 8, part.samplesAt + c * n * 8, part.samplesAt + (c + 1) * n * 8);
      payload.copy(samples.alarm, sampleAt, part.samplesAt + 5 * n * 8, part.samplesAt + 5 * n * 8 + n);
    } else {
      older[i]!.samples.forEach((s, k) => setSample(samples, sampleAt + k, s));
    }
    const bodyAt = shared ? body.byteOffset : rawAt;
    if (!shared) raw.set(body, rawAt);
    let upload: WireUpload;
    if (part) {
      // The record's own parsed meta (it holds no body): completed in place rather than copied.
      upload = part.meta.upload as unknown as WireUpload;
      upload.uploadKey ??= keyOf(i);
      upload.rawStart = bodyAt;
      upload.rawEnd = bodyAt + body.length;
    } else {
      const { raw: _raw, ...rest } = meta.upload as Batch['upload'];
      upload = { ...rest, uploadKey: rest.uploadKey ?? keyOf(i), rawStart: bodyAt, rawEnd: bodyAt + body.length };
    }
    const w: WireBatch = {
      upload,
      sampleStart: sampleAt, sampleEnd: sampleAt + n,
      channels: meta.channels, events: meta.events,
      quarantineJson: meta.quarantine ? JSON.stringify(meta.quarantine) : null,
      deviceSeen: meta.deviceSeen, suspend: meta.suspend, maybeStored: maybeStored[i],
    };
    rawAt += body.length;
    sampleAt += n;
    return w;
  });
  return { batches, raw, samples };
}

/** The whole buffer every record's body lies in, when they all lie in one (record parts of one journal chunk); else null. */
function sharedBuffer(parts: readonly (RecordParts | null)[], payloads: readonly Buffer[]): Uint8Array | null {
  if (!payloads.length) return null;
  const buffer = payloads[0].buffer;
  for (const part of parts) if (!part || part.raw.buffer !== buffer) return null;
  return new Uint8Array(buffer);
}
