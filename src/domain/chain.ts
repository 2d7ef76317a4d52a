// Tamper evidence: every stored upload carries sha256(previous hash of the same chain ||
// canonical record), where the record includes a digest of the samples that upload stored.
// Changing, inserting or deleting an upload or one of its samples breaks the chain.
import { createHash } from 'node:crypto';
import type { AlarmState } from './types.ts';

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
}

export interface ChainSample {
  channel: number;
  time: number;
  value: number | null;
  errorCode: number | null;
  alarm: AlarmState;
}

const encoder = new TextEncoder();

/** Native SHA-256: a logger backlog's raw body is 10 MB, which a JavaScript implementation hashes ten times slower. */
function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

/** Digest of the samples an upload stored, independent of the order they were given in. */
export function samplesDigest(samples: ChainSample[]): Uint8Array {
  const sorted = [...samples].sort((a, b) => a.channel - b.channel || a.time - b.time);
  const text = JSON.stringify(sorted.map((s) => [s.channel, s.time, s.value, s.errorCode, s.alarm]));
  return sha256(encoder.encode(text));
}

export function uploadHash(prevHash: Uint8Array, record: ChainRecord, digestOfSamples: Uint8Array): Uint8Array {
  const header = JSON.stringify([
    1, record.id, record.deviceId, record.family, record.receivedAt, record.verdict, record.reason,
    record.serial, record.counter, toHex(sha256(record.raw)), toHex(digestOfSamples),
  ]);
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
