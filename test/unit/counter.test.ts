import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCounter, describeCounterBreak, newCounterState, type CounterInput } from '../../src/pipeline/counter.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const EVERY = 10 * MIN;

type Message = Partial<CounterInput> & { counter: number; at: number };

/** Feeds messages (receive time in minutes from T0) to one device's state and returns the reports. */
function run(messages: Message[], family: CounterInput['family'] = 'wifi') {
  const state = newCounterState();
  return messages.map(({ counter, at, ...rest }) => checkCounter(state, {
    family, receivedAt: T0 + at * MIN, kind: 'periodic', fromCache: false, firstCounter: counter, lastCounter: counter, ...rest,
  }, EVERY));
}
const periodic = (counters: number[]) => counters.map((counter, i) => ({ counter, at: i }));

test('consecutive counters are continuous, and the first message seen is never a break', () => {
  assert.deepEqual(run(periodic([41, 42, 43, 44])), [null, null, null, null]);
});

test('a skipped counter is a break naming how many messages are missing', () => {
  const reports = run(periodic([10, 11, 14]));
  assert.deepEqual(reports[2], { previous: 11, expected: 12, got: 14, missing: 2, alsoUnreported: 0 });
  assert.match(describeCounterBreak(reports[2]!), /^2 message\(s\) missing \(OrderId 11 was followed by 14\)/);
});

test('a counter that goes back is a replay or an unseen restart, not a number of missing messages', () => {
  const report = run(periodic([500, 501, 3]))[2]!;
  assert.equal(report.missing, null);
  assert.match(describeCounterBreak(report), /went back from 501 to 3/);
});

test('wraps: uint32 for WiFi and TAx6xx, 256 for loggers', () => {
  assert.deepEqual(run(periodic([2 ** 32 - 1, 0])), [null, null]);
  assert.deepEqual(run(periodic([254, 255, 0, 1]), 'logger'), [null, null, null, null]);
  assert.equal(run(periodic([255, 256]), 'websensor-json')[1], null);
});

test('a restart message in between starts the count afresh', () => {
  assert.deepEqual(run([{ counter: 77, at: 0 }, { counter: 0, at: 1, kind: 'restart' }, { counter: 1, at: 2 }]), [null, null, null]);
});

test('async, test and cached messages advance the counter but are not measured themselves', () => {
  const reports = run([
    { counter: 5, at: 0 },
    { counter: 6, at: 1, kind: 'async' },          // an alarm between two periodic messages
    { counter: 3, at: 2, fromCache: true },        // a resend of an older message, e.g. its answer was lost
    { counter: 4, at: 2, fromCache: true },
    { counter: 5, at: 2, fromCache: true },
    { counter: 6, at: 2, fromCache: true },
    { counter: 7, at: 3 },                         // the live message after the flush follows the last resend
    { counter: 20, at: 4, kind: 'test' },
  ]);
  assert.deepEqual(reports, [null, null, null, null, null, null, null, null]);
});

test('a logger batch is measured by its first counter and advances to its last', () => {
  const reports = run([
    { counter: 200, at: 0 },
    { firstCounter: 201, lastCounter: 44, counter: 44, at: 600 },  // a backlog of 100 messages, wrapped at 256
    { firstCounter: 45, lastCounter: 45, counter: 45, at: 610 },
    { firstCounter: 50, lastCounter: 52, counter: 52, at: 620 },
  ], 'logger');
  assert.deepEqual(reports.slice(0, 3), [null, null, null]);
  assert.equal(reports[3]?.missing, 4);
});

test('breaks are reported at most once per window; the ones in between are counted into the next report', () => {
  // every message skips one counter: a break a minute
  const reports = run(Array.from({ length: 25 }, (_, i) => ({ counter: i * 2, at: i })));
  const reported = reports.flatMap((r, i) => (r ? [[i, r.alsoUnreported]] : []));
  assert.deepEqual(reported, [[1, 0], [11, 9], [21, 9]]);
  assert.match(describeCounterBreak(reports[11]!), /9 more break\(s\) since the last such warning/);
});

test('SOAP sends no counter: nothing to check', () => {
  const state = newCounterState();
  const input: CounterInput = { family: 'soap', receivedAt: T0, kind: 'periodic', fromCache: false, firstCounter: null, lastCounter: null };
  assert.equal(checkCounter(state, input, EVERY), null);
  assert.equal(checkCounter(state, input, EVERY), null);
  assert.equal(state.last, null);
});
