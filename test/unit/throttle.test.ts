import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedIntervalS, newThrottleState, throttle, type ThrottleInput } from '../../src/pipeline/throttle.ts';

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;

/** Feeds periodic messages received at the given offsets (seconds) and returns the decisions. */
function run(offsetsS: number[], extra: Partial<ThrottleInput> = {}, interval = 60) {
  const state = newThrottleState();
  return offsetsS.map((o) => throttle(state, {
    receivedAt: T0 + o * S, kind: 'periodic', fromCache: false, oldestSampleTime: T0 + o * S, alarmChanged: false, allowedIntervalS: interval, ...extra,
  }));
}
const suspended = (ds: ReturnType<typeof run>) => ds.findIndex((d) => d.suspend);

test('allowed interval: administrator first, else declared (not below the family floor), else default', () => {
  assert.equal(allowedIntervalS('soap', 300, 60), 300);
  assert.equal(allowedIntervalS('soap', 5, 60), 5);
  assert.equal(allowedIntervalS('soap', null, 60), 60);
  assert.equal(allowedIntervalS('soap', null, 1), 10);
  assert.equal(allowedIntervalS('wifi', null, null), 60);
});

test('a device sending on time is never suspended, with clock jitter of a few seconds', () => {
  const offsets = Array.from({ length: 100 }, (_, i) => i * 60 + (i % 2 ? 3 : -3));
  assert.equal(suspended(run(offsets)), -1);
});

test('a single early message (restart, clock step) does not suspend, nor two', () => {
  assert.equal(suspended(run([0, 60, 70, 130, 190, 250, 310])), -1);
  assert.equal(suspended(run([0, 60, 70, 130, 135, 195, 255, 315])), -1);
});

test('exactly at the tolerance edge: 45 s of 60 s is on time, 44.9 s is early', () => {
  const onEdge = run([0, 45, 90, 135, 180]);
  assert.equal(suspended(onEdge), -1);
  assert.ok(onEdge.slice(1).every((d) => !d.suspend && !d.early));
  const justEarly = run([0, 44.9, 89.8, 134.7]);
  assert.equal(suspended(justEarly), 3, 'the third early message suspends');
});

test('a device that keeps sending faster than allowed is suspended on the third early message within ten', () => {
  const d = run([0, 20, 40, 60]);
  assert.equal(suspended(d), 3);
  const reason = (d[3] as { reason: string }).reason;
  assert.match(reason, /3 of the last 4 periodic messages came early/);
  assert.match(reason, /allowed interval 60 s/);
});

test('early messages spread out: three within ten suspend, but once they age out they do not', () => {
  // early at messages 1, 6 and 11: the first has left the window of ten when the third comes
  const offsets: number[] = [0];
  for (let i = 1; i <= 12; i++) offsets.push(offsets[i - 1] + (i === 1 || i === 6 || i === 11 ? 10 : 60));
  assert.equal(suspended(run(offsets)), -1);
  const closer = [0, 10, 70, 80, 140, 150];
  assert.equal(suspended(run(closer)), 5);
});

test('asynchronous alarm messages and alarm changes between intervals do not count as early', () => {
  const state = newThrottleState();
  const base = { fromCache: false, alarmChanged: false, allowedIntervalS: 60 };
  const at = (s: number, kind: ThrottleInput['kind'], alarmChanged = false) =>
    throttle(state, { ...base, receivedAt: T0 + s * S, oldestSampleTime: T0 + s * S, kind, alarmChanged });
  assert.equal(at(0, 'periodic').suspend, false);
  for (let s = 5; s < 60; s += 10) assert.equal(at(s, 'async').suspend, false);
  assert.equal(at(61, 'periodic', true).suspend, false); // SOAP: alarm string changed
  assert.equal(at(62, 'periodic', true).suspend, false);
  assert.equal(at(120, 'periodic').suspend, false);
});

test('a cache flush with old sample times, sent as fast as possible, is not live traffic', () => {
  const state = newThrottleState();
  for (let i = 0; i < 2000; i++) {
    const d = throttle(state, {
      receivedAt: T0 + i * 50, kind: 'periodic', fromCache: true, oldestSampleTime: T0 - (2000 - i) * 60 * S, alarmChanged: false, allowedIntervalS: 60,
    });
    assert.equal(d.suspend, false);
  }
  // old sample times without the cache flag (the device lost the flag) are not live either
  const d = throttle(state, { receivedAt: T0 + 200 * S, kind: 'periodic', fromCache: false, oldestSampleTime: T0, alarmChanged: false, allowedIntervalS: 60 });
  assert.equal(d.suspend, false);
});

test('a buffered logger upload whose samples span many intervals is a backlog, not live, though not flagged as a resend', () => {
  const state = newThrottleState();
  // uploads one second apart, each ending with a current sample but starting hours back
  for (let i = 0; i < 50; i++) {
    const d = throttle(state, {
      receivedAt: T0 + i * S, kind: 'periodic', fromCache: false, oldestSampleTime: T0 - 6 * 3600 * S, alarmChanged: false, allowedIntervalS: 60,
    });
    assert.deepEqual(d, { suspend: false, early: false, counted: false });
  }
});

test('a restart message resets the measure: the next periodic message is not early', () => {
  const state = newThrottleState();
  const msg = (s: number, kind: ThrottleInput['kind']) => throttle(state, {
    receivedAt: T0 + s * S, oldestSampleTime: T0 + s * S, kind, fromCache: false, alarmChanged: false, allowedIntervalS: 60,
  });
  msg(0, 'periodic');
  msg(10, 'restart');
  const next = msg(20, 'periodic');
  assert.deepEqual(next, { suspend: false, early: false, counted: true });
});

test('flood guard: more than 20 live messages of any kind within one interval suspends even if all are async', () => {
  const state = newThrottleState();
  let first = -1;
  for (let i = 0; i < 30 && first < 0; i++) {
    const d = throttle(state, { receivedAt: T0 + i * S, oldestSampleTime: T0 + i * S, kind: 'async', fromCache: false, alarmChanged: true, allowedIntervalS: 60 });
    if (d.suspend) { first = i; assert.match(d.reason, /flood: 21 messages/); }
  }
  assert.equal(first, 20);
});
