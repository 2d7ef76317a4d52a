// The one clock the tests keep: a test-level timeout that only stops a hung test from hanging the
// whole `npm test` (a CI job waits for it). It is not a speed threshold: every test waits for
// conditions (a count, a text on the page, a process exit), and on a 2-core machine running other
// CPU-heavy work the suite's slowest tests take minutes, far below this.
export const HANG_GUARD_MS = 30 * 60_000;
