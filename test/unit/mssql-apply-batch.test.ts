// The SQL Server apply of the journal without a server: the batch builder (samples sorted by key,
// one row per key, the first batch's), the caps, and the sealing, compared with what the SQLite
// store writes for the same batches (the same upload ids, verdicts, counts and hash links), and the
// audit chain links, compared with what `inlet verify` recomputes. The procedures themselves run in
// the SQL Server contract (test/contract/store-contract.ts, with INLET_TEST_MSSQL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Batch, SampleRow } from '../../src/domain/types.ts';
import { GENESIS_HASH } from '../../src/domain/chain.ts';
import { eventHash } from '../../src/domain/audit-chain.ts';
import { buildApplyBatch, sealApplyBatch, splitByLimits, type ApplyResponse } from '../../src/store/mssql/apply-batch.ts';
import { linkEvents, type UnlinkedEvent } from '../../src/store/mssql/event-chain.ts';
import { batchWeight } from '../../src/store/mssql/mssql-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SQL_ROOT } from '../../src/store/migrations.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const T0 = Date.UTC(2025, 0, 15, 8, 0, 0, 123);
const MINUTE = 60_000;
const KEY = new Uint8Array(32).fill(7);

function sample(deviceId: number, channel: number, time: number, value: number | null): SampleRow {
  return { deviceId, channel, time, value, errorCode: value === null ? 3 : null, alarm: 'no' };
}

function batch(deviceId: number | null, samples: SampleRow[], n: number, extra: Partial<Batch> = {}): Batch {
  return {
    upload: {
      deviceId, family: 'soap', receivedAt: T0 + n, remoteAddress: '192.0.2.10', contentType: 'text/xml',
      raw: Buffer.from(`<upload n="${n}"/>`), verdict: deviceId === null ? 'refused' : 'accepted', reason: deviceId === null ? 'unknown entry point' : 'ok',
      serial: deviceId === null ? null : '12345678', counter: n, uploadKey: `journal-1:${n}`,
    },
    samples, channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null, ...extra,
  };
}

test('the builder sends each sample key once, sorted by device, channel and time; the earlier batch keeps a repeated key', () => {
  const batches = [
    batch(2, [sample(2, 1, T0 + 2 * MINUTE, 5), sample(2, 1, T0, 4)], 0),
    batch(1, [sample(1, 2, T0, 1), sample(1, 1, T0 + MINUTE, 2), sample(1, 1, T0, 3)], 1),
    batch(2, [sample(2, 1, T0, 9), sample(2, 2, T0, 8)], 2),
    batch(null, [], 3),
  ];
  const built = buildApplyBatch(batches, [false, true, false, true]);
  assert.deepEqual(built.samples.map((s) => [s.deviceId, s.channel, s.time - T0, s.batchIndex]), [
    [1, 1, 0, 1], [1, 1, MINUTE, 1], [1, 2, 0, 1], [2, 1, 0, 0], [2, 1, 2 * MINUTE, 0], [2, 2, 0, 2],
  ]);
  assert.deepEqual(built.repeatedInBatch.map((r) => [...r]), [[], [], [0], []], 'batch 2 repeats device 2 channel 1 at T0 of batch 0');
  assert.deepEqual(built.batches.map((b) => b.maybeStored), [false, true, false, true]);
  assert.deepEqual(built.devices, [1, 2]);
  assert.equal(built.withUnowned, true);
});

test('batches are split within the caps of rows, bytes and count; a batch larger than a cap goes alone', () => {
  const items = [3, 3, 3, 10, 1, 1, 1, 1];
  const weigh = (n: number) => ({ rows: n, bytes: n * 100 });
  assert.deepEqual(splitByLimits(items, { rows: 6, bytes: Number.POSITIVE_INFINITY }, weigh), [[3, 3], [3], [10], [1, 1, 1, 1]]);
  assert.deepEqual(splitByLimits(items, { rows: 100, bytes: 700 }, weigh), [[3, 3], [3], [10], [1, 1, 1, 1]]);
  assert.deepEqual(splitByLimits(items, { rows: 100, bytes: 100_000, count: 3 }, weigh), [[3, 3, 3], [10, 1, 1], [1, 1]]);
  // The store's own weight: a batch's rows are its upload, samples and events.
  const b = batch(1, [sample(1, 1, T0, 1), sample(1, 1, T0 + MINUTE, 2)], 0);
  assert.equal(batchWeight(b).rows, 3);
  assert.deepEqual(splitByLimits([b, b, b], { rows: 6, bytes: 1e9 }, batchWeight).map((r) => r.length), [2, 1]);
});

