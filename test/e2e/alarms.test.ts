// Alarm limits and the alarm lifecycle through the viewer API on a real gateway: limits set by
// an administrator only, raised by a device's reading, acknowledged by an operator with a
// comment, cleared by a reading back inside, every step in the event log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import type { StoredAlarm, StoredEvent } from '../../src/store/store.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';

let t: TestGateway;
let admin: Caller, operator: Caller, viewer: Caller;
let deviceId = 0;
let entryUrl = '';

before(async () => {
  // The device's interval is 1 s so that the test may send at its own pace; on a busy machine a
  // pause of 3 s between two steps would make the minutely offline check raise an offline alarm
  // beside the ones under test. Offline alarms have their own tests (jobs, api).
  t = await startTestGateway((config) => { config.jobs.offline.enabled = false; });
  [admin, operator, viewer] = [new Caller(t.gateway.url), new Caller(t.gateway.url), new Caller(t.gateway.url)];
  await admin.signIn(ADMIN.username, ADMIN.password);
  for (const [caller, role, password] of [[operator, 'operator', 'Copper-Basin-58'], [viewer, 'viewer', 'Lantern-Ridge-77']] as const) {
    assert.equal((await admin.json('POST', '/api/users', { reason: 'test fixture', username: role, role, password })).status, 201);
    assert.equal((await caller.signIn(role, password)).status, 200);
  }
  const added = await admin.json<{ device: { id: number }; entryUrl: string }>('POST', '/api/devices', { reason: 'test fixture', serial: '50000001', model: 'T3510', name: 'Vaccine fridge', location: 'Pharmacy' });
  deviceId = added.body.device.id;
  entryUrl = added.body.entryUrl;
  assert.equal((await admin.json('PUT', `/api/devices/${deviceId}/interval`, { reason: 'test fixture', allowedIntervalS: 1 })).status, 200);
});

after(async () => { await t?.close(); });

async function send(temp: number, alarm: 'no' | 'hi'): Promise<void> {
  const body = buildSoapMessage({ serial: '50000001', modelCode: soapModelCode('T3510')!, temp, alarms: [alarm, 'no', 'no', 'no'] });
  assert.equal((await post(entryUrl, body, 'text/xml; charset=utf-8')).status, 200);
  await t.gateway.alarmMonitor.idle();
  await new Promise((r) => setTimeout(r, 1100));   // the device's interval: no throttling
}

const limitsPath = () => `/api/devices/${deviceId}/channels/1/alarm-limits`;

test('operators and administrators set alarm limits, viewers do not, and nonsense limits are refused', async () => {
  // Limit changes are signed (issue 18): each user's own password again, and a meaning.
  const limits = { reason: 'test fixture', limits: [{ level: 'alarm', high: 8, low: 2, hysteresis: 0.5 }], signature: { password: ADMIN.password, meaning: 'approved' } };
  assert.equal((await viewer.request('PUT', limitsPath(), limits)).status, 403);
  assert.equal((await operator.request('PUT', limitsPath(), { ...limits, signature: undefined })).status, 400, 'unsigned');
  assert.equal((await operator.request('PUT', limitsPath(), limits)).status, 403, 'someone else\'s password');
  assert.equal((await operator.request('PUT', limitsPath(), { ...limits, signature: { password: 'Copper-Basin-58', meaning: 'approved' } })).status, 200);
  assert.equal((await admin.request('PUT', limitsPath(), { reason: 'test fixture', limits: [{ level: 'alarm', high: 2, low: 8 }], signature: limits.signature })).status, 400);
  assert.equal((await admin.request('PUT', `/api/devices/${deviceId}/channels/9/alarm-limits`, limits)).status, 404);
  const set = await admin.json<{ limits: unknown[] }>('PUT', limitsPath(), limits);
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const [stored] = set.body.limits as { updatedAt: number }[];
  assert.ok(Math.abs(stored.updatedAt - Date.now()) < 60_000, 'the limit says when it was set');
  assert.deepEqual(set.body.limits, [{ deviceId, channel: 1, level: 'alarm', high: 8, low: 2, delayS: 0, hysteresis: 0.5, updatedAt: stored.updatedAt }]);
  assert.equal((await viewer.json<{ limits: unknown[] }>('GET', `/api/alarm-limits?device=${deviceId}`)).body.limits.length, 1);
});

