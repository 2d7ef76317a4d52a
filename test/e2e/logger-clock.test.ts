// A GSM/LTE logger whose clock counts local time (COMET's own example: Timezone +2 h in September)
// against a real gateway: its readings are stored at the right UTC times, the decision is recorded,
// and an administrator can settle the reading per device (CLI and API).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ingestUrl, registerDevice, startTestGateway } from './harness.ts';
import { buildLoggerBody, type SimLoggerMessage } from '../../src/sim/logger.ts';
import { post } from '../../src/sim/client.ts';
import { deviceCommand } from '../../src/cli/device.ts';
import type { Device } from '../../src/domain/types.ts';

const JSON_TYPE = 'application/json';
const H = 3_600_000;
let gw: Awaited<ReturnType<typeof startTestGateway>>;

before(async () => { gw = await startTestGateway(); });
after(async () => { await gw?.stop(); });

function message(serial: number, orderId: number, sampleTime: number, clockCounts: 'utc' | 'local'): SimLoggerMessage {
  // Timezone 8 quarter hours = +2 h, as in COMET's fixture; sent 1 s after the sample
  return {
    serial, model: 1, orderId, sampleTime, now: sampleTime + 1000, timezoneQuarterHours: 8, clockCounts, customerUid: 'clock-test', intervalPowerMode: 600,
    channels: [{ nr: 1, label: 'Temperature', value: 4.5, unit: '°C' }],
  };
}

async function storedTimes(device: Device): Promise<number[]> {
  return (await gw.store.samples(device.id, 1, 0, Date.now() + 24 * H)).map((s) => s.time);
}

test('a logger counting local time (Timezone +2 h) is stored at the right UTC time, and the decision recorded', async () => {
  const device = await registerDevice(gw.store, { family: 'logger', serial: '19990501', model: 'U3631M', modelCode: 1, customerUid: 'clock-test' });
  await gw.registry.refresh();
  const sampleTime = Math.floor((Date.now() - 60_000) / 1000) * 1000;
  const res = await post(ingestUrl(gw.url, device), buildLoggerBody(message(19990501, 1, sampleTime, 'local')), JSON_TYPE);
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(await storedTimes(device), [sampleTime]);
  const [event] = await gw.store.events({ deviceId: device.id, type: 'device.clock' });
  assert.ok(event, 'the clock decision is an event');
  assert.match(event.message, /logger clock read as local time \(Timezone \+120 min\), decided from its send time \(read as UTC it would be (11\d min|2\.0 h) ahead\)/);
  assert.equal(event.level, 'info');
  assert.equal((event.data as { counts: string }).counts, 'local');
  // the next upload keeps the reading and records nothing new
  const again = await post(ingestUrl(gw.url, device), buildLoggerBody(message(19990501, 2, sampleTime + 10_000, 'local')), JSON_TYPE);
  assert.equal(again.status, 200, again.body);
  assert.equal((await gw.store.events({ deviceId: device.id, type: 'device.clock' })).length, 1);
});

test('a logger counting UTC beside a Timezone is read as UTC', async () => {
  const device = await registerDevice(gw.store, { family: 'logger', serial: '19990502', model: 'U3631M', modelCode: 1, customerUid: 'clock-test' });
  await gw.registry.refresh();
  const sampleTime = Math.floor((Date.now() - 60_000) / 1000) * 1000;
  const res = await post(ingestUrl(gw.url, device), buildLoggerBody(message(19990502, 1, sampleTime, 'utc')), JSON_TYPE);
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(await storedTimes(device), [sampleTime]);
  const [event] = await gw.store.events({ deviceId: device.id, type: 'device.clock' });
  assert.match(event.message, /read as UTC, decided from its send time \(read as local time it would be (1[12]\d min|2\.0 h) behind\)/);
});

test('an administrator sets the reading per device (CLI, then API): recorded old -> new, applied to the next upload', async () => {
  const device = await registerDevice(gw.store, { family: 'logger', serial: '19990503', model: 'U3631M', modelCode: 1, customerUid: 'clock-test' });
  const lines: string[] = [];
  assert.equal(await deviceCommand(['set-clock', '--serial', '19990503', '--clock', 'utc', '--reason', 'vendor says UTC'], gw.config, gw.store, (l) => lines.push(l)), 0);
  assert.match(lines.join('\n'), /logger clock reading changed from auto to utc \(UTC\) by \S+ \(command line\): vendor says UTC/);
  const [changed] = await gw.store.events({ deviceId: device.id, type: 'device.clock-setting' });
  // the command line is recorded as the operating-system account that ran it
  assert.deepEqual({ ...changed.data, by: String(changed.data?.by).replace(/^\S+ /, '') }, { from: 'auto', to: 'utc', by: '(command line)', reason: 'vendor says UTC' });
  assert.equal((await gw.store.getDevice(device.id))?.loggerClock, 'utc');
  await gw.registry.refresh();
  // a local-time count read as UTC, as the administrator insists, lies 2 h in the future: refused, with the hint
  const sampleTime = Math.floor((Date.now() - 60_000) / 1000) * 1000;
  const refused = await post(ingestUrl(gw.url, device), buildLoggerBody(message(19990503, 1, sampleTime, 'local')), JSON_TYPE);
  assert.equal(refused.status, 422);
  assert.match(refused.body, /in the future.*logger clock read as UTC; an administrator can set it: inlet device set-clock --serial 19990503/);
  // a usage error names the choices
  await assert.rejects(deviceCommand(['set-clock', '--serial', '19990503', '--clock', 'gmt', '--reason', 'x'], gw.config, gw.store, () => {}), /--clock must be one of auto, utc, local/);
});

test('the API: an administrator sets a logger\'s clock reading with a reason; an operator may not; a SOAP device has none', async () => {
  const { ADMIN, Caller, startTestGateway: startApiGateway } = await import('./api-helpers.ts');
  const t = await startApiGateway();
  try {
    const admin = new Caller(t.gateway.url);
    assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
    const added = await admin.json<{ device: { id: number } }>('POST', '/api/devices', { serial: '19990504', model: 'U3631M', name: 'Truck 4', family: 'logger' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const id = added.body.device.id;
    const set = await admin.json<{ device: { loggerClock: string } }>('PUT', `/api/devices/${id}/clock`, { loggerClock: 'local', reason: 'logger set to CET' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.device.loggerClock, 'local');
    const [event] = await t.gateway.store.events({ deviceId: id, type: 'device.clock-setting' });
    assert.deepEqual(event.data, { from: 'auto', to: 'local', by: ADMIN.username, reason: 'logger set to CET' });
    assert.equal((await admin.json('PUT', `/api/devices/${id}/clock`, { loggerClock: 'gmt' })).status, 400);
    const made = await admin.json('POST', '/api/users', { username: 'operator', role: 'operator', password: 'Copper-Basin-58' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const operator = new Caller(t.gateway.url);
    assert.equal((await operator.signIn('operator', 'Copper-Basin-58')).status, 200);
    assert.equal((await operator.json('PUT', `/api/devices/${id}/clock`, { loggerClock: 'utc' })).status, 403);
    const soap = await admin.json<{ device: { id: number } }>('POST', '/api/devices', { serial: '19990505', model: 'T3510', name: 'Fridge' });
    assert.equal((await admin.json('PUT', `/api/devices/${soap.body.device.id}/clock`, { loggerClock: 'utc' })).status, 400);
  } finally {
    await t.close();
  }
});
