// Password hashing, sessions, bucket choice and `inlet user`: the parts of the viewer's
// security and downsampling that need no HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { PasswordHashBusyError, hashPassword, passwordHashLoad, passwordWeakness, setPasswordHashConcurrency, verifyPassword } from '../../src/api/passwords.ts';
import { SignInGuard } from '../../src/api/sign-in-guard.ts';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { SessionStore } from '../../src/api/sessions.ts';
import { chooseBucketMs } from '../../src/api/data.ts';
import { userCommand, type PasswordInput } from '../../src/cli/user.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

test('scrypt hashes describe themselves, are salted and verify only the right password', async () => {
  const a = await hashPassword('Tidal-Orchard-19');
  const b = await hashPassword('Tidal-Orchard-19');
  assert.match(a, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword('Tidal-Orchard-19', a), true);
  assert.equal(await verifyPassword('Tidal-Orchard-18', a), false);
  assert.equal(await verifyPassword('anything', 'not a hash'), false);
});

test('weak passwords are named as such', async () => {
  assert.match((await passwordWeakness('short', 'ann'))!, /at least 10/);
  assert.match((await passwordWeakness('aaaaaaaaaaaa', 'ann'))!, /different/);
  assert.match((await passwordWeakness('my-name-is-Annabel', 'annabel'))!, /user name/);
  assert.match((await passwordWeakness('Password123', 'ann'))!, /common/);
  // well-known passwords that pass length and variety rules: zxcvbn-ts with its common lists refuses them
  for (const known of ['Password1!', 'Summer2026', 'Qwertyuiop1', 'Welcome2024!']) assert.match((await passwordWeakness(known, 'ann')) ?? '', /too easy to guess/, known);
  assert.equal(await passwordWeakness('Tidal-Orchard-19', 'ann'), null);
});

test('hashes made by the earlier @noble/hashes scrypt keep verifying with node:crypto', async () => {
  const salt = Buffer.from('0123456789abcdef');
  const key = await scryptAsync('Tidal-Orchard-19', salt, { N: 2 ** 15, r: 8, p: 1, dkLen: 32, maxmem: 2 ** 27 });
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '');
  const earlier = `$scrypt$ln=15,r=8,p=1$${b64(salt)}$${b64(key)}`;
  assert.equal(await verifyPassword('Tidal-Orchard-19', earlier), true);
  assert.equal(await verifyPassword('Tidal-Orchard-18', earlier), false);
  // and one written down when Inlet still hashed with @noble/hashes (ln=10 to keep the test quick)
  assert.equal(await verifyPassword('Lantern-Ridge-77', '$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$' + b64(await scryptAsync('Lantern-Ridge-77', Uint8Array.from({ length: 16 }, (_, i) => i), { N: 1024, r: 8, p: 1, dkLen: 32 }))), true);
});

test('password hashes run at most N at once; beyond the queue they are refused at once (503 upstream)', async () => {
  setPasswordHashConcurrency(1, 1);
  try {
    const first = hashPassword('Tidal-Orchard-19');
    const queued = hashPassword('Tidal-Orchard-19');
    assert.deepEqual(passwordHashLoad(), { running: 1, waiting: 1 });
    await assert.rejects(hashPassword('Tidal-Orchard-19'), PasswordHashBusyError);
    await Promise.all([first, queued]);
    assert.deepEqual(passwordHashLoad(), { running: 0, waiting: 0 });
  } finally {
    setPasswordHashConcurrency(2);
  }
});

test('sign-in slow-down: counted before verifying, per name and source, doubling, forgiven on success', () => {
  const guard = new SignInGuard({ freeFailures: 3, firstDelayMs: 1000, maxDelayMs: 4000, forgetAfterMs: 60_000 });
  const at = 1_000_000;
  assert.deepEqual([1, 2, 3].map(() => guard.admit('Ann', '10.0.0.1', at).allowed), [true, true, true]);
  assert.deepEqual(guard.admit('ann', '10.0.0.1', at), { allowed: false, failures: 3, retryAfterMs: 1000 }, 'names compare case-insensitively');
  assert.equal(guard.admit('ann', '10.0.0.2', at).allowed, true, 'another source is not slowed');
  assert.equal(guard.admit('bob', '10.0.0.1', at).allowed, true, 'another name is not slowed');
  assert.equal(guard.admit('ann', '10.0.0.1', at + 1000).allowed, true);
  assert.deepEqual(guard.admit('ann', '10.0.0.1', at + 1000), { allowed: false, failures: 4, retryAfterMs: 2000 }, 'the wait doubles');
  guard.admit('ann', '10.0.0.1', at + 3000);
  assert.equal(guard.admit('ann', '10.0.0.1', at + 3001).allowed, false);
  assert.equal((guard.admit('ann', '10.0.0.1', at + 7000) as { failures: number }).failures, 6, 'capped at maxDelayMs (4 s)');
  const fresh = new SignInGuard({ freeFailures: 1, firstDelayMs: 1000, maxDelayMs: 4000, forgetAfterMs: 60_000 });
  assert.equal(fresh.admit('cy', '10.0.0.9', at).allowed, true);
  fresh.uncount('cy', '10.0.0.9');
  assert.equal(fresh.admit('cy', '10.0.0.9', at).allowed, true, 'an attempt answered 503 (never checked) does not count');
  guard.succeeded('ANN', '10.0.0.1');
  assert.equal(guard.admit('ann', '10.0.0.1', at + 7001).allowed, true, 'a success forgives');
  assert.equal(guard.admit('ann', '10.0.0.2', at + 200_000).failures, 1, 'a quiet pair starts afresh');
});

