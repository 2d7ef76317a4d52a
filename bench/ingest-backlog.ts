// Logger backlog ingest: samples per second from HTTP POST to committed rows in the embedded store,
// beside the rate of inserting the same rows into the same schema with node:sqlite directly (one
// transaction per upload, the writer's INSERT OR IGNORE, then the upload's hourly rollup). One run, so the ratio holds on a noisy
// machine; target: Inlet at least half the raw rate.
// The two run in BENCH_ROUNDS rounds (3), raw then Inlet in each, and the target is judged on the
// median of the rounds' ratios: the raw rate alone moved from 164,000 to 277,000 samples/s between
// runs minutes apart on this 2-core VM, and a run's one ratio was decided by where such a spell fell.
// usage: npm run bench:backlog   (BENCH_UPLOADS uploads of BENCH_SAMPLES samples each, 4 channels; BENCH_ROUNDS)
import { DatabaseSync } from 'node:sqlite';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../src/log.ts';
import { startGateway } from '../src/main.ts';
import { newEntryToken } from '../src/ingest/families.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { SQLITE_PRAGMAS } from '../src/store/sqlite/writer.ts';
import { post } from '../src/sim/client.ts';
import { buildLoggerBody, loggerBacklogMessages } from '../src/sim/logger.ts';
import { parseLoggerUpload } from '../src/ingest/logger/index.ts';
import type { Upload } from '../src/domain/types.ts';
import type { IssuedDevice } from '../src/store/store.ts';
import { tempDir, testConfig } from '../test/e2e/harness.ts';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 4);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100_000);
const CHANNELS = 4;
const INTERVAL_S = 60;

interface Backlog { serial: number; customerUid: string; body: Buffer }

function backlogs(now: number, count: number, samples: number, firstSerial: number): Backlog[] {
  return Array.from({ length: count }, (_, i) => {
    const serial = firstSerial + i;
    const customerUid = `bench-${serial}`;
    const messages = loggerBacklogMessages({ serial, customerUid, samples, channels: CHANNELS, intervalS: INTERVAL_S, newestSampleTime: now - 30_000, now });
    return { serial, customerUid, body: buildLoggerBody(messages) };
  });
}

