// Directory sign-in against a real OpenLDAP server (test/support/slapd.ts) over LDAPS with the
// customer's own CA: group members get their roles on zones, a wrong password, a disabled account,
// an account in no mapped group and an unreachable directory are refused with a reason each in the
// audit trail, while the local emergency administrator always gets in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';
import { waitUntil } from '../support/hang-guard.ts';
import { BASE_DN, SERVICE, makeCa, slapdMissing, startSlapd, type Slapd } from '../support/slapd.ts';

const skip = slapdMissing();
const ACCOUNTS = [
  { sam: 'jane', password: 'Jane-Pharm-2026', groups: ['Inlet Pharmacy QA'] },
  { sam: 'ivan', password: 'Ivan-IT-2026', groups: ['Inlet Admins'] },
  { sam: 'olga', password: 'Olga-Off-2026', groups: ['Inlet Pharmacy QA'], disabled: true },
  { sam: 'paul', password: 'Paul-None-2026', groups: ['Canteen'] },
  { sam: 'lena', password: 'Lena-Later-2026', groups: ['Inlet Pharmacy QA'] },
  { sam: 'sara', password: 'Sara-Signs-2026', groups: ['Inlet Pharmacy QA'] },
];
const group = (cn: string) => `CN=${cn},OU=Groups,${BASE_DN}`;

let dir = '';
let slapd: Slapd;
let t: TestGateway;

async function signIn(login: string, password: string) {
  const c = new Caller(t.gateway.url);
  const res = await c.signIn(login, password);
  const body = await res.json().catch(() => null) as Record<string, unknown> | null;
  return { status: res.status, body, caller: c };
}

