// What a QA manager does through the viewer API, against a real gateway: exports of channels of
// several devices, completeness of a device registered minutes ago, alarm limits set by an operator
// (one channel, or one set for many channels, signed with the operator's password), and alarms
// acknowledged in bulk with one comment, each alarm keeping its own record.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SampleRow } from '../../src/domain/types.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';

let t: TestGateway;
const admin = { caller: null as unknown as Caller };
const operator = { caller: null as unknown as Caller, password: 'Copper-Basin-58' };
const viewer = { caller: null as unknown as Caller, password: 'Lantern-Ridge-77' };
const HOUR = 3_600_000;
const START = Date.UTC(2025, 5, 2, 8, 0, 0);

async function addDevice(serial: string, name: string, location = 'Pharmacy'): Promise<number> {
  const added = await admin.caller.json<{ device: { id: number } }>('POST', '/api/devices', { serial, model: 'T3510', name, location });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  return added.body.device.id;
}

/** Stores samples as an accepted upload would (channel 1 temperature °C, channel 2 RH). */
async function store(deviceId: number, serial: string, samples: Omit<SampleRow, 'deviceId'>[]): Promise<void> {
  await t.gateway.store.commit({
    upload: { deviceId, family: 'soap', receivedAt: Date.now(), remoteAddress: 'test', contentType: '', raw: Buffer.alloc(0), verdict: 'accepted', reason: 'test data', serial, counter: null },
    samples: samples.map((s) => ({ ...s, deviceId })),
    // canonical units, as ingest stores them (a 'C' here would be a new unit version from this upload on)
    channels: [{ deviceId, channel: 1, quantity: 'temperature', unit: '°C' }, { deviceId, channel: 2, quantity: 'relative_humidity', unit: '%RH' }],
    events: [], quarantine: null, deviceSeen: null, suspend: null,
  });
}

let fridgeA = 0;
let fridgeB = 0;

before(async () => {
  t = await startTestGateway();
  admin.caller = new Caller(t.gateway.url);
  assert.equal((await admin.caller.signIn(ADMIN.username, ADMIN.password)).status, 200);
  for (const [who, role] of [[operator, 'operator'], [viewer, 'viewer']] as const) {
    assert.equal((await admin.caller.json('POST', '/api/users', { username: role, role, password: who.password })).status, 201);
    who.caller = new Caller(t.gateway.url);
    assert.equal((await who.caller.signIn(role, who.password)).status, 200);
  }
  fridgeA = await addDevice('20270001', 'Fridge A');
  fridgeB = await addDevice('20270002', 'Fridge B');
  // A samples on the full minute, B thirty seconds later: no time in common
  await store(fridgeA, '20270001', [0, 1, 2].map((i) => ({ channel: 1, time: START + i * 60_000, value: 4 + i / 10, errorCode: null, alarm: 'no' as const })));
  await store(fridgeB, '20270002', [0, 1, 2].map((i) => ({ channel: 1, time: START + 30_000 + i * 60_000, value: 6 + i / 10, errorCode: null, alarm: 'no' as const })));
});

after(async () => { await t?.close(); });

describe('exports and reports', () => {
  test('CSV of two devices sampled at different times: each value in its own device\'s column', async () => {
    const res = await viewer.caller.request('GET', `/api/export.csv?channels=${fridgeB}:1,${fridgeA}:1&from=${START}&to=${START + HOUR}&tz=UTC&decimal=point`);
    assert.equal(res.status, 200);
    const lines = (await res.text()).replace(/^\uFEFF/, '').trim().split('\r\n').map((l) => l.split(','));
    assert.deepEqual(lines[0], ['time (UTC)', 'time (UTC)', 'Fridge B temperature [°C]', 'Fridge B temperature state', 'Fridge A temperature [°C]', 'Fridge A temperature state']);
    const rows = lines.slice(1);
    assert.equal(rows.length, 6);
    for (const row of rows) assert.equal(row.length, 6, `every row has every column: ${row.join(',')}`);
    // 08:00:00 is Fridge A's sample: Fridge B's columns are empty
    assert.deepEqual(rows[0].slice(2), ['', '', '4', '']);
    assert.deepEqual(rows[1].slice(2), ['6', '', '', '']);
  });

  test('completeness counts from the registration: a device added minutes ago is not 0.2 % complete over 24 hours', async () => {
    const id = await addDevice('20270003', 'New fridge');
    await t.gateway.store.updateDevice(id, { allowedIntervalS: 60 }, Date.now());
    const registeredAt = (await t.gateway.store.getDevice(id))!.createdAt;
    const now = Date.now();
    await store(id, '20270003', [{ channel: 1, time: Math.max(registeredAt, now - 1000), value: 5, errorCode: null, alarm: 'no' }]);
    const { body } = await viewer.caller.json<{ channels: { overall: number | null }[] }>('GET', `/api/completeness?channels=${id}:1&from=${now - 24 * HOUR}&to=${now}`);
    const overall = body.channels[0].overall;
    // one sample in the (under a minute) since registration: expected at most one
    assert.ok(overall === null || overall >= 0.9, `completeness ${overall}`);
  });
});