/** A running gateway has compiled its hot paths; one small backlog first, untimed, so the figure is the steady state. */
async function throughInlet(warmUp: Backlog, work: Backlog[]): Promise<{ seconds: number; samples: number; perUploadMs: number[] }> {
  const dataDir = tempDir('inlet-bench-backlog-');
  const config = testConfig(dataDir, { log: { ...testConfig(dataDir).log, console: false, file: false } });
  const gateway = await startGateway(config, createLogger(config, { quiet: true }));
  try {
    const devices: IssuedDevice[] = [];
    for (const b of [warmUp, ...work]) {
      devices.push(await gateway.store.addDevice({
        family: 'logger', serial: String(b.serial), modelCode: 1, model: 'U3631M', name: `Bench logger ${b.serial}`,
        entryToken: newEntryToken(), customerUid: b.customerUid, channels: [],
      }, Date.now()));
    }
    const upload = async (b: Backlog, i: number) => {
      const res = await post(`${gateway.url}/ingest/logger/${devices[i].entryToken}`, b.body, 'application/json');
      if (res.status !== 200) throw new Error(`upload ${i} answered ${res.status}: ${res.body}`);
      return res.ms;
    };
    await upload(warmUp, 0);
    await gateway.waitApplied(600_000);
    const storedBefore = gateway.pipeline.counters.samplesStored;
    const perUploadMs: number[] = [];
    const started = performance.now();
    for (const [i, b] of work.entries()) perUploadMs.push(await upload(b, i + 1));
    // Devices are answered once their upload is journaled: the clock stops when the rows are committed.
    if (!await gateway.waitApplied(600_000)) throw new Error('the journal was not applied within 10 minutes');
    const seconds = (performance.now() - started) / 1000;
    const stored = gateway.pipeline.counters.samplesStored - storedBefore;
    if (stored !== work.length * SAMPLES) throw new Error(`stored ${stored} samples, expected ${work.length * SAMPLES}`);
    return { seconds, samples: stored, perUploadMs };
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The same rows, parsed outside the timing, inserted with one prepared statement in one transaction per upload. */
async function rawSqlite(work: Backlog[], now: number): Promise<{ seconds: number; samples: number }> {
  const uploads: Upload[] = work.map((b) => {
    const result = parseLoggerUpload(b.body, { entryToken: 'x', receivedAt: now, remoteAddress: '', contentType: '' });
    if (!result.ok) throw new Error(result.reason);
    return result.upload;
  });
  const dataDir = tempDir('inlet-bench-raw-');
  const file = path.join(dataDir, 'raw.sqlite');
  const store = new SqliteStore({ file, writeInWorker: false });
  await store.migrate();
  const ids = [];
  for (const u of uploads) {
    ids.push((await store.addDevice({ family: 'logger', serial: u.serial, modelCode: 1, model: 'U3631M', name: 'raw', entryToken: newEntryToken(), channels: [] }, Date.now())).id);
  }
  await store.close();
  const db = new DatabaseSync(file);
  db.exec(SQLITE_PRAGMAS);
  const insert = db.prepare(`INSERT OR IGNORE INTO samples (device_id, channel, time, value, error_code, alarm, upload_id)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  // The hourly rollup of the upload's samples, as the writer keeps it (migration 040: once per hour, not per sample).
  const rollUp = db.prepare(`INSERT INTO sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
    SELECT device_id, channel, time - time % 3600000, MIN(value), MAX(value), COALESCE(SUM(value), 0), COUNT(value), COUNT(*), COUNT(error_code)
    FROM samples WHERE upload_id = ? GROUP BY device_id, channel, time - time % 3600000
    ON CONFLICT (device_id, channel, hour_start) DO UPDATE SET
      value_min = COALESCE(MIN(value_min, excluded.value_min), value_min, excluded.value_min),
      value_max = COALESCE(MAX(value_max, excluded.value_max), value_max, excluded.value_max),
      value_sum = value_sum + excluded.value_sum, value_count = value_count + excluded.value_count,
      sample_count = sample_count + excluded.sample_count, error_count = error_count + excluded.error_count`);
  let samples = 0;
  const started = performance.now();
  for (const [i, u] of uploads.entries()) {
    db.exec('BEGIN IMMEDIATE');
    for (const r of u.readings) samples += Number(insert.run(ids[i], r.channel, r.sampleTime!, r.value, r.errorCode, r.alarm, i + 1).changes);
    rollUp.run(i + 1);
    db.exec('COMMIT');
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
  return { seconds, samples };
}

const now = Date.now();
const work = backlogs(now, UPLOADS, SAMPLES, 19_500_000);
const [warmUp] = backlogs(now, 1, 10_000, 19_400_000);
const mb = work.reduce((n, b) => n + b.body.length, 0) / work.length / 1e6;
console.log(`logger backlog ingest: ${UPLOADS} uploads of ${SAMPLES.toLocaleString('en')} samples (${SAMPLES / CHANNELS} messages x ${CHANNELS} channels, ${mb.toFixed(1)} MB each)`);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const rate = (r: { seconds: number; samples: number }) => r.samples / r.seconds;
const ratios: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const raw = await rawSqlite(work, now);
  const inlet = await throughInlet(warmUp, work);
  ratios.push(rate(inlet) / rate(raw));
  console.log(`  round ${round} of ${ROUNDS}`);
  console.log(`    raw node:sqlite batched insert  ${Math.round(rate(raw)).toLocaleString('en').padStart(10)} samples/s  (${raw.seconds.toFixed(2)} s)`);
  console.log(`    Inlet, HTTP to committed rows   ${Math.round(rate(inlet)).toLocaleString('en').padStart(10)} samples/s  (${inlet.seconds.toFixed(2)} s; per upload ${inlet.perUploadMs.map((ms) => `${Math.round(ms)} ms`).join(', ')})`);
  console.log(`    ratio ${ratios.at(-1)!.toFixed(2)}`);
}
const sorted = [...ratios].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
console.log(`  ratio ${median.toFixed(2)}, the median of ${ROUNDS} round(s): ${ratios.map((r) => r.toFixed(2)).join(', ')} (target >= 0.5)${median >= 0.5 ? '' : '  BELOW TARGET'}`);
