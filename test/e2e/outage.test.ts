import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { createAgent, post } from '../../src/sim/client.ts';
import { THROTTLE_OFF, registerSoapDevice, soapUrl, spoolHealth, startTestGateway, waitForSpoolDrained } from './harness.ts';

test('while the database is locked by another program, uploads are spooled and acknowledged; each lands exactly once after', async () => {
  const gw = await startTestGateway({ throttle: THROTTLE_OFF });
  try {
    const device = await registerSoapDevice(gw.store, '20980001', 'T3510');
    const url = soapUrl(gw.url, device);
    const agent = createAgent(url);
    const send = (temp: number) => post(url, buildSoapMessage({ serial: '20980001', modelCode: 4145, temp }), 'text/xml', agent);
    assert.equal((await send(1)).status, 200);

    // another program (a backup, a DBA) holds the write lock: the writer gives up after its busy timeout
    const blocker = new DatabaseSync(path.join(gw.dataDir, 'inlet.sqlite'));
    blocker.exec('BEGIN EXCLUSIVE');
    const duringOutage = [];
    for (let t = 2; t <= 6; t++) duringOutage.push(await send(t));
    assert.deepEqual(duringOutage.map((r) => r.status), [200, 200, 200, 200, 200], 'acknowledged from the spool');
    const spooled = await spoolHealth(gw.url);
    assert.ok(spooled.spool.depth >= 1, `the journal holds what the database could not take (depth ${spooled.spool.depth})`);
    assert.match(spooled.spool.lastError ?? '', /locked|busy/i);

    blocker.exec('COMMIT');
    blocker.close();
    const health = await waitForSpoolDrained(gw.url);
    assert.equal(health.spool.depth, 0, 'the journal drains once the lock is gone');
    assert.equal((await send(7)).status, 200);
    // acknowledged means in the journal or the store: wait until the journal has handed it to the store
    await waitForSpoolDrained(gw.url);
    agent.destroy();
    const values = (await gw.store.samples(device.id, 1, 0, Date.now() + 1)).map((s) => s.value);
    assert.deepEqual([...values].sort((a, b) => (a ?? 0) - (b ?? 0)), [1, 2, 3, 4, 5, 6, 7], 'every acknowledged sample exactly once');
    const uploads = await gw.store.uploads({ deviceId: device.id });
    assert.equal(uploads.length, 7, 'one upload row per acknowledged upload, none replayed twice');
  } finally {
    await gw.stop();
  }
});
