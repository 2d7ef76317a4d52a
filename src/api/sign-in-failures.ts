// Failed sign-ins of names that are no account here cost the audit trail a bounded number of events
// (issue 15): an unauthenticated caller varying the user name would otherwise add one event per
// guess, for ever. They are folded per (source address, reason), as refused uploads are: the first
// failure of a window is written at once, the rest of the window are counted, with the first and
// last time and the names tried (up to a cap), and written as one summary event when the window
// ends. So every attempt is still on record, at most two events per source and reason per window.
// Failures of existing accounts are not folded: each keeps its own event (it is about that user).
import type { NewEvent } from '../store/store.ts';

/** At most one immediate and one summary event per (source, reason) in this window. */
export const FOLD_WINDOW_MS = 10 * 60_000;
/** The names kept in a summary event; the count covers them all. */
export const FOLDED_NAMES_CAP = 20;
/** Bounds the map against failures from very many addresses (IPv6): beyond it, everything is written out. */
const MAX_TRACKED = 10_000;

export interface SignInFailure {
  at: number;
  source: string;
  /** The name as typed (unknown here, so it is attacker text: only kept, capped, in the event's data). */
  username: string;
  /** A fixed description of why it failed, never text from the request. */
  reason: string;
  directory: boolean;
}

interface Fold {
  windowStart: number;
  firstAt: number;
  lastAt: number;
  count: number;
  names: Set<string>;
  directory: boolean;
}

export class SignInFailureFolder {
  private readonly folds = new Map<string, Fold>();
  private timer: NodeJS.Timeout | null = null;
  private readonly write: (event: NewEvent) => void;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(write: (event: NewEvent) => void, options: { windowMs?: number; now?: () => number } = {}) {
    this.write = write;
    this.windowMs = options.windowMs ?? FOLD_WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  /** Records a failed sign-in of a name that is no account here. */
  failed(f: SignInFailure): void {
    const key = `${f.source}\u0000${f.reason}`;
    const fold = this.folds.get(key);
    if (fold && f.at - fold.windowStart < this.windowMs) {
      fold.count++;
      fold.lastAt = Math.max(fold.lastAt, f.at);
      fold.firstAt = fold.count === 1 ? f.at : fold.firstAt;
      if (fold.names.size < FOLDED_NAMES_CAP) fold.names.add(f.username.slice(0, 64));
      this.scheduleFlush();
      return;
    }
    if (fold) this.writeSummary(key, fold);
    if (this.folds.size >= MAX_TRACKED) this.flush();
    this.folds.set(key, { windowStart: f.at, firstAt: f.at, lastAt: f.at, count: 0, names: new Set(), directory: f.directory });
    this.write({
      at: f.at, deviceId: null, type: 'user.signin.failed', level: 'warning',
      message: `failed ${f.directory ? 'directory ' : ''}sign-in of an unknown user name from ${f.source}: ${f.reason}` +
        ` (more from there within ${Math.round(this.windowMs / 60_000)} min are counted in one event)`,
      data: { username: f.username.slice(0, 64), source: f.source, reason: f.reason, knownUser: false, directory: f.directory, count: 1 },
    });
  }

  /** Writes the summary of every window with folded failures (its window over or not), and forgets them. */
  flush(): void {
    for (const [key, fold] of this.folds) this.writeSummary(key, fold);
    this.folds.clear();
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }

  /** Writes the summaries of the windows that are over. */
  private flushEnded(): void {
    const now = this.now();
    for (const [key, fold] of this.folds) {
      if (now - fold.windowStart >= this.windowMs) { this.writeSummary(key, fold); this.folds.delete(key); }
    }
    if ([...this.folds.values()].some((f) => f.count > 0)) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.timer) return;
    const earliest = Math.min(...[...this.folds.values()].filter((f) => f.count > 0).map((f) => f.windowStart));
    this.timer = setTimeout(() => { this.timer = null; this.flushEnded(); }, Math.max(0, earliest + this.windowMs - this.now()));
    this.timer.unref();
  }

  private writeSummary(key: string, fold: Fold): void {
    if (fold.count === 0) return;
    const [source, reason] = key.split('\u0000');
    const names = [...fold.names];
    this.write({
      at: fold.lastAt, deviceId: null, type: 'user.signin.failed', level: 'warning',
      message: `${fold.count} more failed ${fold.directory ? 'directory ' : ''}sign-in(s) of unknown user names from ${source} ` +
        `between ${new Date(fold.firstAt).toISOString()} and ${new Date(fold.lastAt).toISOString()}: ${reason}`,
      data: {
        source, reason, knownUser: false, directory: fold.directory, count: fold.count, folded: true, firstAt: fold.firstAt, lastAt: fold.lastAt,
        usernames: names, usernamesCapped: names.length >= FOLDED_NAMES_CAP,
      },
    });
    fold.count = 0;
    fold.names.clear();
  }
}
