// A reading acknowledged into the spool by a run that then stopped (the database was away the
// whole time) is evaluated against the alarm limits when a later run replays it: the limit alarm
// is raised then, not lost. The start-up catch-up alone cannot see it, because it reads the
// database before the spool is replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway } from '../../src/main.ts';
import { withOutage } from '../support/unavailable-store.ts';
import { THROTTLE_OFF, openDataStore, registerSoapDevice, soapUrl, spoolHealth, tempDir, testConfig, waitForSpoolDrained } from './harness.ts';

const config = (dataDir: string) => testConfig(dataDir, {
  throttle: THROTTLE_OFF,
});

test('a reading spooled by a run that stopped during an outage raises its limit alarm when the next run replays it', async () => {
  const dataDir = tempDir();
  try {
    const first = await startGateway(config(dataDir), createLogger(config(dataDir)));
    const device = await registerSoapDevice(first.store, '20980301', 'T3510');
    await first.store.setAlarmLimits(device.id, 1, [{ deviceId: device.id, channel: 1, level: 'alarm', high: 8, low: null, delayS: 0, hysteresis: 0.5 }], 'admin', Date.now() - 60_000);
    await first.registry.refresh();
    await first.stop();

    // The database is away for the whole second run: the reading is acknowledged from the spool only.
    const database = withOutage(openDataStore(dataDir));
    const during = await startGateway(config(dataDir), createLogger(config(dataDir)), { store: database.store });
    const answer = await post(soapUrl(during.url, device), buildSoapMessage({ serial: '20980301', modelCode: 4145, temp: 9.5 }), 'text/xml');
    assert.equal(answer.status, 200);
    assert.equal((await spoolHealth(during.url)).spool.depth, 1);
    await during.stop();

    const after = await startGateway(config(dataDir), createLogger(config(dataDir)));
    try {
      await waitForSpoolDrained(after.url);
      await after.alarmMonitor.idle();
      const alarms = await after.store.alarms({ deviceId: device.id });
      assert.equal(alarms.length, 1, 'the replayed reading raised the alarm');
      assert.equal(alarms[0].direction, 'high');
      assert.equal(alarms[0].value, 9.5);

      // A reading sent in this run goes through the live path only: it is not evaluated twice.
      const back = await post(soapUrl(after.url, device), buildSoapMessage({ serial: '20980301', modelCode: 4145, temp: 5 }), 'text/xml');
      assert.equal(back.status, 200);
      await after.alarmMonitor.idle();
      const [cleared] = await after.store.alarms({ deviceId: device.id });
      assert.equal(cleared.clearedValue, 5);
      assert.equal((await after.store.alarms({ deviceId: device.id })).length, 1);
    } finally {
      await after.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
