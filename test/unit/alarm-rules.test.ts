// Limit alarm rules at their edges, on a synthetic clock (sample times in seconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmLimit } from '../../src/domain/types.ts';
import { evaluateReading, initialLimitState, type LimitState } from '../../src/pipeline/alarm-rules.ts';

const LIMIT: AlarmLimit = { deviceId: 1, channel: 1, level: 'alarm', high: 8, low: 2, delayS: 0, hysteresis: 0 };

/** Feeds [second, value] readings and lists the transitions as 'raise high@t' / 'clear high@t'. */
function run(limit: AlarmLimit, readings: [number, number | null][], start: LimitState = initialLimitState()): string[] {
  let state = start;
  const seen: string[] = [];
  for (const [s, value] of readings) {
    const out = evaluateReading(limit, state, { time: s * 1000, value });
    state = out.state;
    seen.push(...out.transitions.map((t) => `${t.kind} ${t.direction}@${t.at / 1000}`));
  }
  return seen;
}

test('exactly at a limit is inside; just beyond raises at once when there is no delay', () => {
  assert.deepEqual(run(LIMIT, [[0, 8], [1, 2], [2, 8.01]]), ['raise high@2']);
  assert.deepEqual(run(LIMIT, [[0, 1.99]]), ['raise low@0']);
});

test('a delay raises only once the breach has lasted that long by sample time; a reading inside restarts it', () => {
  const delayed = { ...LIMIT, delayS: 60 };
  assert.deepEqual(run(delayed, [[0, 9], [30, 9], [59, 9]]), []);
  assert.deepEqual(run(delayed, [[0, 9], [30, 9], [60, 9]]), ['raise high@60']);
  assert.deepEqual(run(delayed, [[0, 9], [30, 7], [40, 9], [90, 9], [100, 9]]), ['raise high@100']);
  // switching sides restarts the wait too
  assert.deepEqual(run(delayed, [[0, 9], [30, 1], [60, 1], [90, 1]]), ['raise low@90']);
});

test('hysteresis: clears only that far back inside, and a value hovering at the limit raises once', () => {
  const sticky = { ...LIMIT, hysteresis: 0.5 };
  assert.deepEqual(run(sticky, [[0, 8.1], [1, 7.9], [2, 8.2], [3, 7.6], [4, 7.5]]), ['raise high@0', 'clear high@4']);
  assert.deepEqual(run(sticky, [[0, 1.9], [1, 2.4], [2, 2.5]]), ['raise low@0', 'clear low@2']);
});

test('from high straight to below low: clears high and raises low on the same reading', () => {
  assert.deepEqual(run(LIMIT, [[0, 9], [1, 1]]), ['raise high@0', 'clear high@1', 'raise low@1']);
});

test('error readings and readings not newer than the last change nothing', () => {
  assert.deepEqual(run(LIMIT, [[0, 9], [1, null], [0, 5], [-1, 5]]), ['raise high@0']);
  assert.deepEqual(run({ ...LIMIT, delayS: 10 }, [[0, 9], [5, null], [10, 9]]), ['raise high@10']);
});

test('one-sided limits never breach on the missing side; a state raised before a restart clears normally', () => {
  assert.deepEqual(run({ ...LIMIT, low: null }, [[0, -100], [1, 100]]), ['raise high@1']);
  assert.deepEqual(run(LIMIT, [[0, 5]], initialLimitState('high')), ['clear high@0']);
});
