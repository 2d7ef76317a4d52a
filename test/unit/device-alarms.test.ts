// The devices' own alarms become alarms: a channel's reported alarm state, and a sensor error that
// lasted the configured delay, raised and cleared by AlarmMonitor on a real SQLite store (in memory,
// with migration 017), found again after a restart. Synthetic sample times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmState, SampleRow } from '../../src/domain/types.ts';
import { AlarmMonitor } from '../../src/pipeline/alarm-monitor.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const MINUTE = 60_000;
const silent = { info() {}, warn() {}, error() {}, debug() {} };

async function setUp() {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  const device = await store.addDevice({
    family: 'soap', serial: '20990002', modelCode: 4145, model: 'T3510', name: 'Vaccine fridge', location: 'Pharmacy', entryToken: 'tok-device-alarms',
    allowedIntervalS: 60, channels: [{ channel: 1, quantity: 'temperature', unit: '°C' }, { channel: 2, quantity: 'relative_humidity', unit: '%RH' }],
  }, T0 - MINUTE);
  const reading = (minute: number, value: number | null, errorCode: number | null = null, alarm: AlarmState = 'no', channel = 1): SampleRow =>
    ({ deviceId: device.id, channel, time: T0 + minute * MINUTE, value, errorCode, alarm });
  return { store, device, reading };
}

test('a channel the device reports in alarm raises an alarm naming device, place, channel, quantity and unit; back to normal clears it', async () => {
  const { store, device, reading } = await setUp();
  try {
    const monitor = new AlarmMonitor(store, silent, undefined, { sensorErrorDelayS: 300 });
    await monitor.load(T0);
    monitor.observe(device, [reading(0, 5), reading(1, 9.1, null, 'hi')]);
    await monitor.idle();
    const [raised, ...more] = await store.alarms({ open: true });
    assert.equal(more.length, 0);
    assert.deepEqual([raised.source, raised.kind, raised.direction, raised.channel, raised.level], ['system', 'device', 'high', 1, 'alarm']);
    assert.equal(raised.message, 'Vaccine fridge (serial 20990002, Pharmacy) channel 1 temperature: the device reports a high alarm at 9.1 °C');
    monitor.observe(device, [reading(2, 6)]);
    await monitor.idle();
    const [cleared] = await store.alarms({ open: true });
    assert.equal(cleared.clearedAt, T0 + 2 * MINUTE);
    assert.equal((await store.acknowledgeAlarm(cleared.id, 'operator', 'door closed, fridge back in range', T0 + 3 * MINUTE))?.acknowledgedBy, 'operator');
  } finally {
    await store.close();
  }
});

test('a failed probe raises a sensor-error alarm once the error lasted the delay; a value again clears it', async () => {
  const { store, device, reading } = await setUp();
  try {
    const monitor = new AlarmMonitor(store, silent, undefined, { sensorErrorDelayS: 300 });
    await monitor.load(T0);
    monitor.observe(device, [reading(0, null, 1), reading(2, null, 1)]);
    await monitor.idle();
    assert.equal((await store.alarms({})).length, 0, 'not before the delay');
    monitor.observe(device, [reading(5, null, 1)]);
    await monitor.idle();
    const [raised] = await store.alarms({ open: true });
    assert.equal(raised.kind, 'sensor');
    assert.match(raised.message, /^Vaccine fridge \(serial 20990002, Pharmacy\) channel 1 temperature: sensor error 1 .* for 300 s$/);

    // a restart in between: the new monitor finds the raised alarm and clears it at the next value
    const again = new AlarmMonitor(store, silent, undefined, { sensorErrorDelayS: 300 });
    await again.load(T0 + 6 * MINUTE);
    again.observe(device, [reading(6, 4.8)]);
    await again.idle();
    const [cleared, ...more] = await store.alarms({});
    assert.equal(more.length, 0, 'the restart raised nothing twice');
    assert.equal(cleared.clearedAt, T0 + 6 * MINUTE);
  } finally {
    await store.close();
  }
});

test('migration 017 keeps the alarms stored before it, and their once-only rules', async () => {
  // written as that version's Inlet did: raw rows in a database at schema 8
  const dir = mkdtempSync(path.join(os.tmpdir(), 'inlet-017-'));
  const file = path.join(dir, 'inlet.sqlite');
  try {
    const early = new SqliteStore({ file });
    await early.migrate(undefined, { upTo: 8 });
    await early.close();
    const db = new DatabaseSync(file);
    db.exec(`INSERT INTO devices (id, family, serial, model_code, model, name, location, entry_token, created_at, updated_at)
      VALUES (1, 'soap', '20990003', 4145, 'T3510', 'Old fridge', '', 'tok-017', ${T0}, ${T0})`);
    db.exec(`INSERT INTO alarms (id, device_id, channel, source, kind, level, direction, raised_at, value, message, acknowledged_at, acknowledged_by, ack_comment)
      VALUES (5, 1, NULL, 'system', 'offline', 'warning', NULL, ${T0}, NULL, 'Old fridge is offline', ${T0 + MINUTE}, 'operator', 'known, moved')`);
    db.close();
    const store = new SqliteStore({ file });
    try {
      await store.migrate();
      const [kept] = await store.alarms({});
      assert.deepEqual([kept.id, kept.kind, kept.acknowledgedBy, kept.ackComment], [5, 'offline', 'operator', 'known, moved']);
      assert.equal(await store.acknowledgeAlarm(5, 'someone', 'again', T0 + 2 * MINUTE), undefined, 'acknowledged once only, still');
      // one uncleared offline alarm per device, still
      await assert.rejects(store.raiseAlarm({ deviceId: 1, channel: null, source: 'system', kind: 'offline', level: 'warning', direction: null, raisedAt: T0, value: null, message: 'twice' }));
      const sensor = await store.raiseAlarm({ deviceId: 1, channel: 1, source: 'system', kind: 'sensor', level: 'alarm', direction: null, raisedAt: T0, value: null, message: 'probe' });
      assert.equal(sensor.kind, 'sensor');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
