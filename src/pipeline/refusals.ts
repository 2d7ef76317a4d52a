// Refused uploads cost nothing that grows: each is archived as a capped prefix of its body with the
// body's length and SHA-256 in the refusal archive (migration 011, outside the device chains, pruned
// by a row cap and an age), at most `burst` and then `perSourcePerMinute` per source address; beyond
// that a refusal is answered and counted only. Events are de-duplicated by (source, family, reason
// code) — never by text from the request — and carry how many refusals of the kind they stand for.
import { createHash } from 'node:crypto';
import type { LogSink } from '../domain/log-sink.ts';
import type { NewEvent, RefusalArchiveLimits, RefusalRecord } from '../store/store.ts';

/** Where refusals go: the store (SQLite: its reader worker's connection, so the ingest thread never waits). */
export interface RefusalSink {
  archiveRefusals(refusals: RefusalRecord[], events: NewEvent[], limits: RefusalArchiveLimits): Promise<void>;
}

export interface RefusalSettings {
  prefixBytes: number;
  maxRows: number;
  keepDays: number;
  perSourcePerMinute: number;
  burst: number;
}

/** A fixed word per kind of refusal: what events are de-duplicated by and the archive is searched by. */
export type RefusalCode = 'unknown-entry-point' | 'too-large' | 'malformed' | 'identity-mismatch' | 'implausible-readings';

export interface Refusal {
  deviceId: number | null;
  family: string;
  receivedAt: number;
  remoteAddress: string;
  contentType: string;
  /** The body as far as it was read; null when it was not read at all (unknown entry point). */
  raw: Buffer | null;
  status: number;
  code: RefusalCode;
  reason: string;
  serial: string | null;
}

export interface RefusalCounters {
  /** Refusals written to the archive. */
  archived: number;
  /** Refusals answered but not archived: their source was over its rate. */
  overRate: number;
  /** Refusal events written; the rest were folded into the next event's count. */
  events: number;
  /** Archive writes that failed (the refusals were dropped, the devices answered anyway). */
  writeFailures: number;
}

const DAY_MS = 86_400_000;
/** At most one event per (source, family, reason code) in this window. */
const EVENT_WINDOW_MS = 10 * 60_000;
/** Refusals are written at most this often, together. */
const FLUSH_DELAY_MS = 200;
const FLUSH_ROWS = 200;
/** Bounds the per-source maps against a flood from many addresses (IPv6). */
const MAX_TRACKED = 10_000;

export class RefusalRecorder {
  readonly counters: RefusalCounters = { archived: 0, overRate: 0, events: 0, writeFailures: 0 };
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly lastEvents = new Map<string, { at: number; folded: number }>();
  private pending: RefusalRecord[] = [];
  private pendingEvents: NewEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly sink: RefusalSink;
  private readonly settings: RefusalSettings;
  private readonly log: Pick<LogSink, 'warn' | 'error'>;

  constructor(sink: RefusalSink, settings: RefusalSettings, log: Pick<LogSink, 'warn' | 'error'>) {
    this.sink = sink;
    this.settings = settings;
    this.log = log;
  }

  /** Records one refusal; returns whether it was archived (false: its source is over its rate). */
  record(r: Refusal): boolean {
    this.eventFor(r);
    if (!r.raw) return false;
    if (!this.takeToken(r.remoteAddress, r.receivedAt)) {
      this.counters.overRate++;
      return false;
    }
    this.counters.archived++;
    this.log.warn('upload refused', { status: r.status, code: r.code, reason: r.reason, serial: r.serial, deviceId: r.deviceId, remote: r.remoteAddress, family: r.family });
    this.pending.push({
      receivedAt: r.receivedAt, deviceId: r.deviceId, family: r.family, remoteAddress: r.remoteAddress, contentType: r.contentType.slice(0, 200),
      status: r.status, reasonCode: r.code, reason: r.reason.slice(0, 1000), serial: r.serial?.slice(0, 64) ?? null,
      bodyLength: r.raw.length, bodySha256: createHash('sha256').update(r.raw).digest(),
      // A copy: a view would keep the whole (up to 16 MiB) body alive until the write.
      bodyPrefix: Buffer.from(r.raw.subarray(0, this.settings.prefixBytes)),
    });
    this.writeSoon();
    return true;
  }

  /**
   * An event written with the next batch of refusals (sign-in events use this too): it reaches the
   * database within FLUSH_DELAY_MS, on the archive's connection, not the thread that answers devices.
   */
  recordEvent(event: NewEvent): void {
    this.pendingEvents.push(event);
    this.writeSoon();
  }

  /** Token bucket per source address: `burst` at once, then perSourcePerMinute. */
  private takeToken(source: string, at: number): boolean {
    let bucket = this.buckets.get(source);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED) this.buckets.clear();
      bucket = { tokens: this.settings.burst, at };
      this.buckets.set(source, bucket);
    }
    bucket.tokens = Math.min(this.settings.burst, bucket.tokens + ((at - bucket.at) * this.settings.perSourcePerMinute) / 60_000);
    bucket.at = at;
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  private eventFor(r: Refusal): void {
    const key = `${r.remoteAddress}|${r.family}|${r.code}`;
    const last = this.lastEvents.get(key);
    if (last && r.receivedAt - last.at < EVENT_WINDOW_MS) {
      last.folded++;
      return;
    }
    if (!last && this.lastEvents.size >= MAX_TRACKED) this.lastEvents.clear();
    const folded = last?.folded ?? 0;
    this.lastEvents.set(key, { at: r.receivedAt, folded: 0 });
    this.counters.events++;
    this.pendingEvents.push({
      at: r.receivedAt, deviceId: r.deviceId, type: 'upload.refused', level: 'warning',
      message: `upload from ${r.remoteAddress}${r.serial ? ` (serial ${r.serial})` : ''} refused: ${r.reason.slice(0, 300)}` +
        (folded ? ` (${folded} more ${r.code} refusal${folded === 1 ? '' : 's'} from this address since the last event)` : ''),
      data: { status: r.status, family: r.family, code: r.code, source: r.remoteAddress, count: folded + 1 },
    });
    this.writeSoon();
  }

  private writeSoon(): void {
    if (this.pending.length >= FLUSH_ROWS) { this.flush().catch(() => undefined); return; }
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.flush().catch(() => undefined); }, FLUSH_DELAY_MS);
    this.timer.unref();
  }

  /** Writes what is pending; resolves when every refusal recorded so far is written (or dropped on failure). */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const refusals = this.pending;
    const events = this.pendingEvents;
    this.pending = [];
    this.pendingEvents = [];
    if (refusals.length || events.length) {
      const limits = { maxRows: this.settings.maxRows, keepSince: Date.now() - this.settings.keepDays * DAY_MS };
      this.writing = this.writing.then(() => this.sink.archiveRefusals(refusals, events, limits)).catch((err: unknown) => {
        this.counters.writeFailures++;
        this.log.error('could not write refused uploads to the refusal archive; they are dropped', { refusals: refusals.length, error: (err as Error).message });
      });
    }
    return this.writing;
  }
}
