// Bounds on the gateway's V8 young generation (the "new space", where short-lived objects such as
// a request's buffers and parsed readings live). V8 doubles it whenever many objects survive a
// scavenge, up to 2 × 64 MB on a machine with this much memory: under a fleet's steady load the
// gateway's resident memory was then mostly an empty young generation (128 MB of 440). A smaller one
// costs more frequent scavenges, each short (a few ms at most with uploads of a few kB).
//
// `--max-semi-space-size` would be the flag, but it is read once, when the process starts, and the
// gateway is started in several ways (the Windows service, `inlet start`, tests, benchmarks). The
// growth factor, though, is read at every growth: setting it to 1 once the young generation has
// reached its bound stops it there. Flags are process-wide, so worker threads created later start
// at a semi-space of WORKER_SEMI_SPACE_MIB (--min-semi-space-size is read when an isolate is made)
// rather than at V8's smallest, which they could no longer grow out of.
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

/** The bound on the main thread's new space (two semi-spaces), MiB. */
export const MAX_NEW_SPACE_MIB = 16;
/** Where worker threads' semi-spaces start (and stay, once growth is stopped), MiB. */
export const WORKER_SEMI_SPACE_MIB = 4;

let observer: PerformanceObserver | null = null;
let capped = false;

function newSpaceMiB(): number {
  return (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20;
}

/** Whether the young generation has reached its bound and stopped growing. */
export function youngGenerationCapped(): boolean {
  return capped;
}

/** Watches the main thread's garbage collections and stops the young generation's growth at maxNewSpaceMiB. Idempotent. */
export function capYoungGeneration(maxNewSpaceMiB = MAX_NEW_SPACE_MIB): void {
  if (observer || capped) return;
  v8.setFlagsFromString(`--min-semi-space-size=${WORKER_SEMI_SPACE_MIB}`);
  const check = () => {
    if (capped || newSpaceMiB() < maxNewSpaceMiB) return;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    capped = true;
    observer?.disconnect();
    observer = null;
  };
  check();
  if (capped) return;
  // The new space grows only at the end of a collection: checking after each one stops it at the first step at or above the bound.
  observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ['gc'] });
}