describe('sign-in with the directory (OpenLDAP dressed as Active Directory)', { skip: skip ?? false }, () => {
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'inlet-ldap-'));
    slapd = await startSlapd(dir, ACCOUNTS, ['Inlet Pharmacy QA', 'Inlet Admins', 'Canteen']);
    t = await startTestGateway((config) => {
      config.directory = {
        ...config.directory, enabled: true, urls: [slapd.ldapsUrl], caFile: slapd.caFile,
        bindDn: SERVICE.dn, bindPassword: SERVICE.password, baseDn: BASE_DN,
        groups: [
          { group: group('Inlet Pharmacy QA'), role: 'operator', zones: ['Hospital/Pharmacy'], global: false },
          { group: group('Inlet Admins').toLowerCase(), role: 'administrator', zones: [], global: true },
        ],
        // the longest the schema allows: the directory's answers are waited for, however busy the machine
        // (an unreachable directory is refused at once, so no test waits for this)
        timeoutMs: 60_000,
      };
      // a slow-down that outlasts the test, whatever the machine's speed: the fourth attempt must wait
      config.security = { ...config.security, signIn: { ...config.security.signIn, firstDelayS: 600 } };
    });
    const admin = new Caller(t.gateway.url);
    assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
    const hospital = await admin.json<{ zone: { id: number } }>('POST', '/api/zones', { reason: 'test fixture', name: 'Hospital' });
    const pharmacy = await admin.json<{ zone: { id: number } }>('POST', '/api/zones', { reason: 'test fixture', name: 'Pharmacy', parentId: hospital.body.zone.id });
    const lab = await admin.json<{ zone: { id: number } }>('POST', '/api/zones', { reason: 'test fixture', name: 'Laboratory', parentId: hospital.body.zone.id });
    assert.equal((await admin.json('POST', '/api/devices', { reason: 'test fixture', serial: '20251111', model: 'T3510', name: 'Vaccine fridge', zoneId: pharmacy.body.zone.id })).status, 201);
    assert.equal((await admin.json('POST', '/api/devices', { reason: 'test fixture', serial: '20252222', model: 'T3510', name: 'Incubator', zoneId: lab.body.zone.id })).status, 201);
  });

  after(async () => {
    await t?.close();
    await slapd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a member of a mapped group signs in by user principal name or sAMAccountName and sees only their zones', async () => {
    const byUpn = await signIn('jane@hospital.test', 'Jane-Pharm-2026');
    assert.equal(byUpn.status, 200, JSON.stringify(byUpn.body));
    assert.equal(byUpn.body!.username, 'jane');
    assert.equal(byUpn.body!.globalRole, null);
    assert.equal((byUpn.body!.zoneRoles as { role: string }[])[0].role, 'operator');
    const tree = await byUpn.caller.json<{ locations: { name: string; devices: { name: string }[] }[] }>('GET', '/api/devices');
    assert.deepEqual(tree.body.locations.map((l) => [l.name, l.devices.map((d) => d.name)]), [['Hospital/Pharmacy', ['Vaccine fridge']]]);
    assert.equal((await signIn('HOSPITAL\\jane', 'Jane-Pharm-2026')).status, 200);
    const user = (await t.gateway.store.findUser('jane'))!;
    assert.equal(user.source, 'directory');
    assert.equal(user.scope, 'zones');
    // Local sign-ins are recorded through the refusal recorder's queue, so the administrator's sign-in in
    // before() may land after jane's: look for jane's own event, not merely the newest one.
    const event = await waitUntil('the user.signin event of jane', async () =>
      (await t.gateway.store.events({ type: 'user.signin', limit: 50 })).find((e) => e.actor === 'jane'));
    assert.match(event.message, /jane signed in through the directory/);
  });

  test('a member of a group mapped to a global role sees everything', async () => {
    const ivan = await signIn('ivan', 'Ivan-IT-2026');
    assert.equal(ivan.status, 200, JSON.stringify(ivan.body));
    assert.equal(ivan.body!.globalRole, 'administrator');
    const tree = await ivan.caller.json<{ locations: unknown[] }>('GET', '/api/devices');
    assert.equal(tree.body.locations.length, 2);
  });

  test('a directory account signs electronically: its password is checked by a bind to the directory, and wrong ones are slowed down as sign-ins are', async () => {
    const sara = await signIn('sara', 'Sara-Signs-2026');
    assert.equal(sara.status, 200, JSON.stringify(sara.body));
    const fridge = (await t.gateway.store.listDevices()).find((d) => d.serial === '20251111')!;
    const raise = (value: number) => t.gateway.store.raiseAlarm({ deviceId: fridge.id, channel: 1, source: 'limit', level: 'alarm', direction: 'high', raisedAt: Date.now(), value, message: 'too warm' });
    const acknowledge = (alarmId: number, password: string) => sara.caller.request('POST', `/api/alarms/${alarmId}/acknowledge`,
      { comment: 'door closed', signature: { password, meaning: 'acknowledged' } });

    const first = await raise(9);
    assert.equal((await acknowledge(first.id, 'not-saras-password')).status, 403);
    const [refused] = await t.gateway.store.events({ type: 'signature.refused', limit: 1 });
    assert.match(refused.message, /electronic signature of sara \(acknowledged\) refused: wrong password/);
    const signed = await acknowledge(first.id, 'Sara-Signs-2026');
    assert.equal(signed.status, 200, await signed.clone().text());
    const [acknowledged] = await t.gateway.store.alarms({ id: first.id, limit: 1 });
    assert.equal(acknowledged.acknowledgedBy, 'sara');

    const second = await raise(10);
    for (let i = 0; i < 3; i++) assert.equal((await acknowledge(second.id, `guess-${i}`)).status, 403, `wrong signature ${i + 1}`);
    const slowed = await acknowledge(second.id, 'Sara-Signs-2026');
    assert.equal(slowed.status, 429, 'after three wrong passwords the next signature waits, even with the right one');
    assert.match(((await slowed.json()) as { error: string }).error, /too many wrong passwords for sara/);
    const [still] = await t.gateway.store.alarms({ id: second.id, limit: 1 });
    assert.equal(still.acknowledgedBy, null);
  });

  test('a wrong password, a disabled account and an account in no mapped group are refused, each recorded', async () => {
    assert.equal((await signIn('jane', 'not-her-password')).status, 401);
    assert.equal((await signIn('nobody', 'whatever-it-is')).status, 401);
    assert.equal((await signIn('jane', '')).status, 400, 'an empty password never reaches the directory (an anonymous bind would succeed)');
    const olga = await signIn('olga', 'Olga-Off-2026');
    assert.equal(olga.status, 403);
    assert.match(String(olga.body!.error), /disabled in the directory/);
    const paul = await signIn('paul', 'Paul-None-2026');
    assert.equal(paul.status, 403);
    assert.match(String(paul.body!.error), /none of the groups/);
    const reasons = (await t.gateway.store.events({ type: 'user.signin.failed', limit: 10 })).map((e) => (e.data as { reason: string }).reason);
    for (const r of ['wrong user name or password', 'account disabled in the directory', 'in no mapped directory group']) assert.ok(reasons.includes(r), `${r} in ${reasons.join('; ')}`);
  });

  test('an account disabled or removed in the directory is refused at its next sign-in', async () => {
    assert.equal((await signIn('lena', 'Lena-Later-2026')).status, 200);
    slapd.modify(`dn: CN=lena,OU=People,${BASE_DN}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n`);
    assert.equal((await signIn('lena', 'Lena-Later-2026')).status, 403);
    slapd.modify(`dn: CN=lena,OU=People,${BASE_DN}\nchangetype: delete\n`);
    assert.equal((await signIn('lena', 'Lena-Later-2026')).status, 401);
  });

  test('LDAPS is refused with a certificate from a CA the customer did not name', async () => {
    const other = makeCa(dir, 'other');
    const strict = await startTestGateway((config) => {
      config.directory = { ...t.config.directory, caFile: other.caFile };
    });
    try {
      const res = await new Caller(strict.gateway.url).signIn('jane', 'Jane-Pharm-2026');
      assert.equal(res.status, 503);
      assert.match(String((await res.json() as { error: string }).error), /does not answer/);
    } finally {
      await strict.close();
    }
  });

  test('with the directory down, directory users are told so and the local administrator still gets in', async () => {
    await slapd.stop();
    const jane = await signIn('jane', 'Jane-Pharm-2026');
    assert.equal(jane.status, 503);
    assert.match(String(jane.body!.error), /local accounts can still sign in/);
    assert.equal((await signIn(ADMIN.username, ADMIN.password)).status, 200);
  });
});
