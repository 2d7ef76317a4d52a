// The journal's apply on SQLite writes a whole group in one pass, samples sorted by key across
// uploads. It must store exactly what writing the same batches one by one stores: the same upload
// ids, verdicts (a resend is 'duplicate'; of two equal keys in one group the earlier stores the
// sample), samples, chain hashes, events and device rows; and a chunk applied again is a no-op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { decodeBatch, encodeBatch } from '../../src/store/spool/record-codec.ts';
import { packJournalRecords, packWriteGroup } from '../../src/store/sqlite/write-group.ts';
import { Journal } from '../../src/store/spool/journal.ts';
import { JOURNAL_AUTOCHECKPOINT_PAGES, SMALL_APPLY_CHUNK_BYTES, STEADY_JOURNAL_AUTOCHECKPOINT_PAGES, UPLOAD_ROWS_PER_INSERT, journalCheckpointPages } from '../../src/store/sqlite/writer.ts';
import type { Batch, SampleRow } from '../../src/domain/types.ts';

const T0 = 1_700_000_000_000;
const KEY = new Uint8Array(32).fill(7);
const JOURNAL_ID = '00000000-0000-4000-8000-000000000001';

function sample(deviceId: number, channel: number, minute: number, value: number | null): SampleRow {
  return { deviceId, channel, time: T0 + minute * 60_000, value, errorCode: value === null ? 9999 : null, alarm: value !== null && value > 30 ? 'hi' : 'no' };
}

function upload(deviceId: number, n: number, samples: SampleRow[], extra: Partial<Batch> = {}): Batch {
  return {
    upload: { deviceId, family: 'soap', receivedAt: T0 + n, remoteAddress: '192.0.2.9', contentType: 'text/xml', raw: Buffer.from(`<upload ${deviceId}/${n}>`), verdict: 'accepted', reason: 'ok', serial: String(deviceId), counter: n, uploadKey: `key-${n}` },
    samples, channels: [], events: [], quarantine: null,
    deviceSeen: { deviceId, at: T0 + n, declaredIntervalS: n % 3 === 0 ? null : 60 + n }, suspend: null,
    ...extra,
  };
}

/** Interleaved devices and channels; a resend of stored samples; a key repeated inside the group; an error sample; events; a refused upload. */
function scenario(a: number, b: number): { before: Batch[]; group: Batch[] } {
  const before = [upload(a, 1, [sample(a, 1, 0, 20), sample(a, 2, 0, 40)])];
  const group = [
    upload(b, 2, [sample(b, 1, 5, 21.5), sample(b, 2, 5, 44), sample(b, 3, 5, null)], { channels: [{ deviceId: b, channel: 3, quantity: 'dew_point', unit: '°C' }] }),
    upload(a, 3, [sample(a, 1, 1, 20.1), sample(a, 2, 1, 41)]),
    upload(a, 4, [sample(a, 1, 0, 20), sample(a, 2, 0, 40)]), // a resend of upload 1: duplicate
    upload(b, 5, [sample(b, 1, 6, 22), sample(b, 2, 5, 99)]), // (b, 2, minute 5) already in upload 2 of this group
    upload(b, 6, [sample(b, 1, 6, 23)]), // entirely in upload 5 of this group: duplicate
    upload(a, 7, [sample(a, 1, 2, 31)], { events: [{ at: T0 + 7, deviceId: a, type: 'device.alarm', level: 'alarm', message: 'high', data: { channel: 1 } }] }),
    { ...upload(a, 8, []), upload: { ...upload(a, 8, []).upload, verdict: 'refused' as const, reason: 'bad body' }, deviceSeen: null },
    upload(b, 9, Array.from({ length: 150 }, (_, i) => sample(b, 1 + (i % 2), 10 + i, i / 2))), // over 64 rows: multi-row statements
  ];
  return { before, group };
}

async function newStore(dir: string, name: string): Promise<{ store: SqliteStore; a: number; b: number; file: string }> {
  const file = path.join(dir, `${name}.sqlite`);
  const store = new SqliteStore({ file });
  await store.migrate();
  store.useChainKey(KEY);
  const add = (serial: string) => store.addDevice({ family: 'soap', serial, modelCode: 4145, model: 'T3510', name: serial, entryToken: `tok-${serial}`, channels: [] }, 1);
  const [a, b] = [(await add('1001')).id, (await add('1002')).id];
  return { store, a, b, file };
}

