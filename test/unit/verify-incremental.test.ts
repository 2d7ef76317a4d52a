// Incremental verification (src/jobs/verify-incremental.ts) and raw-body retention (migration 031)
// on a SQLite store: the nightly run checks new uploads and one share of a rolling full pass;
// tampering in the range verified before is found by that pass within ROLLING_NIGHTS nights and by
// a full pass at once; a forged progress row is found; purged bodies still verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Batch } from '../../src/domain/types.ts';
import { resolveChainKey } from '../../src/store/chain-key.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { recordVerification } from '../../src/jobs/verify.ts';
import { ROLLING_NIGHTS, recordVerifyProgress, verifyIncrementally, type IncrementalReport } from '../../src/jobs/verify-incremental.ts';
import { createJobScheduler } from '../../src/jobs/index.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const quiet = { info() {}, warn() {}, error() {} };

async function fixture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-verify-incremental-'));
  const file = path.join(dir, 'inlet.sqlite');
  const store = new SqliteStore({ file });
  await store.migrate();
  const key = await resolveChainKey(store, path.join(dir, 'chain.key'), quiet);
  store.useChainKey(key.key);
  const devices: Awaited<ReturnType<SqliteStore['addDevice']>>[] = [];
  for (const serial of ['20995001', '20995002']) {
    devices.push(await store.addDevice({
      family: 'soap', serial, modelCode: 4145, model: 'T3510', name: `Fridge ${serial}`, location: '', entryToken: `tok-${serial}`,
      allowedIntervalS: 60, channels: [{ channel: 1, quantity: 'temperature', unit: 'C' }],
    }, T0));
  }
  let n = 0;
  const upload = async () => {
    const i = n++;
    const device = devices[i % 2];
    const batch: Batch = {
      upload: { deviceId: device.id, family: 'soap', receivedAt: T0 + i * 60_000, remoteAddress: '127.0.0.1', contentType: 'text/xml', raw: Buffer.from(`<body>#${i}</body>`), verdict: 'accepted', reason: 'ok', serial: device.serial, counter: null },
      samples: [{ deviceId: device.id, channel: 1, time: T0 + i * 60_000, value: i, errorCode: null, alarm: 'no' }],
      channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    };
    return (await store.commit(batch)).uploadId;
  };
  let night = 0;
  /** One nightly run as the job does it: verify, record, progress. */
  const nightly = async (full = false): Promise<IncrementalReport> => {
    const report = await verifyIncrementally(store, { chainKey: key, rollup: 'skip', full, now: () => T0 + 30 * DAY + (night++) * DAY });
    await recordVerification(store, report);
    await recordVerifyProgress(store, key.key, report);
    return report;
  };
  /** Raw SQL as a DBA would run it, append-only triggers dropped first. */
  const tamper = (sql: string) => {
    const db = new DatabaseSync(file);
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%append_only%'").all() as { name: string }[]) {
      db.exec(`DROP TRIGGER ${name}`);
    }
    db.exec(sql);
    db.close();
  };
  const raw = (sql: string) => { const db = new DatabaseSync(file); try { db.exec(sql); } finally { db.close(); } };
  return { store, key, upload, nightly, tamper, raw, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('the first run is full; later nights verify new uploads and one slice of the rolling pass each', async () => {
  const f = await fixture();
  try {
    for (let i = 0; i < 21; i++) await f.upload();
    const first = await f.nightly();
    assert.equal(first.ok, true, JSON.stringify(first.problems));
    assert.equal(first.mode, 'full', 'no progress yet: everything');
    assert.equal(first.uploadsChecked, 21);
    for (let i = 0; i < 2; i++) await f.upload();
    const second = await f.nightly();
    assert.equal(second.ok, true, JSON.stringify(second.problems));
    assert.equal(second.mode, 'incremental');
    assert.deepEqual(second.rollingSlice, { from: 1, to: 3 }, 'a seventh of the 21 verified before');
    assert.equal(second.uploadsChecked, 2 + 3, 'the two new uploads and the slice, not the whole store');
    const third = await f.nightly();
    assert.deepEqual(third.rollingSlice, { from: 4, to: 6 });
    assert.equal(third.uploadsChecked, 3);
    const progress = await f.store.verifyProgress();
    assert.equal(progress?.verifiedThrough, 23);
    assert.equal(progress?.rollingCursor, 7);
  } finally {
    await f.dispose();
  }
});

test('tampering in the verified range: found by the rolling pass within the nights it takes, and by a full pass at once', async () => {
  const f = await fixture();
  try {
    const ids = [];
    for (let i = 0; i < 28; i++) ids.push(await f.upload());
    assert.equal((await f.nightly()).ok, true);
    const target = ids[24]; // in the last slice of the pass
    f.tamper(`UPDATE samples SET value = value + 5 WHERE upload_id = ${target}`);
    const full = await verifyIncrementally(f.store, { chainKey: f.key, rollup: 'skip', full: true });
    assert.deepEqual(full.problems.map((p) => [p.kind, p.uploadId]), [['hash-mismatch', target]], 'the full pass finds it at once');
    let foundOnNight = 0;
    for (let night = 1; night <= ROLLING_NIGHTS && !foundOnNight; night++) {
      const report = await f.nightly();
      if (!report.ok) {
        assert.deepEqual(report.problems.map((p) => [p.kind, p.uploadId]), [['hash-mismatch', target]]);
        foundOnNight = night;
      }
    }
    assert.ok(foundOnNight > 1, 'the first nights do not reach it: they do not re-read everything');
    assert.ok(foundOnNight <= ROLLING_NIGHTS, `found within ${ROLLING_NIGHTS} nights (night ${foundOnNight})`);
    assert.equal((await f.nightly()).ok, false, 'and found again the next night: no progress is recorded over damage');
  } finally {
    await f.dispose();
  }
});

test('cutting the tail of a verified chain is found the next night; a forged progress row is found and a full pass runs', async () => {
  const f = await fixture();
  try {
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await f.upload());
    assert.equal((await f.nightly()).ok, true);
    const last = ids[9];
    f.tamper(`DELETE FROM samples WHERE upload_id = ${last}; DELETE FROM uploads WHERE id = ${last}`);
    const cut = await f.nightly();
    assert.equal(cut.mode, 'incremental');
    assert.ok(cut.problems.some((p) => p.kind === 'checkpoint-lost' && p.uploadId === last), JSON.stringify(cut.problems));
  } finally {
    await f.dispose();
  }
  const g = await fixture();
  try {
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await g.upload());
    assert.equal((await g.nightly()).ok, true);
    // An intruder moves the progress past damage he then does to the newest uploads.
    g.tamper(`UPDATE samples SET value = -1 WHERE upload_id = ${ids[9]};
      INSERT INTO verify_progress (at, mode, verified_through, rolling_cursor, rolling_end, rolling_nights, prev_mac, mac)
      SELECT ${T0}, 'incremental', 1000, 1, 1000, 7, mac, randomblob(32) FROM verify_progress ORDER BY id DESC LIMIT 1`);
    const report = await g.nightly();
    assert.equal(report.mode, 'full');
    assert.deepEqual(report.problems.map((p) => p.kind).sort(), ['hash-mismatch', 'progress-forged']);
  } finally {
    await g.dispose();
  }
  const h = await fixture();
  try {
    for (let i = 0; i < 10; i++) await h.upload();
    assert.equal((await h.nightly()).ok, true);
    h.tamper(`INSERT INTO verify_progress (at, mode, verified_through, rolling_cursor, rolling_end, rolling_nights, prev_mac, mac)
      SELECT ${T0}, 'incremental', 1000, 1, 1000, 7, mac, randomblob(32) FROM verify_progress ORDER BY id DESC LIMIT 1`);
    const forged = await h.nightly();
    assert.deepEqual([forged.mode, forged.problems.map((p) => p.kind)], ['full', ['progress-forged']]);
    // That full pass verified everything: the nights after it are incremental again, the forged row kept as evidence.
    const next = await h.nightly();
    assert.deepEqual([next.mode, next.ok], ['incremental', true]);
  } finally {
    await h.dispose();
  }
});

