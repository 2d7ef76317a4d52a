// The one clock the tests keep: a test-level timeout that only stops a hung test from hanging the
// whole `npm test` (a CI job waits for it). It is not a speed threshold: every test waits for
// conditions (a count, a text on the page, a process exit), and on a 2-core machine running other
// CPU-heavy work the suite's slowest tests take minutes, far below this.
export const HANG_GUARD_MS = 30 * 60_000;

// One wait's give-up: a browser step (playwright's default timeout, see test/browser/chromium.ts) or a
// polled condition (waitUntil). Like HANG_GUARD_MS it is not a speed threshold: the steps it bounds take
// seconds even on a 2-core machine under other CPU-heavy work. It makes a condition that never comes fail
// with what was awaited, well before the test-level guard, instead of a silent half hour.
export const WAIT_GIVE_UP_MS = 5 * 60_000;

/** Polls `probe` until it gives a value (not undefined); fails naming `what` if none came within WAIT_GIVE_UP_MS. */
export async function waitUntil<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, pollMs = 100): Promise<T> {
  const giveUpAt = Date.now() + WAIT_GIVE_UP_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > giveUpAt) throw new Error(`gave up after ${WAIT_GIVE_UP_MS / 60_000} minutes waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** `promise` (a read that waits for the other side, say), or a failure naming `what` if it has not settled within WAIT_GIVE_UP_MS. */
export async function withinGiveUp<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${WAIT_GIVE_UP_MS / 60_000} minutes waiting for ${what}`)), WAIT_GIVE_UP_MS);
  });
  try {
    return await Promise.race([promise, giveUp]);
  } finally {
    clearTimeout(timer);
  }
}
