// `inlet user passwd` run by IT for someone else, against a running gateway: like an administrator's
// reset in the viewer, its user must choose their own password at next sign-in (403 on everything
// else until then), unless --no-force-change; either way the reset is recorded as an event.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ADMIN, Caller, REPO, cliAddUser, startTestGateway, type TestGateway } from './api-helpers.ts';

let t: TestGateway;
let admin: Caller;

before(async () => {
  t = await startTestGateway();
  admin = new Caller(t.gateway.url);
  assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
  const made = cliAddUser(t.dataDir, 'dora', 'viewer', 'Amber-Lantern-Otter-57');
  assert.equal(made.status, 0, made.stderr);
});

after(async () => { await t?.close(); });

function passwd(username: string, password: string, ...flags: string[]) {
  return spawnSync(process.execPath, ['src/cli/inlet.ts', 'user', 'passwd', '--username', username, '--password-stdin', '--reason', 'forgotten', ...flags], {
    cwd: REPO, input: `${password}\n`, encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: t.dataDir, INLET_CONFIG: '' },
  });
}

async function resetEvents(): Promise<{ message: string }[]> {
  const listed = await admin.json<{ events: { type: string; message: string }[] }>('GET', '/api/events?type=user.password.reset');
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  return listed.body.events.filter((e) => e.type === 'user.password.reset');
}

test('inlet user passwd makes its user change the password at next sign-in, and says so', async () => {
  const run = passwd('dora', 'Granite-Meadow-Fox-31');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /dora must choose their own password at next sign-in/);
  assert.equal(run.stdout.includes('Granite-Meadow-Fox-31'), false, 'the password is never printed');

  const dora = new Caller(t.gateway.url);
  const signedIn = await dora.signIn('dora', 'Granite-Meadow-Fox-31');
  assert.equal(signedIn.status, 200);
  assert.equal((await signedIn.json() as { mustChangePassword: boolean }).mustChangePassword, true);
  const devices = await dora.json<{ mustChangePassword?: boolean }>('GET', '/api/devices');
  assert.equal(devices.status, 403);
  assert.equal(devices.body.mustChangePassword, true);

  const events = await resetEvents();
  assert.equal(events.length, 1);
  assert.match(events[0].message, /password of dora set with 'inlet user passwd' by .+; they must change it at next sign-in/);

  const changed = await dora.json('POST', '/api/session/password', { currentPassword: 'Granite-Meadow-Fox-31', newPassword: 'Copper-Willow-Heron-84' });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  // the change renewed the session (a new cookie): signing in again with the new password is the plain check
  assert.equal((await dora.signIn('dora', 'Copper-Willow-Heron-84')).status, 200);
  assert.equal((await dora.json('GET', '/api/devices')).status, 200);
});

test('inlet user passwd --no-force-change leaves the new password as it is, and says so', async () => {
  const run = passwd('dora', 'Saffron-Glacier-Wren-19', '--no-force-change');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /dora is not asked to change it \(--no-force-change\)/);

  const dora = new Caller(t.gateway.url);
  const signedIn = await dora.signIn('dora', 'Saffron-Glacier-Wren-19');
  assert.equal(signedIn.status, 200);
  assert.equal((await signedIn.json() as { mustChangePassword: boolean }).mustChangePassword, false);
  assert.equal((await dora.json('GET', '/api/devices')).status, 200);
  const events = await resetEvents();
  assert.equal(events.length, 2);
  assert.ok(events.some((e) => /no change required \(--no-force-change\)/.test(e.message)), JSON.stringify(events));
});
