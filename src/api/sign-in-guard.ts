// Guessing passwords is slowed down per (user name, source address) instead of locking the account for
// everyone: anyone could otherwise lock every administrator out again and again. Each attempt is
// counted as a failure before its password is verified (the count is in memory, one process serves the
// viewer, so the check and the increment cannot interleave) and forgiven when it succeeds; after
// `freeFailures` the next attempt from that source for that name must wait, twice as long each time.
// Names that exist and names that do not are treated alike, so the answers tell nothing about them.

export interface SlowDownSettings {
  /** Failures allowed without waiting. */
  freeFailures: number;
  firstDelayMs: number;
  maxDelayMs: number;
  /** A (name, source) quiet this long starts afresh. */
  forgetAfterMs: number;
}

export const DEFAULT_SLOW_DOWN: SlowDownSettings = { freeFailures: 3, firstDelayMs: 1000, maxDelayMs: 15 * 60_000, forgetAfterMs: 24 * 3_600_000 };

interface Attempts { failures: number; nextAllowedAt: number; lastAt: number }

export type SignInAdmission =
  | { allowed: true; failures: number }
  | { allowed: false; failures: number; retryAfterMs: number };

const MAX_TRACKED = 100_000;

export class SignInGuard {
  private readonly attempts = new Map<string, Attempts>();
  readonly settings: SlowDownSettings;

  constructor(settings: SlowDownSettings = DEFAULT_SLOW_DOWN) {
    this.settings = settings;
  }

  private static key(username: string, source: string): string {
    return `${username.normalize('NFC').toLowerCase()}\u0000${source}`;
  }

  /** Before verifying: refuses while the pair must wait, else counts this attempt as a failure. */
  admit(username: string, source: string, now: number): SignInAdmission {
    const key = SignInGuard.key(username, source);
    let entry = this.attempts.get(key);
    if (entry && now - entry.lastAt > this.settings.forgetAfterMs) entry = undefined;
    if (entry && now < entry.nextAllowedAt) return { allowed: false, failures: entry.failures, retryAfterMs: entry.nextAllowedAt - now };
    if (!entry) {
      if (this.attempts.size >= MAX_TRACKED) this.sweep(now);
      entry = { failures: 0, nextAllowedAt: 0, lastAt: now };
      this.attempts.set(key, entry);
    }
    entry.failures++;
    entry.lastAt = now;
    const over = entry.failures - this.settings.freeFailures;
    if (over >= 0) entry.nextAllowedAt = now + Math.min(this.settings.maxDelayMs, this.settings.firstDelayMs * 2 ** Math.min(over, 30));
    return { allowed: true, failures: entry.failures };
  }

  /** The attempt was never checked (no hash slot free): it does not count against the pair. */
  uncount(username: string, source: string): void {
    const entry = this.attempts.get(SignInGuard.key(username, source));
    if (!entry || entry.failures === 0) return;
    entry.failures--;
    if (entry.failures < this.settings.freeFailures) entry.nextAllowedAt = 0;
  }

  /** The password was right: the attempts of this pair are forgiven. */
  succeeded(username: string, source: string): void {
    this.attempts.delete(SignInGuard.key(username, source));
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.attempts) if (now - entry.lastAt > this.settings.forgetAfterMs || now >= entry.nextAllowedAt) this.attempts.delete(key);
    if (this.attempts.size >= MAX_TRACKED) this.attempts.clear();
  }
}