test('the progress table is append-only and each row must link to the latest one', async () => {
  const f = await fixture();
  try {
    await f.upload();
    assert.equal((await f.nightly()).ok, true);
    assert.throws(() => f.raw('UPDATE verify_progress SET verified_through = 99'), /append-only/);
    assert.throws(() => f.raw('DELETE FROM verify_progress'), /append-only/);
    assert.throws(() => f.raw(`INSERT INTO verify_progress (at, mode, verified_through, rolling_cursor, rolling_end, rolling_nights, prev_mac, mac)
      VALUES (0, 'full', 5, 1, 5, 7, zeroblob(32), zeroblob(32))`), /link to the latest/);
  } finally {
    await f.dispose();
  }
});

test('raw bodies purged on their own retention: SHA-256 kept, every chain still verifies, an event per chunk; a false digest is found', async () => {
  const f = await fixture();
  try {
    const ids = [];
    for (let i = 0; i < 9; i++) ids.push(await f.upload());
    const before = T0 + 6 * 60_000; // the first six uploads' bodies
    let chunks = 0;
    for (;;) {
      const chunk = await f.store.purgeUploadBodies({ before, limit: 4, at: T0 + DAY, setBy: 'housekeeping job', reason: 'retention.bodyKeepDays = 30' });
      if (!chunk.bodies) break;
      chunks++;
    }
    assert.equal(chunks, 2);
    const uploads = await f.store.uploads({ limit: 100 });
    assert.deepEqual(uploads.map((u) => u.raw.length === 0), [true, true, true, true, true, true, false, false, false]);
    const purges = await f.store.uploadBodyPurges(0, 100);
    assert.deepEqual(purges.map((p) => [p.uploadId, p.rawLength]), ids.slice(0, 6).map((id, i) => [id, `<body>#${i}</body>`.length]));
    const events = await f.store.events({ type: 'retention.bodies.purged' });
    assert.equal(events.length, 2);
    assert.match(events.map((e) => e.message).join('\n'), /raw bodies purged by housekeeping job: 4 bodies .* Reason: retention.bodyKeepDays = 30/);
    const report = await f.nightly(true);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.uploadsChecked, 9);
    f.tamper(`UPDATE upload_body_purges SET raw_sha256 = zeroblob(32) WHERE upload_id = ${ids[2]}`);
    const broken = await f.nightly(true);
    assert.deepEqual(broken.problems.map((p) => [p.kind, p.uploadId]), [['hash-mismatch', ids[2]]]);
  } finally {
    await f.dispose();
  }
});

