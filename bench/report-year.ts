// Report figures: how long one PDF report takes for a year of one temperature channel at
// 1-minute resolution (525,600 samples, with limits, excursions, a gap and sensor errors): read,
// analysed (MKT, excursions, completeness per day), drawn and recorded. Target: under 5 s.
// Prints figures; not a test. Run: npm run bench:report  (RUNS=n to change the number of runs)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { makeReport } from '../src/report/issue.ts';
import { seedColdRoom } from '../test/helpers/report-data.ts';

const DAY = 86_400_000;
const RUNS = Number(process.env.RUNS ?? 3);
const FROM = Date.UTC(2025, 11, 31, 23);   // 2026-01-01 00:00 in Prague
const TO = FROM + 365 * DAY;

const dir = mkdtempSync(path.join(os.tmpdir(), 'inlet-bench-report-'));
const store = new SqliteStore({ file: path.join(dir, 'inlet.sqlite') });
try {
  await store.migrate();
  let started = performance.now();
  const device = await seedColdRoom(store, { from: FROM, to: TO });
  console.log(`seeded a year at 1-minute resolution (2 channels x ~525,600 samples) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < RUNS; i++) {
    started = performance.now();
    const made = await makeReport(store, { deviceIds: [device.id], channels: [`${device.id}:1`], from: FROM, to: TO, timeZone: 'Europe/Prague' },
      { site: 'bench', activationEnergyKJPerMol: 83.144, version: 'bench' }, 'bench', TO + DAY);
    times.push(performance.now() - started);
    size = made.pdf.length;
    if (i === 0) {
      const a = made.model.channels[0].analysis;
      console.log(`  ${a.received} samples, ${made.model.channels[0].excursions.length} excursions, ${a.interruptions.length} gaps/errors, ${a.days.length} days; PDF ${(size / 1024).toFixed(0)} KB`);
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`report of one channel, one year at 1 minute: median ${(sorted[Math.floor(sorted.length / 2)] / 1000).toFixed(2)} s, max ${(sorted[sorted.length - 1] / 1000).toFixed(2)} s over ${RUNS} runs (target < 5 s)`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
