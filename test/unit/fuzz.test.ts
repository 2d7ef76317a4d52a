// Every device parser fed a fixed number of generated inputs: no throw, no unhandled rejection, a
// well-formed ParseResult (test/helpers/fuzz-targets.ts). Seed and count are fixed, so every run on
// any machine tries the same inputs; FUZZ_SEED and FUZZ_RUNS explore further, bench/fuzz-long.ts
// runs for minutes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_TARGETS, fuzzRuns } from '../helpers/fuzz-targets.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
// A count, not a time budget: a busy machine takes longer but never tries fewer inputs.
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => { unhandled.push(reason); };
process.on('unhandledRejection', onUnhandled);
after(() => { process.off('unhandledRejection', onUnhandled); });

for (const target of FUZZ_TARGETS) {
  test(`fuzz ${target.name} with ${RUNS} inputs (seed ${SEED})`, (t) => {
    const run = fuzzRuns(target, SEED, RUNS);
    t.diagnostic(`${run.runs} inputs, seed ${SEED}`);
    assert.equal(run.failure, null);
    assert.equal(run.runs, RUNS, 'every input was tried');
  });
}

test('no unhandled rejection while fuzzing', async () => {
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(unhandled, []);
});
