import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { createAgent, post } from '../../src/sim/client.ts';
import { openDataStore, registerSoapDevice, soapUrl, startChildGateway, tempDir } from './harness.ts';

async function registeredDevice(dataDir: string, serial: string) {
  const store = openDataStore(dataDir);
  await store.migrate();
  const device = await registerSoapDevice(store, serial, 'T3510', { allowedIntervalS: 1 });
  await store.close();
  return device;
}

test('every acknowledged sample survives kill -9 of the gateway, and a restart serves the same device', async () => {
  const dataDir = tempDir();
  const device = await registeredDevice(dataDir, '20970001');
  const first = await startChildGateway(dataDir);
  const url = soapUrl(first.url, device);
  const agent = createAgent(url, 4);
  const acknowledged: number[] = [];
  let stop = false;
  // four concurrent senders until the kill; only 200 answers count as acknowledged
  const senders = [0, 1, 2, 3].map(async (lane) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await post(url, buildSoapMessage({ serial: '20970001', modelCode: 4145, temp: lane * 1000 + i }), 'text/xml', agent);
        if (res.status === 200) acknowledged.push(lane * 1000 + i);
      } catch { /* connection cut by the kill: not acknowledged */ }
    }
  });
  await new Promise((r) => setTimeout(r, 700));
  first.child.kill('SIGKILL');
  stop = true;
  await Promise.all(senders);
  await first.exited;
  agent.destroy();
  assert.ok(acknowledged.length > 20, `enough uploads were acknowledged before the kill (${acknowledged.length})`);

  const store = openDataStore(dataDir);
  await store.migrate();
  // sending this fast gets the device suspended: from then on its acknowledged data is in quarantine
  const stored = new Set((await store.samples(device.id, 1, 0, Date.now() + 1, 1_000_000)).map((s) => s.value));
  const quarantined = (await store.quarantined(device.id)).flatMap((q) => q.readings.filter((r) => r.channel === 1).map((r) => r.value));
  assert.ok(quarantined.length > 0, 'the flood was throttled');
  for (const v of quarantined) stored.add(v);
  const lost = acknowledged.filter((v) => !stored.has(v));
  assert.deepEqual(lost, [], 'no acknowledged sample is lost');
  await store.close();

  const second = await startChildGateway(dataDir);
  const res = await post(soapUrl(second.url, device), buildSoapMessage({ serial: '20970001', modelCode: 4145, temp: -55.5 }), 'text/xml');
  assert.equal(res.status, 200);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

test('SIGTERM drains uploads in flight, flushes the store and exits 0', async () => {
  const dataDir = tempDir();
  const device = await registeredDevice(dataDir, '20970002');
  const gw = await startChildGateway(dataDir);
  const url = soapUrl(gw.url, device);
  const inFlight = Array.from({ length: 20 }, (_, i) =>
    post(url, buildSoapMessage({ serial: '20970002', modelCode: 4145, temp: i }), 'text/xml').then((r) => r.status, () => 0));
  await new Promise((r) => setTimeout(r, 5));
  gw.child.kill('SIGTERM');
  const statuses = await Promise.all(inFlight);
  assert.equal(await gw.exited, 0, 'clean exit code');
  const store = openDataStore(dataDir);
  await store.migrate();
  const uploads = await store.uploads({ deviceId: device.id });
  const acknowledged = statuses.filter((s) => s === 200).length;
  assert.ok(acknowledged > 0, 'some uploads were in flight when the stop came');
  assert.ok(uploads.length >= acknowledged, `every acknowledged upload is stored (${uploads.length} stored, ${acknowledged} acknowledged)`);
  await store.close();
});
