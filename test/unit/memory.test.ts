// The young generation bound (src/memory.ts): under an allocation pattern that makes V8 grow the new
// space to its maximum (many short-lived objects, some surviving a while, in short tasks, as a server
// runs them), it stays at the bound. Each test file runs in its own process, so the flags set here
// touch no other test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { BUSY_BYTES_PER_S, MAX_NEW_SPACE_MIB, OLD_GENERATION_GROWTH_PERCENT, QUIET_NEW_SPACE_MIB, boundOldGenerationGrowth, boundYoungGeneration, collectOnceWhenNotBusy, ingestBusyByRate, reduceMemoryWhenQuiet } from '../../src/memory.ts';
import { waitUntil } from '../support/hang-guard.ts';

const newSpaceMiB = () => (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20;

async function allocateLikeAServer(tasks: number): Promise<number> {
  let largest = 0;
  let survivors: object[] = [];
  for (let t = 0; t < tasks; t++) {
    for (let i = 0; i < 1_000; i++) {
      survivors.push({ reading: i, samples: [i, i + 1] });
      if (survivors.length > 200_000) survivors = [];
    }
    largest = Math.max(largest, newSpaceMiB());
    await new Promise((r) => setImmediate(r));
  }
  return largest;
}

test('the main thread\'s new space stays at its bound under an allocation that grows it', async () => {
  boundYoungGeneration();
  const largest = await allocateLikeAServer(4000);
  // Growth is stopped by a check after each collection (memory.ts), so one more doubling can slip
  // through before it runs: one fresh-clone CI run saw 32 MiB, where other runs saw
  // 16.5-17.25. Up to twice the bound is what memory.ts promises; unbounded, it reaches 64 MiB.
  assert.ok(largest <= MAX_NEW_SPACE_MIB * 2, `the new space reached ${largest} MiB, above twice the bound of ${MAX_NEW_SPACE_MIB}`);
  // and it did grow to the bound: a new space that never grows would pass the check above
  assert.ok(largest >= MAX_NEW_SPACE_MIB, `the new space stayed at ${largest} MiB`);
});

/** Polls `condition` (the shared give-up time, not a speed requirement). */
async function until(condition: () => boolean, what: string): Promise<void> {
  await waitUntil(what, () => (condition() ? true : undefined), 5);
}

test('a quiet period gives the grown young generation back, once per quiet period', async () => {
  boundYoungGeneration();
  await allocateLikeAServer(4000);
  assert.ok(newSpaceMiB() >= MAX_NEW_SPACE_MIB / 2, `the new space did not grow (${newSpaceMiB()} MiB): the test could not see it shrink`);
  let uploads = 0;
  let reductions = 0;
  const stop = reduceMemoryWhenQuiet(() => uploads, 20, () => { reductions++; });
  try {
    await until(() => reductions === 1, 'the quiet gateway collected');
    assert.ok(newSpaceMiB() <= 2, `the new space is still ${newSpaceMiB()} MiB after the collection`);
    // still quiet: no second collection until something happened (counted in timer periods, not time)
    let periods = 0;
    const counter = setInterval(() => { periods++; }, 20);
    await until(() => periods >= 10, 'ten periods passed');
    clearInterval(counter);
    assert.equal(reductions, 1, 'a gateway that stays quiet collects once');
    uploads++;
    await until(() => reductions === 2, 'quiet again after an upload: collected again');
  } finally {
    stop();
  }
});

test('start-up\'s heap is collected once, at the first check that finds ingest not busy', async () => {
  let busy = true;
  let checks = 0;
  let collections = 0;
  const stop = collectOnceWhenNotBusy(() => { checks++; return busy; }, 5, () => { collections++; });
  try {
    await until(() => checks >= 5, 'five busy checks');
    assert.equal(collections, 0, 'not while ingest is busy (a backlog after a restart)');
    busy = false;
    await until(() => collections === 1, 'collected once ingest was not busy');
    const after = checks;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(checks, after, 'no check after the collection');
    assert.equal(collections, 1);
  } finally {
    stop();
  }
});

// What V8 does with the growth percent (how large the old generation gets) depends on the machine's
// speed: concurrent marking ends sooner or later in allocation terms, and V8's own factor is chosen
// from collection against allocation speed. Two CI runs saw the comparison turn over (103 MiB bounded
// against 62 with V8's own factor; 123 MiB at 30 % against 77 at 300 %), so the test checks what
// memory.ts decides and tells V8, not V8's outcome. Measured here with the gateway's allocation
// pattern (300,000 live objects, batches promoted): 102-124 MiB at 30 % against 263-305 at 300 %.
test('the old generation is given OLD_GENERATION_GROWTH_PERCENT, and V8\'s own factor while ingest is busy', async () => {
  const flags: string[] = [];
  let busy = false;
  boundOldGenerationGrowth(() => busy, OLD_GENERATION_GROWTH_PERCENT, (f) => flags.push(f));
  assert.deepEqual(flags, [`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`], 'set at once');
  // The setting is looked at again after each garbage collection: allocate until one happened.
  let garbage: number[][] = [];
  const collectUntil = (count: number, what: string) => waitUntil(what, () => {
    for (let i = 0; i < 10_000; i++) garbage.push([i]);
    garbage = [];
    return flags.length >= count ? true : undefined;
  }, 1);
  busy = true;
  await collectUntil(2, 'a collection while busy');
  assert.equal(flags[1], '--heap-growing-percent=0', 'V8\'s own factor while busy');
  busy = false;
  await collectUntil(3, 'a collection once quiet');
  assert.equal(flags[2], `--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  assert.equal(flags.length, 3, 'set only when the answer changes, not at every collection');
});

test('ingest counts as busy while upload bytes come at BUSY_BYTES_PER_S or more, over windows of a second', () => {
  let at = 0;
  let bytes = 0;
  const busy = ingestBusyByRate(() => bytes, () => at);
  assert.equal(busy(), false, 'at start');
  // a fleet's steady 1,000 uploads/s of 1.5 kB
  for (let s = 1; s <= 3; s++) { at = s * 1000; bytes += 1500 * 1000; assert.equal(busy(), false); }
  // saturation; within a second the last verdict stands
  at += 1000; bytes += BUSY_BYTES_PER_S * 2;
  assert.equal(busy(), true);
  at += 500; bytes += 10;
  assert.equal(busy(), true, 'half a second is not yet a window');
  at += 500;
  assert.equal(busy(), false, 'ten bytes in the next second');
  // a logger's backlog: one 10 MB upload, 100 ms into a window, is a second's worth at once
  at += 100; bytes += 10_000_000;
  assert.equal(busy(), true);
  assert.ok(QUIET_NEW_SPACE_MIB < MAX_NEW_SPACE_MIB);
});
