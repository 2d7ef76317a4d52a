// Tampering beyond the uploads, as an attacker with write access to the database file would do it
// (the protecting triggers dropped first): each change below was "integrity OK" before issue 18.
// Each case works on its own copy of one filled store and shows `inlet verify` finding it: exit
// code 1, the problem named, and an integrity alarm raised.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { hashPassword } from '../../src/api/passwords.ts';
import { copySqliteStore, registerSoapDevice, soapUrl, startTestGateway } from './harness.ts';
import { placeDevice } from '../../src/admin/zones.ts';
import { secretDigest } from '../../src/domain/audit-chain.ts';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
let baselineDir = '';
let deviceId = 0;
let zoneIds = { pharmacy: 0, coldRoom: 0, ward: 0 };
const dirs: string[] = [];

before(async () => {
  const gateway = await startTestGateway({ throttle: { ...DEFAULT_CONFIG.throttle, enabled: false } });
  baselineDir = gateway.dataDir;
  const device = await registerSoapDevice(gateway.store, '31000001');
  deviceId = device.id;
  await gateway.registry.load();
  await gateway.store.setAlarmLimits(device.id, 1, [{ deviceId, channel: 1, level: 'alarm', high: 10, low: null, delayS: 0, hysteresis: 0 }], 'admin', Date.now(), { reason: 'SOP', signatureMeaning: 'approved' });
  await gateway.alarmMonitor.reloadLimits();
  for (const temp of [4.1, 5.1, 30, 4.8]) {
    const body = buildSoapMessage({ serial: '31000001', modelCode: soapModelCode('T3510')!, temp });
    assert.equal((await post(soapUrl(gateway.url, device), body, 'text/xml; charset=utf-8')).status, 200);
    await gateway.alarmMonitor.idle();
  }
  const [alarm] = await gateway.store.alarms({ deviceId });
  assert.ok(alarm, 'the 30.0 excursion raised an alarm');
  await gateway.store.acknowledgeAlarm(alarm.id, 'operator', 'door was open; product checked', Date.now(), 'reviewed');
  await gateway.store.addUser({ username: 'operator', role: 'operator', passwordHash: await hashPassword('Copper-Basin-58') }, Date.now(), { actor: 'admin', reason: 'new staff' });
  await gateway.store.addUser({ username: 'auditor', role: 'viewer', passwordHash: await hashPassword('Granite-Owl-31') }, Date.now(), { actor: 'admin', reason: 'QA audit' });
  // Zones: the device placed in one, the operator holding a role on another, as Inlet records them.
  const layout = { by: 'admin', at: Date.now(), reason: 'site layout', source: '127.0.0.1' };
  const pharmacy = await gateway.store.addZone({ parentId: null, name: 'Pharmacy' }, layout);
  const coldRoom = await gateway.store.addZone({ parentId: pharmacy.id, name: 'Cold room' }, layout);
  const ward = await gateway.store.addZone({ parentId: null, name: 'Ward' }, layout);
  const operator = (await gateway.store.listUsers()).find((u) => u.username === 'operator')!;
  await gateway.store.setUserZoneRoles(operator.id, [{ zoneId: ward.id, role: 'viewer' }], layout);
  await placeDevice(gateway.store, (await gateway.store.getDevice(deviceId))!, coldRoom.id, layout);
  zoneIds = { pharmacy: pharmacy.id, coldRoom: coldRoom.id, ward: ward.id };
  // Events the refusal archive writes off the ingest thread: a failed sign-in and a refused upload.
  const failed = await fetch(`${gateway.url}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-inlet-request': '1' }, body: JSON.stringify({ username: 'operator', password: 'not-the-password' }),
  });
  assert.equal(failed.status, 401);
  const unknown = buildSoapMessage({ serial: '39999999', modelCode: soapModelCode('T3510')!, temp: 4 });
  assert.ok((await post(soapUrl(gateway.url, device), unknown, 'text/xml; charset=utf-8')).status >= 400);
  await waitFor(async () => (await gateway.store.events({ type: 'user.signin.failed', limit: 1 })).length === 1 && (await gateway.store.events({ type: 'upload.refused', limit: 1 })).length === 1);
  await gateway.stop();
  // One verification that found it intact: checkpoints in the database, heads in the signed file beside chain.key.
  const first = cliVerify(baselineDir);
  assert.equal(first.status, 0, first.stdout + first.stderr);
});

after(() => { for (const dir of [baselineDir, ...dirs]) rmSync(dir, { recursive: true, force: true }); });

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  while (!await condition()) await new Promise((r) => setTimeout(r, 20));
}

function cliVerify(dir: string) {
  return spawnSync(process.execPath, [CLI, 'verify', '--quiet'], { encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dir, INLET_CONFIG: '' } });
}

/** A copy of the store with `sql` applied as a DBA would: every protecting trigger dropped first. */
function tampered(sql: string): string {
  const dir = copySqliteStore(baselineDir, 'inlet-tamper-');
  dirs.push(dir);
  const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
  // The trigger that keeps the rollup in step when samples are deleted stays (inserted samples are rolled up
  // by the writer since migration 040): the attacker's deletions of samples then move the rollup as Inlet's
  // would, and the rollup itself is tampered with on its own below.
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name NOT LIKE 'tr_samples_rollup_hour%'").all() as { name: string }[]) {
    db.exec(`DROP TRIGGER ${name}`);
  }
  db.exec(sql);
  db.close();
  return dir;
}

function openAlarms(dir: string): number {
  const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM alarms WHERE kind = 'integrity' AND cleared_at IS NULL").get() as { n: number }).n;
  } finally { db.close(); }
}

/** Verifies the tampered copy: exit 1, the expected problem named, an integrity alarm raised. */
function assertFound(dir: string, problem: RegExp): string {
  const run = cliVerify(dir);
  assert.equal(run.status, 1, `verify should fail:\n${run.stdout}${run.stderr}`);
  assert.match(run.stdout, problem);
  assert.match(run.stdout, /Integrity alarm #\d+ was raised/);
  assert.equal(openAlarms(dir), 1);
  return run.stdout;
}

test('an acknowledgement rewritten (who and comment) is found', () => {
  assertFound(tampered("UPDATE alarms SET acknowledged_by = 'admin', ack_comment = 'all fine' WHERE acknowledged_at IS NOT NULL"),
    /record-changed: alarm #\d+ is .*"acknowledgedBy":"admin".* but event #\d+ recorded .*"acknowledgedBy":"operator"/);
});

test('the alarm.acknowledged event text rewritten is found', () => {
  assertFound(tampered("UPDATE events SET message = 'acknowledged by admin: \"all fine\"' WHERE type = 'alarm.acknowledged'"), /event-hash-mismatch: event #\d+ \(alarm\.acknowledged\) was changed outside Inlet/);
});

test('an alarm.raised event deleted is found', () => {
  assertFound(tampered("DELETE FROM events WHERE type = 'alarm.raised'"), /event-broken-link: event #\d+ does not link to event #\d+/);
});

test('the hourly rollup rewritten (the 30.0 excursion hidden from long-range charts and reports) is found', () => {
  assertFound(tampered(`UPDATE sample_rollup_hour SET value_max = 5.1 WHERE device_id = ${deviceId} AND channel = 1`),
    /rollup-mismatch \(device \d+\): the hourly rollup of device \d+ channel 1 at .* holds min 4\.1, max 5\.1, .* but its samples give min 4\.1, max 30,/);
});

test('a channel\'s unit changed °C → °F is found', () => {
  assertFound(tampered(`UPDATE channels SET unit = '°F' WHERE device_id = ${deviceId} AND channel = 1`),
    /record-changed: channel 1 of device \d+ \(quantity and unit\) is \{"quantity":"temperature","unit":"°F"\} but event #\d+ recorded \{"quantity":"temperature","unit":"°C"\}/);
});

test('remote_address and content_type of an upload changed are found', () => {
  assertFound(tampered("UPDATE uploads SET remote_address = '10.9.9.9', content_type = 'text/plain' WHERE id = (SELECT MIN(id) FROM uploads)"), /hash-mismatch in chain \d+ .* at upload #\d+/);
});

test('a backdoor administrator inserted is found', () => {
  const out = assertFound(tampered("INSERT INTO users (username, role, password_hash, created_at) VALUES ('backdoor', 'administrator', 'scrypt$x', 0)"),
    /record-unrecorded: user #\d+ exists \(\{.*"role":"administrator".*"username":"backdoor"\}\) but no event ever recorded it/);
  assert.doesNotMatch(out, /scrypt\$x/, 'a password hash is never printed');
});

test('a backdoor administrator inserted with an unlinked event vouching for it is found', () => {
  const out = assertFound(tampered(`INSERT INTO users (username, role, password_hash, created_at) VALUES ('backdoor', 'administrator', 'scrypt$x', 0);
    INSERT INTO events (at, device_id, type, level, message, data) SELECT 0, NULL, 'user.added', 'info', 'user backdoor added',
      json_object('records', json_array(json_object('key', 'user:' || id, 'state', json_object('username', 'backdoor', 'role', 'administrator', 'scope', 'global', 'disabled', json('false'), 'password', '${secretDigest('scrypt$x')}'))))
    FROM users WHERE username = 'backdoor'`),
    /record-unrecorded: user #\d+ exists \(\{.*"username":"backdoor"\}\) but no event ever recorded it/);
  assert.doesNotMatch(out, /scrypt\$x/);
});

test('an operator promoted to administrator in the database is found', () => {
  assertFound(tampered("UPDATE users SET role = 'administrator' WHERE username = 'operator'"), /record-changed: user #\d+ is .*"role":"administrator"/);
});

test('an alarm limit changed 10 → 100 is found', () => {
  assertFound(tampered(`UPDATE alarm_limits SET high = 100 WHERE device_id = ${deviceId}`), /record-changed: the alarm limits of device \d+ channel 1 is .*"high":100.* but event #\d+ recorded .*"high":10[,}]/);
});

test('the newest uploads cut off together with their checkpoints are found by the heads file', () => {
  const dir = tampered(`DELETE FROM samples WHERE upload_id IN (SELECT id FROM uploads WHERE device_id = ${deviceId} ORDER BY id DESC LIMIT 2);
    DELETE FROM sample_rollup_hour WHERE device_id = ${deviceId};
    DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE device_id = ${deviceId} ORDER BY id DESC LIMIT 2);
    DELETE FROM chain_checkpoints;`);
  assertFound(dir, /heads-file-lost in chain \d+ .* no longer exists: uploads were cut off the end of the chain, checkpoints included/);
});

test('the newest events cut off are found by the heads file', () => {
  assertFound(tampered('DELETE FROM events WHERE id > (SELECT MAX(id) - 3 FROM events)'), /heads-file-lost: event #\d+, the last of the audit chain when verified on .*no longer exists: the newest events were deleted/);
});

test('an edited heads file is found', async () => {
  const dir = tampered('SELECT 1');
  const file = path.join(dir, 'chain.heads');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const heads = JSON.parse(readFileSync(file, 'utf8')) as { uploads: { uploadId: number }[] };
  heads.uploads[0].uploadId -= 1;
  writeFileSync(file, JSON.stringify(heads));
  assertFound(dir, /heads-file-forged: the heads file .* does not carry a valid signature/);
});

test('an event inserted straight into the events table, without a link, is found', () => {
  assertFound(tampered(`INSERT INTO events (at, device_id, type, level, message, data) VALUES (${Date.now()}, NULL, 'user.added', 'info', 'backdoor added by admin', '{"username":"backdoor"}')`),
    /event-unchained: event #\d+ \(user\.added: "backdoor added by admin"\) has no link although every event after #\d+ is linked: inserted outside Inlet/);
});

test('a zone renamed in the database is found', () => {
  assertFound(tampered(`UPDATE zones SET name = 'Storage' WHERE id = ${zoneIds.coldRoom}`),
    /record-changed: zone #\d+ is \{"name":"Storage","parentId":\d+\} but event #\d+ recorded \{"name":"Cold room","parentId":\d+\}/);
});

test('a zone moved under another in the database is found', () => {
  assertFound(tampered(`UPDATE zones SET parent_id = ${zoneIds.ward} WHERE id = ${zoneIds.coldRoom}`),
    new RegExp(`record-changed: zone #${zoneIds.coldRoom} is \\{"name":"Cold room","parentId":${zoneIds.ward}\\}`));
});

