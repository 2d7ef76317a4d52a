// Failed sign-ins of unknown names are folded per (source, reason) with a count (issue 15), so that
// an unauthenticated caller varying the name adds a bounded number of events, while every attempt
// is still on record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FOLDED_NAMES_CAP, SignInFailureFolder } from '../../src/api/sign-in-failures.ts';
import type { NewEvent } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 11, 5, 18, 0, 0);
const WINDOW = 10 * 60_000;

test('500 failed sign-ins with different names from one address: one event at once, one summary counting the rest', () => {
  const written: NewEvent[] = [];
  let now = T0;
  const folder = new SignInFailureFolder((e) => written.push(e), { windowMs: WINDOW, now: () => now });
  for (let i = 0; i < 500; i++) {
    now = T0 + i * 100;
    folder.failed({ at: now, source: '192.0.2.7', username: `guess-${i}`, reason: 'wrong user name or password', directory: false });
  }
  assert.equal(written.length, 1, 'the first failure is recorded at once, the rest are counted');
  assert.deepEqual(written[0].data, { username: 'guess-0', source: '192.0.2.7', reason: 'wrong user name or password', knownUser: false, directory: false, count: 1 });
  folder.flush();
  assert.equal(written.length, 2);
  const summary = written[1].data as Record<string, unknown>;
  assert.equal(summary.count, 499, 'every other attempt is counted');
  assert.equal(summary.firstAt, T0 + 100);
  assert.equal(summary.lastAt, T0 + 499 * 100);
  assert.equal((summary.usernames as string[]).length, FOLDED_NAMES_CAP, 'the names tried, up to a cap');
  assert.deepEqual((summary.usernames as string[]).slice(0, 2), ['guess-1', 'guess-2']);
  assert.equal(summary.usernamesCapped, true);
  assert.equal(written[1].type, 'user.signin.failed');
  assert.match(written[1].message, /499 more failed sign-in\(s\) of unknown user names from 192\.0\.2\.7/);
});

test('folding is per source address and reason; a new window starts with an event of its own', () => {
  const written: NewEvent[] = [];
  let now = T0;
  const folder = new SignInFailureFolder((e) => written.push(e), { windowMs: WINDOW, now: () => now });
  const fail = (source: string, reason: string, username = 'x') => folder.failed({ at: now, source, username, reason, directory: false });
  fail('192.0.2.1', 'wrong user name or password');
  fail('192.0.2.2', 'wrong user name or password');
  fail('192.0.2.1', 'directory unreachable');
  fail('192.0.2.1', 'wrong user name or password');
  assert.equal(written.length, 3, 'one event per source and reason');
  now = T0 + WINDOW;
  fail('192.0.2.1', 'wrong user name or password', 'late');
  assert.deepEqual(written.slice(3).map((e) => (e.data as { count: number }).count), [1, 1], 'the ended window\'s summary (1 folded), then the new window\'s first event');
  assert.equal((written[3].data as { folded: boolean }).folded, true);
  assert.equal((written[4].data as { username: string }).username, 'late');
});

test('a window\'s summary is written when it ends, without a further attempt', async () => {
  const written: NewEvent[] = [];
  const folder = new SignInFailureFolder((e) => written.push(e), { windowMs: 50 });
  const at = Date.now();
  for (let i = 0; i < 3; i++) folder.failed({ at, source: '192.0.2.9', username: `n${i}`, reason: 'wrong user name or password', directory: true });
  assert.equal(written.length, 1);
  while (written.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal((written[1].data as { count: number }).count, 2);
  assert.deepEqual((written[1].data as { usernames: string[] }).usernames, ['n1', 'n2']);
  assert.match(written[1].message, /directory sign-in/);
});
