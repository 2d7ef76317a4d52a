// The columnar samples digest the SQLite writer uses must hash exactly what samplesDigest hashes
// (verification recomputes it from stored rows with samplesDigest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { samplesDigest, samplesDigestOfColumns } from '../../src/domain/chain.ts';
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
