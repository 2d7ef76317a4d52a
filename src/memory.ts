// A bound on the gateway's V8 young generation (the "new space", where short-lived objects such as a
// request's buffers and parsed readings live). V8 doubles it whenever many objects survive a
// scavenge, up to 2 × 64 MB on a machine with this much memory: under a fleet's steady load the
// gateway's resident memory was then largely an empty young generation (128 MB of 440). A bounded
// one costs more frequent scavenges, each short (a few ms at most with uploads of a few kB).
//
// `--max-semi-space-size` would be the flag, but it is read once, when the process starts, and the
// gateway is started in several ways (the Windows service, `inlet start`, tests, benchmarks). The
// growth factor, though, is read at every growth: it is set to 1 (no growth) while the new space is
// at its bound and back to V8's 2 when it is below (V8 shrinks it when allocation slows down).
// Flags are process-wide: worker threads grow in step with the main thread, within their own
// resourceLimits, from V8's smallest semi-spaces (1 MiB). They used to start at 4 MiB: under a
// 10,000-device fleet the SQLite write thread then kept 8 MiB of young generation where 2 serve it
// (the main thread being at its bound, growth stops there): the gateway's RSS peaked at 182-193
// MiB in the fleet's steady phase, against 175-180 from V8's start (three alternating runs each).
// The apply's CPU per upload (bench:apply), a year's chart series (bench:viewer) and a year's PDF
// (bench:report) showed no difference; bench:backlog's first round ran about 5 % slower.
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';

/** The bound on the main thread's new space (its two semi-spaces), MiB. */
export const MAX_NEW_SPACE_MIB = 16;
/** Worker threads' young generation bound (resourceLimits.maxYoungGenerationSizeMb: its semi-spaces are a third each), MiB. */
export const WORKER_YOUNG_GENERATION_MIB = 24;
/** V8's own growth factor (its default). */
const V8_GROWTH_FACTOR = 2;

let observer: PerformanceObserver | null = null;
let growthFactor = V8_GROWTH_FACTOR;

function newSpaceMiB(): number {
  return (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20;
}

/** Whether the young generation is at its bound (growth stopped). */
export function youngGenerationAtBound(): boolean {
  return growthFactor === 1;
}

/**
 * The bound while upload bodies arrive slower than BUSY_BYTES_PER_S, MiB. A fleet's steady load
 * (10,000 devices every 10 s: 1,000 uploads/s, about 1.5 MB/s) collects a young generation this size
 * a few times a second, each in about a millisecond, and the gateway holds 6 MiB less. At saturation
 * (15-25 MB/s of small uploads) or under a logger's backlog (10 MB uploads, whose parsing allocates
 * in bulk) the larger bound halves the number of collections on the thread that answers devices:
 * with 8 MiB there, bench:backlog lost about a tenth of its rate.
 */
export const QUIET_NEW_SPACE_MIB = 8;
/** Bytes of upload bodies per second from which the young generation may grow to MAX_NEW_SPACE_MIB. */
export const BUSY_BYTES_PER_S = 4 * 1024 * 1024;

/**
 * Whether ingest is busy: true once `bodyBytes` (a count of upload bytes received) grew by
 * BUSY_BYTES_PER_S within a window of a second, until a window of a second or more saw less. Asked
 * after garbage collections, to size the heap: small while a fleet's steady load comes in, V8's own
 * sizes under saturation or a backlog.
 */
export function ingestBusyByRate(bodyBytes: () => number, now: () => number = () => performance.now()): () => boolean {
  let windowStart = now();
  let bytesAtStart = bodyBytes();
  let busy = false;
  return () => {
    const at = now();
    const bytes = bodyBytes() - bytesAtStart;
    if (at - windowStart >= 1000) {
      busy = (bytes * 1000) / (at - windowStart) >= BUSY_BYTES_PER_S;
      windowStart = at;
      bytesAtStart = bodyBytes();
    } else if (bytes >= BUSY_BYTES_PER_S) {
      // a second's worth already, within this window (a backlog's first large upload)
      busy = true;
    }
    return busy;
  };
}

/**
 * Watches the main thread's garbage collections and keeps its young generation at or below
 * maxNewSpaceMiB (a number, or a function asked after each collection). Idempotent: the first call's bound stays.
 */
export function boundYoungGeneration(maxNewSpaceMiB: number | (() => number) = MAX_NEW_SPACE_MIB): void {
  if (observer) return;
  // The new space changes size only at the end of a collection: checked after each one, it stops at
  // the first doubling that reaches the bound. The check runs after the task that collected, so one
  // task allocating tens of MB could let one more doubling through; a request's task does not.
  const check = () => {
    const bound = typeof maxNewSpaceMiB === 'number' ? maxNewSpaceMiB : maxNewSpaceMiB();
    const want = newSpaceMiB() >= bound ? 1 : V8_GROWTH_FACTOR;
    if (want === growthFactor) return;
    v8.setFlagsFromString(`--semi-space-growth-factor=${want}`);
    growthFactor = want;
  };
  check();
  observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ['gc'] });
}

/**
 * How far V8 lets the old generation grow past what the last full collection kept, in percent. V8's
 * own factor grows a heap that collects quickly up to 4 times its live size: under a 10,000-device
 * fleet the main thread held 80 MiB for 38 MiB live, and the write thread 37 for 9. At 30 % the
 * full collections come more often (each one marks concurrently, on V8's helper threads); CPU per
 * upload showed no difference in alternating runs.
 */
