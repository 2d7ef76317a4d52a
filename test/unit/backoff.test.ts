// The retry wait shared by the spool, the alarm writes and an offline start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/domain/backoff.ts';

test('each wait doubles up to the maximum; reset starts again from the first', async () => {
  const b = new Backoff(5, 18);
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) { seen.push(b.nextMs); await b.sleep(); }
  assert.deepEqual(seen, [5, 10, 18, 18]);
  b.reset();
  assert.equal(b.nextMs, 5);
});

test('wake ends the current wait at once, and a wake with nothing waiting is harmless', async () => {
  const b = new Backoff(60_000, 60_000);
  b.wake();
  const started = performance.now();
  const waiting = b.sleep();
  setTimeout(() => b.wake(), 10);
  await waiting;
  // the wait is 60 s: ending well before it can only be the wake, however busy the machine
  assert.ok(performance.now() - started < 30_000);
});