test('the database lets a body be emptied only through a purge row, nothing else of the upload, and not below its floor', async () => {
  const f = await fixture();
  try {
    const id = await f.upload();
    assert.throws(() => f.raw(`UPDATE uploads SET raw = X'' WHERE id = ${id}`), /only a body recorded in upload_body_purges/);
    assert.throws(() => f.raw(`INSERT INTO upload_body_purges (upload_id, raw_sha256, raw_length, purged_at) VALUES (${id}, zeroblob(32), 3, 0)`),
      /with its body's length/, 'a wrong length is refused');
    f.raw('UPDATE retention_policy SET min_body_keep_days = 36500');
    await assert.rejects(f.store.purgeUploadBodies({ before: Date.now(), limit: 10, at: Date.now(), setBy: 'x', reason: 'y' }), /min_body_keep_days/);
    assert.throws(() => f.raw('UPDATE retention_policy SET min_body_keep_days = 1'), /raised, never lowered/);
    assert.equal((await f.store.uploads({ limit: 10 }))[0].raw.length > 0, true);
  } finally {
    await f.dispose();
  }
});

test('the nightly verify job runs incrementally and records its progress; its line says so', async () => {
  const f = await fixture();
  try {
    for (let i = 0; i < 14; i++) await f.upload();
    const log = { info() {}, warn() {}, error() {} };
    const jobs = createJobScheduler({ store: f.store, config: DEFAULT_CONFIG, log, now: () => T0 + 40 * DAY, chainKey: () => f.key });
    const first = await jobs.runNow('verify');
    assert.ok(first.ran && /^intact \(full\): 14 uploads/.test(first.summary), JSON.stringify(first));
    await f.upload();
    const second = await jobs.runNow('verify');
    assert.ok(second.ran && /^intact \(incremental, rolling pass #1-#2\): 3 uploads/.test(second.summary), JSON.stringify(second));
    assert.equal((await f.store.verifyProgress())?.verifiedThrough, 15);
  } finally {
    await f.dispose();
  }
});