test('a zone inserted in the database is found', () => {
  assertFound(tampered("INSERT INTO zones (parent_id, name, created_at) VALUES (NULL, 'Hidden', 0)"),
    /record-unrecorded: zone #\d+ exists \(\{"name":"Hidden","parentId":null\}\) but no event ever recorded it/);
});

test('a user\'s zone role raised in the database is found', () => {
  assertFound(tampered("UPDATE user_zone_roles SET role = 'administrator'"),
    /record-changed: the zone roles of user #\d+ is \[\{"role":"administrator","zoneId":\d+\}\] but event #\d+ recorded \[\{"role":"viewer","zoneId":\d+\}\]/);
});

test('a zone role granted in the database (a second zone for the operator) is found', () => {
  assertFound(tampered(`INSERT INTO user_zone_roles (user_id, zone_id, role, granted_at, granted_by)
    SELECT id, ${zoneIds.pharmacy}, 'administrator', 0, 'admin' FROM users WHERE username = 'operator'`),
    /record-changed: the zone roles of user #\d+ is \[.*"zoneId":\d+.*"zoneId":\d+.*\] but event #\d+ recorded \[\{"role":"viewer","zoneId":\d+\}\]/);
});

test('a zone role granted in the database to a user who held none is found', () => {
  assertFound(tampered(`INSERT INTO user_zone_roles (user_id, zone_id, role, granted_at, granted_by)
    SELECT id, ${zoneIds.pharmacy}, 'operator', 0, 'admin' FROM users WHERE username = 'auditor'`),
    /record-unrecorded: the zone roles of user #\d+ exists \(\[\{"role":"operator","zoneId":\d+\}\]\) but no event ever recorded it/);
});

test('a zone role revoked in the database is found', () => {
  assertFound(tampered('DELETE FROM user_zone_roles'), /record-missing: the zone roles of user #\d+, recorded by event #\d+, no longer exists/);
});

test('a device renamed in the database is found', () => {
  assertFound(tampered(`UPDATE devices SET name = 'Spare probe' WHERE id = ${deviceId}`),
    new RegExp(`record-changed: device #${deviceId} \\(name and zone\\) is .*"name":"Spare probe".* but event #\\d+ recorded .*"name":"Test T3510 31000001"`));
});

test('a device moved to another zone in the database is found', () => {
  assertFound(tampered(`UPDATE devices SET zone_id = ${zoneIds.ward}, location = 'Ward' WHERE id = ${deviceId}`),
    new RegExp(`record-changed: device #${deviceId} \\(name and zone\\) is .*"zoneId":${zoneIds.ward}.* but event #\\d+ recorded .*"zoneId":${zoneIds.coldRoom}`));
});

test('a unit version inserted in the database (relabelling the history shown as °F from then on) is found', () => {
  assertFound(tampered(`INSERT INTO channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
    SELECT device_id, channel, (SELECT MIN(time) FROM samples WHERE device_id = ${deviceId}) + 1, quantity, '°F', 'admin', 'x' FROM channels WHERE device_id = ${deviceId} AND channel = 1`),
    new RegExp(`record-unrecorded: the unit version of device ${deviceId} channel 1 from .* exists \\(\\{"quantity":"temperature","unit":"°F"\\}\\) but no event ever recorded it`));
});

test('a unit version changed in the database is found', () => {
  assertFound(tampered(`UPDATE channel_units SET unit = '°F' WHERE device_id = ${deviceId} AND channel = 1`),
    new RegExp(`record-changed: the unit version of device ${deviceId} channel 1 from .* is \\{"quantity":"temperature","unit":"°F"\\} but event #\\d+ recorded \\{"quantity":"temperature","unit":"°C"\\}`));
});

test('the untouched copy verifies: none of the above is a false alarm', () => {
  const dir = tampered('SELECT 1');
  const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
  try {
    // the refusal archive's and sign-in events are in the chain, not beside it
    const offThread = db.prepare("SELECT type, hash IS NOT NULL AS linked FROM events WHERE type IN ('user.signin.failed', 'upload.refused') ORDER BY type").all();
    assert.deepEqual(offThread.map((r) => ({ ...r })), [{ type: 'upload.refused', linked: 1 }, { type: 'user.signin.failed', linked: 1 }]);
  } finally { db.close(); }
  const run = cliVerify(dir);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /integrity OK: .*audit chain: \d+ events, \d+ recorded rows \(users, zones, devices, alarms, limits, channels, unit versions\); rollup recomputed: all/);
});
