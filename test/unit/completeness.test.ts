import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, dailyCompleteness, overallCompleteness } from '../../src/domain/completeness.ts';

const D0 = Date.UTC(2026, 0, 10);

test('a whole day at a 60 s interval expects 1440 samples', () => {
  const days = dailyCompleteness([{ time: D0 + 3_600_000, count: 1440 }], D0, D0 + DAY_MS, 60, D0 + 10 * DAY_MS);
  assert.deepEqual(days, [{ day: D0, received: 1440, expected: 1440, ratio: 1 }]);
});

test('missing samples lower the ratio; days with nothing received still appear', () => {
  const days = dailyCompleteness([{ time: D0, count: 720 }], D0, D0 + 2 * DAY_MS, 60, D0 + 10 * DAY_MS);
  assert.deepEqual(days.map((d) => [d.day - D0, d.received, d.expected, d.ratio]), [[0, 720, 1440, 0.5], [DAY_MS, 0, 1440, 0]]);
});

test('partial first day, and today only up to now', () => {
  const from = D0 + 12 * 3_600_000;            // noon
  const now = D0 + DAY_MS + 6 * 3_600_000;     // 06:00 next day
  const days = dailyCompleteness([{ time: from, count: 360 }, { time: D0 + DAY_MS, count: 360 }], from, D0 + 3 * DAY_MS, 60, now);
  assert.deepEqual(days.map((d) => [d.expected, d.received]), [[720, 360], [360, 360]]);
  assert.equal(overallCompleteness(days), 720 / 1080);
});

test('counts from several buckets of a day add up; alarm messages can make a day more than complete', () => {
  const hours = Array.from({ length: 24 }, (_, h) => ({ time: D0 + h * 3_600_000, count: 61 }));
  const [day] = dailyCompleteness(hours, D0, D0 + DAY_MS, 60, D0 + DAY_MS);
  assert.equal(day.received, 1464);
  assert.ok(day.ratio! > 1);
});

test('nothing expected in the future', () => {
  assert.deepEqual(dailyCompleteness([], D0 + DAY_MS, D0 + 2 * DAY_MS, 60, D0), []);
  assert.equal(overallCompleteness([]), null);
});

test('nothing is expected before the device was registered: five minutes of a 24-hour range', () => {
  const registeredAt = D0 + 12 * 3_600_000;
  const now = registeredAt + 5 * 60_000;
  const days = dailyCompleteness([{ time: registeredAt, count: 5 }], now - DAY_MS, now, 60, now, registeredAt);
  assert.equal(overallCompleteness(days), 1);
  assert.deepEqual(days.map((d) => [d.expected, d.ratio]), [[0, null], [5, 1]]);
});
