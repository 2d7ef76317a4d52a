// Every device parser fed generated input for a bounded time: no throw, no unhandled rejection, a
// well-formed ParseResult (test/helpers/fuzz-targets.ts). The seed is fixed so CI is repeatable;
// FUZZ_SEED and FUZZ_MS explore further, bench/fuzz-long.ts runs for minutes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_TARGETS, fuzz } from '../helpers/fuzz-targets.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const MS = Number(process.env.FUZZ_MS ?? 2500);

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => { unhandled.push(reason); };
process.on('unhandledRejection', onUnhandled);
after(() => { process.off('unhandledRejection', onUnhandled); });

for (const target of FUZZ_TARGETS) {
  test(`fuzz ${target.name} for ${MS} ms (seed ${SEED})`, (t) => {
    const run = fuzz(target, SEED, MS);
    t.diagnostic(`${run.runs} inputs, seed ${SEED}`);
    assert.equal(run.failure, null);
    assert.ok(run.runs > 100, `enough inputs tried (${run.runs})`);
  });
}

test('no unhandled rejection while fuzzing', async () => {
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(unhandled, []);
});
