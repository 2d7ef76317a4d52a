// The store contract: every adapter runs this one suite against a fresh, empty database.
// Adapter test files call storeContract() with a factory; SQL Server passes `skip` with the
// reason when no server is configured, so each case is reported as skipped, never as passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmLimit, Batch, CommitResult, Device, SampleRow } from '../../src/domain/types.ts';
import { entryTokenSha256 } from '../../src/domain/entry-token.ts';
import { loadMigrations } from '../../src/store/migrations.ts';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, samplesDigest, uploadHash } from '../../src/domain/chain.ts';
import type { IssuedDevice, NewAlarm, NewDevice, PurgeChunk, Store } from '../../src/store/store.ts';

export interface StoreUnderTest {
  /** Not yet migrated. */
  store: Store;
  /** Test-only hook: one raw statement on the adapter's database, outside the Store interface. */
  rawExec(sql: string): Promise<void>;
  /** The name raw SQL uses for a table of the schema in this dialect. */
  table(name: 'devices' | 'uploads' | 'samples' | 'chain_checkpoints' | 'alarms' | 'alarm_limits' | 'events' | 'retention_horizons' | 'chain_anchors' | 'sample_rollup_hour' | 'issued_reports'): string;
  dispose(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

const T0 = Date.UTC(2025, 0, 15, 8, 0, 0, 123);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function newDevice(serial: string, token = `Tok-${serial}-aBc`): NewDevice {
  return {
    family: 'soap', serial, modelCode: 1234, model: 'T3311', name: `Sensor ${serial}`, location: 'Hall A',
    entryToken: token, allowedIntervalS: 60,
    channels: [{ channel: 1, quantity: 'temperature', unit: 'C' }, { channel: 2, quantity: 'relative_humidity', unit: '%RH' }],
  };
}

function sample(deviceId: number, channel: number, time: number, value: number | null, errorCode: number | null = null): SampleRow {
  return { deviceId, channel, time, value, errorCode: value === null ? (errorCode ?? 1) : null, alarm: 'no' };
}

function batch(deviceId: number | null, samples: SampleRow[], patch: Partial<Batch['upload']> = {}, extra: Partial<Batch> = {}): Batch {
  return {
    upload: {
      deviceId, family: 'soap', receivedAt: samples[0]?.time ?? T0, remoteAddress: '192.0.2.10', contentType: 'text/xml',
      raw: Buffer.from(`<upload n="${samples.length}"/>`), verdict: 'accepted', reason: 'ok', serial: '12345678', counter: 7,
      ...patch,
    },
    samples, channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null, ...extra,
  };
}

function limit(deviceId: number, channel: number, level: AlarmLimit['level'], patch: Partial<AlarmLimit> = {}): AlarmLimit {
  return { deviceId, channel, level, high: 8, low: null, delayS: 0, hysteresis: 0, ...patch };
}

function newAlarm(deviceId: number | null, patch: Partial<NewAlarm> = {}): NewAlarm {
  return {
    deviceId, channel: 1, source: 'limit', kind: null, level: 'alarm', direction: 'high', raisedAt: T0, value: 9.5,
    message: 'Fridge channel 1: 9.5 is above the alarm high limit 8', ...patch,
  };
}

/** The hourly rollup of a channel agrees with the samples it summarises (min, max, count, errors per hour). */
async function assertRollupAgrees(store: Store, deviceId: number, channel: number, to: number): Promise<void> {
  const raw = await store.samples(deviceId, channel, 0, to);
  const hourly = await store.series({ deviceId, channel, from: T0 - HOUR, to, bucketMs: HOUR });
  const expected = new Map<number, { min: number; max: number; count: number; errors: number }>();
  for (const x of [...raw].sort((a, b) => a.time - b.time)) {
    const h = Math.floor(x.time / HOUR) * HOUR;
    const e = expected.get(h) ?? { min: Infinity, max: -Infinity, count: 0, errors: 0 };
    if (x.value !== null) { e.min = Math.min(e.min, x.value); e.max = Math.max(e.max, x.value); }
    e.count++;
    if (x.errorCode !== null) e.errors++;
    expected.set(h, e);
  }
  assert.deepEqual(hourly.map((p) => [p.time, p.min, p.max, p.count, p.errors]), [...expected].map(([h, e]) => [h, e.min, e.max, e.count, e.errors]));
}

/** A registered device as it reads back: the entry token addDevice returned is not stored. */
function withoutToken({ entryToken: _token, ...device }: IssuedDevice): Device {
  return device;
}

/** An event's data without the audited states it carries (issue 18), which their own cases check. */
function withoutRecords(data: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!data) return data;
  const { records: _records, ...rest } = data;
  return rest;
}

export function storeContract(name: string, factory: StoreFactory, options: { skip?: string; schemaOwnedElsewhere?: boolean } = {}): void {
  const skip = options.skip;

  /**
   * Runs a case on a fresh store (migrated unless told otherwise) and always disposes of it. With
   * schemaOwnedElsewhere (a least-privilege login, the schema migrated by the owner), the cases that
   * migrate step by step themselves need DDL rights and run in the owner's suite only.
   */
  function contractTest(title: string, body: (s: StoreUnderTest) => Promise<void>, migrate = true): void {
    const skipHere = skip ?? (!migrate && options.schemaOwnedElsewhere ? 'applies migrations itself: runs as the owner' : undefined);
    test(`${name}: ${title}`, { skip: skipHere }, async () => {
      const under = await factory();
      try {
        if (migrate) await under.store.migrate();
        await body(under);
      } finally {
        await under.dispose();
      }
    });
  }

  contractTest('migrates an empty database, and a re-run applies nothing', async ({ store }) => {
    const progress: string[] = [];
    const applied = await store.migrate((m) => progress.push(m));
    assert.ok(applied.length >= 1, 'at least the initial migration is applied');
    assert.equal(applied[0], '1_initial');
    assert.equal(progress.length, applied.length);
    assert.deepEqual(await store.migrate(), []);
    assert.deepEqual(await store.listDevices(), []);
  }, false);

  // An installed Inlet may be at any earlier schema version when it is upgraded.
  for (const from of loadMigrations(name === 'mssql' ? 'mssql' : 'sqlite').map((m) => m.version).slice(0, -1)) {
    contractTest(`upgrades from schema version ${from}: the rest applies, a device registered then is kept and takes uploads`, async ({ store, rawExec, table }) => {
      const early = await store.migrate(undefined, { upTo: from });
      // Versions need not be consecutive (numbers are handed out per piece of work).
      assert.equal(early.length, loadMigrations(name === 'mssql' ? 'mssql' : 'sqlite').filter((m) => m.version <= from).length);
      // Registered as that version's Inlet did: with the columns of the first schema only (today's
      // addDevice writes columns later migrations add). Its location becomes a zone (migration 23,
      // when upgrading from before it).
      const at = name === 'mssql' ? `'${new Date(T0).toISOString().replace('T', ' ').replace('Z', '')}'` : String(T0);
      // Entry tokens were stored in clear before migration 24, which keeps only their SHA-256.
      const [tokenColumn, tokenValue] = from < 24 ? ['entry_token', 'Tok-96000001-aBc'] : ['entry_token_sha256', entryTokenSha256('Tok-96000001-aBc')];
      await rawExec(`INSERT INTO ${table('devices')} (family, serial, model_code, model, name, location, ${tokenColumn}, allowed_interval_s, created_at, updated_at)
        VALUES ('soap', '96000001', 1234, 'T3311', 'Sensor 96000001', 'Hall A', '${tokenValue}', 60, ${at}, ${at})`);
      const rest = await store.migrate();
      assert.equal(early.length + rest.length, loadMigrations(name === 'mssql' ? 'mssql' : 'sqlite').length);
      assert.deepEqual(await store.migrate(), []);
      const [device] = await store.listDevices();
      assert.equal(device.serial, '96000001');
      // Registered before migration 23, its location becomes a zone; registered after, it was not given one.
      if (from < 23) {
        const zones = await store.listZones();
        assert.deepEqual(zones.map((z) => [z.name, z.parentId]), [['Hall A', null]], 'the location became a top-level zone');
        assert.equal(device.zoneId, zones[0].id);
      }
      assert.equal(device.location, 'Hall A');
      assert.equal(device.entryTokenSha256, entryTokenSha256('Tok-96000001-aBc'), 'only the hash of the entry token is kept');
      assert.equal((await store.findDeviceByToken('Tok-96000001-aBc'))?.id, device.id, 'the device keeps working with the token it was given');
      const committed = await store.commit(batch(device.id, [sample(device.id, 1, T0 + MINUTE, 4.5)]));
      assert.equal(committed.samplesStored, 1);
      assert.deepEqual((await store.samples(device.id, 1, T0, T0 + 2 * MINUTE)).map((x) => x.value), [4.5]);
    }, false);
  }

  contractTest('devices: a logger\'s clock reading is \'auto\' until set, and kept as set (migration 010)', async ({ store }) => {
    const d = await store.addDevice({ ...newDevice('10000091'), family: 'logger', modelCode: null, channels: [] }, T0);
    assert.equal(d.loggerClock, 'auto');
    assert.equal((await store.updateDevice(d.id, { loggerClock: 'local' }, T0 + 1)).loggerClock, 'local');
    assert.equal((await store.findDeviceByToken(d.entryToken))?.loggerClock, 'local');
    assert.equal((await store.listDevices()).find((x) => x.id === d.id)?.loggerClock, 'local');
    await assert.rejects(store.updateDevice(d.id, { loggerClock: 'gmt' as never }, T0 + 2), /CHECK|constraint/i);
  });

  contractTest('devices: add, find, update, changedSince, channels', async ({ store }) => {
    const a = await store.addDevice(newDevice('10000001'), T0);
    assert.equal(a.serial, '10000001');
    assert.equal(a.state, 'active');
    assert.equal(a.createdAt, T0);
    assert.equal(a.lastSeenAt, null);
    assert.deepEqual(await store.getDevice(a.id), withoutToken(a));
    assert.deepEqual(await store.findDeviceBySerial('soap', '10000001'), withoutToken(a));
    assert.equal(await store.findDeviceBySerial('wifi', '10000001'), undefined);
    assert.deepEqual(await store.findDeviceByToken(a.entryToken), withoutToken(a));
    assert.equal(a.entryTokenSha256, entryTokenSha256(a.entryToken), 'the store keeps only the SHA-256 of the entry token');
    assert.ok(!Object.values((await store.getDevice(a.id))!).includes(a.entryToken), 'a device read back carries no entry token');
    assert.equal(await store.findDeviceByToken(a.entryTokenSha256), undefined, 'the stored hash is not itself an entry token');
    const renewed = await store.updateDevice(a.id, { entryToken: 'renewed-token-10000001' }, T0 + 2);
    assert.equal(renewed.entryTokenSha256, entryTokenSha256('renewed-token-10000001'));
    assert.equal(await store.findDeviceByToken(a.entryToken), undefined, 'the old token stops working');
    assert.equal((await store.findDeviceByToken('renewed-token-10000001'))?.id, a.id);
    await store.updateDevice(a.id, { entryToken: a.entryToken }, T0);
    assert.equal(await store.findDeviceByToken(a.entryToken.toUpperCase()), undefined, 'entry tokens compare exactly, case included');
    await assert.rejects(store.addDevice(newDevice('10000001', 'other-token'), T0), /already registered/);

    const b = await store.addDevice(newDevice('10000002'), T0 + 1);
    assert.deepEqual((await store.listDevices()).map((d) => d.id).sort(), [a.id, b.id].sort());
    assert.deepEqual(await store.listChannels(a.id), [
      { deviceId: a.id, channel: 1, quantity: 'temperature', unit: 'C' },
      { deviceId: a.id, channel: 2, quantity: 'relative_humidity', unit: '%RH' },
    ]);
    assert.equal((await store.listChannels()).length, 4);

    const suspended = await store.updateDevice(a.id, { name: 'Freezer', state: 'suspended', suspendedReason: 'too fast' }, T0 + 5000);
    assert.equal(suspended.name, 'Freezer');
    assert.equal(suspended.state, 'suspended');
    assert.equal(suspended.suspendedAt, T0 + 5000);
    assert.equal(suspended.suspendedReason, 'too fast');
    assert.equal(suspended.updatedAt, T0 + 5000);
    assert.deepEqual((await store.devicesChangedSince(T0 + 1)).map((d) => d.id), [a.id]);
    assert.deepEqual((await store.devicesChangedSince(T0)).map((d) => d.id), [a.id, b.id]);

    const resumed = await store.updateDevice(a.id, { state: 'active', allowedIntervalS: null }, T0 + 6000);
    assert.equal(resumed.state, 'active');
    assert.equal(resumed.suspendedAt, null);
    assert.equal(resumed.suspendedReason, null);
    assert.equal(resumed.allowedIntervalS, null);
    await assert.rejects(store.updateDevice(9999, { name: 'x' }, T0), /no device with id 9999/);

    // the offline sweep's few columns agree with the full rows
    const pick = ({ id, family, allowedIntervalS, declaredIntervalS, lastSeenAt, createdAt }: Device) => ({ id, family, allowedIntervalS, declaredIntervalS, lastSeenAt, createdAt });
    await store.updateDevice(b.id, { allowedIntervalS: 120 }, T0 + 7000);
    const full = (await store.listDevices()).sort((x, y) => x.id - y.id).map(pick);
    assert.equal(full[1].allowedIntervalS, 120);
    assert.deepEqual(await store.deviceLiveness(), full);
  });

  contractTest('commit stores samples; a resend is a no-op with a duplicate verdict', async ({ store }) => {
    const d = await store.addDevice(newDevice('20000001'), T0);
    const samples = [sample(d.id, 1, T0, 21.5), sample(d.id, 2, T0, 40.25), sample(d.id, 1, T0 + MINUTE, null, 2)];
    const first = await store.commit(batch(d.id, samples));
    assert.deepEqual({ ...first, uploadId: 0 }, { uploadId: 0, verdict: 'accepted', samplesStored: 3, samplesDuplicate: 0 });
    assert.deepEqual(await store.samples(d.id, 1, T0, T0 + 2 * MINUTE), [samples[0], samples[2]]);

    const resend = await store.commit(batch(d.id, samples));
    assert.equal(resend.verdict, 'duplicate');
    assert.equal(resend.samplesStored, 0);
    assert.equal(resend.samplesDuplicate, 3);
    assert.ok(resend.uploadId > first.uploadId);
    const [stored] = await store.uploads({ afterId: resend.uploadId - 1, limit: 1 });
    assert.equal(stored.verdict, 'duplicate');

    const overlap = await store.commit(batch(d.id, [samples[0], sample(d.id, 1, T0 + 2 * MINUTE, 22)]));
    assert.deepEqual({ ...overlap, uploadId: 0 }, { uploadId: 0, verdict: 'accepted', samplesStored: 1, samplesDuplicate: 1 });
    assert.equal((await store.samples(d.id, 1, 0, T0 + 3 * MINUTE))[0].value, 21.5, 'a resent sample does not overwrite');
  });

  contractTest('a backlog of many samples: stored, resent, overlapping, with a time repeated inside it; the chain and the rollup agree', async ({ store }) => {
    // Sized past any adapter's multi-row insert (SQLite: 64 rows per statement), with a tail.
    const d = await store.addDevice(newDevice('20000002'), T0);
    const submitted = new Map<number, SampleRow[]>();
    const commit = recordingCommit(store, submitted);
    const backlog = (from: number, count: number) => Array.from({ length: count }, (_, i) => {
      const channel = (i % 3) + 1;
      const minute = from + Math.floor(i / 3);
      return sample(d.id, channel, T0 + minute * MINUTE, i % 11 === 0 ? null : Number((minute / 10 + channel).toFixed(1)), 4);
    });
    const first = backlog(0, 1000);
    assert.deepEqual({ ...await commit(batch(d.id, first)), uploadId: 0 }, { uploadId: 0, verdict: 'accepted', samplesStored: 1000, samplesDuplicate: 0 });
    const resend = await commit(batch(d.id, first));
    assert.deepEqual([resend.verdict, resend.samplesStored, resend.samplesDuplicate], ['duplicate', 0, 1000]);
    // Half old, half new; and one new sample twice: the first of the two is the one kept.
    const overlap = backlog(200, 900);
    const repeated = { ...overlap[850], value: -5 };
    const r = await commit(batch(d.id, [...overlap, repeated]));
    assert.deepEqual([r.verdict, r.samplesStored, r.samplesDuplicate], ['accepted', 500, 401]);
    assert.equal((await store.samples(d.id, 1, 0, T0 + 1000 * MINUTE)).length, 500);
    assert.deepEqual((await store.samples(d.id, 2, repeated.time, repeated.time + 1)), [overlap[850]], 'the first of two equal keys is kept');
    assert.equal(await verifyChains(store, submitted), 3);
    await assertRollupAgrees(store, d.id, 2, T0 + 1000 * MINUTE);
  });

  contractTest('a backlog whose clock was set back partway (times run backwards within each channel): every sample stored once, the chain and the rollup agree', async ({ store }) => {
    // The store orders an upload's rows by key itself; rows that arrive out of time order within a
    // channel must be stored, rolled up and digested exactly as rows that arrive in order.
    const d = await store.addDevice(newDevice('20000003'), T0);
    const submitted = new Map<number, SampleRow[]>();
    const commit = recordingCommit(store, submitted);
    const rows = Array.from({ length: 900 }, (_, i) => {
      const message = Math.floor(i / 3);
      const minute = message < 150 ? 200 + message : message - 150; // set back to the start after 150 messages
      return sample(d.id, (i % 3) + 1, T0 + minute * MINUTE, i % 13 === 0 ? null : Number((minute / 7 + i % 3).toFixed(2)), 4);
    });
    const repeated = { ...rows[400], value: -1 }; // a key already in the upload: the first one is kept
    const r = await commit(batch(d.id, [...rows, repeated]));
    assert.deepEqual([r.verdict, r.samplesStored, r.samplesDuplicate], ['accepted', 900, 1]);
    assert.equal((await store.samples(d.id, 1, 0, T0 + 400 * MINUTE)).length, 300);
    assert.deepEqual(await store.samples(d.id, rows[400].channel, rows[400].time, rows[400].time + 1), [rows[400]]);
    const overlap = await commit(batch(d.id, rows.slice(300, 600)));
    assert.deepEqual([overlap.verdict, overlap.samplesStored, overlap.samplesDuplicate], ['duplicate', 0, 300]);
    assert.equal(await verifyChains(store, submitted), 2);
    for (const channel of [1, 2, 3]) await assertRollupAgrees(store, d.id, channel, T0 + 400 * MINUTE);
  });

  contractTest('a refused upload is archived with its raw bytes intact', async ({ store }) => {
    const raw = Buffer.from([0x00, 0xff, 0x3c, 0x3f, 0x78, 0x00, 0x80, 0x7f, 0xfe]);
    const r = await store.commit(batch(null, [], { verdict: 'refused', reason: 'unknown entry point', raw, contentType: 'application/octet-stream', serial: null, counter: null }));
    assert.equal(r.verdict, 'refused');
    const [u] = await store.uploads({ verdict: 'refused' });
    assert.equal(u.id, r.uploadId);
    assert.equal(u.deviceId, null);
    assert.ok(u.raw.equals(raw), 'raw bytes round-trip exactly');
    assert.equal(u.reason, 'unknown entry point');
    assert.equal(u.serial, null);
    assert.equal(u.counter, null);
    assert.equal(u.receivedAt, T0);
  });

  contractTest('quarantine, release without import', async ({ store }) => {
    const d = await store.addDevice(newDevice('30000001'), T0);
    const readings = [{ channel: 1, quantity: 'temperature', unit: 'C', value: 5.5, errorCode: null, alarm: 'no' as const, sampleTime: T0 }];
    const q = await store.commit(batch(d.id, [], { verdict: 'quarantined', reason: 'suspended' }, { quarantine: readings }));
    assert.equal(q.verdict, 'quarantined');
    assert.deepEqual(await store.quarantined(d.id), [{ uploadId: q.uploadId, deviceId: d.id, receivedAt: T0, readings }]);
    assert.deepEqual(await store.releaseQuarantine(d.id, false, T0 + MINUTE), { uploads: 1, samplesImported: 0 });
    assert.deepEqual(await store.quarantined(d.id), []);
    assert.deepEqual(await store.samples(d.id, 1, 0, T0 + MINUTE), []);
    assert.deepEqual(await store.releaseQuarantine(d.id, false, T0 + MINUTE), { uploads: 0, samplesImported: 0 });
  });

  contractTest('quarantine, release with import stores the readings as a new upload', async ({ store }) => {
    const d = await store.addDevice(newDevice('30000002'), T0);
    const readings = [
      { channel: 1, quantity: 'temperature', unit: 'C', value: 5.5, errorCode: null, alarm: 'no' as const, sampleTime: T0 },
      { channel: 2, quantity: 'relative_humidity', unit: '%RH', value: 50, errorCode: null, alarm: 'hi' as const, sampleTime: T0 },
    ];
    const raw = Buffer.from('<quarantined/>');
    const q = await store.commit(batch(d.id, [], { verdict: 'quarantined', reason: 'suspended', raw }, { quarantine: readings }));
    assert.deepEqual(await store.releaseQuarantine(d.id, true, T0 + MINUTE), { uploads: 1, samplesImported: 2 });
    assert.deepEqual(await store.samples(d.id, 2, T0, T0 + 1), [{ deviceId: d.id, channel: 2, time: T0, value: 50, errorCode: null, alarm: 'hi' }]);
    const imported = (await store.uploads({ deviceId: d.id, afterId: q.uploadId }))[0];
    assert.equal(imported.verdict, 'accepted');
    assert.equal(imported.reason, `imported from quarantined upload #${q.uploadId}`);
    assert.ok(imported.raw.equals(raw));
    assert.deepEqual(await store.quarantined(d.id), []);
  });

  contractTest('events: written with a batch (carrying the upload id) and on their own; filtered', async ({ store }) => {
    const d = await store.addDevice(newDevice('40000001'), T0);
    const r = await store.commit(batch(d.id, [sample(d.id, 1, T0, 1)], {}, {
      events: [{ at: T0, deviceId: d.id, type: 'device.suspended', level: 'alarm', message: 'suspended: too fast', data: { reason: 'too fast' } }],
    }));
    await store.addEvent({ at: T0 + 1000, deviceId: null, type: 'upload.refused', level: 'warning', message: 'refused' });
    await store.addEvent({ at: T0 + 2000, deviceId: d.id, type: 'device.resumed', level: 'info', message: 'resumed', data: { by: 'admin' } });
    // addDevice records the device's channels (channel.recorded, issue 18): not what this case is about.
    const all = (await store.events({})).filter((e) => e.type !== 'channel.recorded');
    assert.deepEqual(all.map((e) => e.type), ['device.resumed', 'upload.refused', 'device.suspended'], 'newest first');
    assert.deepEqual(all[2].data, { reason: 'too fast', uploadId: r.uploadId });
    assert.equal(all[2].at, T0);
    assert.equal(all[1].data, null);
    assert.deepEqual((await store.events({ deviceId: d.id })).map((e) => e.type).filter((t) => t !== 'channel.recorded'), ['device.resumed', 'device.suspended']);
    assert.deepEqual((await store.events({ since: T0 + 1000 })).map((e) => e.type), ['device.resumed', 'upload.refused']);
    assert.deepEqual((await store.events({ type: 'upload.refused' })).map((e) => e.level), ['warning']);
    assert.equal((await store.events({ limit: 1 })).length, 1);
  });

  contractTest('channels are upserted; device seen and suspension are applied with the batch', async ({ store }) => {
    const d = await store.addDevice(newDevice('50000001'), T0);
    await store.commit(batch(d.id, [sample(d.id, 3, T0, 1013)], {}, {
      channels: [{ deviceId: d.id, channel: 1, quantity: 'temperature', unit: 'F' }, { deviceId: d.id, channel: 3, quantity: 'pressure', unit: 'hPa' }],
      deviceSeen: { deviceId: d.id, at: T0 + 500, declaredIntervalS: 120 },
      suspend: { deviceId: d.id, at: T0 + 500, reason: 'sending too often' },
    }));
    assert.deepEqual((await store.listChannels(d.id)).map((c) => `${c.channel}:${c.quantity}:${c.unit}`),
      ['1:temperature:F', '2:relative_humidity:%RH', '3:pressure:hPa']);
    const after = (await store.getDevice(d.id))!;
    assert.equal(after.lastSeenAt, T0 + 500);
    assert.equal(after.declaredIntervalS, 120);
    assert.equal(after.state, 'suspended');
    assert.equal(after.suspendedReason, 'sending too often');
    assert.equal(after.suspendedAt, T0 + 500);
    // An older upload arriving late does not move last-seen backwards, and no interval keeps the known one.
    await store.commit(batch(d.id, [sample(d.id, 3, T0 - MINUTE, 1012)], {}, { deviceSeen: { deviceId: d.id, at: T0 - MINUTE, declaredIntervalS: null } }));
    const late = (await store.getDevice(d.id))!;
    assert.equal(late.lastSeenAt, T0 + 500);
    assert.equal(late.declaredIntervalS, 120);
  });

  contractTest('200 concurrent commits share transactions; each resolves only once its upload is readable', async ({ store }) => {
    const devices = [await store.addDevice(newDevice('60000001'), T0), await store.addDevice(newDevice('60000002'), T0)];
    const visibleAtResolve: boolean[] = [];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const d = devices[i % 2];
      return store.commit(batch(d.id, [sample(d.id, 1, T0 + i * MINUTE, i), sample(d.id, 2, T0 + i * MINUTE, -i)]))
        .then(async (r) => {
          const [u] = await store.uploads({ afterId: r.uploadId - 1, limit: 1 });
          visibleAtResolve.push(u?.id === r.uploadId);
          return r;
        });
    }));
    assert.equal(visibleAtResolve.filter(Boolean).length, 200);
    assert.ok(results.every((r) => r.verdict === 'accepted' && r.samplesStored === 2));
    for (let i = 1; i < results.length; i++) assert.ok(results[i].uploadId > results[i - 1].uploadId, 'upload ids follow submission order');
    for (const d of devices) assert.equal((await store.samples(d.id, 1, T0, T0 + 200 * MINUTE)).length, 100);
    assert.equal((await store.uploads({ limit: 1000 })).length, 200);
    await store.flush();
    assert.equal(store.health().pendingBatches, 0);
    assert.ok(store.health().ok);
  });

  contractTest('a failing batch fails alone; the rest of its group is stored', async ({ store }) => {
    const d = await store.addDevice(newDevice('60000003'), T0);
    const submitted = new Map<number, SampleRow[]>();
    const commit = recordingCommit(store, submitted);
    const outcomes = await Promise.allSettled([
      commit(batch(d.id, [sample(d.id, 1, T0, 1)])),
      commit(batch(987654, [sample(987654, 1, T0, 1)])), // no such device: the upload's reference fails
      commit(batch(d.id, [sample(d.id, 1, T0 + MINUTE, 2)])),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((await store.samples(d.id, 1, T0, T0 + 2 * MINUTE)).length, 2);
    assert.deepEqual(await store.samples(987654, 1, 0, T0 + MINUTE), [], 'the failed batch left no samples behind');
    assert.equal(await verifyChains(store, submitted), 2);
  });

  contractTest('hash chain: each upload links to the previous upload of the same device', async ({ store }) => {
    const a = await store.addDevice(newDevice('70000001'), T0);
    const b = await store.addDevice(newDevice('70000002'), T0);
    const submitted = new Map<number, SampleRow[]>();
    const commit = recordingCommit(store, submitted);
    const commits: Promise<CommitResult>[] = [];
    for (let i = 0; i < 12; i++) {
      const d = i % 3 === 0 ? b : a;
      // Times repeat across i, so some uploads store only part of their samples.
      commits.push(commit(batch(d.id, [sample(d.id, 1, T0 + Math.floor(i / 2) * MINUTE, i), sample(d.id, 2, T0, i)], { counter: i })));
      if (i % 5 === 0) commits.push(commit(batch(null, [], { verdict: 'refused', reason: `bad ${i}`, serial: null })));
    }
    await Promise.all(commits);
    assert.equal((await commit(batch(a.id, [sample(a.id, 1, T0, 0)]))).verdict, 'duplicate', 'a duplicate links too');
    assert.equal(await verifyChains(store, submitted), commits.length + 1);
  });

  contractTest('series: buckets with min/max/avg/count/errors over [from, to), and raw points', async ({ store }) => {
    const d = await store.addDevice(newDevice('80000001'), T0);
    const base = Date.UTC(2025, 1, 1, 0, 0, 0, 0);
    const values = [10, 12, null, 20, 30, 31, 5];
    await store.commit(batch(d.id, values.map((v, i) => sample(d.id, 1, base + i * 5 * MINUTE, v))));
    const buckets = await store.series({ deviceId: d.id, channel: 1, from: base, to: base + 30 * MINUTE, bucketMs: 10 * MINUTE });
    assert.deepEqual(buckets, [
      { time: base, min: 10, max: 12, avg: 11, count: 2, errors: 0 },
      { time: base + 10 * MINUTE, min: 20, max: 20, avg: 20, count: 2, errors: 1 },
      { time: base + 20 * MINUTE, min: 30, max: 31, avg: 30.5, count: 2, errors: 0 },
    ]);
    const offset = await store.series({ deviceId: d.id, channel: 1, from: base + 5 * MINUTE, to: base + 16 * MINUTE, bucketMs: 10 * MINUTE });
    assert.deepEqual(offset.map((p) => [p.time - base, p.count]), [[0, 1], [10 * MINUTE, 2]],
      'buckets are aligned on multiples of bucketMs since the epoch, so they do not shift when the range moves');
    // whole-hour buckets are read from the hourly rollup and must agree with the samples
    const hourly = await store.series({ deviceId: d.id, channel: 1, from: base - 2 * 60 * MINUTE, to: base + 60 * MINUTE, bucketMs: 60 * MINUTE });
    assert.deepEqual(hourly, [{ time: base, min: 5, max: 31, avg: 108 / 6, count: 7, errors: 1 }]);
    const raw = await store.series({ deviceId: d.id, channel: 1, from: base, to: base + 15 * MINUTE, bucketMs: 0 });
    assert.deepEqual(raw, [
      { time: base, min: 10, max: 10, avg: 10, count: 1, errors: 0 },
      { time: base + 5 * MINUTE, min: 12, max: 12, avg: 12, count: 1, errors: 0 },
      { time: base + 10 * MINUTE, min: null, max: null, avg: null, count: 1, errors: 1 },
    ]);
  });

  contractTest('latestValues: the newest sample of every channel, with quantity and unit', async ({ store }) => {
    const a = await store.addDevice(newDevice('90000001'), T0);
    const b = await store.addDevice(newDevice('90000002'), T0);
    await store.commit(batch(a.id, [sample(a.id, 1, T0, 1), sample(a.id, 1, T0 + MINUTE, 2), sample(a.id, 2, T0, 50)]));
    await store.commit(batch(b.id, [sample(b.id, 1, T0 + 2 * MINUTE, null, 98)]));
    assert.deepEqual(await store.latestValues(a.id), [
      { deviceId: a.id, channel: 1, time: T0 + MINUTE, value: 2, errorCode: null, alarm: 'no', quantity: 'temperature', unit: 'C' },
      { deviceId: a.id, channel: 2, time: T0, value: 50, errorCode: null, alarm: 'no', quantity: 'relative_humidity', unit: '%RH' },
    ]);
    const all = await store.latestValues();
    assert.deepEqual(all.map((v) => [v.deviceId, v.channel, v.value, v.errorCode]), [[a.id, 1, 2, null], [a.id, 2, 50, null], [b.id, 1, null, 98]]);
  });

  contractTest('samples: from is inclusive, to is exclusive, ordered by time, limited', async ({ store }) => {
    const d = await store.addDevice(newDevice('91000001'), T0);
    await store.commit(batch(d.id, [0, 1, 2, 3].map((i) => sample(d.id, 1, T0 + i * MINUTE, i))));
    assert.deepEqual((await store.samples(d.id, 1, T0 + MINUTE, T0 + 3 * MINUTE)).map((s) => s.value), [1, 2]);
    assert.deepEqual((await store.samples(d.id, 1, T0 + MINUTE - 1, T0 + MINUTE)).map((s) => s.value), []);
    assert.deepEqual((await store.samples(d.id, 1, T0, T0 + 10 * MINUTE, 2)).map((s) => s.value), [0, 1]);
    assert.deepEqual(await store.samples(d.id, 2, T0, T0 + 10 * MINUTE), []);
  });

  contractTest('users: add, find, list, update', async ({ store }) => {
    const u = await store.addUser({ username: 'admin', role: 'administrator', passwordHash: 'scrypt$abc' }, T0);
    assert.deepEqual(u, { id: u.id, username: 'admin', role: 'administrator', passwordHash: 'scrypt$abc', failedLogins: 0, lockedUntil: null, createdAt: T0, disabled: false, scope: 'global', source: 'local', mustChangePassword: false });
    await assert.rejects(store.addUser({ username: 'admin', role: 'viewer', passwordHash: 'x' }, T0), /user admin already exists/);
    assert.equal(await store.findUser('nobody'), undefined);
    await store.addUser({ username: 'viewer1', role: 'viewer', passwordHash: 'h' }, T0);
    await store.updateUser(u.id, { role: 'operator', failedLogins: 3, lockedUntil: T0 + MINUTE, disabled: true });
    assert.deepEqual(await store.findUser('admin'), { ...u, role: 'operator', failedLogins: 3, lockedUntil: T0 + MINUTE, disabled: true });
    await store.updateUser(u.id, { lockedUntil: null, disabled: false });
    await store.updateUser(u.id, { mustChangePassword: true });
    assert.equal((await store.findUser('admin'))!.mustChangePassword, true, 'an administrator\'s reset is remembered (migration 012)');
    await store.updateUser(u.id, { mustChangePassword: false });
    const again = (await store.findUser('admin'))!;
    assert.equal(again.lockedUntil, null);
    assert.equal(again.disabled, false);
    assert.deepEqual((await store.listUsers()).map((x) => x.username), ['admin', 'viewer1']);
  });

  contractTest('device retirements: recorded, listed, removed when back in use', async ({ store }) => {
    const d = await store.addDevice(newDevice('97000001'), T0);
    assert.deepEqual(await store.retirements(), []);
    await store.setRetirement(d.id, { retiredAt: T0 + MINUTE, retiredBy: 'qa', reason: 'test device' });
    assert.deepEqual(await store.retirements(), [{ deviceId: d.id, retiredAt: T0 + MINUTE, retiredBy: 'qa', reason: 'test device' }]);
    await store.setRetirement(d.id, null);
    assert.deepEqual(await store.retirements(), []);
  });

  contractTest('viewer sessions: saved by the hash of their id, activity updated, deleted', async ({ store }) => {
    const u = await store.addUser({ username: 'qa', role: 'operator', passwordHash: 'h' }, T0);
    const hashA = 'a'.repeat(64);
    const hashB = 'b'.repeat(64);
    const access = { globalRole: 'operator' as const, grants: [] };
    const display = { globalRole: null, grants: [{ zoneId: 7, role: 'viewer' as const }] };
    await store.saveSession({ idHash: hashA, userId: u.id, createdAt: T0, lastActiveAt: T0, display: false, access });
    await store.saveSession({ idHash: hashB, userId: u.id, createdAt: T0 + MINUTE, lastActiveAt: T0 + MINUTE, display: false, access });
    await store.saveSession({ idHash: hashA, userId: u.id, createdAt: T0, lastActiveAt: T0 + 5 * MINUTE, display: true, access: display });
    assert.deepEqual(await store.listSessions(), [
      { idHash: hashA, userId: u.id, createdAt: T0, lastActiveAt: T0 + 5 * MINUTE, display: true, access: display },
      { idHash: hashB, userId: u.id, createdAt: T0 + MINUTE, lastActiveAt: T0 + MINUTE, display: false, access },
    ]);
    await store.deleteSessions([hashA]);
    assert.deepEqual((await store.listSessions()).map((x) => x.idHash), [hashB]);
  });

  contractTest('zones: a tree with unique names among siblings, moves without cycles, removal of empty zones only, each change an event', async ({ store }) => {
    const actor = { by: 'admin', at: T0, reason: 'layout' };
    const site = await store.addZone({ parentId: null, name: 'Site' }, actor);
    const room = await store.addZone({ parentId: site.id, name: 'Room 1' }, actor);
    const other = await store.addZone({ parentId: null, name: 'Other' }, actor);
    await assert.rejects(store.addZone({ parentId: site.id, name: 'Room 1' }, actor), /already exists/);
    await assert.rejects(store.addZone({ parentId: 999, name: 'X' }, actor), /no zone with id 999/);
    assert.deepEqual((await store.listZones()).map((z) => [z.name, z.parentId]), [['Site', null], ['Room 1', site.id], ['Other', null]]);
    await assert.rejects(store.updateZone(site.id, { parentId: room.id }, actor), /below itself/);
    const moved = await store.updateZone(room.id, { parentId: other.id, name: 'Room A' }, { ...actor, at: T0 + 1 });
    assert.deepEqual([moved.name, moved.parentId], ['Room A', other.id]);
    const [event] = await store.events({ type: 'zone.moved', limit: 1 });
    assert.deepEqual((event.data as { old: { path: string }; new: { path: string } }).old.path, 'Site/Room 1');
    assert.deepEqual((event.data as { new: { path: string } }).new.path, 'Other/Room A');
    const d = await store.addDevice({ ...newDevice('93000001'), location: 'Other/Room A', zoneId: room.id }, T0);
    assert.equal(d.zoneId, room.id);
    await assert.rejects(store.removeZone(room.id, actor), /devices/);
    await assert.rejects(store.removeZone(other.id, actor), /sub-zones/);
    await store.updateDevice(d.id, { zoneId: site.id, location: 'Site' }, T0);
    assert.equal((await store.getDevice(d.id))!.zoneId, site.id);
    await store.removeZone(room.id, actor);
    assert.deepEqual((await store.listZones()).map((z) => z.name), ['Site', 'Other']);
    assert.equal((await store.events({ type: 'zone.removed' })).length, 1);
  });

  contractTest('users\' zone roles: replaced as a whole, recorded old → new; scope and source kept on the user', async ({ store }) => {
    const actor = { by: 'admin', at: T0, reason: 'team' };
    const a = await store.addZone({ parentId: null, name: 'A' }, actor);
    const b = await store.addZone({ parentId: null, name: 'B' }, actor);
    const u = await store.addUser({ username: 'qa', role: 'operator', passwordHash: 'h', scope: 'zones' }, T0);
    assert.equal(u.scope, 'zones');
    assert.equal(u.source, 'local');
    await store.setUserZoneRoles(u.id, [{ zoneId: a.id, role: 'operator' }, { zoneId: b.id, role: 'viewer' }], actor);
    assert.deepEqual(await store.userZoneRoles(u.id), [{ userId: u.id, zoneId: a.id, role: 'operator' }, { userId: u.id, zoneId: b.id, role: 'viewer' }]);
    await store.setUserZoneRoles(u.id, [{ zoneId: b.id, role: 'administrator' }], { ...actor, at: T0 + 1 });
    assert.deepEqual(await store.userZoneRoles(), [{ userId: u.id, zoneId: b.id, role: 'administrator' }]);
    const [event] = await store.events({ type: 'user.zones.changed', limit: 1 });
    assert.deepEqual((event.data as { old: unknown[] }).old.length, 2);
    assert.deepEqual((event.data as { new: unknown[] }).new, [{ zoneId: b.id, role: 'administrator' }]);
    await assert.rejects(store.removeZone(b.id, actor), /role/);
    await store.updateUser(u.id, { scope: 'global' });
    assert.equal((await store.findUser('qa'))!.scope, 'global');
    const dir = await store.addUser({ username: 'jane', role: 'viewer', passwordHash: '!directory', scope: 'zones', source: 'directory' }, T0);
    assert.equal(dir.source, 'directory');
  });

  contractTest('alarms and events can be limited to a set of devices (a user\'s zones)', async ({ store }) => {
    const a = await store.addDevice(newDevice('93100001'), T0);
    const b = await store.addDevice(newDevice('93100002', 'Tok-b-93100002'), T0);
    await store.raiseAlarm(newAlarm(a.id));
    const bAlarm = await store.raiseAlarm(newAlarm(b.id));
    await store.raiseAlarm(newAlarm(null, { source: 'system', kind: 'integrity', channel: null, direction: null }));
    assert.deepEqual((await store.alarms({ deviceIds: [b.id] })).map((x) => x.deviceId), [b.id]);
    assert.deepEqual((await store.alarms({ deviceIds: [] })), []);
    assert.deepEqual((await store.alarms({ id: bAlarm.id })).map((x) => x.id), [bAlarm.id]);
    const events = await store.events({ deviceIds: [a.id] });
    assert.ok(events.length > 0 && events.every((e) => e.deviceId === a.id));
  });

  contractTest('uploads and samples are append-only, even to raw SQL', async ({ store, rawExec, table }) => {
    const d = await store.addDevice(newDevice('92000001'), T0);
    await store.commit(batch(d.id, [sample(d.id, 1, T0, 1)]));
    await assert.rejects(rawExec(`UPDATE ${table('uploads')} SET reason = 'edited'`), /append-only/);
    await assert.rejects(rawExec(`DELETE FROM ${table('uploads')}`), /append-only/);
    await assert.rejects(rawExec(`UPDATE ${table('samples')} SET value = 99`), /append-only/);
    await assert.rejects(rawExec(`DELETE FROM ${table('samples')}`), /append-only/);
    assert.equal((await store.samples(d.id, 1, T0, T0 + 1))[0].value, 1);
    assert.equal((await store.uploads({}))[0].reason, 'ok');
  });

  contractTest('an upload key makes a replayed batch a no-op that answers like the first commit', async ({ store }) => {
    const d = await store.addDevice(newDevice('93000001'), T0);
    const keyed = batch(d.id, [sample(d.id, 1, T0, 1), sample(d.id, 2, T0, 2)], { uploadKey: 'spool-1' });
    const first = await store.commit(keyed);
    const replay = await store.commit(keyed);
    assert.deepEqual(replay, first);
    const [again, other] = await Promise.all([store.commit(keyed), store.commit(batch(d.id, [sample(d.id, 1, T0 + MINUTE, 3)], { uploadKey: 'spool-2' }))]);
    assert.deepEqual(again, first);
    assert.equal(other.samplesStored, 1);
    const twice = batch(d.id, [sample(d.id, 1, T0 + 2 * MINUTE, 4)], { uploadKey: 'spool-3' });
    const [x, y] = await Promise.all([store.commit(twice), store.commit(twice)]);
    assert.deepEqual(y, x, 'the same key twice in one group is stored once');
    assert.equal((await store.uploads({ deviceId: d.id })).length, 3);
  });
  contractTest('maintain does its routine upkeep on a live store and says what it did in one line', async ({ store }) => {
    const d = await store.addDevice(newDevice('94000001'), T0);
    await store.commit(batch(d.id, [sample(d.id, 1, T0, 1)]));
    const said = await store.maintain();
    assert.equal(typeof said, 'string');
    assert.match(said, /\S/);
    assert.doesNotMatch(said, /\n/);
  });

  contractTest('verification inputs: upload stats, samples by upload id range, whether or not the upload exists', async ({ store }) => {
    assert.deepEqual(await store.uploadStats(), { count: 0, maxId: 0 });
    assert.deepEqual(await store.uploadSamples(1, null), []);
    const a = await store.addDevice(newDevice('95000001'), T0);
    const b = await store.addDevice(newDevice('95000002'), T0);
    const r1 = await store.commit(batch(a.id, [sample(a.id, 2, T0, 2), sample(a.id, 1, T0 + MINUTE, null, 3), sample(a.id, 1, T0, 1)]));
    const r2 = await store.commit(batch(b.id, [sample(b.id, 1, T0, 5.25)]));
    const r3 = await store.commit(batch(null, [], { verdict: 'refused', reason: 'unknown entry point', serial: null }));
    assert.deepEqual(await store.uploadStats(), { count: 3, maxId: r3.uploadId });

    const ofA = [
      { ...sample(a.id, 1, T0, 1), uploadId: r1.uploadId },
      { ...sample(a.id, 1, T0 + MINUTE, null, 3), uploadId: r1.uploadId },
      { ...sample(a.id, 2, T0, 2), uploadId: r1.uploadId },
    ];
    const ofB = [{ ...sample(b.id, 1, T0, 5.25), uploadId: r2.uploadId }];
    assert.deepEqual(await store.uploadSamples(r1.uploadId, null), [...ofA, ...ofB], 'ordered by upload id, channel, time');
    assert.deepEqual(await store.uploadSamples(1, r1.uploadId), ofA, 'both ends inclusive');
    assert.deepEqual(await store.uploadSamples(r2.uploadId, r2.uploadId), ofB);
    assert.deepEqual(await store.uploadSamples(r3.uploadId, null), []);
    assert.deepEqual(await store.uploadSamples(r3.uploadId + 1, null), []);
  });

  contractTest('chain checkpoints: appended in one call, the latest of each chain read back, never changed', async ({ store, rawExec, table }) => {
    assert.deepEqual(await store.chainCheckpoints(), []);
    const d = await store.addDevice(newDevice('96000001'), T0);
    const [h1, h2, h3] = [1, 2, 3].map((n) => Buffer.alloc(32, n));
    await store.addChainCheckpoints([]);
    await store.addChainCheckpoints([{ at: T0, chain: d.id, uploadId: 5, hash: h1 }, { at: T0, chain: 0, uploadId: 3, hash: h3 }]);
    await store.addChainCheckpoints([{ at: T0 + MINUTE, chain: d.id, uploadId: 9, hash: h2 }]);
    assert.deepEqual(await store.chainCheckpoints(), [
      { at: T0, chain: 0, uploadId: 3, hash: h3 },
      { at: T0 + MINUTE, chain: d.id, uploadId: 9, hash: h2 },
    ]);
    await assert.rejects(rawExec(`UPDATE ${table('chain_checkpoints')} SET upload_id = 1`), /append-only/);
    await assert.rejects(rawExec(`DELETE FROM ${table('chain_checkpoints')}`), /append-only/);
    assert.equal((await store.chainCheckpoints()).length, 2);
  });

  contractTest('alarm limits: set, read in order, replaced, removed; each change an event naming who, all or nothing', async ({ store }) => {
    const a = await store.addDevice(newDevice('97000001'), T0);
    const b = await store.addDevice(newDevice('97000002'), T0);
    const aWarning = limit(a.id, 1, 'warning', { high: 6.5, low: 2, delayS: 300, hysteresis: 0.5 });
    const aAlarm = limit(a.id, 1, 'alarm', { high: 8, low: null });
    const bAlarm = limit(b.id, 2, 'alarm', { high: null, low: 30, delayS: 60 });
    await store.setAlarmLimits(b.id, 2, [bAlarm], 'admin2', T0);
    await store.setAlarmLimits(a.id, 1, [aWarning, aAlarm], 'admin', T0 + 1000);
    const setAt = (l: AlarmLimit, at: number) => ({ ...l, updatedAt: at });
    assert.deepEqual(await store.alarmLimits(), [setAt(aAlarm, T0 + 1000), setAt(aWarning, T0 + 1000), setAt(bAlarm, T0)], 'ordered by device, channel, level; each with when it was set');
    assert.deepEqual(await store.alarmLimits(a.id), [setAt(aAlarm, T0 + 1000), setAt(aWarning, T0 + 1000)]);
    assert.deepEqual(await store.alarmLimits(987654), []);

    const changed = await store.events({ type: 'alarm.limits.changed' });
    assert.equal(changed.length, 2);
    assert.equal(changed[0].deviceId, a.id);
    assert.equal(changed[0].at, T0 + 1000);
    assert.equal(changed[0].level, 'info');
    assert.match(changed[0].message, /^alarm limits of channel 1 changed from none to warning: low 2, high 6\.5, delay 300 s, hysteresis 0\.5; alarm: low -, high 8, .*\(by admin\)$/);
    assert.deepEqual(withoutRecords(changed[0].data), {
      channel: 1, by: 'admin', previous: [], reason: null, signature: null,
      limits: [{ level: 'warning', high: 6.5, low: 2, delayS: 300, hysteresis: 0.5 }, { level: 'alarm', high: 8, low: null, delayS: 0, hysteresis: 0 }],
    });

    const replaced = limit(a.id, 1, 'warning', { high: 7, low: null });
    await store.setAlarmLimits(a.id, 1, [replaced], 'admin', T0 + 2000);
    assert.deepEqual(await store.alarmLimits(a.id), [setAt(replaced, T0 + 2000)], 'the channel\'s limits are replaced, not merged');
    await store.setAlarmLimits(a.id, 1, [], 'admin', T0 + 3000);
    assert.deepEqual(await store.alarmLimits(a.id), []);
    assert.match((await store.events({ type: 'alarm.limits.changed', limit: 1 }))[0].message, /^alarm limits of channel 1 changed from warning: low -, high 7, .* to none \(by admin\)$/);
    assert.deepEqual(await store.alarmLimits(), [setAt(bAlarm, T0)], 'another device\'s limits are untouched');

    // A limit the schema refuses (low above high) changes nothing and writes no event.
    await assert.rejects(store.setAlarmLimits(b.id, 2, [limit(b.id, 2, 'alarm', { high: 1, low: 5 })], 'admin', T0 + 4000));
    assert.deepEqual(await store.alarmLimits(b.id), [setAt(bAlarm, T0)]);
    assert.equal((await store.events({ type: 'alarm.limits.changed' })).length, 4);
  });

  contractTest('alarms: raised, acknowledged once with a comment, cleared once, each with its event; open and device filters', async ({ store }) => {
    const d = await store.addDevice(newDevice('98000001'), T0);
    const raised = await store.raiseAlarm(newAlarm(d.id));
    assert.deepEqual(raised, {
      ...newAlarm(d.id), id: raised.id, acknowledgedAt: null, acknowledgedBy: null, ackComment: null, ackMeaning: null, clearedAt: null, clearedValue: null,
    });
    const system = await store.raiseAlarm(newAlarm(null, {
      channel: null, source: 'system', kind: 'integrity', level: 'warning', direction: null, raisedAt: T0 + 1000, value: null, message: 'integrity check found 2 problems',
    }));
    assert.equal(system.kind, 'integrity');
    assert.ok(system.id > raised.id);
    assert.equal(system.deviceId, null);
    const raisedEvents = await store.events({ type: 'alarm.raised' });
    assert.deepEqual(raisedEvents.map((e) => [e.at, e.deviceId, e.level, e.message, withoutRecords(e.data)]), [
      [T0 + 1000, null, 'warning', 'integrity check found 2 problems', { alarmId: system.id, channel: null, value: null }],
      [T0, d.id, 'alarm', raised.message, { alarmId: raised.id, channel: 1, value: 9.5 }],
    ]);

    const acked = await store.acknowledgeAlarm(raised.id, 'operator1', 'door was open, closed it', T0 + MINUTE);
    assert.deepEqual(acked, { ...raised, acknowledgedAt: T0 + MINUTE, acknowledgedBy: 'operator1', ackComment: 'door was open, closed it' });
    assert.equal(await store.acknowledgeAlarm(raised.id, 'operator2', 'me too', T0 + 2 * MINUTE), undefined, 'acknowledged once only');
    assert.equal(await store.acknowledgeAlarm(987654, 'operator1', 'no such alarm', T0), undefined);
    const [ackEvent, ...moreAcks] = await store.events({ type: 'alarm.acknowledged' });
    assert.equal(moreAcks.length, 0, 'a refused acknowledgement writes no event');
    assert.deepEqual([ackEvent.at, ackEvent.deviceId, ackEvent.level, withoutRecords(ackEvent.data)],
      [T0 + MINUTE, d.id, 'info', { alarmId: raised.id, by: 'operator1', comment: 'door was open, closed it', signature: null }]);
    assert.equal(ackEvent.message, `acknowledged by operator1: "door was open, closed it" (${raised.message})`);
    assert.deepEqual((await store.alarms({ open: true })).map((x) => x.id), [system.id, raised.id], 'acknowledged but not cleared is still open');

    const cleared = await store.clearAlarm(raised.id, T0 + 3 * MINUTE, 7.25);
    assert.deepEqual(cleared, { ...acked, clearedAt: T0 + 3 * MINUTE, clearedValue: 7.25 });
    assert.equal(await store.clearAlarm(raised.id, T0 + 4 * MINUTE, 7), undefined, 'cleared once only');
    assert.equal(await store.clearAlarm(987654, T0, null), undefined);
    const systemCleared = await store.clearAlarm(system.id, T0 + 5 * MINUTE, null);
    assert.deepEqual(systemCleared, { ...system, clearedAt: T0 + 5 * MINUTE, clearedValue: null });
    assert.deepEqual((await store.events({ type: 'alarm.cleared' })).map((e) => [e.at, e.deviceId, e.level, e.message, withoutRecords(e.data)]), [
      [T0 + 5 * MINUTE, null, 'info', 'cleared: integrity check found 2 problems', { alarmId: system.id, channel: null, value: null }],
      [T0 + 3 * MINUTE, d.id, 'info', `cleared at 7.25: ${raised.message}`, { alarmId: raised.id, channel: 1, value: 7.25 }],
    ]);

    assert.deepEqual(await store.alarms({ open: true }), [systemCleared], 'cleared but not acknowledged is still open');
    assert.deepEqual(await store.alarms({}), [systemCleared, cleared], 'newest first');
    assert.deepEqual(await store.alarms({ deviceId: d.id }), [cleared]);
    assert.deepEqual(await store.alarms({ open: true, deviceId: d.id }), []);
    assert.deepEqual(await store.alarms({ limit: 1 }), [systemCleared]);
    // The whole lifecycle is in the device's event log, in order.
    assert.deepEqual((await store.events({ deviceId: d.id })).map((e) => e.type).filter((t) => t.startsWith('alarm.')).reverse(), ['alarm.raised', 'alarm.acknowledged', 'alarm.cleared']);
  });

  contractTest('alarms keep their history, even against raw SQL', async ({ store, rawExec, table }) => {
    const d = await store.addDevice(newDevice('99000001'), T0);
    const alarm = await store.raiseAlarm(newAlarm(d.id));
    await store.acknowledgeAlarm(alarm.id, 'operator1', 'checked the probe', T0 + MINUTE);
    const before = await store.alarms({});
    await assert.rejects(rawExec(`UPDATE ${table('alarms')} SET message = 'edited'`), /acknowledged once and cleared once/);
    await assert.rejects(rawExec(`UPDATE ${table('alarms')} SET ack_comment = 'rewritten' WHERE acknowledged_at IS NOT NULL`), /acknowledged once and cleared once/);
    await assert.rejects(rawExec(`DELETE FROM ${table('alarms')}`), /kept for the audit trail/);
    assert.deepEqual(await store.alarms({}), before);
  });

  contractTest('system alarms: kind read back and filtered; one uncleared offline alarm per device; kind never changes', async ({ store, rawExec, table }) => {
    const d = await store.addDevice(newDevice('90000001'), T0);
    const offline = (at: number) => newAlarm(d.id, { channel: null, source: 'system', kind: 'offline', direction: null, raisedAt: at, value: null, message: 'Sensor is offline' });
    const first = await store.raiseAlarm(offline(T0));
    assert.equal(first.kind, 'offline');
    await store.raiseAlarm(newAlarm(d.id));
    await assert.rejects(store.raiseAlarm(offline(T0 + MINUTE)), 'a second uncleared offline alarm for the device is refused');
    assert.equal((await store.events({ type: 'alarm.raised' })).length, 2, 'the refused raise wrote no event');
    assert.deepEqual((await store.alarms({ kind: 'offline', uncleared: true })).map((a) => a.id), [first.id]);
    await store.acknowledgeAlarm(first.id, 'operator1', 'technician on the way', T0 + MINUTE);
    assert.deepEqual((await store.alarms({ kind: 'offline', uncleared: true })).map((a) => a.id), [first.id], 'acknowledged, still uncleared');
    await store.clearAlarm(first.id, T0 + 2 * MINUTE, null);
    assert.deepEqual(await store.alarms({ kind: 'offline', uncleared: true }), []);
    const again = await store.raiseAlarm(offline(T0 + 3 * MINUTE));
    assert.deepEqual((await store.alarms({ kind: 'offline' })).map((a) => a.id), [again.id, first.id]);
    assert.deepEqual((await store.alarms({ uncleared: true })).map((a) => a.kind), ['offline', null]);
    await assert.rejects(store.raiseAlarm(newAlarm(d.id, { kind: 'offline' })), 'a limit alarm has no kind');
    await assert.rejects(rawExec(`UPDATE ${table('alarms')} SET kind = 'integrity' WHERE id = ${again.id}`), /acknowledged once and cleared once/);
  });

  contractTest('retention: the horizon only moves forward, anchors each chain it cuts, and only rows below it are deleted, in chunks', async ({ store, rawExec, table }) => {
    const a = await store.addDevice(newDevice('91000001'), T0);
    const b = await store.addDevice(newDevice('91000002'), T0);
    assert.equal(await store.retentionHorizon(), undefined);
    assert.deepEqual(await store.chainAnchors(), []);
    const boundary = T0 + 10 * HOUR;
    // a: two uploads before the boundary (the second quarantined), one exactly at it whose late
    // sample falls in the hour of a purged one; b: one upload before; chain 0: a refusal before.
    await store.commit(batch(a.id, [sample(a.id, 1, T0, 1), sample(a.id, 2, T0, 50)]));
    const readings = [{ channel: 1, quantity: 'temperature', unit: 'C', value: 5.5, errorCode: null, alarm: 'no' as const, sampleTime: T0 + MINUTE }];
    const a2 = await store.commit(batch(a.id, [], { receivedAt: T0 + MINUTE, verdict: 'quarantined', reason: 'suspended' }, { quarantine: readings }));
    const b1 = await store.commit(batch(b.id, [sample(b.id, 1, T0 + 2 * MINUTE, 7)]));
    const r1 = await store.commit(batch(null, [], { receivedAt: T0 + 3 * MINUTE, verdict: 'refused', reason: 'unknown entry point', serial: null }));
    const a3 = await store.commit(batch(a.id, [sample(a.id, 1, T0 + 30 * MINUTE, 5), sample(a.id, 1, boundary, 6)], { receivedAt: boundary }));
    const [a2Hash, b1Hash, r1Hash] = await Promise.all([a2, b1, r1].map(async (r) => (await store.uploads({ afterId: r.uploadId - 1, limit: 1 }))[0].hash));
    await store.addEvent({ at: T0, deviceId: null, type: 'test.old', level: 'info', message: 'before the horizon' });

    assert.deepEqual(await store.previewRetention(boundary, null), {
      belowUploadId: a3.uploadId, uploads: 4, samples: 3, quarantined: 1, chains: 3, events: 0, alarms: 0,
    }, 'the upload received exactly at the boundary is kept');
    assert.equal(await store.retentionHorizon(), undefined, 'a preview changes nothing');

    const horizon = await store.advanceRetentionHorizon({ at: boundary + HOUR, dataBefore: boundary, auditBefore: null, setBy: 'admin', reason: 'GMP: 10 h for the test' });
    assert.deepEqual(horizon, {
      id: horizon.id, at: boundary + HOUR, dataBefore: boundary, belowUploadId: a3.uploadId, auditBefore: null, setBy: 'admin', reason: 'GMP: 10 h for the test',
    });
    assert.deepEqual(await store.retentionHorizon(), horizon);
    assert.deepEqual(await store.chainAnchors(), [
      { horizonId: horizon.id, chain: 0, uploadId: r1.uploadId, hash: r1Hash },
      { horizonId: horizon.id, chain: a.id, uploadId: a2.uploadId, hash: a2Hash },
      { horizonId: horizon.id, chain: b.id, uploadId: b1.uploadId, hash: b1Hash },
    ].sort((x, y) => x.chain - y.chain));
    const [advanced] = await store.events({ type: 'retention.horizon.advanced' });
    assert.equal(advanced.level, 'warning');
    assert.match(advanced.message, /^retention horizon advanced by admin: uploads and samples received before 2025-01-15T18:00:00\.123Z may be purged; events and alarms are kept\. Reason: GMP/);

    await assert.rejects(store.advanceRetentionHorizon({ at: boundary + 2 * HOUR, dataBefore: boundary - 1, auditBefore: null, setBy: 'admin', reason: 'back' }), /only moves forward/);
    // A second process that planned the same run (a moment later) finds the horizon already there.
    const again = await store.advanceRetentionHorizon({ at: boundary + HOUR + 5, dataBefore: boundary, auditBefore: null, setBy: 'housekeeping job', reason: 'retention.keepDays' });
    assert.deepEqual(again, horizon, 'nothing new to record: the standing horizon is returned');
    assert.equal((await store.retentionHorizons()).length, 1);
    assert.equal((await store.events({ type: 'retention.horizon.advanced' })).length, 1);
    await assert.rejects(rawExec(`DELETE FROM ${table('uploads')} WHERE id = ${a3.uploadId}`), /append-only/);
    await assert.rejects(rawExec(`DELETE FROM ${table('samples')} WHERE upload_id = ${a3.uploadId}`), /append-only/);
    await assert.rejects(rawExec(`DELETE FROM ${table('events')}`), /append-only/);
    await assert.rejects(rawExec(`UPDATE ${table('retention_horizons')} SET below_upload_id = 1`), /append-only/);
    await assert.rejects(rawExec(`DELETE FROM ${table('chain_anchors')}`), /append-only/);

    const chunks: PurgeChunk[] = [];
    for (;;) {
      const chunk = await store.purgeBelowHorizon({ rows: 2, uploads: 1 });
      if (Object.values(chunk).every((n) => n === 0)) break;
      chunks.push(chunk);
    }
    const total = (k: keyof PurgeChunk) => chunks.reduce((sum, c) => sum + c[k], 0);
    assert.deepEqual([total('samples'), total('uploads'), total('quarantined'), total('events'), total('alarms')], [3, 4, 1, 0, 0]);
    assert.ok(chunks.every((c) => c.samples <= 2 && c.uploads <= 1), 'chunks keep to their limits');
    assert.deepEqual((await store.uploads({})).map((u) => u.id), [a3.uploadId]);
    assert.deepEqual(await store.quarantined(a.id), []);
    assert.deepEqual((await store.samples(a.id, 1, 0, boundary + 1)).map((x) => x.value), [5, 6]);
    assert.deepEqual(await store.samples(a.id, 2, 0, boundary + 1), []);
    // The hour of the purged sample at T0 now summarises only the sample kept in it.
    assert.deepEqual((await store.series({ deviceId: a.id, channel: 1, from: T0, to: boundary + HOUR, bucketMs: HOUR })).map((p) => [p.min, p.max, p.count]),
      [[5, 5, 1], [6, 6, 1]]);
    assert.deepEqual(await store.series({ deviceId: a.id, channel: 2, from: T0, to: boundary, bucketMs: HOUR }), []);
    assert.equal((await store.events({ type: 'test.old' })).length, 1, 'events are kept when no audit horizon is set');

    // b's chain has no upload left: its next upload links to the anchor; ids are not reused.
    const b2 = await store.commit(batch(b.id, [sample(b.id, 1, boundary + HOUR, 8)], { receivedAt: boundary + HOUR }));
    const [b2Row] = await store.uploads({ deviceId: b.id });
    assert.ok(b2Row.prevHash.equals(b1Hash));
    assert.ok(b2.uploadId > a3.uploadId);
  });

  contractTest('retention is decided by the database: no horizon beyond its floor against its own clock; the hourly rollup follows the samples only', async ({ store, rawExec, table }) => {
    const d = await store.addDevice(newDevice('91000009'), T0);
    await store.commit(batch(d.id, [sample(d.id, 1, T0, 1), sample(d.id, 1, T0 + MINUTE, 2)]));
    // A wrong clock or setting on the gateway's side cannot reach data younger than the floor (0 days on SQLite: not beyond now).
    await assert.rejects(store.advanceRetentionHorizon({ at: Date.now(), dataBefore: Date.now() + 3_600_000, auditBefore: null, setBy: 'admin', reason: 'too far' }),
      /min_keep_days/);
    assert.equal(await store.retentionHorizon(), undefined);
    await assert.rejects(rawExec(`UPDATE ${table('sample_rollup_hour')} SET value_max = 999`), /kept by the (triggers on (inlet\.)?samples|sample writer)/);
    await assert.rejects(rawExec(`DELETE FROM ${table('sample_rollup_hour')}`), /kept by the (triggers on (inlet\.)?samples|sample writer)/);
    assert.deepEqual((await store.series({ deviceId: d.id, channel: 1, from: T0, to: T0 + HOUR, bucketMs: HOUR })).map((p) => [p.min, p.max, p.count]), [[1, 2, 2]]);
  });

  contractTest('retention: purging every upload keeps ids and chains going; the audit horizon purges old events and closed alarms only', async ({ store, rawExec, table }) => {
    const d = await store.addDevice(newDevice('91000003'), T0);
    const first = await store.commit(batch(d.id, [sample(d.id, 1, T0, 1)]));
    const last = await store.commit(batch(d.id, [sample(d.id, 1, T0 + MINUTE, 2)], { receivedAt: T0 + MINUTE }));
    const lastHash = (await store.uploads({ afterId: first.uploadId }))[0].hash;
    const closed = await store.raiseAlarm(newAlarm(d.id, { raisedAt: T0 }));
    await store.acknowledgeAlarm(closed.id, 'operator1', 'door closed', T0 + MINUTE);
    await store.clearAlarm(closed.id, T0 + 2 * MINUTE, 7);
    const stillOpen = await store.raiseAlarm(newAlarm(d.id, { raisedAt: T0 + 3 * MINUTE, channel: 2 }));
    const lateClosed = await store.raiseAlarm(newAlarm(d.id, { raisedAt: T0 + 4 * MINUTE, level: 'warning' }));
    await store.acknowledgeAlarm(lateClosed.id, 'operator1', 'known', T0 + 5 * MINUTE);
    await store.clearAlarm(lateClosed.id, T0 + 3 * HOUR, 7);
    await store.addEvent({ at: T0 + 2 * HOUR, deviceId: d.id, type: 'test.recent', level: 'info', message: 'after the audit horizon' });
    const auditBefore = T0 + HOUR;
    const eventsBefore = (await store.events({ limit: 1000 })).filter((e) => e.at < auditBefore).length;
    assert.ok(eventsBefore >= 6);

    const preview = await store.previewRetention(T0 + 10 * HOUR, auditBefore);
    assert.deepEqual(preview, { belowUploadId: last.uploadId + 1, uploads: 2, samples: 2, quarantined: 0, chains: 1, events: eventsBefore, alarms: 1 });
    await store.advanceRetentionHorizon({ at: T0 + 10 * HOUR, dataBefore: T0 + 10 * HOUR, auditBefore, setBy: 'housekeeping job', reason: 'retention.keepDays' });
    let removed = { events: 0, alarms: 0, uploads: 0 };
    for (let chunk = await store.purgeBelowHorizon({ rows: 1000, uploads: 1000 }); Object.values(chunk).some((n) => n > 0); chunk = await store.purgeBelowHorizon({ rows: 1000, uploads: 1000 })) {
      removed = { events: removed.events + chunk.events, alarms: removed.alarms + chunk.alarms, uploads: removed.uploads + chunk.uploads };
    }
    assert.deepEqual(removed, { events: eventsBefore, alarms: 1, uploads: 2 });
    assert.deepEqual(await store.uploads({}), []);
    assert.deepEqual((await store.alarms({})).map((x) => x.id), [lateClosed.id, stillOpen.id], 'open alarms and alarms closed after the horizon stay');
    assert.ok((await store.events({ limit: 1000 })).every((e) => e.at >= auditBefore));
    assert.equal((await store.events({ type: 'retention.horizon.advanced' })).length, 1, 'the record of the purge itself stays');
    await assert.rejects(rawExec(`DELETE FROM ${table('alarms')} WHERE id = ${stillOpen.id}`), /kept for the audit trail/);
    await assert.rejects(rawExec(`DELETE FROM ${table('events')} WHERE type = 'test.recent'`), /append-only/);

    const next = await store.commit(batch(d.id, [sample(d.id, 1, T0 + 11 * HOUR, 3)], { receivedAt: T0 + 11 * HOUR }));
    assert.ok(next.uploadId > last.uploadId, `id ${next.uploadId} is not reused`);
    assert.ok((await store.uploads({}))[0].prevHash.equals(lastHash), 'the chain continues from its anchor');
    await assert.rejects(rawExec(`DELETE FROM ${table('uploads')}`), /append-only/);
  });

  contractTest('channelSamples: the same samples as samples(), as columns, NaN for no value and no error code', async ({ store }) => {
    const device = await store.addDevice(newDevice('97000001'), T0);
    await store.commit(batch(device.id, [sample(device.id, 1, T0 + 2 * MINUTE, 4.25), sample(device.id, 1, T0, 3.5), sample(device.id, 1, T0 + MINUTE, null, 9999), sample(device.id, 2, T0, 50)]));
    const c = await store.channelSamples(device.id, 1, T0, T0 + 3 * MINUTE);
    assert.equal(c.length, 3);
    assert.deepEqual([...c.time], [T0, T0 + MINUTE, T0 + 2 * MINUTE]);
    assert.deepEqual([...c.value], [3.5, Number.NaN, 4.25]);
    assert.deepEqual([...c.errorCode], [Number.NaN, 9999, Number.NaN]);
    assert.equal((await store.channelSamples(device.id, 1, T0 + 3 * MINUTE, T0 + 4 * MINUTE)).length, 0);
  });

  contractTest('reports: an issued report is found by code and by file hash, with its signature; each is an event; nothing changes it', async ({ store, rawExec, table }) => {
    const issued = {
      code: 'AAAA-BBBB-CCCC-DDDD', fileSha256: 'a'.repeat(64), contentSha256: 'b'.repeat(64), generatedAt: T0, generatedBy: 'qa',
      request: { title: 'Hall A', period: '2025-01' }, signature: null,
    };
    await store.recordIssuedReport(issued);
    const signed = { ...issued, code: 'EEEE-FFFF-GGGG-HHHH', fileSha256: 'c'.repeat(64), generatedAt: T0 + MINUTE, signature: { by: 'boss', at: T0 + MINUTE, meaning: 'approved', signsCode: issued.code } };
    await store.recordIssuedReport(signed);
    assert.deepEqual(await store.findIssuedReport({ code: issued.code }), issued);
    assert.deepEqual(await store.findIssuedReport({ fileSha256: 'c'.repeat(64) }), signed);
    assert.equal(await store.findIssuedReport({ fileSha256: 'd'.repeat(64) }), undefined);
    assert.deepEqual((await store.events({ limit: 10 })).filter((e) => e.type.startsWith('report.')).map((e) => [e.type, e.data?.code]),
      [['report.signed', signed.code], ['report.issued', issued.code]]);
    await assert.rejects(store.recordIssuedReport(issued), 'a code is issued once');
    await assert.rejects(rawExec(`UPDATE ${table('issued_reports')} SET generated_by = 'mallory'`));
    assert.equal((await store.findIssuedReport({ code: issued.code }))?.generatedBy, 'qa');
  });

  contractTest('reports: schedules are added, changed and removed with an event naming old and new; names are unique among live ones', async ({ store }) => {
    const input = { name: 'Hall A monthly', scope: 'location' as const, location: 'Hall A', deviceIds: [], period: 'monthly' as const, mailTo: ['qa@example.com'], folder: '', enabled: true };
    const added = (await store.saveReportSchedule(undefined, input, 'admin', 'QA asked', T0))!;
    assert.deepEqual({ ...added, id: 0 }, { ...input, id: 0, updatedAt: T0, updatedBy: 'admin' });
    await assert.rejects(store.saveReportSchedule(undefined, input, 'admin', '', T0), /already exists/);
    const changed = await store.saveReportSchedule(added.id, { ...input, period: 'weekly', folder: '\\\\fs\\qa' }, 'admin2', 'weekly now', T0 + MINUTE);
    assert.equal(changed?.period, 'weekly');
    assert.equal(changed?.folder, '\\\\fs\\qa');
    assert.equal(await store.saveReportSchedule(added.id + 100, input, 'admin', '', T0), undefined);
    assert.deepEqual((await store.listReportSchedules()).map((s) => s.name), ['Hall A monthly']);
    assert.equal(await store.removeReportSchedule(added.id, 'admin', 'room closed', T0 + 2 * MINUTE), true);
    assert.equal(await store.removeReportSchedule(added.id, 'admin', 'again', T0 + 2 * MINUTE), false);
    assert.deepEqual(await store.listReportSchedules(), []);
    await store.saveReportSchedule(undefined, input, 'admin', 'the name is free again', T0 + 3 * MINUTE);
    const events = (await store.events({ type: 'report.schedule.changed', limit: 10 })).reverse();
    assert.deepEqual(events.map((e) => [(e.data?.old as { period?: string } | null)?.period ?? null, (e.data?.new as { period?: string } | null)?.period ?? null, e.data?.by]),
      [[null, 'monthly', 'admin'], ['monthly', 'weekly', 'admin2'], ['weekly', null, 'admin'], [null, 'monthly', 'admin']]);
  });

  contractTest('refusal archive: prefix, length and SHA-256 read back; events written with them; pruned to the row cap and the age', async ({ store }) => {
    const refusal = (i: number, receivedAt: number) => ({
      receivedAt, deviceId: null, family: 'logger', remoteAddress: '192.0.2.66', contentType: 'application/json', status: 400,
      reasonCode: 'malformed', reason: `malformed JSON ${i}`, serial: null, bodyLength: 16 * 1024 * 1024,
      bodySha256: Buffer.alloc(32, i), bodyPrefix: Buffer.from(`{"prefix":${i}`),
    });
    const event = { at: T0, deviceId: null, type: 'upload.refused', level: 'warning' as const, message: 'upload refused: malformed JSON', data: { count: 3 } };
    await store.archiveRefusals([refusal(1, T0), refusal(2, T0 + 1000), refusal(3, T0 + 2000)], [event], { maxRows: 100, keepSince: 0 });
    const all = await store.refusals({});
    assert.deepEqual(all.map((r) => r.reason), ['malformed JSON 1', 'malformed JSON 2', 'malformed JSON 3'], 'oldest first');
    assert.equal(all[0].receivedAt, T0);
    assert.equal(all[0].bodyLength, 16 * 1024 * 1024);
    assert.ok(all[0].bodySha256.equals(Buffer.alloc(32, 1)));
    assert.equal(all[0].bodyPrefix.toString(), '{"prefix":1');
    assert.equal(all[0].reasonCode, 'malformed');
    assert.deepEqual((await store.events({ type: 'upload.refused' })).map((e) => e.data), [{ count: 3 }]);
    assert.equal((await store.uploads({})).length, 0, 'nothing joins a device chain');
    // the row cap keeps the newest rows; the age limit drops the old ones
    await store.archiveRefusals([refusal(4, T0 + 3000), refusal(5, T0 + 4000)], [], { maxRows: 3, keepSince: 0 });
    assert.deepEqual((await store.refusals({})).map((r) => r.reason), ['malformed JSON 3', 'malformed JSON 4', 'malformed JSON 5']);
    await store.archiveRefusals([], [], { maxRows: 3, keepSince: T0 + 3500 });
    assert.deepEqual((await store.refusals({})).map((r) => r.reason), ['malformed JSON 5']);
    assert.deepEqual((await store.refusals({ afterId: all[2].id + 10 })).map((r) => r.reason), []);
  });

  // Issue 19: raw bodies on a retention of their own, incremental verification, partitions (SQL Server).
  const mssql = name.startsWith('mssql');
  const DAY = 24 * HOUR;

  contractTest('raw-body retention: bodies emptied with their SHA-256 and length kept, chains still verify, an event per chunk; nothing else of an upload changes', async ({ store, rawExec, table }) => {
    const device = await store.addDevice(newDevice('19000001'), T0);
    const bodies = ['<first/>', '<second upload="1"/>', '<third/>'].map((b) => Buffer.from(b));
    const ids: number[] = [];
    for (const [i, raw] of bodies.entries()) ids.push((await store.commit(batch(device.id, [sample(device.id, 1, T0 + i * MINUTE, 4 + i)], { raw }))).uploadId);
    // SQL Server counts the days back from its own clock, never below its floor (30 days): T0 is far older.
    const request = { before: Date.now() - 40 * DAY, limit: 2, at: Date.now(), setBy: 'housekeeping job', reason: 'retention.bodyKeepDays = 40' };
    const first = await store.purgeUploadBodies(request);
    assert.deepEqual([first.bodies, first.firstUploadId, first.lastUploadId], [2, ids[0], ids[1]]);
    assert.equal(first.bytes, bodies[0].length + bodies[1].length);
    assert.equal((await store.purgeUploadBodies(request)).bodies, 1);
    assert.equal((await store.purgeUploadBodies(request)).bodies, 0, 'nothing left: no event either');
    const uploads = await store.uploads({ limit: 10 });
    assert.deepEqual(uploads.map((u) => u.raw.length), [0, 0, 0]);
    const purges = await store.uploadBodyPurges(ids[0], ids[2]);
    assert.deepEqual(purges.map((p) => [p.uploadId, p.rawLength, p.rawSha256.toString('hex')]),
      bodies.map((b, i) => [ids[i], b.length, createHash('sha256').update(b).digest('hex')]));
    // The chain covers the body's SHA-256, which is kept: every link still recomputes.
    let prev: Uint8Array = GENESIS_HASH;
    for (const [i, u] of uploads.entries()) {
      const digest = samplesDigest([sample(device.id, 1, T0 + i * MINUTE, 4 + i)]);
      assert.ok(u.hash.equals(uploadHash(prev, { ...u, rawSha256: purges[i].rawSha256 }, digest)), `upload ${u.id} still verifies`);
      assert.ok(!u.hash.equals(uploadHash(prev, u, digest)), 'and only with the kept digest');
      prev = u.hash;
    }
    const events = await store.events({ type: 'retention.bodies.purged' });
    assert.equal(events.length, 2);
    assert.ok(events.every((e) => /^raw bodies purged by .*Reason: retention\.bodyKeepDays = 40/.test(e.message)), events.map((e) => e.message).join('\n'));
    // Only an emptied body recorded as purged: no other column, no body without its purge row.
    await assert.rejects(rawExec(`UPDATE ${table('uploads')} SET reason = 'changed' WHERE id = ${ids[0]}`), /append-only/);
    const another = (await store.commit(batch(device.id, [sample(device.id, 1, T0 + 9 * MINUTE, 1)]))).uploadId;
    await assert.rejects(rawExec(`UPDATE ${table('uploads')} SET raw = ${mssql ? '0x' : "X''"} WHERE id = ${another}`), /append-only/);
    assert.ok((await store.uploads({ afterId: ids[2] }))[0].raw.length > 0);
  });

  contractTest('raw-body retention keeps what is younger than the database\'s floor', async ({ store }) => {
    const device = await store.addDevice(newDevice('19000002'), T0);
    const now = Date.now();
    await store.commit(batch(device.id, [sample(device.id, 1, now - HOUR, 4)], { receivedAt: now - HOUR }));
    if (mssql) {
      // Asked for one day, SQL Server keeps its floor of 30.
      assert.equal((await store.purgeUploadBodies({ before: now - DAY, limit: 10, at: now, setBy: 'x', reason: 'y' })).bodies, 0);
    } else {
      // SQLite's floor is 0 until raised; the request's own date then decides.
      assert.equal((await store.purgeUploadBodies({ before: now - DAY, limit: 10, at: now, setBy: 'x', reason: 'y' })).bodies, 0);
      assert.equal((await store.purgeUploadBodies({ before: now, limit: 10, at: now, setBy: 'x', reason: 'y' })).bodies, 1);
    }
  });

  contractTest('verification progress: appended rows linked to the latest one, read back, never changed; last uploads before an id per chain', async ({ store, rawExec }) => {
    assert.equal(await store.verifyProgress(), undefined);
    const zero = Buffer.alloc(32);
    const mac1 = Buffer.alloc(32, 1);
    const row = { at: T0, mode: 'full' as const, verifiedThrough: 12, rollingCursor: 13, rollingEnd: 12, rollingNights: 7, prevMac: zero, mac: mac1 };
    await store.addVerifyProgress(row);
    const read = await store.verifyProgress();
    assert.deepEqual({ ...read, id: 0 }, { ...row, id: 0 });
    await assert.rejects(store.addVerifyProgress({ ...row, mode: 'incremental', prevMac: zero, mac: Buffer.alloc(32, 2) }), /link to the latest/);
    await store.addVerifyProgress({ ...row, mode: 'incremental', verifiedThrough: 20, prevMac: mac1, mac: Buffer.alloc(32, 2) });
    assert.equal((await store.verifyProgress())?.verifiedThrough, 20);
    await assert.rejects(rawExec(`UPDATE ${mssql ? 'inlet.verify_progress' : 'verify_progress'} SET verified_through = 99`), /append-only/);
    await assert.rejects(rawExec(`DELETE FROM ${mssql ? 'inlet.verify_progress' : 'verify_progress'}`), /append-only/);

    const a = await store.addDevice(newDevice('19000003'), T0);
    const b = await store.addDevice(newDevice('19000004'), T0);
    const ids: number[] = [];
    for (const [i, d] of [a, b, a, b, a].entries()) ids.push((await store.commit(batch(d.id, [sample(d.id, 1, T0 + i * MINUTE, i)]))).uploadId);
    const last = await store.lastUploadsBefore(ids[4]);
    const uploads = new Map((await store.uploads({})).map((u) => [u.id, u]));
    assert.deepEqual(last.map((l) => [l.chain, l.uploadId, l.hash.toString('hex')]),
      [[a.id, ids[2], uploads.get(ids[2])!.hash.toString('hex')], [b.id, ids[3], uploads.get(ids[3])!.hash.toString('hex')]].sort((x, y) => Number(x[0]) - Number(y[0])));
    assert.deepEqual(await store.lastUploadsBefore(ids[0]), []);
  });

  test(`${name}: retention switches whole upload-id partitions out below the horizon, rollup and latest values following`, { skip: skip ?? (mssql ? undefined : 'SQL Server only: SQLite has no partitions') }, async () => {
    const { store, rawExec, dispose } = await factory();
    try {
      await store.migrate();
      const device = await store.addDevice(newDevice('19000005'), T0);
      // Ids in three partitions of the default 5,000,000-id width: the sequence is moved on between them (as the owner).
      const at = (i: number) => T0 + i * HOUR;
      const commitAt = async (i: number) => (await store.commit(batch(device.id, [sample(device.id, 1, at(i), i), sample(device.id, 2, at(i), 50 + i)], { receivedAt: at(i) }))).uploadId;
      const first = [await commitAt(0), await commitAt(1)];
      await rawExec('ALTER SEQUENCE inlet.upload_id RESTART WITH 5000001;');
      const second = [await commitAt(2), await commitAt(3)];
      await rawExec('ALTER SEQUENCE inlet.upload_id RESTART WITH 10000001;');
      const kept = await commitAt(4);
      assert.ok(first[1] < 5_000_001 && second[0] >= 5_000_001 && second[1] < 10_000_001 && kept >= 10_000_001, JSON.stringify({ first, second, kept }));
      const horizon = await store.advanceRetentionHorizon({ at: at(5), dataBefore: at(4), auditBefore: null, setBy: 'admin', reason: 'partition test' });
      assert.equal(horizon.belowUploadId, kept);
      const switched = await store.switchOutBelowHorizon!(10);
      assert.deepEqual(switched, { partitions: 2, uploads: 4, samples: 8 });
      assert.deepEqual((await store.uploads({})).map((u) => u.id), [kept]);
      assert.deepEqual(Object.values(await store.purgeBelowHorizon({ rows: 100, uploads: 100 })).every((n) => n === 0), true, 'nothing left for row deletes');
      // The rollup (what hour buckets read) holds only the kept hour; the latest value is the kept sample's.
      assert.deepEqual((await store.series({ deviceId: device.id, channel: 1, from: T0 - DAY, to: T0 + DAY, bucketMs: HOUR })).map((p) => p.time), [Math.floor(at(4) / HOUR) * HOUR]);
      assert.deepEqual((await store.latestValues(device.id)).map((v) => [v.channel, v.time]), [[1, at(4)], [2, at(4)]]);
      const events = await store.events({ type: 'retention.partition.switched' });
      assert.equal(events.length, 2);
      assert.match(events[0].message, /switched out and truncated/);
      // Empty partitions ahead of the highest id.
      const ahead = await store.addUploadPartitions!();
      assert.ok(ahead.lastBoundary > kept + 5_000_000, JSON.stringify(ahead));
      assert.equal((await store.addUploadPartitions!()).added, 0, 'enough ahead: nothing added');
      // The chain still verifies from its anchor.
      const anchors = await store.chainAnchors();
      assert.deepEqual(anchors.map((x) => x.uploadId), [second[1]]);
      assert.ok((await store.uploads({}))[0].prevHash.equals(anchors[0].hash));
    } finally {
      await dispose();
    }
  });
}

/**
 * Recomputes every chain from the stored uploads. `submitted` holds the samples each upload was
 * committed with; the samples it newly stored are those not submitted by an earlier upload (ids
 * follow commit order), which is the rule the hash digest must follow. Returns the uploads checked.
 */
async function verifyChains(store: Store, submitted: Map<number, SampleRow[]>): Promise<number> {
  const uploads = await store.uploads({ limit: 100_000 });
  const heads = new Map<number | null, Uint8Array>();
  const alreadyStored = new Set<string>();
  for (const u of uploads) {
    const stored = (submitted.get(u.id) ?? []).filter((s) => {
      const key = `${s.deviceId}|${s.channel}|${s.time}`;
      if (alreadyStored.has(key)) return false;
      alreadyStored.add(key);
      return true;
    });
    const prev = heads.get(u.deviceId) ?? GENESIS_HASH;
    assert.ok(u.prevHash.equals(prev), `upload ${u.id}: prev_hash is the hash of the device's previous upload`);
    assert.ok(u.hash.equals(uploadHash(prev, u, samplesDigest(stored))), `upload ${u.id}: hash recomputes`);
    heads.set(u.deviceId, u.hash);
  }
  return uploads.length;
}

/** Commits and remembers what each upload was committed with, for verifyChains. */
function recordingCommit(store: Store, submitted: Map<number, SampleRow[]>) {
  return async (b: Batch): Promise<CommitResult> => {
    const r = await store.commit(b);
    submitted.set(r.uploadId, b.samples);
    return r;
  };
}