test('sealing a batch gives the uploads, verdicts, counts and hash links the SQLite store writes for the same batches', async () => {
  const dir = tempDir('inlet-mssql-apply-');
  const store = new SqliteStore({ file: path.join(dir, 'inlet.sqlite') });
  try {
    await store.migrate();
    store.useChainKey(KEY);
    const channels = [{ channel: 1, quantity: 'temperature', unit: '°C' }, { channel: 2, quantity: 'relative_humidity', unit: '%RH' }];
    const a = await store.addDevice({ family: 'soap', serial: '11', modelCode: 1, model: 'T3311', name: 'A', entryToken: 'Tok-11-aBcDeF', channels }, T0);
    const b = await store.addDevice({ family: 'soap', serial: '22', modelCode: 1, model: 'T3311', name: 'B', entryToken: 'Tok-22-aBcDeF', channels }, T0);
    // Stored before the batch: its samples come back as "already stored" from the first procedure call.
    const earlier = batch(a.id, [sample(a.id, 1, T0, 1), sample(a.id, 1, T0 + MINUTE, 2)], 0);
    await store.applyBatches!([earlier], [false]);
    const batches = [
      batch(a.id, [sample(a.id, 1, T0, 1), sample(a.id, 1, T0 + MINUTE, 2)], 1),                     // a resend: duplicate
      batch(a.id, [sample(a.id, 1, T0 + MINUTE, 2), sample(a.id, 1, T0 + 2 * MINUTE, 3), sample(a.id, 2, T0, null)], 2, {
        channels: [{ deviceId: a.id, channel: 3, quantity: 'pressure', unit: 'hPa' }],                // a new channel: recorded
        events: [{ at: T0 + 2, deviceId: a.id, type: 'device.interval', level: 'warning', message: 'too fast', data: { seconds: 5 } }],
        deviceSeen: { deviceId: a.id, at: T0 + 2, declaredIntervalS: 60 },
      }),
      batch(b.id, [sample(b.id, 1, T0, 7.25), sample(b.id, 1, T0 + MINUTE, 7.5)], 3),
      batch(b.id, [sample(b.id, 1, T0 + MINUTE, 7.5), sample(b.id, 2, T0 + MINUTE, 40)], 4),         // one repeated inside the batch
      batch(null, [], 5),
      batch(a.id, [], 6, { quarantine: [], upload: { ...batch(a.id, [], 6).upload, verdict: 'quarantined', reason: 'suspended' } }),
    ];
    const before = await store.uploads({});
    const heads = new Map<number, Uint8Array>([[a.id, before[before.length - 1].hash]]);
    const built = buildApplyBatch(batches, batches.map(() => false));
    const stored = new Set((await store.uploadSamples(0, null)).map((s) => `${s.deviceId}|${s.channel}|${s.time}`));
    const response: ApplyResponse = {
      stored: new Map(), firstId: before[before.length - 1].id + 1, serverNow: T0 + 10_000,
      alreadyStored: new Set(built.samples.filter((s) => stored.has(`${s.deviceId}|${s.channel}|${s.time}`)).map((s) => `${s.batchIndex}|${s.channel}|${s.time}`)),
      heads, channels: new Map(channels.flatMap((c) => [a.id, b.id].map((d) => [`${d}|${c.channel}`, { quantity: c.quantity, unit: c.unit }] as const))),
      eventHead: null, waiting: [],
    };
    const sealed = sealApplyBatch(batches, built, response, KEY);
    const results = await store.applyBatches!(batches, batches.map(() => false));
    assert.deepEqual(sealed.results, results);
    const after = (await store.uploads({ afterId: before[before.length - 1].id }));
    assert.deepEqual(sealed.uploads.map((u) => [u.id, u.verdict, u.reason, u.prevHash.toString('hex'), u.hash.toString('hex')]),
      after.map((u) => [u.id, u.verdict, u.reason, Buffer.from(u.prevHash).toString('hex'), Buffer.from(u.hash).toString('hex')]));
    assert.deepEqual(sealed.results.map((r) => r.verdict), ['duplicate', 'accepted', 'accepted', 'accepted', 'refused', 'quarantined']);
    assert.deepEqual(sealed.results.map((r) => r.samplesStored), [0, 2, 2, 1, 0, 0]);
    // The same events, in the same order, as the SQLite writer appends them (channel records first).
    const events = (await store.events({ since: T0, limit: 100 })).filter((e) => e.at > T0).reverse();
    assert.deepEqual(sealed.events.map((e) => [e.type, e.message, e.dataText, e.actor, e.source]),
      events.map((e) => [e.type, e.message, JSON.stringify(e.data), e.actor, e.source]));
    assert.deepEqual(sealed.channelChanges.map((c) => [c.deviceId, c.channel, c.unit]), [[a.id, 3, 'hPa']]);
    assert.deepEqual([...sealed.seen], [[a.id, { at: T0 + 2, declaredIntervalS: 60 }]]);
    assert.deepEqual(sealed.quarantine.map((q) => q.uploadId), [sealed.results[5].uploadId]);
  } finally {
    await store.close();
  }
});

