// Readings are committed before their alarms are written, so a crash between the two must not lose
// an alarm: at start, AlarmMonitor.load() evaluates the readings stored since each limit's last
// recorded change. Synthetic sample times; a real SQLite store in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Batch, SampleRow } from '../../src/domain/types.ts';
import { AlarmMonitor, CATCH_UP_MS } from '../../src/pipeline/alarm-monitor.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { withOutage } from '../support/unavailable-store.ts';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const MINUTE = 60_000;
const silent = { info() {}, warn() {}, error() {}, debug() {} };

async function storeWithLimit(limitSetAt: number) {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  const device = await store.addDevice({
    family: 'soap', serial: '20990001', modelCode: 4145, model: 'T3510', name: 'Fridge 1', location: '', entryToken: 'tok-catch-up',
    allowedIntervalS: 60, channels: [{ channel: 1, quantity: 'temperature', unit: 'C' }],
  }, T0 - CATCH_UP_MS);
  await store.setAlarmLimits(device.id, 1, [{ deviceId: device.id, channel: 1, level: 'alarm', high: 8, low: null, delayS: 120, hysteresis: 0.5 }], 'admin', limitSetAt);
  /** What the pipeline commits before the alarm monitor sees it: a crash may come in between. */
  const stored = async (time: number, value: number) => {
    const sample: SampleRow = { deviceId: device.id, channel: 1, time, value, errorCode: null, alarm: 'no' };
    const batch: Batch = {
      upload: { deviceId: device.id, family: 'soap', receivedAt: time, remoteAddress: '127.0.0.1', contentType: 'text/xml', raw: Buffer.from(String(value)), verdict: 'accepted', reason: 'ok', serial: '20990001', counter: null },
      samples: [sample], channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    };
    await store.commit(batch);
  };
  return { store, device, stored };
}

test('a breach stored before a crash raises its alarm at the next start, with the reading\'s time, once', async () => {
  const { store, stored } = await storeWithLimit(T0);
  try {
    for (const [i, v] of [7, 9, 9.2, 9.4].entries()) await stored(T0 + (i + 1) * MINUTE, v);
    await new AlarmMonitor(store, silent).load(T0 + 10 * MINUTE);
    const [alarm, ...more] = await store.alarms({ limit: 10 });
    assert.equal(more.length, 0);
    assert.equal(alarm.raisedAt, T0 + 4 * MINUTE, 'raised at the reading that completed the 120 s delay');
    assert.equal(alarm.value, 9.4);
    assert.equal(alarm.clearedAt, null);

    // Another restart finds the alarm and adds nothing; the return inside (by the hysteresis) clears it.
    await new AlarmMonitor(store, silent).load(T0 + 11 * MINUTE);
    assert.equal((await store.alarms({ limit: 10 })).length, 1);
    await stored(T0 + 12 * MINUTE, 7.4);
    await new AlarmMonitor(store, silent).load(T0 + 13 * MINUTE);
    const [cleared] = await store.alarms({ limit: 10 });
    assert.equal(cleared.clearedAt, T0 + 12 * MINUTE);
    assert.equal(cleared.clearedValue, 7.4);

    await new AlarmMonitor(store, silent).load(T0 + 14 * MINUTE);
    assert.equal((await store.alarms({ limit: 10 })).length, 1, 'history is not replayed into new alarms');
  } finally {
    await store.close();
  }
});

test('readings older than the limit, or than the catch-up window, raise nothing', async () => {
  const limitSetAt = T0 + 5 * MINUTE;
  const { store, stored } = await storeWithLimit(limitSetAt);
  try {
    for (let i = 0; i < 4; i++) await stored(T0 + i * MINUTE, 20);
    await new AlarmMonitor(store, silent).load(T0 + 10 * MINUTE);
    assert.equal((await store.alarms({ limit: 10 })).length, 0, 'the limit did not exist when those readings came');
    await new AlarmMonitor(store, silent).load(limitSetAt + CATCH_UP_MS + 10 * MINUTE);
    assert.equal((await store.alarms({ limit: 10 })).length, 0);
  } finally {
    await store.close();
  }
});


test('while the database is unavailable an alarm change waits and is written, in order, when it is back', async () => {
  const { store: real, device } = await storeWithLimit(T0);
  try {
    const { store, control } = withOutage(real, ['raiseAlarm', 'clearAlarm']);
    const monitor = new AlarmMonitor(store, silent, { firstMs: 5, maxMs: 20 });
    await monitor.load(T0);
    const reading = (time: number, value: number): SampleRow => ({ deviceId: device.id, channel: 1, time, value, errorCode: null, alarm: 'no' });
    monitor.observe(device, [reading(T0 + MINUTE, 9), reading(T0 + 3 * MINUTE, 9.5), reading(T0 + 4 * MINUTE, 7)]);
    while (control.refused < 3) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await real.alarms({ limit: 10 })).length, 0, 'nothing written while the database is away');
    control.down = false;
    await monitor.idle();
    const [alarm, ...more] = await real.alarms({ limit: 10 });
    assert.equal(more.length, 0);
    assert.deepEqual([alarm.raisedAt, alarm.value, alarm.clearedAt, alarm.clearedValue], [T0 + 3 * MINUTE, 9.5, T0 + 4 * MINUTE, 7], 'raised, then cleared');
  } finally {
    await real.close();
  }
});

test('at stop an alarm change still waiting for the database is given up, not waited for forever', async () => {
  const { store: real, device } = await storeWithLimit(T0);
  try {
    const { store } = withOutage(real, ['raiseAlarm', 'clearAlarm']);
    const errors: string[] = [];
    const monitor = new AlarmMonitor(store, { ...silent, error: (m: string) => errors.push(m) }, { firstMs: 60_000, maxMs: 60_000 });
    await monitor.load(T0);
    const breach = (time: number) => ({ deviceId: device.id, channel: 1, time, value: 12, errorCode: null, alarm: 'no' as const });
    monitor.observe(device, [breach(T0 + 5 * MINUTE), breach(T0 + 8 * MINUTE)]);
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await monitor.stop();
    // the retry is 60 s away: returning well before it can only mean stop() did not wait for it
    assert.ok(Date.now() - started < 30_000, 'stop does not wait out the retry');
    assert.match(errors.join('\n'), /not recorded before the stop .*next start derives it again/);
  } finally {
    await real.close();
  }
});
