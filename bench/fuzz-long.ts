// The parser fuzz targets of test/unit/fuzz.test.ts for minutes instead of seconds, with RSS and heap (after
// a forced GC) before each target, after its first 10 s (warm-up: code, ajv, the generators) and at
// its end: flat from the second reading to the third means the parsers keep nothing between inputs.
// usage: npm run bench:fuzz   (FUZZ_SECONDS=60 per target, FUZZ_SEED; node flag --expose-gc is set here)
import { FUZZ_TARGETS, fuzz } from '../test/helpers/fuzz-targets.ts';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CHUNK_S = 10;

if (typeof globalThis.gc !== 'function') {
  // re-run this file with --expose-gc so that RSS readings are not at the mercy of a lazy collector
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, ['--expose-gc', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

/** "RSS / heap used" in MiB after a full GC: RSS is what the OS sees; the heap shows what is still held. */
const memory = () => {
  globalThis.gc!();
  const m = process.memoryUsage();
  return `${(m.rss / 2 ** 20).toFixed(0)} / ${(m.heapUsed / 2 ** 20).toFixed(1)}`;
};
console.log(`fuzzing every parser ${SECONDS} s, seed ${SEED}; Node ${process.version}\n`);
console.log('| parser | inputs | failures | RSS / heap before, MiB | after 10 s | at the end |\n|---|---|---|---|---|---|');
let failed = false;
for (const target of FUZZ_TARGETS) {
  const before = memory();
  let runs = 0;
  let failure: string | null = null;
  let warm = '';
  // in chunks with fresh seeds, so a long run explores rather than repeating one shrink path
  for (let chunk = 0; chunk * CHUNK_S < SECONDS && !failure; chunk++) {
    const run = fuzz(target, SEED + chunk, Math.min(CHUNK_S, SECONDS - chunk * CHUNK_S) * 1000);
    runs += run.runs;
    failure = run.failure;
    if (chunk === 0) warm = memory();
  }
  console.log(`| ${target.name} | ${runs} | ${failure ? 1 : 0} | ${before} | ${warm} | ${memory()} |`);
  if (failure) { failed = true; console.log(failure); }
}
process.exit(failed ? 1 : 0);