function dump(file: string): Record<string, unknown[]> {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all().map((r) => ({ ...r }));
    return {
      uploads: all('SELECT id, device_id, verdict, reason, counter, hex(prev_hash) AS prev, hex(hash) AS hash, upload_key FROM uploads ORDER BY id'),
      samples: all('SELECT device_id, channel, time, value, error_code, alarm, upload_id FROM samples ORDER BY device_id, channel, time'),
      rollup: all('SELECT * FROM sample_rollup_hour ORDER BY device_id, channel, hour_start'),
      channels: all('SELECT * FROM channels ORDER BY device_id, channel'),
      events: all("SELECT at, device_id, type, data FROM events WHERE type = 'device.alarm' ORDER BY id"),
      devices: all('SELECT id, last_seen_at, declared_interval_s FROM devices ORDER BY id'),
    };
  } finally {
    db.close();
  }
}

test('a group applied in key order stores exactly what the same batches store one by one', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-apply-'));
  try {
    const one = await newStore(dir, 'one-by-one');
    const grouped = await newStore(dir, 'grouped');
    try {
      const s1 = scenario(one.a, one.b);
      const s2 = scenario(grouped.a, grouped.b);
      for (const b of [...s1.before, ...s1.group]) await one.store.commit(b);
      for (const b of s2.before) await grouped.store.commit(b);
      const results = await grouped.store.applyBatches(s2.group, s2.group.map(() => false));
      assert.deepEqual(results.map((r) => (r instanceof Error ? r.message : r.verdict)),
        ['accepted', 'accepted', 'duplicate', 'accepted', 'duplicate', 'accepted', 'refused', 'accepted']);
      assert.deepEqual(results.map((r) => (r instanceof Error ? -1 : r.samplesStored)), [3, 2, 0, 1, 0, 1, 0, 150]);
    } finally {
      await one.store.close();
      await grouped.store.close();
    }
    const [expected, actual] = [dump(one.file), dump(grouped.file)];
    for (const table of Object.keys(expected)) assert.deepEqual(actual[table], expected[table], table);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a group of more uploads than one multi-row insert takes, with quarantined readings and events among them, stores what one by one stores', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-apply-'));
  try {
    const one = await newStore(dir, 'one-by-one');
    const grouped = await newStore(dir, 'grouped');
    const many = (a: number, b: number): Batch[] => Array.from({ length: 2 * UPLOAD_ROWS_PER_INSERT + 7 }, (_, n) => {
      const d = n % 3 === 0 ? b : a;
      const batch = upload(d, 100 + n, [sample(d, 1 + (n % 2), 10 + n, n % 5 === 0 ? null : n / 4)]);
      if (n === 40) return { ...batch, upload: { ...batch.upload, verdict: 'quarantined' as const, reason: 'suspended' }, samples: [],
        quarantine: [{ channel: 1, quantity: 'temperature', unit: 'C', value: 1, errorCode: null, alarm: 'no' as const, sampleTime: T0 }] };
      if (n === 33 || n === 34) return { ...batch, events: [{ at: T0 + n, deviceId: d, type: 'device.alarm', level: 'alarm' as const, message: 'high', data: { channel: 1 } }] };
      return batch;
    });
    try {
      for (const b of many(one.a, one.b)) await one.store.commit(b);
      const group = many(grouped.a, grouped.b);
      const results = await grouped.store.applyBatches(group, group.map(() => false));
      assert.ok(results.every((r) => !(r instanceof Error)));
    } finally {
      await one.store.close();
      await grouped.store.close();
    }
    const [expected, actual] = [dump(one.file), dump(grouped.file)];
    assert.equal(expected.uploads.length, 2 * UPLOAD_ROWS_PER_INSERT + 7);
    for (const table of Object.keys(expected)) assert.deepEqual(actual[table], expected[table], table);
    const rows = (file: string, sql: string) => {
      const db = new DatabaseSync(file, { readOnly: true });
      try { return db.prepare(sql).all().map((r) => ({ ...r })); } finally { db.close(); }
    };
    // Every column of every uploads row, as the multi-row statements bound them.
    assert.deepEqual(rows(grouped.file, 'SELECT * FROM uploads ORDER BY id'), rows(one.file, 'SELECT * FROM uploads ORDER BY id'));
    assert.deepEqual(rows(grouped.file, 'SELECT * FROM quarantine'), rows(one.file, 'SELECT * FROM quarantine'));
    assert.equal(rows(grouped.file, 'SELECT * FROM quarantine').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The scenario's batches (before and group) journaled in one group in `dir`/journal, as the journal would. */
async function journalOfScenario(dir: string, a: number, b: number): Promise<{ journal: Journal; start: number; bytes: Buffer }> {
  const { before, group } = scenario(a, b);
  const journal = new Journal(path.join(dir, 'journal'));
  await journal.open();
  // The journal derives upload keys from positions; records carry none of their own.
  const payloads = [...before, ...group].map((batch) => encodeBatch({ ...batch, upload: { ...batch.upload, uploadKey: undefined } }));
  const { start, bytes } = await journal.appendGroup(payloads, T0);
  return { journal, start, bytes };
}

test('journal records applied on the write thread are stored once, even when the same chunk comes again after a crash', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-apply-'));
  try {
    const { store, a, b, file } = await newStore(dir, 'journal');
    const { journal, start, bytes } = await journalOfScenario(dir, a, b);
    const chunk = { bytes, position: start, journalId: JOURNAL_ID, maybeStoredBefore: 0, sync: true };
    const first = await store.applyJournal(chunk);
    assert.deepEqual(first, { applied: 9, durable: true, refused: [] });
    const once = dump(file);
    assert.equal(once.uploads.length, 9);
    assert.ok(once.uploads.every((u) => /^0{8}-0{4}-4000-8000-0{11}1:[0-9a-f]{12}$/.test((u as { upload_key: string }).upload_key)));
    // The same records again, as after a kill -9 between the commit and the cursor: marked as maybe stored.
    const again = await store.applyJournal({ ...chunk, maybeStoredBefore: start + bytes.length });
    assert.deepEqual(again, { applied: 9, durable: false, refused: [] }, 'a replay that writes nothing syncs nothing');
    await store.close();
    await journal.close();
    assert.deepEqual(dump(file), once, 'nothing stored twice');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal records packed for the write thread straight from their bytes make the group that decoding them to objects makes', () => {
  const { before, group } = scenario(1, 2);
  const batches = [...before, ...group].map((b, i) => ({ ...b, upload: { ...b.upload, uploadKey: i === 3 ? 'own-key' : undefined } }));
  batches[2] = { ...batches[2], quarantine: { reason: 'before registration', readings: [] } as unknown as Batch['quarantine'] };
  const payloads = batches.map(encodeBatch);
  // A record of the journal's earlier format: JSON with the raw body in base64 and a key of its own.
  payloads[5] = Buffer.from(JSON.stringify({ ...batches[5], upload: { ...batches[5].upload, raw: batches[5].upload.raw.toString('base64'), uploadKey: 'json-key' } }));
  const keyOf = (i: number) => `journal:${i}`;
  const maybeStored = payloads.map((_, i) => i % 2 === 0);
  const expected = packWriteGroup(payloads.map((p, i) => {
    const b = decodeBatch(p);
    b.upload.uploadKey ??= keyOf(i);
    return b;
  }), maybeStored);
  const actual = packJournalRecords(payloads, keyOf, maybeStored);
  assert.deepEqual(actual, expected);
  assert.deepEqual([...actual.samples.value].slice(0, 5).map((v) => (Number.isNaN(v) ? null : v)), [20, 40, 21.5, 44, null], 'an error sample has no value');
  assert.deepEqual(actual.batches.map((b) => b.upload.uploadKey), ['journal:0', 'journal:1', 'journal:2', 'own-key', 'journal:4', 'json-key', 'journal:6', 'journal:7', 'journal:8']);

  // Records of this version split from one chunk: the group reads each body where it lies in the chunk.
  const current = batches.map(encodeBatch);
  const chunk = Buffer.concat([Buffer.from('framing'), ...current.flatMap((p) => [p, Buffer.from('..')])]);
  let at = 'framing'.length;
  const views = current.map((p) => { const v = chunk.subarray(at, at + p.length); at += p.length + 2; return v; });
  const inPlace = packJournalRecords(views, keyOf, maybeStored);
  const copied = packJournalRecords(current, keyOf, maybeStored);
  assert.equal(inPlace.raw.buffer, chunk.buffer, 'no copy of the bodies');
  const bodies = (g: typeof copied) => g.batches.map((b) => Buffer.from(g.raw.subarray(b.upload.rawStart, b.upload.rawEnd)).toString());
  assert.deepEqual(bodies(inPlace), batches.map((b) => b.upload.raw.toString()));
  assert.deepEqual(bodies(copied), bodies(inPlace));
  const withoutBodies = (g: typeof copied) => ({ ...g, raw: null, batches: g.batches.map((b) => ({ ...b, upload: { ...b.upload, rawStart: 0, rawEnd: 0 } })) });
  assert.deepEqual(withoutBodies(inPlace), withoutBodies(copied));
});

test('the hourly rollup is the aggregate of the samples, whichever path stored them (migration 040: written per group, not per sample)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-apply-'));
  try {
    const { store, a, b, file } = await newStore(dir, 'rollup');
    try {
      const { before, group } = scenario(a, b);
      // One by one (writeBatch), then a group (writeSorted) holding resends and a key repeated inside it.
      for (const batch of before) await store.commit(batch);
      await store.applyBatches(group, group.map(() => false));
      // A logger backlog over three hours, errors among its values, a time repeated inside it and half of it stored before.
      const backlog = Array.from({ length: 400 }, (_, i) => sample(a, 1 + (i % 3), 100 + Math.floor(i / 3) * 2, i % 7 === 0 ? null : 15 + (i % 11) / 4));
      await store.commit(upload(a, 10, backlog.slice(0, 200)));
      await store.commit(upload(a, 11, [...backlog, backlog[5]]));
      await store.applyBatches([upload(b, 12, backlog.map((s) => ({ ...s, deviceId: b }))), upload(b, 13, backlog.slice(100).map((s) => ({ ...s, deviceId: b, time: s.time + 1 })))], [false, false]);
      // More hours in one group than one multi-row upsert takes (40 channels), some of them already rolled up.
      await store.commit(upload(a, 17, Array.from({ length: 10 }, (_, c) => sample(a, 10 + c, 2000, c))));
      await store.applyBatches([upload(a, 18, Array.from({ length: 40 }, (_, c) => sample(a, 10 + c, 2001, c % 4 === 0 ? null : 100 - c)))], [false]);
      // The journal's own bytes (applyJournal) and a quarantine import.
      const journal = new Journal(path.join(dir, 'journal'));
      await journal.open();
      const records = [upload(b, 14, [sample(b, 1, 500, 3), sample(b, 1, 501, null), sample(b, 2, 500, 4)]), upload(a, 15, [sample(a, 2, 502, 50)])]
        .map((batch) => encodeBatch({ ...batch, upload: { ...batch.upload, uploadKey: undefined } }));
      const { start, bytes } = await journal.appendGroup(records, T0);
      assert.equal((await store.applyJournal({ bytes, position: start, journalId: JOURNAL_ID, maybeStoredBefore: 0, sync: true })).applied, 2);
      await journal.close();
      const readings = [{ channel: 1, quantity: 'temperature', unit: 'C', value: 7.5, errorCode: null, alarm: 'no' as const, sampleTime: T0 + 900 * 60_000 },
        { channel: 1, quantity: 'temperature', unit: 'C', value: null, errorCode: 9999, alarm: 'no' as const, sampleTime: T0 + 901 * 60_000 }];
      await store.commit({ ...upload(b, 16, []), upload: { ...upload(b, 16, []).upload, verdict: 'quarantined', reason: 'suspended' }, quarantine: readings });
      assert.equal((await store.releaseQuarantine(b, true, T0 + 1000 * 60_000)).samplesImported, 2);

      assert.deepEqual(await store.rollupMismatches(null, 100), [], 'every hour agrees with its samples');
      const db = new DatabaseSync(file, { readOnly: true });
      const [hours, samples] = [db.prepare('SELECT COUNT(*) AS n, SUM(sample_count) AS s FROM sample_rollup_hour').get() as { n: number; s: number },
        db.prepare('SELECT COUNT(*) AS n FROM samples').get() as { n: number }];
      db.close();
      assert.equal(hours.s, samples.n);
      assert.ok(hours.n >= 15, `${hours.n} hours`);
      // A sample written around the writer is not rolled up: verify names its hour.
      const raw = new DatabaseSync(file);
      raw.exec(`INSERT INTO samples (device_id, channel, time, value, error_code, alarm, upload_id) VALUES (${a}, 1, ${T0 + 5000 * 60_000}, 1, NULL, 'no', 1)`);
      raw.close();
      assert.deepEqual((await store.rollupMismatches(null, 100)).map((m) => [m.deviceId, m.channel, m.stored]), [[a, 1, 'nothing']]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chunk whose bytes are its own moves to the write thread without a copy; a cached group\'s bytes are copied and stay usable', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-move-'));
  try {
    const { store, a, b, file } = await newStore(dir, 'move');
    const { journal, start, bytes } = await journalOfScenario(dir, a, b);
    // The cached group's own bytes (a retry would use them again): copied.
    const kept = Buffer.from(bytes);
    const first = await store.applyJournal({ bytes: kept, position: start, journalId: JOURNAL_ID, maybeStoredBefore: 0, sync: true, bytesMovable: false });
    assert.equal(first.applied, 9);
    assert.equal(kept.byteLength, bytes.byteLength, 'bytes not marked movable are left where they are');
    // Joined or read-back bytes: moved (the buffer is detached here, the write thread owns it).
    const own = Buffer.alloc(bytes.byteLength);
    bytes.copy(own);
    const again = await store.applyJournal({ bytes: own, position: start, journalId: JOURNAL_ID, maybeStoredBefore: start + bytes.length, sync: true, bytesMovable: true });
    assert.equal(again.applied, 9, 'the moved bytes arrived whole');
    assert.equal(own.byteLength, 0, 'movable bytes were moved, not copied');
    await store.close();
    await journal.close();
    assert.equal(dump(file).uploads.length, 9, 'nothing stored twice');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hours rolled up by the per-sample trigger before migration 040 stay exact as the writer adds to them after it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-apply-'));
  try {
    const file = path.join(dir, 'upgrade.sqlite');
    const before = new SqliteStore({ file, writeInWorker: false });
    await before.migrate(undefined, { upTo: 39 });
    const device = await before.addDevice({ family: 'soap', serial: '1001', modelCode: 4145, model: 'T3510', name: '1001', entryToken: 'tok-1001', channels: [] }, 1);
    await before.close();
    // Samples as the writer before 040 stored them: the trigger of 002 rolls each one up.
    const db = new DatabaseSync(file);
    for (let m = 0; m < 5; m++) {
      db.exec(`INSERT INTO samples (device_id, channel, time, value, error_code, alarm, upload_id)
        VALUES (${device.id}, 1, ${T0 + m * 60_000}, ${m === 2 ? 'NULL' : 10 + m}, ${m === 2 ? 9999 : 'NULL'}, 'no', 1)`);
    }
    db.close();
    const store = new SqliteStore({ file });
    try {
      assert.deepEqual(await store.migrate(), ['40_rollup_per_write_group']);
      await store.commit(upload(device.id, 2, [sample(device.id, 1, 5, 3), sample(device.id, 1, 6, 40)]));
      await store.applyBatches([upload(device.id, 3, [sample(device.id, 1, 7, null), sample(device.id, 1, 8, 12)])], [false]);
      assert.deepEqual(await store.rollupMismatches(null, 100), []);
      const [hour] = await store.series({ deviceId: device.id, channel: 1, from: 0, to: T0 + 3_600_000 * 2, bucketMs: 3_600_000 });
      assert.deepEqual([hour.count, hour.min, hour.max], [9, 3, 40], 'five samples before, four after');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the apply checkpoints more often in small chunks (steady load, devices waiting on fsyncs) than in large ones (backlogs)', () => {
  // 1,000 SOAP uploads/s applied every 200 ms: about 200 records of 1.5 kB.
  assert.equal(journalCheckpointPages(200 * 1500), STEADY_JOURNAL_AUTOCHECKPOINT_PAGES);
  // One logger backlog of 100,000 samples (41 bytes each in the record, and its body).
  assert.equal(journalCheckpointPages(100_000 * 41 + 2_000_000), JOURNAL_AUTOCHECKPOINT_PAGES);
  assert.equal(journalCheckpointPages(SMALL_APPLY_CHUNK_BYTES), JOURNAL_AUTOCHECKPOINT_PAGES);
  assert.ok(STEADY_JOURNAL_AUTOCHECKPOINT_PAGES < JOURNAL_AUTOCHECKPOINT_PAGES);
});