export const OLD_GENERATION_GROWTH_PERCENT = 30;

let growthObserver: PerformanceObserver | null = null;

/**
 * Sets the old generation's growth (process-wide: every thread's heap; V8 reads it at each full
 * collection). With `busy`, asked after each collection, V8's own growth comes back while ingest is
 * busy: from a small heap, 30 % steps made a logger backlog's 10 MB uploads (parsed in bulk) run
 * several full collections each, and bench:backlog lost a tenth or more of its rate. `setFlags`: for tests.
 */
export function boundOldGenerationGrowth(busy: () => boolean = () => false, percent = OLD_GENERATION_GROWTH_PERCENT,
  setFlags: (flags: string) => void = (flags) => v8.setFlagsFromString(flags)): void {
  if (growthObserver) return;
  let current = -1;
  const check = () => {
    const want = busy() ? 0 : percent; // 0: V8's own factor
    if (want === current) return;
    setFlags(`--heap-growing-percent=${want}`);
    current = want;
  };
  check();
  growthObserver = new PerformanceObserver(check);
  growthObserver.observe({ entryTypes: ['gc'] });
}

/** How long the gateway goes without an upload before it gives its spare heap back (once per quiet period). */
export const QUIET_MS = 10_000;

let collectAllGarbage: (() => void) | null = null;

/**
 * V8's most thorough collection: full collections until nothing more is freed, then the new space
 * shrunk to its smallest and the old space compacted. Node offers `gc` only with --expose-gc, read
 * when a context is made: the flag is set for one new context, taken back, and its `gc` kept.
 */
export function collectAllAvailableGarbage(): void {
  if (!collectAllGarbage) {
    v8.setFlagsFromString('--expose-gc');
    try {
      const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
      collectAllGarbage = () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  collectAllGarbage();
}

/**
 * After start-up, and whenever `activity` (e.g. the count of uploads received) has not moved for
 * quietMs, collects all garbage once: the young generation grown by start-up's migrations and
 * module loading (16 MiB, nearly empty) and the old space's spare pages go back to the system.
 * A busy gateway is never quiet, so this costs the ingest path nothing; a quiet one pays a full
 * collection of a small heap (milliseconds) once per quiet period. Returns a stop function.
 */
export function reduceMemoryWhenQuiet(activity: () => number, quietMs = QUIET_MS, onReduced?: () => void): () => void {
  let last = activity();
  let reduced = false;
  const timer = setInterval(() => {
    const now = activity();
    if (now !== last) { last = now; reduced = false; return; }
    if (reduced) return;
    reduced = true;
    collectAllAvailableGarbage();
    onReduced?.();
  }, quietMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Runs `collect` (default: collectAllAvailableGarbage) once, at the first check, every everyMs, that
 * finds `busy` false; returns a stop function. Start-up (migrations, module loading, the device
 * registry) grows the young generation past its quiet bound in tasks too long for the bound's check,
 * and V8 shrinks it only when allocation slows: a gateway that takes a fleet's steady uploads from its
 * first second would keep 16 MiB of it. Not while busy: loggers send the backlogs they kept while the
 * gateway was down, and a backlog's first upload ran 200-300 ms slower on a heap collected just
 * before (bench:backlog 0.47-0.52 against 0.52-0.63).
 */
export function collectOnceWhenNotBusy(busy: () => boolean, everyMs: number, collect: () => void = collectAllAvailableGarbage): () => void {
  const timer = setInterval(() => {
    if (busy()) return;
    clearInterval(timer);
    collect();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** glibc's malloc arenas for `inlet start` on Linux (MALLOC_ARENA_MAX), unless the environment sets its own. */
export const MALLOC_ARENAS = 2;
/**
 * glibc's threshold above which an allocation gets pages of its own, given back when freed
 * (MALLOC_MMAP_THRESHOLD_, bytes; glibc's starting value). Left alone glibc raises it to the largest
 * block freed so far, up to 32 MiB, after which a journal chunk of a few MiB comes from the shared
 * heap and its pages stay there, resident, once freed: 46 against 36 MiB of heap under the fleet.
 */
export const MALLOC_MMAP_THRESHOLD = 128 * 1024;

/**
 * glibc gives each thread that allocates at once an arena of its own, up to 8 per core, and keeps
 * what was freed in each: the main thread, the write worker, V8's compiler and GC threads and
 * libuv's pool held 75-90 MB of native allocations under a 10,000-device fleet, against about 40
 * with two arenas (same CPU per upload). glibc reads MALLOC_ARENA_MAX only when a process starts,
 * so `inlet start` replaces itself (execve: same process id, same open files, nothing loaded yet
 * that matters) with the same command and the variable set. Not on Windows (no glibc, no execve),
 * nor where MALLOC_ARENA_MAX is set already (an administrator's own value, or the relaunch itself).
 * (musl ignores the variable: there the relaunch only costs a start-up's few hundred ms, once.)
 * The relaunch also fixes glibc's mmap threshold (MALLOC_MMAP_THRESHOLD), unless the environment sets it.
 */
export function relaunchWithFewerMallocArenas(env: NodeJS.ProcessEnv = process.env): void {
  if (process.platform !== 'linux' || env.MALLOC_ARENA_MAX !== undefined || typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { MALLOC_MMAP_THRESHOLD_: String(MALLOC_MMAP_THRESHOLD), ...env, MALLOC_ARENA_MAX: String(MALLOC_ARENAS) });
}