test('a reading above the limit raises an alarm; an operator acknowledges it with a comment; a reading back inside clears it', async () => {
  await send(5, 'no');
  await send(9.5, 'hi');
  const limitAlarms = (alarms: StoredAlarm[]) => alarms.filter((a) => a.source === 'limit');
  const open = await viewer.json<{ alarms: StoredAlarm[] }>('GET', '/api/alarms?open=true');
  // the limit's alarm, and the device's own high alarm (its alarm string said so)
  assert.deepEqual(open.body.alarms.map((a) => a.kind ?? a.source).sort(), ['device', 'limit']);
  const [alarm] = limitAlarms(open.body.alarms);
  assert.equal(alarm.direction, 'high');
  assert.equal(alarm.value, 9.5);
  assert.match(alarm.message, /^Vaccine fridge \(serial 50000001(, [^)]+)?\) channel 1 temperature: 9\.5 °?C is above the alarm high limit 8 °?C$/);

  const ack = `/api/alarms/${alarm.id}/acknowledge`;
  assert.equal((await viewer.request('POST', ack, { comment: 'seen it' })).status, 403);
  assert.equal((await operator.request('POST', ack, {})).status, 400);
  assert.equal((await operator.request('POST', ack, { comment: '   ' })).status, 400);
  assert.equal((await operator.request('POST', ack, { comment: 'door was open, closed it' })).status, 400, 'unsigned');
  const done = await operator.json<{ alarm: StoredAlarm }>('POST', ack, { comment: 'door was open, closed it', signature: { password: 'Copper-Basin-58', meaning: 'reviewed' } });
  assert.equal(done.status, 200);
  assert.equal(done.body.alarm.acknowledgedBy, 'operator');
  assert.equal(done.body.alarm.ackMeaning, 'reviewed', 'the signature\'s meaning is bound to the acknowledgement');
  assert.equal((await admin.request('POST', ack, { comment: 'again', signature: { password: ADMIN.password, meaning: 'reviewed' } })).status, 409);

  await send(7.6, 'no');     // inside, but not by the hysteresis: still raised
  assert.equal(limitAlarms((await viewer.json<{ alarms: StoredAlarm[] }>('GET', '/api/alarms?open=true')).body.alarms)[0]?.clearedAt, null);
  await send(7.4, 'no');
  assert.deepEqual(limitAlarms((await viewer.json<{ alarms: StoredAlarm[] }>('GET', '/api/alarms?open=true')).body.alarms), []);
  const [closed] = limitAlarms((await viewer.json<{ alarms: StoredAlarm[] }>('GET', '/api/alarms')).body.alarms);
  assert.equal(closed.clearedValue, 7.4);

  const { body } = await viewer.json<{ events: StoredEvent[] }>('GET', `/api/events?device=${deviceId}`);
  const trail = body.events.map((e) => e.type).reverse().filter((type) => type.startsWith('alarm.') || type === 'device.alarm');
  // limits set by the operator, then the administrator; the device's own alarm is raised and cleared beside the limit's
  assert.deepEqual(trail, ['alarm.limits.changed', 'alarm.limits.changed', 'device.alarm', 'alarm.raised', 'alarm.raised', 'alarm.acknowledged', 'device.alarm', 'alarm.cleared', 'alarm.cleared']);
  assert.ok(body.events.some((e) => e.type === 'alarm.acknowledged' && e.message.includes('acknowledged by operator with electronic signature (reviewed): "door was open, closed it"')));
  assert.ok(body.events.some((e) => e.type === 'alarm.limits.changed' && e.message.includes('(by admin, signed "approved")')));
  const deviceAlarms = body.events.filter((e) => e.type === 'device.alarm').map((e) => (e.data as { alarm: string }).alarm).reverse();
  assert.deepEqual(deviceAlarms, ['hi', 'no'], 'the device\'s own alarm state is recorded on change only');
});
