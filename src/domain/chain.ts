// Tamper evidence: every stored upload carries sha256(previous hash of the same chain ||
// canonical record), where the record includes a digest of the samples that upload stored.
// Changing, inserting or deleting an upload or one of its samples breaks the chain.
// With a chain key (chain-key.ts) the link is HMAC-SHA256 under that key instead, so that someone
// who can rewrite the database but not read the gateway's key file cannot recompute the chain.
import { createHash, hash as oneShotHash, type Hash } from 'node:crypto';
import type { AlarmState } from './types.ts';
import { ALARM_CODES, type SampleColumns } from './sample-columns.ts';

export const GENESIS_HASH = new Uint8Array(32);

export interface ChainRecord {
  id: number;
  deviceId: number | null;
  family: string;
  receivedAt: number;
  verdict: string;
  reason: string;
  serial: string | null;
  counter: number | null;
  raw: Uint8Array;
  /**
   * The body's SHA-256 as recorded when the raw-body retention emptied it (migration 031). Used only
   * while raw is empty: a body still stored is always hashed itself, so a recorded digest cannot
   * vouch for changed bytes.
   */
  rawSha256?: Uint8Array;
  /** Covered from hash version 3 on (every column of the row; issue 18). */
  remoteAddress?: string;
  contentType?: string;
}

export interface ChainSample {
  channel: number;
  time: number;
  value: number | null;
  errorCode: number | null;
  alarm: AlarmState;
}

const encoder = new TextEncoder();

/**
 * Native SHA-256: a logger backlog's raw body is 10 MB, which a JavaScript implementation hashes ten
 * times slower. One-shot (crypto.hash): the apply hashes every upload, and a Hash object costs more
 * to make than a small body costs to hash. Asked for hex and decoded: crypto.hash's own 'buffer'
 * output made a Buffer outside the pool and cost three times as much (about 1.3 µs against 0.45).
 */
function sha256(data: Uint8Array | string): Uint8Array {
  return Buffer.from(oneShotHash('sha256', data, 'hex'), 'hex');
}

/** Digest of the samples an upload stored, independent of the order they were given in. */
export function samplesDigest(samples: ChainSample[]): Uint8Array {
  const sorted = [...samples].sort((a, b) => a.channel - b.channel || a.time - b.time);
  const text = JSON.stringify(sorted.map((s) => [s.channel, s.time, s.value, s.errorCode, s.alarm]));
  return sha256(encoder.encode(text));
}

/**
 * samplesDigest of the rows `indices` of `cols`, byte for byte, without an object per sample: a
 * logger backlog stores 100,000 samples in one upload. Rows come in time order per message, so
 * they are put in (channel, time) order by a stable counting pass over the channel, and sorted
 * by comparison only where times within a channel are out of order.
 */
export function samplesDigestOfColumns(cols: SampleColumns, indices: ArrayLike<number>): Uint8Array {
  return Buffer.from(samplesDigestHexOfColumns(cols, indices), 'hex');
}

/** samplesDigestOfColumns in hex, as the chain record writes it (the writer seals with it). */
export function samplesDigestHexOfColumns(cols: SampleColumns, indices: ArrayLike<number>): string {
  const order = channelTimeOrder(cols, indices);
  // A Hash object only for text over 64 KiB (a backlog); the usual few samples are hashed in one shot.
  let hash: Hash | null = null;
  // The JSON text that samplesDigest hashes, fed in pieces. String(n) is how JSON.stringify writes a
  // finite number; values repeat (a sensor's resolution), so each is formatted once, and a time in
  // ms is formatted as two int32 halves, which V8 does far faster than one large double.
  // The formatted values are kept across uploads (a sensor's few hundred readings recur), up to a bound.
  let text = '[';
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const v = cols.value[i];
    let vt = valueText.get(v);
    if (vt === undefined) {
      vt = Number.isNaN(v) ? 'null' : String(v);
      if (valueText.size >= VALUE_TEXTS_KEPT) valueText.clear();
      valueText.set(v, vt);
    }
    const e = cols.errorCode[i];
    text += `${k === 0 ? '[' : ',['}${cols.channel[i]},${timeText(cols.time[i])},${vt},${Number.isNaN(e) ? 'null' : e},${ALARM_JSON[cols.alarm[i]]}]`;
    if (text.length >= 65_536) { (hash ??= createHash('sha256')).update(text); text = ''; }
  }
  return hash ? hash.update(`${text}]`).digest('hex') : oneShotHash('sha256', `${text}]`, 'hex');
}

const ALARM_JSON = ALARM_CODES.map((a) => JSON.stringify(a));
const valueText = new Map<number, string>();
const VALUE_TEXTS_KEPT = 4096;

/** String(t) for a time in ms. */
function timeText(t: number): string {
  const high = Math.floor(t / 1e6);
  if (high < 1 || high > 2 ** 31 || !Number.isInteger(t)) return String(t);
  return `${high}${String(t - high * 1e6 + 1e6).slice(1)}`;
}

/** Up to this many samples, channelTimeOrder sorts by insertion. */
const SMALL_UPLOAD = 32;

