import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
  // Killed once this many uploads were acknowledged: a count, not a time, so a busy machine only
  // makes the test slower (the throttle suspends the device after a few, so later ones are quarantined).
  const KILL_AFTER_ACKS = 40;
  let enoughAcks: () => void;
  const gotEnoughAcks = new Promise<void>((r) => { enoughAcks = r; });
  // four concurrent senders until the kill; only 200 answers count as acknowledged
  const senders = [0, 1, 2, 3].map(async (lane) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await post(url, buildSoapMessage({ serial: '20970001', modelCode: 4145, temp: lane * 1000 + i }), 'text/xml', agent);
        if (res.status === 200) { acknowledged.push(lane * 1000 + i); if (acknowledged.length >= KILL_AFTER_ACKS) enoughAcks(); }
      } catch { /* connection cut by the kill: not acknowledged */ }
    }
  });
  await gotEnoughAcks;
  first.child.kill('SIGKILL');
  stop = true;
  await Promise.all(senders);
  await first.exited;
  agent.destroy();
  assert.ok(acknowledged.length >= KILL_AFTER_ACKS, `uploads acknowledged before the kill: ${acknowledged.length}`);

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
  const acknowledged: number[] = [];
  let firstAck: () => void;
  const gotFirstAck = new Promise<void>((r) => { firstAck = r; });
  // eight senders post until the gateway stops answering
  const senders = Array.from({ length: 8 }, async (_, lane) => {
    for (let i = 0; ; i++) {
      const temp = lane * 1000 + i;
      const status = await post(url, buildSoapMessage({ serial: '20970002', modelCode: 4145, temp }), 'text/xml').then((r) => r.status, () => 0);
      if (status !== 200) return;
      acknowledged.push(temp);
      firstAck();
    }
  });
  await gotFirstAck;
  gw.child.kill('SIGTERM');
  await Promise.all(senders);
  assert.equal(await gw.exited, 0, 'clean exit code');
  const store = openDataStore(dataDir);
  await store.migrate();
  const stored = new Set((await store.samples(device.id, 1, 0, Date.now() + 1, 1_000_000)).map((s) => s.value));
  for (const q of await store.quarantined(device.id)) for (const r of q.readings) stored.add(r.value);
  assert.ok(acknowledged.length > 0);
  assert.deepEqual(acknowledged.filter((v) => !stored.has(v)), [], 'every acknowledged upload is stored');
  await store.close();
});

test('the service stop request (inlet service stop-signal) stops a running gateway cleanly, as the Windows service host does', async () => {
  const dataDir = tempDir();
  const gw = await startChildGateway(dataDir);
  const cli = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
  // spawned asynchronously: a blocking spawnSync would leave the stopped gateway an unreaped zombie that looks alive
  const signal = spawn(process.execPath, [cli, 'service', 'stop-signal', '--instance', 'default', '--data-dir', dataDir, '--timeout', '15'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  signal.stdout.on('data', (c: Buffer) => { stdout += c; });
  signal.stderr.on('data', (c: Buffer) => { stderr += c; });
  const status = await new Promise<number | null>((resolve) => signal.once('exit', resolve));
  assert.equal(status, 0, stderr);
  assert.match(stdout, /stopped gracefully/);
  assert.equal(await gw.exited, 0);
});

test('a second gateway on the same data folder is refused before it touches the database', async () => {
  const dataDir = tempDir();
  const first = await startChildGateway(dataDir);
  await assert.rejects(startChildGateway(dataDir), /already running|in use/i);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
});
