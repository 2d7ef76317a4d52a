// A gateway started while its database does not answer (the server rebooted while SQL Server was
// being patched) still acknowledges the devices it knew at its last run, from the spool, and every
// sample lands exactly once when the database is back. Without a snapshot (first start) it refuses
// to start, saying why. The database here is SQLite behind a switch that makes every call fail as
// an unreachable SQL Server does (StoreUnavailableError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { createAgent, post } from '../../src/sim/client.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway } from '../../src/main.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { withOutage } from '../support/unavailable-store.ts';
import { THROTTLE_OFF, openDataStore, registerSoapDevice, soapUrl, spoolHealth, tempDir, testConfig, waitForSpoolDrained } from './harness.ts';


const config = (dataDir: string) => testConfig(dataDir, {
  throttle: THROTTLE_OFF,
});

test('started while the database is down, the gateway spools the uploads of known devices and stores each once when it returns', async () => {
  const dataDir = tempDir();
  try {
    // A first run with the database up: the device is known, and its snapshot is written.
    const first = await startGateway(config(dataDir), createLogger(config(dataDir)));
    const device = await registerSoapDevice(first.store, '20980101', 'T3510');
    await first.registry.refresh();
    await first.stop();
    const snapshot = readFileSync(path.join(dataDir, 'devices.snapshot.json'), 'utf8');
    assert.match(snapshot, /"serial":"20980101"/);
    assert.ok(!snapshot.includes(device.entryToken), 'the secret entry token is not in the snapshot, only its hash');

    const database = withOutage(openDataStore(dataDir));
    const gw = await startGateway(config(dataDir), createLogger(config(dataDir)), { store: database.store });
    try {
      const url = soapUrl(gw.url, device);
      const agent = createAgent(url);
      const send = (temp: number) => post(url, buildSoapMessage({ serial: '20980101', modelCode: 4145, temp }), 'text/xml', agent);
      const answers = [];
      for (let t = 1; t <= 4; t++) answers.push((await send(t)).status);
      assert.deepEqual(answers, [200, 200, 200, 200], 'acknowledged from the spool');
      const unknown = await post(`${gw.url}/ingest/soap/${'x'.repeat(43)}`, buildSoapMessage({ serial: '20980199', modelCode: 4145, temp: 1 }), 'text/xml');
      assert.ok(unknown.status >= 400 && unknown.status < 500, `an unknown entry point is still refused (${unknown.status})`);
      const down = await spoolHealth(gw.url);
      assert.ok(down.spool.depth >= 4, `the journal holds the uploads (depth ${down.spool.depth})`);
      assert.match(down.spool.lastError ?? '', /database unavailable since start/);
      const signIn = await fetch(`${gw.url}/api/session`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-inlet-request': '1' },
        body: JSON.stringify({ username: 'someone', password: 'whatever-it-is' }),
      });
      assert.equal(signIn.status, 503, 'the viewer is told the database is away, not "internal error"');
      assert.equal(signIn.headers.get('retry-after'), '30');
      assert.match(((await signIn.json()) as { error: string }).error, /database is unavailable right now; devices are still being recorded/);

      database.control.down = false;
      const health = await waitForSpoolDrained(gw.url);
      assert.equal(health.spool.depth, 0, 'the journal drains once the database answers');
      assert.equal((await send(5)).status, 200);
      agent.destroy();
      // The last upload may have been journaled while the replay was finishing: it is acknowledged
      // (durable in the journal) and lands a moment later, so wait for the store to hold five samples.
      let values: (number | null)[] = [];
      for (let tries = 0; tries < 600 && values.length < 5; tries++) {
        values = (await gw.store.samples(device.id, 1, 0, Date.now() + 1)).map((s) => s.value);
        if (values.length < 5) await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual([...values].sort((a, b) => (a ?? 0) - (b ?? 0)), [1, 2, 3, 4, 5], 'every acknowledged sample exactly once');
    } finally {
      await gw.stop();
    }

    // The production case through the real SQL Server driver: nothing listens on its port.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const mssqlDir = tempDir();
    try {
      copyFileSync(path.join(dataDir, 'devices.snapshot.json'), path.join(mssqlDir, 'devices.snapshot.json'));
      const onMssql = testConfig(mssqlDir, {
        ...config(mssqlDir),
        store: { kind: 'mssql', sqlite: { file: 'inlet.sqlite' }, mssql: { connectionString: `Server=127.0.0.1,${port};Database=inlet;User Id=u;Password=p;Encrypt=False;Connect Timeout=2` } },
      });
      const gwMssql = await startGateway(onMssql, createLogger(onMssql));
      try {
        const answer = await post(soapUrl(gwMssql.url, device), buildSoapMessage({ serial: '20980101', modelCode: 4145, temp: 9 }), 'text/xml');
        assert.equal(answer.status, 200, 'acknowledged from the spool while SQL Server is unreachable');
        const health = await spoolHealth(gwMssql.url);
        assert.equal(health.spool.depth, 1);
        assert.match(health.spool.lastError ?? '', /SQL Server is not reachable/);
      } finally {
        await gwMssql.stop();
      }
    } finally {
      rmSync(mssqlDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a first start with the database down (no device snapshot yet) fails and says why', async () => {
  const dataDir = tempDir();
  try {
    const database = withOutage(openDataStore(dataDir));
    await assert.rejects(startGateway(config(dataDir), createLogger(config(dataDir)), { store: database.store }),
      (err: Error) => err instanceof StoreUnavailableError && /not reachable/.test(err.message));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
