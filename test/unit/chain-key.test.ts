// The chain key's life: made on a first start, recorded in the database by fingerprint only, refused
// when the file and the database disagree; a database written before keys keeps its older uploads
// unkeyed and verifies across the switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Batch } from '../../src/domain/types.ts';
import { CHAIN_KEY_EVENT, readChainKey, resolveChainKey } from '../../src/store/chain-key.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { verifyIntegrity } from '../../src/jobs/verify.ts';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const quiet = { info() {}, warn() {}, error() {} };

async function fixture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-chain-key-'));
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  const device = await store.addDevice({
    family: 'soap', serial: '20995001', modelCode: 4145, model: 'T3510', name: 'Fridge', location: '', entryToken: 'tok-key',
    allowedIntervalS: 60, channels: [{ channel: 1, quantity: 'temperature', unit: 'C' }],
  }, T0);
  const upload = async (i: number) => {
    const batch: Batch = {
      upload: { deviceId: device.id, family: 'soap', receivedAt: T0 + i * 60_000, remoteAddress: '127.0.0.1', contentType: 'text/xml', raw: Buffer.from(`#${i}`), verdict: 'accepted', reason: 'ok', serial: '20995001', counter: null },
      samples: [{ deviceId: device.id, channel: 1, time: T0 + i * 60_000, value: i, errorCode: null, alarm: 'no' }],
      channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    };
    return (await store.commit(batch)).uploadId;
  };
  return { dir, file: path.join(dir, 'chain.key'), store, upload, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('a first start makes the key, records its fingerprint (not the key), and keys every upload', async () => {
  const f = await fixture();
  try {
    const warnings: string[] = [];
    const key = await resolveChainKey(f.store, f.file, { ...quiet, warn: (m: string) => warnings.push(m) });
    assert.equal(key.keyedFromUploadId, 1);
    assert.deepEqual(readChainKey(f.file), key, 'the file holds what was returned');
    assert.match(warnings.join('\n'), /created the chain key .*back it up with the database/);
    const [marker] = await f.store.events({ type: CHAIN_KEY_EVENT });
    assert.deepEqual(marker.data, { fingerprint: key.fingerprint, keyedFromUploadId: 1 });
    f.store.useChainKey(key.key);
    for (let i = 0; i < 3; i++) await f.upload(i);
    assert.equal((await verifyIntegrity(f.store, { chainKey: key })).ok, true);
    const unkeyed = await verifyIntegrity(f.store, { chainKey: null });
    assert.deepEqual(unkeyed.problems.map((p) => p.kind), ['hash-mismatch', 'hash-mismatch', 'hash-mismatch', 'event-hash-mismatch'],
      'without the key no keyed link verifies: neither the uploads nor the key\'s marker event');
    const again = await resolveChainKey(f.store, f.file, quiet);
    assert.equal(again.fingerprint, key.fingerprint, 'a restart reads the same key');
    assert.equal((await f.store.events({ type: CHAIN_KEY_EVENT })).length, 1, 'and records nothing again');
  } finally {
    await f.dispose();
  }
});

test('a database written before keys keeps its earlier uploads unkeyed and verifies across the switch', async () => {
  const f = await fixture();
  try {
    const legacy = [await f.upload(0), await f.upload(1)];
    const warnings: string[] = [];
    const key = await resolveChainKey(f.store, f.file, { ...quiet, warn: (m: string) => warnings.push(m) });
    assert.equal(key.keyedFromUploadId, legacy[1] + 1);
    assert.match(warnings.join('\n'), new RegExp(`uploads up to #${legacy[1]} were linked before chain keys existed`));
    f.store.useChainKey(key.key);
    await f.upload(2);
    await f.upload(3);
    const report = await verifyIntegrity(f.store, { chainKey: key });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.uploadsChecked, 4);
  } finally {
    await f.dispose();
  }
});

test('another key, a missing key on a keyed database, or a damaged file: refused with what to do', async () => {
  const f = await fixture();
  try {
    await resolveChainKey(f.store, f.file, quiet);
    const original = readFileSync(f.file, 'utf8');
    rmSync(f.file);
    await assert.rejects(resolveChainKey(f.store, f.file, quiet), /linked under a chain key \(fingerprint [0-9a-f]{16}\) but .*chain\.key is missing: copy chain\.key from the Inlet instance that made it/);
    writeFileSync(f.file, JSON.stringify({ version: 1, key: 'ab'.repeat(32), keyedFromUploadId: 1, createdAt: new Date(T0).toISOString() }));
    await assert.rejects(resolveChainKey(f.store, f.file, quiet), /is not the key this database's uploads are linked under/);
    writeFileSync(f.file, '{ "version": 1, "key": "short" }');
    await assert.rejects(resolveChainKey(f.store, f.file, quiet), /chain\.key is damaged \(unexpected content\): restore it from the backup/);
    writeFileSync(f.file, original);
    assert.ok(await resolveChainKey(f.store, f.file, quiet));
  } finally {
    await f.dispose();
  }
});

test('the key is made in a data folder that does not exist yet (a SQL Server store creates none before it)', async () => {
  const f = await fixture();
  try {
    const file = path.join(f.dir, 'not-yet', 'data', 'chain.key');
    const key = await resolveChainKey(f.store, file, quiet);
    assert.equal(readChainKey(file)?.fingerprint, key.fingerprint);
  } finally {
    await f.dispose();
  }
});
