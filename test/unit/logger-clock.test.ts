// Which reading of a logger's clock the pipeline applies (src/pipeline/logger-clock.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SWITCH_MARGIN_MS, decideLoggerClock, describeSkew } from '../../src/pipeline/logger-clock.ts';

const H = 3_600_000;

test('auto: a logger east of UTC counting local time is read as local time', () => {
  // Timezone +2 h; the count is local, so read as UTC the send time is 2 h in the future
  const d = decideLoggerClock('auto', { offsetMinutes: 120, skewIfUtcMs: -2 * H + 3000, skewIfLocalMs: 3000 }, null);
  assert.deepEqual(d, { counts: 'local', basis: 'evidence', shiftMs: -2 * H, skewMs: 3000 });
});

test('auto: a logger counting UTC stays UTC; west of UTC as well', () => {
  assert.equal(decideLoggerClock('auto', { offsetMinutes: 120, skewIfUtcMs: 1500, skewIfLocalMs: 2 * H + 1500 }, null).counts, 'utc');
  assert.equal(decideLoggerClock('auto', { offsetMinutes: -300, skewIfUtcMs: 1500, skewIfLocalMs: -5 * H + 1500 }, null).counts, 'utc');
  const west = decideLoggerClock('auto', { offsetMinutes: -300, skewIfUtcMs: 5 * H + 900, skewIfLocalMs: 900 }, null);
  assert.deepEqual([west.counts, west.shiftMs], ['local', 5 * H]);
});

test('auto: no offset (0 or "not used") means both readings agree: UTC, basis no-offset', () => {
  assert.deepEqual(decideLoggerClock('auto', { offsetMinutes: 0, skewIfUtcMs: 700, skewIfLocalMs: 700 }, null), { counts: 'utc', basis: 'no-offset', shiftMs: 0, skewMs: 700 });
  assert.equal(decideLoggerClock('auto', { offsetMinutes: null, skewIfUtcMs: 700, skewIfLocalMs: null }, 'local').counts, 'utc');
});

test('an administrator\'s setting wins over the evidence', () => {
  const evidence = { offsetMinutes: 120, skewIfUtcMs: -2 * H, skewIfLocalMs: 0 };
  assert.deepEqual(decideLoggerClock('utc', evidence, null), { counts: 'utc', basis: 'administrator', shiftMs: 0, skewMs: -2 * H });
  assert.deepEqual(decideLoggerClock('local', { ...evidence, skewIfUtcMs: 0, skewIfLocalMs: 2 * H }, null).counts, 'local');
});

test('auto keeps its reading while the other is not clearly better (a drifting clock does not flip)', () => {
  // 15 min offset, clock drifted 8 min: UTC reading 8 min behind, local 7 min ahead
  const drifted = { offsetMinutes: 15, skewIfUtcMs: 8 * 60_000, skewIfLocalMs: -7 * 60_000 };
  assert.equal(decideLoggerClock('auto', drifted, 'utc').counts, 'utc');
  assert.equal(decideLoggerClock('auto', drifted, 'local').counts, 'local');
  const clearly = { offsetMinutes: 120, skewIfUtcMs: -2 * H, skewIfLocalMs: 1000 };
  assert.ok(Math.abs(clearly.skewIfLocalMs) + SWITCH_MARGIN_MS < Math.abs(clearly.skewIfUtcMs));
  assert.equal(decideLoggerClock('auto', clearly, 'utc').counts, 'local');
});

test('skews are described in words', () => {
  assert.equal(describeSkew(3000), '3 s behind');
  assert.equal(describeSkew(-2 * H), '2.0 h ahead');
  assert.equal(describeSkew(-10 * 60_000), '10 min ahead');
});