test('a replayed batch is answered with its stored upload, and a key repeated in the batch with the first one\'s result', () => {
  const batches = [batch(1, [sample(1, 1, T0, 1)], 0), batch(1, [sample(1, 1, T0 + MINUTE, 2)], 1), batch(1, [sample(1, 1, T0 + MINUTE, 2)], 1)];
  const built = buildApplyBatch(batches, [true, true, true]);
  const sealed = sealApplyBatch(batches, built, {
    stored: new Map([[0, { id: 40, verdict: 'accepted', samplesStored: 1 }]]), firstId: 41, serverNow: T0, alreadyStored: new Set(),
    heads: new Map(), channels: new Map(), eventHead: null, waiting: [],
  }, KEY);
  assert.deepEqual(sealed.results, [
    { uploadId: 40, verdict: 'accepted', samplesStored: 1, samplesDuplicate: 0 },
    { uploadId: 41, verdict: 'accepted', samplesStored: 1, samplesDuplicate: 0 },
    { uploadId: 41, verdict: 'accepted', samplesStored: 1, samplesDuplicate: 0 },
  ]);
  assert.deepEqual(sealed.uploads.map((u) => u.id), [41]);
  assert.deepEqual(sealed.uploads[0].prevHash, Buffer.from(GENESIS_HASH));
});

test('events written by procedures are linked after the head, oldest first, then the new ones: the links verify recomputes', () => {
  const head = Buffer.alloc(32, 9);
  const waiting: UnlinkedEvent[] = [
    { id: 11, at: T0, recordedAt: T0 + 5, deviceId: 3, type: 'alarm.limits.changed', level: 'info', message: 'limits', dataText: '{"a":1}', actor: null, source: null },
    { id: 12, at: T0 + 1, recordedAt: null, deviceId: null, type: 'retention.policy.changed', level: 'warning', message: 'policy', dataText: null, actor: null, source: null },
  ];
  const fresh = [{ at: T0 + 2, recordedAt: T0 + 7, deviceId: null, type: 'zone.added', level: 'info' as const, message: 'zone', dataText: '{}', actor: 'admin', source: '192.0.2.1' }];
  const chained = linkEvents(head, waiting, fresh, KEY);
  // Walk as verify does (src/jobs/verify.ts): each link on the one before, recorded_at 0 where there is none.
  let prev: Buffer = head;
  for (const [i, e] of [...waiting, ...fresh].entries()) {
    const link = i < waiting.length ? chained.links[i] : chained.appended[i - waiting.length];
    assert.deepEqual(link.prevHash, prev);
    assert.deepEqual(link.hash, eventHash(prev, { ...e, recordedAt: e.recordedAt ?? 0 }, KEY));
    prev = link.hash;
  }
  assert.deepEqual(chained.links.map((l) => l.id), [11, 12]);
  assert.deepEqual(chained.head, prev);
  assert.deepEqual(linkEvents(null, [], [], KEY).head, Buffer.from(GENESIS_HASH), 'an empty chain starts at the genesis link');
});

