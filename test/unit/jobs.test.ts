// Scheduled jobs: no overlap, logging, stop waits for runs; offline detection on a synthetic
// clock against a real (in-memory) store; the jobs.* configuration checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { JobScheduler, type JobLogger } from '../../src/jobs/scheduler.ts';
import { OfflineDetector } from '../../src/jobs/offline.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { initialChannels, newEntryToken } from '../../src/ingest/families.ts';

function recordingLog(): JobLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => { lines.push(`${level} ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}`); };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

describe('JobScheduler', () => {
  test('a run that comes while the previous one is busy is skipped and logged; stop() waits for the busy one', async () => {
    const log = recordingLog();
    let release!: () => void;
    let runs = 0;
    const scheduler = new JobScheduler([{
      name: 'slow', schedule: '0 0 1 1 *',
      run: async () => { runs++; await new Promise<void>((r) => { release = r; }); return 'did the slow thing'; },
    }], log);
    const first = scheduler.runNow('slow');
    assert.deepEqual(await scheduler.runNow('slow'), { ran: false, reason: 'busy' });
    assert.equal(runs, 1);
    assert.ok(log.lines.includes('warn job slow skipped: its previous run is still going'));
    let stopped = false;
    const stopping = scheduler.stop().then(() => { stopped = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(stopped, false, 'stop() must wait for the running job');
    release();
    await stopping;
    assert.deepEqual(await first, { ran: true, summary: 'did the slow thing' });
    assert.ok(log.lines.some((l) => /^info job slow done in \d+ ms: did the slow thing$/.test(l)));
  });

  test('a failing job is logged with its error and runs again next time', async () => {
    const log = recordingLog();
    let fail = true;
    const scheduler = new JobScheduler([{ name: 'flaky', schedule: '0 0 1 1 *', run: async () => { if (fail) throw new Error('disk full'); return 'fine'; } }], log);
    assert.deepEqual(await scheduler.runNow('flaky'), { ran: false, reason: 'failed', error: 'disk full' });
    assert.ok(log.lines.includes('error job flaky failed {"error":"disk full"}'));
    fail = false;
    assert.deepEqual(await scheduler.runNow('flaky'), { ran: true, summary: 'fine' });
  });

  test('cron ticks run the job until stop()', async () => {
    const log = recordingLog();
    let runs = 0;
    const scheduler = new JobScheduler([{ name: 'tick', schedule: '* * * * * *', run: async () => `run ${++runs}` }], log);
    scheduler.start();
    // until it has run, however busy the machine (a count, not a time)
    while (runs < 1) await new Promise((r) => setTimeout(r, 50));
    await scheduler.stop();
    const seen = runs;
    // a run after stop() would come within the next tick; a slow machine can only hide one, never invent one
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(runs, seen, 'no runs after stop()');
  });

  test('a tick node-cron misses on a busy machine is one plain line in our log, not a coloured console warning', async () => {
    const log = recordingLog();
    const scheduler = new JobScheduler([{ name: 'nightly', schedule: '0 0 1 1 *', run: async () => 'ok' }], log);
    scheduler.start();
    try {
      const [task] = (scheduler as unknown as { tasks: { emitter: { emit(e: string, c: unknown): void } }[] }).tasks;
      const written: string[] = [];
      const write = process.stderr.write;
      const writeOut = process.stdout.write;
      process.stderr.write = ((chunk: string) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
      process.stdout.write = ((chunk: string) => { written.push(String(chunk)); return true; }) as typeof process.stdout.write;
      try {
        task.emitter.emit('execution:missed', { date: new Date(Date.UTC(2026, 0, 1)) });
      } finally {
        process.stderr.write = write;
        process.stdout.write = writeOut;
      }
      assert.deepEqual(written, [], 'nothing printed by node-cron itself');
      assert.ok(log.lines.some((l) => /^warn job nightly: the run due at 2026-01-01T00:00:00.000Z was skipped because the process was busy/.test(l)), log.lines.join('\n'));
    } finally {
      await scheduler.stop();
    }
  });
});

describe('OfflineDetector', () => {
  const MINUTE = 60_000;

  test('with no device registered (asked of the registry), a sweep reads nothing from the store; with one, it sweeps', async () => {
    const t0 = Date.UTC(2025, 0, 1);
    const { store, device } = await storeWithDevice(t0);
    let reads = 0;
    const called: string[] = [];
    const counting = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? (...args: unknown[]) => { reads++; called.push(String(name)); return value.apply(target, args); } : value;
      },
    });
    let anyDevice = false;
    const detector = new OfflineDetector(counting, { missedIntervals: 3 }, () => t0 + 10 * MINUTE, async () => anyDevice);
    assert.match(await detector.sweep(), /^0 devices, 0 offline/);
    assert.equal(reads, 0, 'an empty fleet costs the read side nothing');
    anyDevice = true;
    assert.match(await detector.sweep(), /^1 devices, 1 offline; went offline: 1;/);
    assert.ok(reads > 0);
    assert.equal((await store.alarms({ kind: 'offline' })).filter((a) => a.deviceId === device.id).length, 1);
    // a fleet's full rows are not read each minute: a few columns per device, the whole row only for the one that went offline
    assert.ok(called.includes('deviceLiveness') && !called.includes('listDevices'), called.join());
    assert.deepEqual(called.filter((m) => m === 'getDevice'), ['getDevice']);
    const [alarm] = (await store.alarms({ kind: 'offline' })).filter((a) => a.deviceId === device.id);
    assert.match(alarm.message, /^Fridge 4 \(serial 40000001\) is offline: never heard from/);
  });

  async function storeWithDevice(registeredAt: number) {
    const store = new SqliteStore({ file: ':memory:' });
    await store.migrate();
    const device = await store.addDevice({
      family: 'soap', serial: '40000001', modelCode: 4159, model: 'T3510', name: 'Fridge 4', entryToken: newEntryToken(),
      allowedIntervalS: 60, channels: initialChannels('soap', 4159),
    }, registeredAt);
    return { store, device };
  }

  function seen(store: SqliteStore, deviceId: number, at: number) {
    return store.commit({
      upload: { deviceId, family: 'soap', receivedAt: at, remoteAddress: '127.0.0.1', contentType: 'text/xml', raw: Buffer.from('x'), verdict: 'accepted', reason: 'ok', serial: '40000001', counter: null },
      samples: [{ deviceId, channel: 1, time: at, value: 4, errorCode: null, alarm: 'no' }],
      channels: [], events: [], quarantine: null, deviceSeen: { deviceId, at, declaredIntervalS: null }, suspend: null,
    });
  }

  test('silent for more than missedIntervals x interval: one offline alarm bound to the device, with its event; back: cleared; a restart repeats and forgets nothing', async () => {
    const t0 = Date.UTC(2025, 0, 1);
    const { store, device } = await storeWithDevice(t0);
    let now = t0;
    const detector = new OfflineDetector(store, { missedIntervals: 3 }, () => now);
    await seen(store, device.id, t0);
    // Registration records the channels' units (channel.recorded); only what the detector adds counts here.
    const atRegistration = (await store.events({ deviceId: device.id })).length;
    const events = async () => (await store.events({ deviceId: device.id })).map((e) => e.type).reverse().slice(atRegistration);
    const offlineAlarms = () => store.alarms({ kind: 'offline' });

    now = t0 + 3 * MINUTE;                    // exactly three intervals: not yet
    await detector.sweep();
    assert.deepEqual(await events(), []);
    now = t0 + 3 * MINUTE + 1;
    assert.match(await detector.sweep(), /1 offline; went offline: 1;/);
    now += 10 * MINUTE;
    await detector.sweep();
    assert.deepEqual(await events(), ['alarm.raised', 'device.offline']);
    const [alarm] = await offlineAlarms();
    assert.deepEqual([alarm.deviceId, alarm.channel, alarm.source, alarm.kind, alarm.level, alarm.raisedAt, alarm.clearedAt],
      [device.id, null, 'system', 'offline', 'alarm', t0 + 3 * MINUTE + 1, null]);
    assert.match(alarm.message, /Fridge 4 \(serial 40000001\) is offline: last heard from 2025-01-01 00:00 UTC;/);
    const [offline] = await store.events({ deviceId: device.id, type: 'device.offline' });
    assert.equal(offline.level, 'alarm');
    assert.deepEqual(offline.data, { lastSeenAt: t0, alarmId: alarm.id });

    // acknowledged while still silent: stays uncleared, is not raised again
    await store.acknowledgeAlarm(alarm.id, 'operator1', 'sensor unplugged for cleaning', now);
    now += MINUTE;
    await detector.sweep();
    // a restarted gateway reads the open alarm from the store and does not raise it again
    const restarted = new OfflineDetector(store, { missedIntervals: 3 }, () => now);
    assert.match(await restarted.sweep(), /1 offline; went offline: none; back online: none$/);
    assert.equal((await offlineAlarms()).length, 1);

    await seen(store, device.id, now);
    now += 1000;
    // ... nor forgets to clear it when the device is back
    const restartedAgain = new OfflineDetector(store, { missedIntervals: 3 }, () => now);
    assert.match(await restartedAgain.sweep(), /back online: 1$/);
    await restartedAgain.sweep();
    await detector.sweep();
    assert.deepEqual(await events(), ['alarm.raised', 'device.offline', 'alarm.acknowledged', 'alarm.cleared', 'device.online']);
    const [closed] = await offlineAlarms();
    assert.equal(closed.clearedAt, now);
    assert.deepEqual(await store.alarms({ open: true }), [], 'acknowledged and cleared: closed');

    // silent again: a new alarm
    now += 4 * MINUTE;
    await detector.sweep();
    assert.deepEqual((await offlineAlarms()).map((a) => a.clearedAt === null), [true, false]);
    await store.close();
  });

  test('a device never heard from counts from its registration', async () => {
    const t0 = Date.UTC(2025, 0, 1);
    const { store, device } = await storeWithDevice(t0);
    const detector = new OfflineDetector(store, { missedIntervals: 2 }, () => t0 + 2 * MINUTE + 1);
    await detector.sweep();
    const [offline] = await store.alarms({ kind: 'offline', deviceId: device.id });
    assert.match(offline.message, /never heard from since it was registered/);
    await store.close();
  });
});

