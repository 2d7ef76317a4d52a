// The gateway under bench/isolation.ts, in its own process: a store holding ISOLATION_SAMPLES samples
// (16 channels over 400 days of one device, bulk-inserted straight into SQLite so that building it
// takes seconds, not the hours real uploads would), 100 viewer accounts, SOAP devices for the load.
// usage: node bench/isolation-server.ts <info-file>
import { closeSync, fsyncSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_CONFIG } from '../src/config/schema.ts';
import { createLogger } from '../src/log.ts';
import { startGateway } from '../src/main.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { hashPassword } from '../src/api/passwords.ts';
import { newEntryToken } from '../src/ingest/families.ts';
import { THROTTLE_OFF, tempDir, testConfig } from '../test/e2e/harness.ts';
import { registerFleet } from '../test/e2e/fleet.ts';

const [infoFile] = process.argv.slice(2);
const SAMPLES = Number(process.env.ISOLATION_SAMPLES ?? 10_000_000);
const DEVICES = Number(process.env.ISOLATION_DEVICES ?? 20);
export const USERS = 100;
export const USER_PASSWORD = 'Granite-Falcon-Lake-3';
const CHANNELS = 16;
const DAY = 86_400_000;
const SPAN = 400 * DAY;

const dataDir = tempDir('inlet-bench-isolation-');
const file = path.join(dataDir, 'inlet.sqlite');
const built = performance.now();
{
  const store = new SqliteStore({ file });
  await store.migrate();
  const device = await store.addDevice({
    family: 'logger', serial: '29000001', modelCode: null, model: 'U0110G', name: 'Export source', entryToken: newEntryToken(),
    channels: Array.from({ length: CHANNELS }, (_, i) => ({ channel: i + 1, quantity: 'temperature', unit: '°C' })),
  }, Date.now() - SPAN - DAY);
  // the same hash for every account: one scrypt, not a hundred
  const passwordHash = await hashPassword(USER_PASSWORD);
  for (let u = 0; u < USERS; u++) await store.addUser({ username: `user${u}`, role: 'viewer', passwordHash }, Date.now());
  await store.close();

  // Straight into SQLite: the rollup trigger is set aside for the load and the rollup built in one pass after.
  const db = new DatabaseSync(file);
  // the triggers that keep (and guard) the hourly rollup, as the migrations left them, set aside and put back after
  const triggers = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger'
    AND ((tbl_name = 'samples' AND sql LIKE '%sample_rollup_hour%') OR tbl_name = 'sample_rollup_hour')`).all() as { name: string; sql: string }[];
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF');
  for (const t of triggers) db.exec(`DROP TRIGGER ${t.name}`);
  const perChannel = Math.floor(SAMPLES / CHANNELS);
  const step = Math.floor(SPAN / perChannel);
  const start = Date.now() - SPAN;
  const ROWS = 100;
  const insert = db.prepare(`INSERT INTO samples (device_id, channel, time, value, error_code, alarm, upload_id) VALUES
    ${Array.from({ length: ROWS }, () => "(?, ?, ?, ?, NULL, 'no', 0)").join(', ')}`);
  const args: number[] = new Array(ROWS * 4);
  for (let channel = 1; channel <= CHANNELS; channel++) {
    db.exec('BEGIN');
    for (let i = 0; i + ROWS <= perChannel; i += ROWS) {
      for (let r = 0; r < ROWS; r++) {
        const t = start + (i + r) * step;
        args[r * 4] = device.id; args[r * 4 + 1] = channel; args[r * 4 + 2] = t; args[r * 4 + 3] = 20 + Math.sin(t / DAY) * 5;
      }
      insert.run(...args);
    }
    db.exec('COMMIT');
  }
  db.exec(`INSERT INTO sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
    SELECT device_id, channel, time - time % 3600000, MIN(value), MAX(value), COALESCE(SUM(value), 0), COUNT(value), COUNT(*), COUNT(error_code)
    FROM samples GROUP BY device_id, channel, time - time % 3600000`);
  for (const t of triggers) db.exec(t.sql);
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  // Built with synchronous = OFF: about a gigabyte still sits in the page cache, dirty. Flushed here,
  // before the gateway starts, so that the kernel's write-back of the build does not slow the journal's
  // fsyncs (and so the device answers) of the first phases: that would measure the build, not the LAN.
  const fd = openSync(file, 'r+');
  fsyncSync(fd);
  closeSync(fd);
}
const buildS = (performance.now() - built) / 1000;

const config = testConfig(dataDir, {
  throttle: THROTTLE_OFF,
  log: { ...DEFAULT_CONFIG.log, console: false, file: false },
  jobs: { ...DEFAULT_CONFIG.jobs, verify: { ...DEFAULT_CONFIG.jobs.verify, enabled: false }, housekeeping: { ...DEFAULT_CONFIG.jobs.housekeeping, enabled: false } },
});
const gw = await startGateway(config, createLogger(config, { quiet: true }));
const fleet = await registerFleet(gw.store, DEVICES, 28_000_001, ['soap']);
const exportDevice = (await gw.store.listDevices()).find((d) => d.serial === '29000001')!;
writeFileSync(infoFile, JSON.stringify({
  url: gw.url, port: gw.port, dataDir, buildS, samples: Math.floor(SAMPLES / CHANNELS) * CHANNELS, exportDeviceId: exportDevice.id,
  exportFrom: Date.now() - SPAN, exportTo: Date.now(), users: USERS, userPassword: USER_PASSWORD,
  fleet,
}));
// What blocks the thread that answers devices, per phase: its event-loop delay and its own CPU time
// (process.threadCpuUsage), beside the whole process's CPU (the workers included). Asked over IPC.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let phaseStart = { thread: process.threadCpuUsage(), process: process.cpuUsage(), at: performance.now() };
process.on('message', (m: string) => {
  if (m === 'phase-start') {
    loopDelay.reset();
    phaseStart = { thread: process.threadCpuUsage(), process: process.cpuUsage(), at: performance.now() };
  } else if (m === 'phase-end') {
    const thread = process.threadCpuUsage(phaseStart.thread);
    const all = process.cpuUsage(phaseStart.process);
    const seconds = (performance.now() - phaseStart.at) / 1000;
    process.send!({
      loopP50: loopDelay.percentile(50) / 1e6, loopP99: loopDelay.percentile(99) / 1e6, loopMax: loopDelay.max / 1e6,
      mainCpu: (thread.user + thread.system) / 1e6 / seconds, processCpu: (all.user + all.system) / 1e6 / seconds,
    });
  }
});
process.stdout.write('READY\n');
process.on('SIGTERM', () => { gw.stop().then(() => process.exit(0), () => process.exit(1)); });
