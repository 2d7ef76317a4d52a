// The SQLite store's share of "retention decided by the database" (migration 013): a floor against
// the clock that only rises, horizons and anchors checked against the uploads whoever inserts them,
// and an hourly rollup that changes only as the samples do. Raw SQL plays the part of someone who
// writes the file around Inlet (without dropping triggers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import type { Batch } from '../../src/domain/types.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function fixture() {
  const file = path.join(tempDir('inlet-sqlite-guards-'), 'inlet.sqlite');
  const store = new SqliteStore({ file });
  await store.migrate();
  const device = await store.addDevice({
    family: 'soap', serial: '41000001', modelCode: 4159, model: 'T3510', name: 'Fridge', location: '', entryToken: 'tok-guards',
    allowedIntervalS: 60, channels: [{ channel: 1, quantity: 'temperature', unit: 'C' }],
  }, Date.now() - 100 * DAY);
  /** One upload received `daysAgo` days ago, with three samples a minute apart. */
  const upload = async (daysAgo: number) => {
    const at = Math.floor((Date.now() - daysAgo * DAY) / HOUR) * HOUR;
    const batch: Batch = {
      upload: { deviceId: device.id, family: 'soap', receivedAt: at, remoteAddress: '127.0.0.1', contentType: 'text/xml', raw: Buffer.from(`${daysAgo}`), verdict: 'accepted', reason: 'ok', serial: '41000001', counter: null },
      samples: [0, 1, 2].map((i) => ({ deviceId: device.id, channel: 1, time: at + i * 60_000, value: daysAgo + i, errorCode: null, alarm: 'no' as const })),
      channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    };
    return (await store.commit(batch)).uploadId;
  };
  const raw = (sql: string) => {
    const db = new DatabaseSync(file);
    try { db.exec(sql); } finally { db.close(); }
  };
  const request = (dataBefore: number) => ({ at: Date.now(), dataBefore, auditBefore: null, setBy: 'test', reason: 'test' });
  return { store, device, upload, raw, request, close: () => store.close() };
}

test('a horizon may not cut data younger than the floor, judged by the clock; the floor rises, never falls', async () => {
  const f = await fixture();
  try {
    await f.upload(60);
    await f.upload(10);
    await assert.rejects(f.store.advanceRetentionHorizon(f.request(Date.now() + DAY)), /younger than retention_policy\.min_keep_days/, 'never beyond now');
    f.raw('UPDATE retention_policy SET min_keep_days = 30');
    await assert.rejects(f.store.advanceRetentionHorizon(f.request(Date.now() - 20 * DAY)), /min_keep_days/);
    assert.equal(await f.store.retentionHorizon(), undefined);
    const horizon = await f.store.advanceRetentionHorizon(f.request(Date.now() - 40 * DAY));
    assert.ok(horizon.belowUploadId > 1);
    assert.throws(() => f.raw('UPDATE retention_policy SET min_keep_days = 1'), /raised, never lowered/);
    assert.throws(() => f.raw('DELETE FROM retention_policy'), /one row/);
  } finally {
    await f.close();
  }
});

test('a horizon or an anchor inserted around Inlet must agree with the uploads', async () => {
  const f = await fixture();
  try {
    const old = await f.upload(60);
    const recent = await f.upload(10);
    const dataBefore = Date.now() - 40 * DAY;
    // A horizon whose below_upload_id passes the recent upload would purge it.
    assert.throws(() => f.raw(`INSERT INTO retention_horizons (at, data_before, below_upload_id, audit_before, set_by, reason)
      VALUES (0, ${dataBefore}, ${recent + 1}, NULL, 'intruder', 'purge it all')`), /below_upload_id must not pass an upload/);
    const horizon = await f.store.advanceRetentionHorizon(f.request(dataBefore));
    assert.equal(horizon.belowUploadId, recent);
    assert.deepEqual((await f.store.chainAnchors()).map((a) => a.uploadId), [old]);
    // An anchor naming an upload above the horizon, or with another hash, is refused.
    assert.throws(() => f.raw(`INSERT INTO chain_anchors (horizon_id, chain, upload_id, hash)
      SELECT ${horizon.id}, ${f.device.id}, id, hash FROM uploads WHERE id = ${recent}`), /chain anchor must be the last upload/);
    assert.throws(() => f.raw(`INSERT INTO chain_anchors (horizon_id, chain, upload_id, hash)
      SELECT ${horizon.id}, ${f.device.id}, id, prev_hash FROM uploads WHERE id = ${old}`), /chain anchor must be the last upload/);
  } finally {
    await f.close();
  }
});