/** `indices` stably ordered by (channel, time), as Array.prototype.sort with that comparator would. */
export function channelTimeOrder(cols: SampleColumns, indices: ArrayLike<number>): Uint32Array {
  const n = indices.length;
  const order = new Uint32Array(n);
  if (n <= SMALL_UPLOAD) {
    // An upload of a few samples (a Web Sensor's one per channel): a stable insertion sort, without
    // the set of channels and its sorted copy, which cost more than the sort itself here.
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      const c = cols.channel[i];
      const t = cols.time[i];
      let j = k;
      for (; j > 0; j--) {
        const p = order[j - 1];
        if (cols.channel[p] < c || (cols.channel[p] === c && cols.time[p] <= t)) break;
        order[j] = p;
      }
      order[j] = i;
    }
    return order;
  }
  const seen = new Set<number>();
  for (let k = 0; k < n; k++) seen.add(cols.channel[indices[k]]);
  const channels = [...seen].sort((a, b) => a - b);
  if (channels.length <= 16) {
    // Stable counting pass: each channel's rows in their given order.
    let k = 0;
    for (const c of channels) for (let j = 0; j < n; j++) if (cols.channel[indices[j]] === c) order[k++] = indices[j];
  } else {
    order.set(Array.from(indices).sort((a, b) => cols.channel[a] - cols.channel[b]));
  }
  for (let k = 1; k < n; k++) {
    const a = order[k - 1];
    const b = order[k];
    if (cols.channel[a] === cols.channel[b] && cols.time[a] > cols.time[b]) {
      // Out of order within a channel: the stable comparison sort decides, as for row objects.
      return Uint32Array.from(Array.from(order).sort((x, y) => cols.channel[x] - cols.channel[y] || cols.time[x] - cols.time[y]));
    }
  }
  return order;
}

/** The HMAC-SHA256 pads of a key (RFC 2104): key XOR 0x36 (64 bytes), then key XOR 0x5c (64 bytes); made once per key. */
const keyPads = new WeakMap<Uint8Array, Buffer>();
function padsOf(key: Uint8Array): Buffer {
  let pads = keyPads.get(key);
  if (!pads) {
    const k = key.length > 64 ? sha256(key) : key; // a key longer than SHA-256's block is hashed first
    pads = Buffer.alloc(128);
    pads.fill(0x36, 0, 64);
    pads.fill(0x5c, 64, 128);
    for (let i = 0; i < k.length; i++) { pads[i] ^= k[i]; pads[64 + i] ^= k[i]; }
    keyPads.set(key, pads);
  }
  return pads;
}

let hmacInner = Buffer.alloc(4096);
const hmacOuter = Buffer.alloc(64 + 32);

/**
 * HMAC-SHA256(key, prefix || UTF-8 of text), byte for byte what createHmac computes, as two one-shot
 * hashes over reused buffers: the apply links every upload, and an Hmac object (a stream) cost more
 * than both hashes (test/unit/chain-digest.test.ts compares the two on any input).
 */
export function hmacSha256(key: Uint8Array, prefix: Uint8Array, text: string): Buffer {
  const pads = padsOf(key);
  const need = 64 + prefix.length + 3 * text.length;
  if (hmacInner.length < need) hmacInner = Buffer.alloc(need);
  pads.copy(hmacInner, 0, 0, 64);
  hmacInner.set(prefix, 64);
  const length = 64 + prefix.length + hmacInner.write(text, 64 + prefix.length, 'utf8');
  pads.copy(hmacOuter, 0, 64, 128);
  hmacOuter.write(oneShotHash('sha256', hmacInner.subarray(0, length), 'hex'), 64, 'hex'); // hex: see sha256()
  return Buffer.from(oneShotHash('sha256', hmacOuter, 'hex'), 'hex');
}

/** The key an upload's link is computed under; null for chains written before keys (version 1). */
export type ChainLinkKey = Uint8Array | null;

/**
 * Version 1: unkeyed SHA-256; 2: HMAC under the chain key; 3: HMAC that also covers the upload's
 * remote address and content type (every column the row holds). Keyed writers write version 3; the
 * chain key file says from which upload id on (keyedFromUploadId, allColumnsFromUploadId).
 * `digestOfSamples` as bytes, or as the hex the record holds.
 */
export function uploadHash(prevHash: Uint8Array, record: ChainRecord, digestOfSamples: Uint8Array | string, key: ChainLinkKey = null, allColumns = key !== null): Uint8Array {
  const fields: unknown[] = [
    key ? (allColumns ? 3 : 2) : 1, record.id, record.deviceId, record.family, record.receivedAt, record.verdict, record.reason,
    record.serial, record.counter, record.raw.length === 0 && record.rawSha256 ? toHex(record.rawSha256) : oneShotHash('sha256', record.raw, 'hex'),
    typeof digestOfSamples === 'string' ? digestOfSamples : toHex(digestOfSamples),
  ];
  if (key && allColumns) fields.push(record.remoteAddress ?? '', record.contentType ?? '');
  const header = JSON.stringify(fields);
  if (key) return hmacSha256(key, prevHash, header);
  const headerBytes = encoder.encode(header);
  const buf = new Uint8Array(prevHash.length + headerBytes.length);
  buf.set(prevHash, 0);
  buf.set(headerBytes, prevHash.length);
  return sha256(buf);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Uploads of one device form one chain; uploads with no device (refused unknowns) form chain 0. */
export function chainKey(deviceId: number | null): number {
  return deviceId ?? 0;
}