describe('alarm limits', () => {
  const limits = [{ level: 'alarm', low: 2, high: 8, delayS: 0, hysteresis: 0.2 }];

  test('an operator sets one channel\'s limits, signed with the own password; a viewer may not', async () => {
    const path = `/api/devices/${fridgeA}/channels/1/alarm-limits`;
    assert.equal((await viewer.caller.json('PUT', path, { limits })).status, 403);
    const wrong = await operator.caller.json<{ error: string }>('PUT', path, { limits, signature: { password: 'not-my-password', meaning: 'approved' } });
    assert.equal(wrong.status, 403);
    assert.match(wrong.body.error, /signature/);
    assert.equal((await t.gateway.store.alarmLimits(fridgeA)).length, 0, 'a wrong signature changes nothing');
    const done = await operator.caller.json('PUT', path, { limits, signature: { password: operator.password, meaning: 'approved' } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const [set] = await t.gateway.store.alarmLimits(fridgeA);
    assert.deepEqual([set.low, set.high, set.level], [2, 8, 'alarm']);
    const events = await t.gateway.store.events({ deviceId: fridgeA, type: 'alarm.limits.changed' });
    assert.ok(events.length >= 1 && events[0].message.includes('operator'), JSON.stringify(events[0]));
  });

  test('one set of limits for many channels at once (a template)', async () => {
    const res = await operator.caller.json('PUT', '/api/alarm-limits', {
      channels: [`${fridgeA}:1`, `${fridgeB}:1`], limits: [...limits, { level: 'warning', low: 3, high: 7 }], signature: { password: operator.password, meaning: 'approved' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const id of [fridgeA, fridgeB]) assert.deepEqual((await t.gateway.store.alarmLimits(id)).map((l) => [l.channel, l.level, l.low, l.high]), [[1, 'alarm', 2, 8], [1, 'warning', 3, 7]]);
    assert.equal((await operator.caller.json('PUT', '/api/alarm-limits', { channels: [`${fridgeA}:9`], limits })).status, 404);
    assert.equal((await operator.caller.json('PUT', '/api/alarm-limits', { channels: [`${fridgeA}:1`], limits: [{ level: 'alarm', low: 8, high: 2 }] })).status, 400);
  });
});

describe('alarms', () => {
  test('bulk acknowledgement: one comment, each alarm its own record; viewers may not', async () => {
    const raised = [];
    for (let i = 0; i < 3; i++) {
      raised.push(await t.gateway.store.raiseAlarm({ deviceId: fridgeB, channel: null, source: 'system', kind: null, level: 'warning', direction: null, raisedAt: Date.now(), value: null, message: `test alarm ${i}` }));
    }
    const ids = raised.map((a) => a.id);
    assert.equal((await viewer.caller.json('POST', '/api/alarms/acknowledge', { ids, comment: 'test devices retired' })).status, 403);
    const res = await operator.caller.json<{ acknowledged: number[]; skipped: number[] }>('POST', '/api/alarms/acknowledge', {
      ids: [...ids, 999_999], comment: 'test devices retired', signature: { password: operator.password, meaning: 'acknowledged' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { acknowledged: ids, skipped: [999_999] });
    const stored = (await t.gateway.store.alarms({ deviceId: fridgeB })).filter((a) => ids.includes(a.id));
    assert.equal(stored.length, 3);
    for (const a of stored) assert.deepEqual([a.acknowledgedBy, a.ackComment], ['operator', 'test devices retired']);
    const events = await t.gateway.store.events({ deviceId: fridgeB, type: 'alarm.acknowledged' });
    assert.equal(events.length, 3, 'one event per alarm');
  });
});

describe('retiring and replacing devices', () => {
  test('a retired device keeps its data, raises no offline alarm, is hidden by default, and its entry point stops working', async () => {
    const added = await admin.caller.json<{ device: { id: number }; entryUrl: string }>('POST', '/api/devices', { serial: '20270009', model: 'T3510', name: 'Test device 9', location: 'Lab' });
    const id = added.body.device.id;
    await store(id, '20270009', [{ channel: 1, time: START, value: 5, errorCode: null, alarm: 'no' }]);
    const offline = await t.gateway.store.raiseAlarm({ deviceId: id, channel: null, source: 'system', kind: 'offline', level: 'alarm', direction: null, raisedAt: Date.now(), value: null, message: 'Test device 9 is offline' });
    assert.equal((await viewer.caller.json('POST', `/api/devices/${id}/retire`, { reason: 'test device' })).status, 403);
    const retired = await operator.caller.json<{ device: { status: string } }>('POST', `/api/devices/${id}/retire`, { reason: 'test device, removed' });
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    assert.equal(retired.body.device.status, 'retired');
    const [alarm] = await t.gateway.store.alarms({ deviceId: id, kind: 'offline' });
    assert.equal(alarm.id, offline.id);
    assert.ok(alarm.clearedAt !== null, 'its offline alarm is cleared');
    assert.deepEqual([alarm.acknowledgedBy, alarm.ackComment], ['operator', 'device retired: test device, removed']);
    const ids = (tree: { locations: { devices: { id: number }[] }[] }) => tree.locations.flatMap((l) => l.devices.map((d) => d.id));
    assert.ok(!ids((await viewer.caller.json('GET', '/api/devices')).body as never).includes(id), 'hidden by default');
    assert.ok(ids((await viewer.caller.json('GET', '/api/devices?retired=true')).body as never).includes(id), 'listed when asked for');
    const csv = await (await viewer.caller.request('GET', `/api/export.csv?channels=${id}:1&from=${START}&to=${START + HOUR}&tz=UTC&decimal=point`)).text();
    assert.match(csv, /,5,/, 'its history is still exported');
    const res = await fetch(added.body.entryUrl, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: buildSoapMessage({ serial: '20270009', modelCode: soapModelCode('T3510')!, temp: 4 }) });
    assert.equal(res.status, 404, 'its old entry point no longer takes uploads');
    assert.equal((await admin.caller.json('POST', `/api/devices/${id}/retire`, { reason: 'again' })).status, 409);
    await t.gateway.jobs.runNow('offline');
    assert.equal((await t.gateway.store.alarms({ deviceId: id, kind: 'offline', uncleared: true })).length, 0, 'no new offline alarm');
    const events = await t.gateway.store.events({ deviceId: id, type: 'device.retired' });
    assert.match(events[0].message, /Test device 9 \(serial 20270009\) retired: test device, removed \(by operator\)/);
  });

  test('a probe replaced at its location: the new device takes the name and place, the old one is retired', async () => {
    const oldId = await addDevice('20270010', 'Fridge C', 'Vaccines');
    assert.equal((await operator.caller.json('POST', `/api/devices/${oldId}/replace`, { serial: '20270011', model: 'T3510', reason: 'probe failed' })).status, 403);
    const replaced = await admin.caller.json<{ device: { id: number; name: string; location: string }; entryUrl: string }>('POST', `/api/devices/${oldId}/replace`, { serial: '20270011', model: 'T3510', reason: 'probe failed' });
    assert.equal(replaced.status, 201, JSON.stringify(replaced.body));
    assert.deepEqual([replaced.body.device.name, replaced.body.device.location], ['Fridge C', 'Vaccines']);
    assert.ok((await t.gateway.store.retirements()).some((r) => r.deviceId === oldId && r.reason === 'replaced by serial 20270011 (T3510): probe failed'), 'the old one is retired');
    const [event] = await t.gateway.store.events({ deviceId: replaced.body.device.id, type: 'device.replaced' });
    assert.match(event.message, /Fridge C at Vaccines: serial 20270010 replaced by 20270011 \(by admin\): probe failed/);
  });
});