test('the hourly rollup follows the samples only: no direct insert, update or delete; a purge keeps it exact', async () => {
  const f = await fixture();
  try {
    await f.upload(60);
    await f.upload(10);
    // An update must add samples (migration 040: n of them, as the writer adds a group's): counts that add up,
    // the minimum only down, the maximum only up, value figures unmoved when no value was added.
    assert.throws(() => f.raw('UPDATE sample_rollup_hour SET value_max = 999'), /cannot be changed directly/);
    assert.throws(() => f.raw('UPDATE sample_rollup_hour SET sample_count = sample_count + 5, value_count = value_count + 4, value_sum = value_sum + 50'), /cannot be changed directly/);
    assert.throws(() => f.raw('UPDATE sample_rollup_hour SET sample_count = sample_count + 2, value_count = value_count + 2, value_min = value_min + 1'), /cannot be changed directly/);
    assert.throws(() => f.raw('UPDATE sample_rollup_hour SET sample_count = sample_count + 1, error_count = error_count + 1, value_sum = value_sum + 50'), /cannot be changed directly/);
    assert.throws(() => f.raw('UPDATE sample_rollup_hour SET sample_count = sample_count + 1, value_count = value_count + 1, value_max = NULL'), /cannot be changed directly/);
    assert.throws(() => f.raw('UPDATE sample_rollup_hour SET sample_count = sample_count - 1, value_count = value_count - 1'), /cannot be changed directly/);
    assert.throws(() => f.raw('DELETE FROM sample_rollup_hour'), /an hour that holds samples keeps its row/);
    // A new hour's row must be the aggregate of the samples it holds: none, or other figures, are refused.
    assert.throws(() => f.raw(`INSERT INTO sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
      VALUES (${f.device.id}, 1, 0, 1, 1, 1, 1, 1, 0)`), /must be the aggregate of its samples/);
    const [first] = await f.store.series({ deviceId: f.device.id, channel: 1, from: 0, to: Date.now() + DAY, bucketMs: HOUR });
    assert.throws(() => f.raw(`INSERT INTO samples (device_id, channel, time, value, error_code, alarm, upload_id)
        VALUES (${f.device.id}, 2, ${first.time}, 5, NULL, 'no', 1);
      INSERT INTO sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
        VALUES (${f.device.id}, 2, ${first.time}, 5, 5, 5, 1, 2, 0)`), /must be the aggregate of its samples/);
    await f.store.advanceRetentionHorizon(f.request(Date.now() - 40 * DAY));
    // A chunk of two samples cuts the old hour in two: its rollup must match the one sample left.
    const chunk = await f.store.purgeBelowHorizon({ rows: 2, uploads: 10 });
    assert.deepEqual([chunk.samples, chunk.rollupHours], [2, 1]);
    const hours = await f.store.series({ deviceId: f.device.id, channel: 1, from: 0, to: Date.now() + DAY, bucketMs: HOUR });
    assert.deepEqual(hours.map((h) => [h.count, h.min, h.max]), [[1, 62, 62], [3, 10, 12]]);
    while ((await f.store.purgeBelowHorizon({ rows: 2, uploads: 10 })).samples) { /* the rest */ }
    const left = await f.store.series({ deviceId: f.device.id, channel: 1, from: 0, to: Date.now() + DAY, bucketMs: HOUR });
    assert.deepEqual(left.map((h) => h.count), [3], 'the purged hour has no row left');
  } finally {
    await f.close();
  }
});
