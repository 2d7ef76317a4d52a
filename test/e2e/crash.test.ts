// No acknowledged sample is ever lost, none stored twice: ten kill -9 of a gateway under load from
// SOAP, WiFi, TAx6xx and logger devices, each restart on the same data folder. Replay a failure
// with CRASH_SEED=<printed seed>; bench/crash-loop.ts runs many more cycles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDataStore, tempDir } from './harness.ts';
import { registerFleet } from './fleet.ts';
import { runCrashLoop } from './crash-loop.ts';

test('10 kill -9 under load from four device families: every acknowledged sample stored exactly once', async (t) => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed}`);
  const dataDir = tempDir('inlet-crash-');
  const store = openDataStore(dataDir);
  await store.migrate();
  const fleet = await registerFleet(store, 4, 23_100_001);
  await store.close();

  const report = await runCrashLoop({
    dataDir, fleet, cycles: 10, minLoadMs: 100, maxLoadMs: 1100, killAfterAcks: [20, 80], seed,
    onCycle: (c) => t.diagnostic(`cycle ${c.cycle}: started in ${c.startMs} ms, killed after ${c.killAfterMs} ms, ${c.sent} sent, ${c.acknowledged} acknowledged, statuses ${JSON.stringify(c.statuses)}`),
  });
  t.diagnostic(`${report.sent} sent, ${report.acknowledged} acknowledged, ${report.stored} samples stored, ${report.quarantined} quarantined`);

  assert.deepEqual(report.lost, [], `no acknowledged sample is lost (seed ${seed})`);
  assert.deepEqual(report.duplicated, [], `no sample is stored twice (seed ${seed})`);
  for (const c of report.cycles) {
    assert.ok(c.acknowledged > 0, `cycle ${c.cycle} acknowledged uploads before the kill (seed ${seed})`);
    const refusals = Object.keys(c.statuses).filter((s) => s !== '200' && s !== 'connection');
    assert.deepEqual(refusals, [], `cycle ${c.cycle}: only acknowledgements and cut connections (seed ${seed})`);
  }
  assert.ok(report.acknowledged >= 200, `enough load to mean something: ${report.acknowledged} acknowledged`);
});
