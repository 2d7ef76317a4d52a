// Back-fill has bounds (issue 15): a reading older than the device's cache can hold (docs/protocols.md:
// WiFi Wx7xx 2,240 messages, TAx6xx 2,688, loggers 100,000 inferred) cannot be one it still held, and is kept aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKFILL_TOLERANCE_MS, CACHED_MESSAGES, backfillOlderThanCache } from '../../src/pipeline/pipeline.ts';
import type { Device, Family, Upload } from '../../src/domain/types.ts';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const MINUTE = 60_000;

function device(family: Family, allowedIntervalS: number | null = null): Device {
  return {
    id: 1, family, serial: '12345678', modelCode: null, model: 'X', name: 'Fridge', location: '', zoneId: null, entryTokenSha256: '0'.repeat(64),
    allowedIntervalS, declaredIntervalS: null, customerUid: null, state: 'active', suspendedReason: null, suspendedAt: null,
    lastSeenAt: null, createdAt: NOW - 365 * 86_400_000, updatedAt: 0,
  };
}

function upload(family: Family, intervalS: number, ages: number[]): Upload {
  return {
    family, entryToken: 't', receivedAt: NOW, remoteAddress: '192.0.2.1', serial: '12345678', modelCode: null, declaredIntervalS: intervalS,
    kind: 'periodic', counter: null, deviceNow: NOW, fromCache: true, meta: {}, raw: Buffer.alloc(0), contentType: 'application/json',
    readings: ages.map((age) => ({ channel: 1, quantity: 'temperature', unit: '°C', value: 5, errorCode: null, alarm: 'no', sampleTime: NOW - age })),
  };
}

test('a TAx6xx at one minute holds 2,688 messages: a reading older than that (and the tolerance) is older than its cache', () => {
  const bound = 2688 * MINUTE + BACKFILL_TOLERANCE_MS;
  assert.equal(backfillOlderThanCache(device('websensor-json'), upload('websensor-json', 60, [0, MINUTE, bound - 1])), null, 'within the cache');
  assert.deepEqual(backfillOlderThanCache(device('websensor-json'), upload('websensor-json', 60, [0, bound + 1, bound + MINUTE])),
    { count: 2, oldest: NOW - bound - MINUTE, boundMs: 2688 * MINUTE });
});

test('the bound follows the interval: a WiFi sensor at ten minutes keeps 2,240 messages of ten minutes', () => {
  const tenMinutes = 2240 * 10 * MINUTE;
  assert.equal(backfillOlderThanCache(device('wifi'), upload('wifi', 600, [tenMinutes])), null);
  assert.equal(backfillOlderThanCache(device('wifi'), upload('wifi', 600, [tenMinutes + BACKFILL_TOLERANCE_MS + 1]))?.count, 1);
  assert.equal(backfillOlderThanCache(device('wifi'), upload('wifi', 60, [tenMinutes]))?.count, 1, 'at one minute ten days is far older than its cache');
  assert.equal(CACHED_MESSAGES.wifi, 2240);
});

test('Web Sensors (no cache, no sample time) have no cache bound', () => {
  assert.equal(backfillOlderThanCache(device('soap'), upload('soap', 60, [400 * 86_400_000])), null);
});

test('a GSM/LTE logger keeps at most 100,000 messages (inferred, docs/protocols.md): at ten minutes a reading older than about 1.9 years is kept aside', () => {
  const bound = 100_000 * 10 * MINUTE;
  assert.equal(CACHED_MESSAGES.logger, 100_000);
  assert.equal(backfillOlderThanCache(device('logger'), upload('logger', 600, [0, 400 * 86_400_000, bound + BACKFILL_TOLERANCE_MS - 1])), null,
    'a backlog of 400 days at ten minutes is within what it may hold');
  assert.deepEqual(backfillOlderThanCache(device('logger'), upload('logger', 600, [0, bound + BACKFILL_TOLERANCE_MS + 1])),
    { count: 1, oldest: NOW - bound - BACKFILL_TOLERANCE_MS - 1, boundMs: bound });
  // The administrator's interval, when set, is the one the bound follows (as for the other families).
  assert.equal(backfillOlderThanCache(device('logger', 60), upload('logger', 600, [100_000 * MINUTE + BACKFILL_TOLERANCE_MS + 1]))?.count, 1);
});
