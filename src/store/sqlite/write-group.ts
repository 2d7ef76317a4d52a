// A group of batches in the form the SQLite writer takes them: every sample of the group in one set
// of columns and every raw body in one byte array, so that handing a group to the write thread is
// one message with three transferred buffers instead of a structured clone of one object per sample
// (and of each raw body's whole backing buffer, which for a socket read is far larger than the body).
import type { Batch, Channel, EventRow } from '../../domain/types.ts';
import { packSampleRows, type SampleColumns } from '../../domain/sample-columns.ts';

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
