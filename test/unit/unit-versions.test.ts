// Splitting a channel at its unit changes (units never change history, issue 18): which unit each
// part of a range is shown in, and how the parts are labelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentsOf, splitByUnit, validityText } from '../../src/store/unit-versions.ts';
import type { Channel, Device } from '../../src/domain/types.ts';

const ref = { device: { id: 1 } as Device, channel: { deviceId: 1, channel: 1, quantity: 'temperature', unit: '°F' } as Channel };
const T = Date.UTC(2026, 2, 1, 10);
const v = (validFrom: number, unit: string) => ({ channel: 1, validFrom, quantity: 'temperature', unit });
const parts = (versions: ReturnType<typeof v>[], from: number, to: number) =>
  segmentsOf(ref, versions, from, to).map((s) => [s.unit, s.from, s.to, s.unitFrom, s.unitUntil]);

test('a range before the change is shown in the earlier unit, not the channel\'s current one', () => {
  assert.deepEqual(parts([v(T - 1000, '°C'), v(T, '°F')], T - 500, T), [['°C', T - 500, T, null, null]]);
});

test('a range across the change is one part per unit, each bounded by the change', () => {
  assert.deepEqual(parts([v(T - 1000, '°C'), v(T, '°F')], T - 500, T + 500), [['°C', T - 500, T, null, T], ['°F', T, T + 500, T, null]]);
});

test('the first version holds from the beginning: samples older than the registration are in its unit', () => {
  assert.deepEqual(parts([v(T, '°C')], T - 10_000, T - 5000), [['°C', T - 10_000, T - 5000, null, null]]);
});

test('three versions, the middle one wholly inside the range', () => {
  assert.deepEqual(parts([v(0, '°C'), v(T, '°F'), v(T + 100, '°C')], T - 50, T + 150),
    [['°C', T - 50, T, null, T], ['°F', T, T + 100, T, T + 100], ['°C', T + 100, T + 150, T + 100, null]]);
});

test('neighbouring versions of the same unit are one part; a channel with no version shows its current unit', () => {
  assert.deepEqual(parts([v(0, '°C'), v(T, '°C')], T - 50, T + 50), [['°C', T - 50, T + 50, null, null]]);
  assert.deepEqual(parts([], T, T + 1), [['°F', T, T + 1, null, null]]);
});

test('labels say when a split part\'s unit began and ended', () => {
  const [before, after] = segmentsOf(ref, [v(0, '°C'), v(T, '°F')], T - 50, T + 50);
  assert.equal(splitByUnit(before), true);
  assert.equal(validityText(before), 'until 2026-03-01 10:00 UTC');
  assert.equal(validityText(after), 'from 2026-03-01 10:00 UTC');
  assert.equal(splitByUnit(segmentsOf(ref, [v(0, '°C')], T, T + 1)[0]), false);
});
