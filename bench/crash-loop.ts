// Many kill -9 cycles under load from a mixed fleet, then the audit: acknowledged vs stored.
// usage: npm run bench:crash   (CRASH_CYCLES=100, CRASH_DEVICES_PER_FAMILY=6, CRASH_MIN_MS=50,
// CRASH_MAX_MS=2000, CRASH_SEED to replay a run). Exits 1 if anything acknowledged is missing or doubled.
import { openDataStore, tempDir } from '../test/e2e/harness.ts';
import { registerFleet } from '../test/e2e/fleet.ts';
import { runCrashLoop } from '../test/e2e/crash-loop.ts';

const CYCLES = Number(process.env.CRASH_CYCLES ?? 100);
const PER_FAMILY = Number(process.env.CRASH_DEVICES_PER_FAMILY ?? 6);
const MIN_MS = Number(process.env.CRASH_MIN_MS ?? 50);
const MAX_MS = Number(process.env.CRASH_MAX_MS ?? 2000);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);

const dataDir = tempDir('inlet-crash-bench-');
const store = openDataStore(dataDir);
await store.migrate();
const fleet = await registerFleet(store, PER_FAMILY, 24_100_001);
await store.close();

console.log(`crash loop: ${CYCLES} kill -9 cycles, ${fleet.length} devices (${PER_FAMILY} per family: SOAP, WiFi, TAx6xx, logger), ` +
  `kill ${MIN_MS}-${MAX_MS} ms after the first acknowledgement, seed ${SEED}, data ${dataDir}; Node ${process.version}`);
const started = performance.now();
const report = await runCrashLoop({
  dataDir, fleet, cycles: CYCLES, minLoadMs: MIN_MS, maxLoadMs: MAX_MS, seed: SEED,
  onCycle: (c) => { if (c.cycle % 10 === 0 || c.cycle === CYCLES) console.log(`  cycle ${c.cycle}: ${c.acknowledged} acknowledged, statuses ${JSON.stringify(c.statuses)}`); },
});
const seconds = (performance.now() - started) / 1000;
const restarts = report.cycles.map((c) => c.startMs).sort((a, b) => a - b);
const refusals = report.cycles.reduce((n, c) => n + Object.entries(c.statuses).filter(([s]) => s !== '200' && s !== 'connection').reduce((m, [, v]) => m + v, 0), 0);

console.log(`
| figure | value |
|---|---|
| kill -9 cycles | ${report.cycles.length} |
| uploads sent / acknowledged | ${report.sent} / ${report.acknowledged} |
| samples stored (tag channel) / quarantined | ${report.stored} / ${report.quarantined} |
| acknowledged but lost | ${report.lost.reduce((n, l) => n + l.tags.length, 0)} |
| stored twice | ${report.duplicated.reduce((n, d) => n + d.tags.length, 0)} |
| answers other than 200 (not counting cut connections) | ${refusals} |
| restart to listening, median / max | ${restarts[Math.floor(restarts.length / 2)]} ms / ${restarts.at(-1)} ms |
| wall time | ${seconds.toFixed(0)} s |`);
if (report.lost.length || report.duplicated.length) {
  console.log(`FAILED (seed ${SEED}): lost ${JSON.stringify(report.lost)}, duplicated ${JSON.stringify(report.duplicated)}` +
    (process.env.INLET_KEEP_TEST_DIRS === '1' ? `; data kept in ${dataDir}` : '; run again with INLET_KEEP_TEST_DIRS=1 to keep the data folder'));
  process.exit(1);
}