describe('jobs configuration', () => {
  function configFile(content: unknown): string {
    const file = path.join(tempDir('inlet-jobs-config-'), 'inlet.config.json');
    writeFileSync(file, JSON.stringify(content));
    return file;
  }

  test('defaults: nightly verify, offline sweep every minute at 3 intervals, nightly housekeeping', () => {
    const { config } = loadConfig(undefined, {});
    assert.deepEqual(config.jobs.verify, { enabled: true, schedule: '30 2 * * *' });
    assert.equal(config.jobs.offline.missedIntervals, 3);
  });

  test('a wrong cron expression or time zone is named with what to write instead', () => {
    assert.throws(() => loadConfig(configFile({ jobs: { verify: { schedule: 'nightly' } } }), {}),
      (err: Error) => err instanceof ConfigError && /"jobs\.verify\.schedule" is not a cron expression: .*"30 2 \* \* \*"/.test(err.message));
    assert.throws(() => loadConfig(configFile({ jobs: { timezone: 'Mars/Olympus' } }), {}),
      (err: Error) => err instanceof ConfigError && /"jobs\.timezone" is "Mars\/Olympus"/.test(err.message));
    assert.throws(() => loadConfig(configFile({ jobs: { offline: { missedIntervals: 1 } } }), {}), ConfigError);
  });
});