test('the procedures the adapter executes by name are created by a migration and take exactly the inputs it binds', () => {
  const dir = path.join(SQL_ROOT, 'mssql');
  const declared = new Map<string, string[]>();
  // In migration order: a later DROP + CREATE replaces a procedure's parameters.
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) {
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(/\bCREATE\s+PROCEDURE\s+(inlet\.\w+)([\s\S]*?)\bAS\b/gi)) {
      declared.set(m[1].toLowerCase(), [...m[2].matchAll(/@(\w+)/g)].map((p) => p[1]).sort());
    }
  }
  const adapterDir = new URL('../../src/store/mssql/', import.meta.url);
  const source = readdirSync(adapterDir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(new URL(f, adapterDir), 'utf8')).join('\n');
  const calls = [...source.matchAll(/request\(\)((?:(?!;\n)[\s\S])*?)\.execute(?:<\w+>)?\('(inlet\.\w+)'\)/g)]
    .map((m) => [m[2], [...m[1].matchAll(/\.input\('(\w+)'/g)].map((i) => i[1]).sort()] as const)
    .concat([...source.matchAll(/execLinked\(ctx, '(inlet\.\w+)', \{([\s\S]*?)\}\);/g)].map((m) => [m[1], [...m[2].matchAll(/(\w+): \[sql\./g)].map((i) => i[1]).sort()] as const));
  const names = calls.map(([name]) => name).sort();
  for (const expected of ['inlet.apply_upload_batch', 'inlet.write_upload_batch', 'inlet.set_alarm_limits', 'inlet.advance_retention_horizon', 'inlet.remove_zone', 'inlet.set_user_zone_roles']) {
    assert.ok(names.includes(expected), `${expected} is executed: ${names.join(', ')}`);
  }
  for (const [name, inputs] of calls) assert.deepEqual(inputs, declared.get(name.toLowerCase()), `parameters of ${name}`);
});

test('the events trigger lets a link be set once and nothing else change: every other column of inlet.events is refused', () => {
  const dir = path.join(SQL_ROOT, 'mssql');
  const text = readdirSync(dir).filter((f) => /^\d{3}_/.test(f)).sort().map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\nGO\n');
  const columns = new Set<string>();
  const table = /CREATE TABLE inlet\.events \(([\s\S]*?)\n\);/.exec(text)![1];
  for (const line of table.split('\n')) { const m = /^\s+(\w+)\s+(?!KEY)/.exec(line); if (m && m[1] !== 'CONSTRAINT') columns.add(m[1]); }
  for (const m of text.matchAll(/ALTER TABLE inlet\.events ADD\s+([\s\S]*?);/g)) {
    for (const part of m[1].split(/,\s*\n/)) { const c = /^\s*(\w+)/.exec(part); if (c) columns.add(c[1]); }
  }
  const triggers = [...text.matchAll(/CREATE TRIGGER inlet\.tr_events_append_only[\s\S]*?\nEND;/g)];
  const trigger = triggers[triggers.length - 1][0];
  const refused = new Set([...trigger.matchAll(/UPDATE\((\w+)\)/g)].map((m) => m[1]));
  assert.ok(columns.has('recorded_by') && columns.has('actor') && columns.has('hash'), [...columns].join(', '));
  assert.deepEqual([...columns].filter((c) => !refused.has(c) && !['id', 'prev_hash', 'hash'].includes(c)), [], 'columns an UPDATE could change');
  assert.match(trigger, /d\.prev_hash IS NOT NULL OR d\.hash IS NOT NULL/, 'a link is set once');
  assert.match(trigger, /APPLOCK_MODE\(N'public', N'inlet\.event_chain', N'Transaction'\)/, 'under the event chain lock');
});

test('where a transaction takes both application locks, the upload writer lock comes first (one order: no deadlock between them)', () => {
  const adapterDir = new URL('../../src/store/mssql/', import.meta.url);
  const sources = readdirSync(adapterDir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(new URL(f, adapterDir), 'utf8'));
  const dir = path.join(SQL_ROOT, 'mssql');
  const procedures = readdirSync(dir).filter((f) => /^\d{3}_/.test(f)).flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split(/\nGO\n/));
  let both = 0;
  for (const text of [...procedures, ...sources.flatMap((s) => s.split(/\n {2}async |\nasync function /))]) {
    const writer = text.search(/@Resource = N'inlet\.upload_writer'|lockUploadWriter\(/);
    const chain = Math.min(...[text.search(/@Resource = N'inlet\.event_chain'/), text.search(/lockEventChain\(|appendEvents\(/)].filter((i) => i >= 0));
    if (writer < 0 || !Number.isFinite(chain)) continue;
    both++;
    assert.ok(writer < chain, `upload writer lock after the event chain lock in:\n${text.slice(0, 300)}`);
  }
  assert.ok(both >= 2, `the apply procedure and the retention advance take both (${both})`);
});
