// The columnar samples digest the SQLite writer uses must hash exactly what samplesDigest hashes
// (verification recomputes it from stored rows with samplesDigest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHash, createHmac } from 'node:crypto';
import { hmacSha256, samplesDigest, samplesDigestOfColumns, uploadHash } from '../../src/domain/chain.ts';
import { packSampleRows, sampleAt } from '../../src/domain/sample-columns.ts';
import type { SampleRow } from '../../src/domain/types.ts';

const T = Date.UTC(2026, 2, 1);

const row = (channels: number) => fc.record({
  deviceId: fc.integer({ min: 1, max: 3 }),
  channel: fc.integer({ min: 1, max: channels }),
  time: fc.oneof(fc.integer({ min: T - 1e9, max: T + 1e9 }), fc.integer({ min: -5e12, max: 9e12 }), fc.constantFrom(0, 999_999, 1_000_000, T)),
  value: fc.oneof(fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1000, max: 1000 }).map((n) => n / 10), fc.constant(-0)),
  errorCode: fc.constantFrom(null, 0, 1, 98, 255),
  alarm: fc.constantFrom('no', 'hi', 'lo'),
}).map((r): SampleRow => ({ ...r, errorCode: r.value === null ? (r.errorCode ?? 1) : r.errorCode, alarm: r.alarm as SampleRow['alarm'] }));

test('samplesDigestOfColumns equals samplesDigest on any rows, in any order, of any subset', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 40 }).chain((c) => fc.array(row(c), { maxLength: 300 })), fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }), (rows, keep) => {
    const cols = packSampleRows([rows]);
    const indices = rows.map((_, i) => i).filter((i) => keep[i]);
    const expected = samplesDigest(indices.map((i) => rows[i]));
    assert.deepEqual(Buffer.from(samplesDigestOfColumns(cols, indices)), Buffer.from(expected));
  }), { numRuns: 400 });
});

test('a logger backlog (time order per message, channels interleaved) digests the same both ways', () => {
  const rows: SampleRow[] = [];
  for (let m = 0; m < 5000; m++) {
    for (let c = 1; c <= 4; c++) rows.push({ deviceId: 7, channel: c, time: T + m * 60_000, value: m % 13 === 0 ? null : Number((20 + Math.sin(m / 9) * c).toFixed(1)), errorCode: m % 13 === 0 ? 4 : null, alarm: m % 100 === 0 ? 'lo' : 'no' });
  }
  const cols = packSampleRows([rows]);
  assert.deepEqual(Buffer.from(samplesDigestOfColumns(cols, rows.map((_, i) => i))), Buffer.from(samplesDigest(rows)));
  assert.deepEqual(sampleAt(cols, 13), rows[13]);
  assert.deepEqual(sampleAt(cols, 0), rows[0]);
});

test('the digests are SHA-256 of the samples JSON as a streaming Hash computes it, for a few samples and for a backlog over 64 KiB', () => {
  for (const n of [3, 5000]) {
    const rows: SampleRow[] = Array.from({ length: n }, (_, i) => ({ deviceId: 1, channel: 1 + (i % 3), time: T + i * 1000, value: i % 7 ? i / 10 : null, errorCode: i % 7 ? null : 9, alarm: 'no' }));
    const sorted = [...rows].sort((a, b) => a.channel - b.channel || a.time - b.time);
    const text = JSON.stringify(sorted.map((s) => [s.channel, s.time, s.value, s.errorCode, s.alarm]));
    const expected = createHash('sha256').update(text).digest();
    assert.deepEqual(Buffer.from(samplesDigest(rows)), expected);
    assert.deepEqual(Buffer.from(samplesDigestOfColumns(packSampleRows([rows]), rows.map((_, i) => i))), expected, `${n} samples`);
  }
  const record = { id: 7, deviceId: 1, family: 'soap', receivedAt: T, verdict: 'accepted', reason: 'ok', serial: '1', counter: 3, raw: Buffer.from('<body/>') };
  const prev = new Uint8Array(32).fill(1);
  const digest = new Uint8Array(32).fill(2);
  const header = JSON.stringify([1, 7, 1, 'soap', T, 'accepted', 'ok', '1', 3, createHash('sha256').update(record.raw).digest('hex'), Buffer.from(digest).toString('hex')]);
  assert.deepEqual(Buffer.from(uploadHash(prev, record, digest)), createHash('sha256').update(prev).update(header).digest(), 'an unkeyed link');
});

test('hmacSha256 (two one-shot hashes over reused buffers) is createHmac, for any key, prefix and text', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 40 }), fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 50 }), fc.constant('x'.repeat(5000))),
    (key, prefix, text) => {
      const expected = createHmac('sha256', key).update(prefix).update(Buffer.from(text, 'utf8')).digest();
      assert.deepEqual(hmacSha256(key, prefix, text), expected);
      assert.deepEqual(hmacSha256(key, prefix, text), expected, 'again, with the key\'s pads cached');
    }), { numRuns: 500 });
  // Another array holding the same key bytes gives the same link; each link is a buffer of its own.
  const key = new Uint8Array(32).fill(7);
  const a = hmacSha256(key, new Uint8Array(32), '[3,1]');
  const b = hmacSha256(new Uint8Array(32).fill(7), new Uint8Array(32), '[3,1]');
  assert.deepEqual(a, b);
  assert.notStrictEqual(a, b, 'each link is its own buffer, not the reused one');
});
