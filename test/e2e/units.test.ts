// Units never change history (issue 18): one upload in another unit does not relabel a channel's
// earlier data. It suspends the device and keeps the upload aside until an administrator confirms the
// new unit (signed), which starts a new unit version; an unknown unit text is refused outright.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { buildWifiBody } from '../../src/sim/wifi.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { verifyIntegrity } from '../../src/jobs/verify.ts';
import { chainKeyIn } from './harness.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';

let t: TestGateway;
let admin: Caller;
const SIGNED = { password: ADMIN.password, meaning: 'confirmed' };

before(async () => {
  t = await startTestGateway();
  admin = new Caller(t.gateway.url);
  assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
});
after(async () => { await t?.close(); });

async function register(body: Record<string, unknown>): Promise<{ id: number; entryUrl: string }> {
  const made = await admin.json<{ device: { id: number }; entryUrl: string }>('POST', '/api/devices', { reason: 'test fixture', ...body });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal((await admin.json('PUT', `/api/devices/${made.body.device.id}/interval`, { reason: 'test fixture', allowedIntervalS: 1 })).status, 200);
  return { id: made.body.device.id, entryUrl: made.body.entryUrl };
}

const pause = () => new Promise((r) => setTimeout(r, 1100));   // the device's interval: no throttling

test('a SOAP upload in °F does not relabel the °C history: held back until an administrator confirms, then a new unit version', async () => {
  const d = await register({ serial: '73000001', model: 'T3510', name: 'Cold room' });
  const send = (temp: number, tempU: 'C' | 'F') => post(d.entryUrl, buildSoapMessage({ serial: '73000001', modelCode: soapModelCode('T3510')!, temp, tempU }), 'text/xml; charset=utf-8');
  assert.equal((await send(4.5, 'C')).status, 200);
  await pause();
  assert.equal((await send(40.1, 'F')).status, 200, 'the device is answered: its upload is kept (quarantined)');

  const device = (await t.gateway.store.getDevice(d.id))!;
  assert.equal(device.state, 'suspended');
  assert.match(device.suspendedReason ?? '', /unit changed: channel 1 reports temperature in °F but is registered as temperature in °C/);
  const [mismatch] = await t.gateway.store.events({ deviceId: d.id, type: 'channel.unit.mismatch' });
  assert.ok(mismatch, 'the change is an event');
  assert.equal(mismatch.level, 'alarm');
  const channel1 = (await t.gateway.store.listChannels(d.id)).find((c) => c.channel === 1)!;
  assert.equal(channel1.unit, '°C', 'the channel still reads °C');
  const stored = await t.gateway.store.samples(d.id, 1, 0, Date.now() + 60_000);
  assert.deepEqual(stored.map((s) => s.value), [4.5], 'the °F value is not stored under °C');
  assert.equal((await t.gateway.store.quarantined(d.id)).length, 1);

  // Confirming needs an administrator's signature and a reason; a unit of another quantity is refused.
  const path = `/api/devices/${d.id}/channels/1/unit`;
  assert.equal((await admin.request('POST', path, { unit: 'F', reason: 'probe set to Fahrenheit' })).status, 400, 'unsigned');
  assert.equal((await admin.request('POST', path, { unit: 'hPa', reason: 'x', signature: SIGNED })).status, 400);
  const confirmed = await admin.json<{ versions: { channel: number; unit: string; setBy: string; reason: string }[] }>('POST', path, { unit: '°F', reason: 'probe set to Fahrenheit', signature: SIGNED });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  assert.deepEqual(confirmed.body.versions.filter((v) => v.channel === 1).map((v) => [v.unit, v.setBy]), [['°C', 'registration'], ['°F', ADMIN.username]]);
  const [changed] = await t.gateway.store.events({ deviceId: d.id, type: 'channel.unit.changed' });
  assert.match(changed.message, /temperature in °C → temperature in °F .*confirmed by admin with electronic signature \(confirmed\); earlier samples keep their unit\. Reason: probe set to Fahrenheit/);

  // The dew point (channel 3) follows the same setting: confirmed too.
  assert.equal((await admin.request('POST', `/api/devices/${d.id}/channels/3/unit`, { unit: 'F', reason: 'probe set to Fahrenheit', signature: SIGNED })).status, 200);
  const versions = (await admin.json<{ versions: { channel: number; validFrom: number; unit: string }[] }>('GET', `/api/devices/${d.id}/channel-units`)).body.versions;
  const [heldBack] = await t.gateway.store.quarantined(d.id);
  assert.equal(versions.find((v) => v.channel === 1 && v.unit === '°F')!.validFrom, heldBack.readings[0].sampleTime ?? heldBack.receivedAt,
    'the new unit holds from the first reading held back in it');
  const resumed = await admin.json('POST', `/api/devices/${d.id}/resume`, { reason: 'test fixture', importData: true, signature: { ...SIGNED, meaning: 'released' } });
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
  await pause();
  assert.equal((await send(41, 'F')).status, 200);
  assert.equal((await t.gateway.store.getDevice(d.id))!.state, 'active', 'the confirmed unit is no change any more');
  assert.deepEqual((await t.gateway.store.samples(d.id, 1, 0, Date.now() + 60_000)).map((s) => s.value), [4.5, 40.1, 41]);

  const report = await verifyIntegrity(t.gateway.store, { chainKey: chainKeyIn(t.dataDir) });
  assert.equal(report.ok, true, JSON.stringify(report.problems));
});

test('an unknown unit is refused with a reason, never stored unchecked', async () => {
  const d = await register({ serial: '21960399', model: 'W3711', name: 'WiFi probe', family: 'wifi' });
  const body = buildWifiBody({
    serial: '21960399', model: 4, orderId: 1, msgType: 'periodic', interval: 60, sampleTime: Date.now() - 1000,
    channels: [{ nr: 1, label: 'Temperature', value: -500, unit: 'degK?' }],
  });
  await post(d.entryUrl, body, 'application/json');   // answered in the WiFi dialect

  // refusals are archived outside the chains (issue 15's refusal archive)
  // the archive is written off the ingest thread: wait for the row, not for a time
  let refusal: Awaited<ReturnType<typeof t.gateway.store.refusals>>[number] | undefined;
  for (let i = 0; i < 200 && !refusal; i++) {
    if (i) await new Promise((r) => setTimeout(r, 25));
    refusal = (await t.gateway.store.refusals({ limit: 100_000 })).find((r) => r.reason.includes('degK?'));
  }
  assert.ok(refusal, 'the refusal is archived');
  assert.match(refusal.reason, /channel 1: "degK\?" is not a unit Inlet knows for temperature \(expected °C, °F, K\)/);
  assert.deepEqual(await t.gateway.store.samples(d.id, 1, 0, Date.now() + 60_000), []);
});