test('sessions end after the idle time unless used, and at the absolute limit', () => {
  let clock = 0;
  const sessions = new SessionStore({ idleMs: 1000, absoluteMs: 5000 }, () => clock);
  const s = sessions.create({ id: 1, username: 'ann', role: 'viewer' });
  clock = 900;
  assert.ok(sessions.get(s.id, true));
  clock = 1800;
  assert.ok(sessions.get(s.id, false), 'touched at 900, so alive at 1800');
  clock = 2000;
  assert.equal(sessions.get(s.id, false), undefined, 'a live stream (no touch) does not keep it alive');
  const t = sessions.create({ id: 1, username: 'ann', role: 'viewer' });
  for (clock = 2500; clock <= 7500; clock += 500) sessions.get(t.id, true);
  assert.equal(sessions.get(t.id, true), undefined, 'ends at the absolute limit however active');
  const u = sessions.create({ id: 2, username: 'bo', role: 'operator' });
  sessions.deleteUser(2);
  assert.equal(sessions.get(u.id, true), undefined);
});

test('a password change renews its own session: the old id is known as renewed (not signed out) for the idle time, the user\'s other sessions end', () => {
  let clock = 0;
  const sessions = new SessionStore({ idleMs: 1000, absoluteMs: 5000 }, () => clock);
  const user = { id: 1, username: 'ann', role: 'viewer' as const };
  const mine = sessions.create(user);
  const elsewhere = sessions.create(user);
  const renewed = sessions.renew(mine.id, user, { globalRole: 'viewer', grants: [] });
  assert.notEqual(renewed.id, mine.id);
  assert.ok(sessions.get(renewed.id, false));
  assert.equal(sessions.get(mine.id, false), undefined, 'the old id no longer signs in');
  assert.equal(sessions.get(elsewhere.id, false), undefined);
  assert.equal(sessions.wasRenewed(mine.id), true);
  assert.equal(sessions.wasRenewed(elsewhere.id), false, 'signed out, not renewed');
  // kept no longer than a stream of the old session could have lived
  clock = 1001;
  sessions.create({ id: 2, username: 'bo', role: 'viewer' });
  assert.equal(sessions.wasRenewed(mine.id), false);
});

test('buckets keep a span within the point budget and are whole hours from an hour up', () => {
  const HOUR = 3_600_000;
  assert.equal(chooseBucketMs(HOUR, 2000), 2000);
  assert.equal(chooseBucketMs(366 * 24 * HOUR, 2000), 6 * HOUR);
  assert.equal(chooseBucketMs(20 * 366 * 24 * HOUR, 2000), 7 * 24 * HOUR);
  for (const span of [HOUR, 24 * HOUR, 30 * 24 * HOUR, 5 * 366 * 24 * HOUR]) {
    const bucket = chooseBucketMs(span, 2000);
    assert.ok(span / bucket <= 2000);
    if (bucket >= HOUR) assert.equal(bucket % HOUR, 0);
  }
});

test('inlet user add asks twice on a terminal and refuses a mismatch or a weak password', async () => {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  const answers = (...typed: string[]): PasswordInput => ({ isTerminal: true, prompt: async () => typed.shift() ?? '', readAll: async () => '' });
  const lines: string[] = [];
  const out = (line: string) => lines.push(line);
  await assert.rejects(userCommand(['add', '--username', 'ann', '--role', 'administrator', '--reason', 'first administrator'], DEFAULT_CONFIG, store, out, answers('Tidal-Orchard-19', 'Tidal-Orchard-18')), /differ/);
  await assert.rejects(userCommand(['add', '--username', 'ann', '--role', 'administrator', '--reason', 'first administrator'], DEFAULT_CONFIG, store, out, answers('ann-secret-1')), /user name/);
  await assert.rejects(userCommand(['add', '--username', 'ann', '--role', 'administrator', '--reason', 'first administrator'], DEFAULT_CONFIG, store, out, { isTerminal: false, prompt: async () => '', readAll: async () => '' }), /--password-stdin/);
  assert.equal(await store.findUser('ann'), undefined);
  assert.equal(await userCommand(['add', '--username', 'ann', '--role', 'administrator', '--reason', 'first administrator'], DEFAULT_CONFIG, store, out, answers('Tidal-Orchard-19', 'Tidal-Orchard-19')), 0);
  const ann = (await store.findUser('ann'))!;
  assert.equal(ann.role, 'administrator');
  assert.equal(await verifyPassword('Tidal-Orchard-19', ann.passwordHash), true);
  assert.equal(lines.join('\n').includes('Tidal-Orchard-19'), false, 'the password is never printed');
  await store.close();
});
