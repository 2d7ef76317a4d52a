// The pipeline's BatchSink: the one durable path. Every batch, normal or during an outage, is
// appended to the local journal; the batches of one turn of the event loop (and those that arrive
// while an append is on its way to disk) share one write and one fdatasync, and each caller is
// answered once its batch is on disk. The store then applies the journal in order, in large
// batches, in the background (applyBatches(), or commit() one by one for a store without it). An
// apply that fails for unavailability is retried from the journal, never through the device; a
// batch the store refuses for any other reason goes to the rejected file. The journal's cursor
// follows what is applied, and a segment is deleted only once it is wholly applied.
//
// Each applied batch carries an upload key made of the journal's id and the record's position, so
// that a record applied again (after a crash or an apply whose outcome is unknown) is stored once.
import { cpus } from 'node:os';
import type { LogSink } from '../../domain/log-sink.ts';
import { randomUUID } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Batch, CommitResult } from '../../domain/types.ts';
import type { Store } from '../store.ts';
import { StoreUnavailableError, isTransientStoreError } from '../errors.ts';
import { Journal, splitRecords, type WrittenGroup } from './journal.ts';
import { BatchRecord, decodeBatch, encodeBatch, uploadKeyOf } from './record-codec.ts';
import { Backoff } from '../../domain/backoff.ts';
import { releaseBytes } from '../release-bytes.ts';

/**
 * fdatasyncs of journal groups running at once. One: the uploads that arrive while a group syncs form
 * the next group (classic group commit), and the answering thread's write of that group (journal.ts)
 * does not meet a sync of the same file. With three in flight, alternating runs of bench:ingest's
 * inlet phase (6 rounds of 5 s, each against its own bare run) gave a median of 0.51 of bare and an
 * answering thread of 46-94 µs per upload; with one, 0.64 and 43-51 µs.
 */
const MAX_SYNCS_IN_FLIGHT = Math.max(1, Number(process.env.INLET_JOURNAL_SYNCS ?? 1));

export { decodeBatch, encodeBatch };

/** The logger this module writes to. */
export type SpoolLogger = LogSink;

export interface SpoolOptions {
  /** Folder for the journal (e.g. <dataDir>/spool). */
  dir: string;
  log: SpoolLogger;
  /** First wait after the store failed an apply; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Most batches applied in one go (one transaction in SQLite). */
  replayChunk?: number;
  /** Most journal bytes applied in one go (the first record of a chunk always goes): large backlogs stay small enough to commit. */
  replayChunkBytes?: number;
  /**
   * The apply starts at most this often (ms) while fewer than replayChunk batches wait, nobody waits
   * for it and the gateway is not stopping: a store transaction costs about as much for a few
   * uploads as for hundreds (each page of the samples key and of the rollup is written once either
   * way), so under load the apply takes the uploads of this long in one go. 0: apply as soon as synced.
   */
  applyEveryMs?: number;
  /**
   * While ingestBusy() says answering uploads competes with the apply for the CPU, the apply waits (the CPU goes to
   * answering devices, every upload being durable in the journal already), as long as the apply lag
   * stays under this (ms). A reader waiting for the apply, a failing store or a stop never wait. 0: never.
   */
  yieldMaxLagMs?: number;
  /** Whether answering uploads competes with the apply for the CPU now (default: uploadsWaiting() of 8 or more, and ingestCompetesForCpu()). */
  ingestBusy?: () => boolean;
  /** Uploads received and not yet answered (the HTTP layer's count; default: those waiting for the journal). */
  uploadsWaiting?: () => number;
  /** Journaled batches kept in memory for the apply, in payload bytes; beyond, they are read back from disk. */
  memoryBytes?: number;
  /** Journal segment size and how often the cursor file follows (journal.ts). */
  segmentBytes?: number;
  cursorEveryMs?: number;
  now?: () => number;
  /**
   * Called for each batch an earlier run journaled, once the store has it. Its readings were
   * acknowledged then, but that process stopped before it could evaluate them (alarm limits).
   */
  onEarlierRunReplayed?: (batch: Batch, result: CommitResult) => void;
}

export interface SpoolGauge {
  /** Batches journaled and not yet applied to the store. */
  depth: number;
  /** Age of the oldest batch not yet applied, ms; null when everything is applied: the apply lag. */
  oldestAgeMs: number | null;
  draining: boolean;
  /** Why the last apply failed, while it does. */
  lastError: string | null;
  /** Batches the store refused on apply for a reason other than availability, kept in rejectedFile. */
  rejected: number;
  rejectedFile: string;
  /** Batches journaled (acknowledged) and applied since start. */
  journaled: number;
  applied: number;
  /** How long the last apply round took, and how many batches it held. */
  lastApplyMs: number | null;
  lastApplyBatches: number;
  /** The apply is waiting while uploads keep the gateway busy (SpoolOptions.yieldMaxLagMs). */
  yieldingToIngest: boolean;
  /** Apply rounds put off for that since start. */
  yieldedRounds: number;
}

/** Uploads waiting for their answer at once for the apply to yield to ingest (at 1,000 uploads/s: one or two). */
const YIELD_MIN_WAITING = 8;

/** How often the apply looks again while it yields to ingest, ms. */
const YIELD_RECHECK_MS = 100;

/** The machine's CPU time so far, all cores, ms: busy and idle. */
function machineCpuTimes(): { busy: number; idle: number } {
  let busy = 0;
  let idle = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    idle += times.idle;
  }
  return { busy, idle };
}

/**
 * Whether answering uploads competes with the apply for the CPU now: the machine's CPUs were busy
 * `machine` of the time or more over the last `windowMs`, and this thread (answering uploads) used
 * the CPU `thread` of that time or more. Measured at most once per window.
 * - The machine, not this thread alone: with cores to spare the apply costs answers nothing, and
 *   waiting would only delay the store. 0.7, not more: a saturated gateway on two cores kept them
 *   busy 0.83-0.94 of the time (the rest waiting for fsyncs).
 * - This thread's CPU time, not its event loop's busy time: on a machine saturated by other
 *   programs, answers take longer in wall time while costing the same CPU. With the event loop at
 *   a quarter as the threshold, bench:ingest at 1,000 uploads/s on a machine at load average 5
 *   measured an apply lag p99 of 3.5 s, and at 40 % the apply still waited at 1,000 uploads/s
 *   with the machine at load average 3.5. At 1,000 uploads/s this thread uses well under 10 % of a
 *   core; a saturated gateway on two cores, 60 % or more.
 */
export function ingestCompetesForCpu(thread = 0.4, machine = 0.7, windowMs = 250): (yieldingNow: boolean) => boolean {
  let lastThread = process.threadCpuUsage();
  let lastCpu = machineCpuTimes();
  let lastAt = performance.now();
  let threadBusy = false;
  let machineBusy = false;
  // Once the apply waits, its own CPU no longer counts in the machine's: the machine then looks
  // less busy, which must not end the wait (the two would alternate every window).
  return (yieldingNow) => {
    const now = performance.now();
    if (now - lastAt >= windowMs) {
      const threadCpu = process.threadCpuUsage(lastThread);
      const cpu = machineCpuTimes();
      const busy = cpu.busy - lastCpu.busy;
      const total = busy + cpu.idle - lastCpu.idle;
      const threadShare = (threadCpu.user + threadCpu.system) / 1000 / (now - lastAt);
      threadBusy = threadShare >= thread;
      machineBusy = total > 0 && busy / total >= machine;
      lastThread = process.threadCpuUsage();
      lastCpu = cpu;
      lastAt = now;
    }
    return threadBusy && (machineBusy || yieldingNow);
  };
}

/** Journal records as written, back to back: positions [start, end), `count` records. */
interface RawChunk {
  start: number; end: number; count: number; bytes: Buffer;
  /** Made for this chunk (joined groups, or read from disk) rather than a cached group's own bytes, which a retry reuses. */
  ownBytes?: boolean;
}

/** A batch waiting for its group's write and sync (the record holds the batch). */
interface Waiting { record: BatchRecord; resolve: (r: CommitResult) => void; reject: (e: Error) => void }

export class SpoolingSink {
  private readonly store: Store;
  private readonly journal: Journal;
  private readonly dir: string;
  private readonly log: SpoolLogger;
  private readonly retry: Backoff;
  private readonly replayChunk: number;
  private readonly replayChunkBytes: number;
  private readonly memoryBytes: number;
  private readonly now: () => number;
  private readonly rejectedFile: string;
  private readonly cursorEveryMs: number;
  private readonly applyEveryMs: number;
  private readonly yieldMaxLagMs: number;
  private readonly ingestBusy: () => boolean;
  private yieldingToIngest = false;
  private yieldedRounds = 0;
  /** Uploads handed to commit() and not yet answered (their journal write and fsync under way). */
  private awaitingJournal = 0;
  /** performance.now() when the last apply round started; its timer starts the next one. */
  private lastApplyStartedAt = Number.NEGATIVE_INFINITY;
  private applyTimer: ReturnType<typeof setTimeout> | null = null;
  private closing = false;
  private journalId = '';
  /** When the store last made what it applied durable; records before storedDurably are durable there. */
  private lastSyncAt = 0;
  private storedDurably = 0;
  private appendQueue: Waiting[] = [];
  private appending: Promise<void> | null = null;
  private readonly syncsInFlight = new Set<Promise<void>>();
  private appendScheduled = false;
  /** Groups of records this run journaled and has not applied yet, as written, while they fit in memoryBytes. */
  private cache: RawChunk[] = [];
  private cacheBytes = 0;
  private drainLoop: Promise<void> | null = null;
  private closed = false;
  private lastError: string | null = null;
  private rejected = 0;
  private journaled = 0;
  private applied = 0;
  private lastApplyMs: number | null = null;
  private lastApplyBatches = 0;
  /** Set while the store is not ready (an offline start): batches are journaled and nothing is applied. */
  private holdReason: string | null = null;
  /** Records before this position were journaled by an earlier run: they may be stored already. */
  private earlierRunEnd = 0;
  /** Records before this position were in an apply whose outcome is unknown (it failed): they may be stored already. */
  private uncertainEnd = 0;
  private readonly appliedWaiters: { position: number; resolve: () => void }[] = [];
  private readonly onEarlierRunReplayed: SpoolOptions['onEarlierRunReplayed'];

  constructor(store: Store, options: SpoolOptions) {
    this.store = store;
    this.dir = options.dir;
    this.journal = new Journal(options.dir, { segmentBytes: options.segmentBytes, cursorEveryMs: options.cursorEveryMs, now: options.now });
    this.cursorEveryMs = options.cursorEveryMs ?? 1000;
    this.applyEveryMs = options.applyEveryMs ?? Number(process.env.INLET_APPLY_EVERY_MS ?? 200);
    this.yieldMaxLagMs = options.yieldMaxLagMs ?? 0;
    // Devices waiting for answers, and the CPU short: a lone large upload (a logger's backlog) keeps
    // the thread busy too, but nobody waits behind it, and its apply should overlap the next one's parse.
    const competes = ingestCompetesForCpu();
    const waiting = options.uploadsWaiting ?? (() => this.awaitingJournal);
    // Started by instant figures (devices waiting now), kept by windowed ones (this thread busy over
    // the last 250 ms): the number of uploads in flight dips each time a group's fsync answers many.
    this.ingestBusy = options.ingestBusy ?? (() => (this.yieldingToIngest ? competes(true) : waiting() >= YIELD_MIN_WAITING && competes(false)));
    this.rejectedFile = path.join(options.dir, 'spool.rejected.jsonl');
    this.log = options.log;
    this.retry = new Backoff(options.retryMs ?? 1000, options.maxRetryMs ?? 30_000);
    this.replayChunk = options.replayChunk ?? 5000;
    this.replayChunkBytes = options.replayChunkBytes ?? 8 * 1024 * 1024;
    this.memoryBytes = options.memoryBytes ?? 32 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.onEarlierRunReplayed = options.onEarlierRunReplayed;
  }

  /** Opens the journal, repairing a torn tail, and starts applying what an earlier run left. */
  async open(): Promise<void> {
    const idFile = path.join(this.dir, 'journal.id');
    const report = await this.journal.open();
    this.journalId = await readFile(idFile, 'utf8').then((t) => t.trim(), () => '');
    if (!/^[0-9a-f-]{36}$/.test(this.journalId)) {
      this.journalId = randomUUID();
      await writeFile(idFile, this.journalId, { flush: true });
    }
    this.earlierRunEnd = this.journal.end;
    if (report.droppedTailBytes) {
      this.log.warn('journal: dropped a record cut short by a crash (it had not been acknowledged)', { bytes: report.droppedTailBytes });
    }
    if (report.damagedCopy) {
      this.log.error('journal: damaged; the damaged part was moved aside, inspect it', { file: report.damagedCopy });
    }
    if (report.pending) {
      this.log.warn('journal: uploads of an earlier run are not applied yet; applying them', { depth: report.pending });
      this.startDrain();
    }
  }

  /**
   * The store cannot be used until `ready` resolves (it could not even be migrated at start): batches
   * are journaled, and the apply waits for `ready`, so nothing meets a schema that is not there.
   */
  holdUntil(ready: Promise<unknown>, reason: string): void {
    this.holdReason = reason;
    this.lastError = reason;
    ready.then(() => {
      this.holdReason = null;
      if (this.journal.depth > 0) this.startDrain();
    }, () => undefined);
  }

  gauge(): SpoolGauge {
    const oldest = this.journal.oldestAppendedAt;
    return {
      depth: this.journal.depth, oldestAgeMs: oldest === null ? null : Math.max(0, this.now() - oldest),
      draining: this.drainLoop !== null, lastError: this.lastError, rejected: this.rejected, rejectedFile: this.rejectedFile,
      journaled: this.journaled, applied: this.applied, lastApplyMs: this.lastApplyMs, lastApplyBatches: this.lastApplyBatches,
      yieldingToIngest: this.yieldingToIngest, yieldedRounds: this.yieldedRounds,
    };
  }

  /** Position just past everything journaled so far (acknowledged or about to be). */
  get journalEnd(): number { return this.journal.end; }

  /**
   * Resolves true once everything journaled before `position` (default: now) is applied to the
   * store, false when that takes longer than timeoutMs: a read that must see an upload waits here.
   */
  async waitApplied(timeoutMs: number, at?: number): Promise<boolean> {
    if (at === undefined) {
      while (this.appending || this.appendScheduled) await (this.appending ?? new Promise((r) => setImmediate(r)));
      await Promise.allSettled([...this.syncsInFlight]);
    }
    const position = at ?? this.journal.end;
    if (this.journal.depth === 0 || this.journal.applied >= position) return true;
    return new Promise<boolean>((resolve) => {
      const waiter = { position, resolve: () => { clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => {
        const i = this.appliedWaiters.indexOf(waiter);
        if (i >= 0) this.appliedWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      timer.unref?.();
      this.appliedWaiters.push(waiter);
      // A read waits for this apply: it starts now rather than at its paced time.
      this.startDrain();
    });
  }

  /** Journals the batch; resolves once it is on disk (with the counts as submitted: the store has not seen it yet). */
  commit(batch: Batch): Promise<CommitResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the journal is closed (the gateway is stopping)'));
    const record = new BatchRecord(batch);
    return new Promise<CommitResult>((resolve, reject) => {
      this.appendQueue.push({ record, resolve, reject });
      this.awaitingJournal++;
      if (!this.appending && !this.appendScheduled) {
        this.appendScheduled = true;
        // setImmediate runs after the poll phase, so every request parsed in this turn shares the fsync.
        setImmediate(() => { this.appendScheduled = false; this.appending = this.appendGroups(); });
      }
    });
  }

  /**
   * Writes the waiting batches as one group and syncs it; the batches that arrive meanwhile are the
   * next group, written once fewer than MAX_SYNCS_IN_FLIGHT syncs run. Each group's callers are
   * answered when its own sync returns.
   */
  private async appendGroups(): Promise<void> {
    while (this.appendQueue.length) {
      const group = this.appendQueue;
      this.appendQueue = [];
      let written: WrittenGroup;
      try {
        written = await this.journal.writeGroup(group.map((w) => w.record), this.now());
      } catch (err) {
        this.failAppend(group, err);
        continue;
      }
      if (this.cacheBytes + written.bytes.length <= this.memoryBytes) {
        this.cache.push({ start: written.start, end: written.start + written.bytes.length, count: written.positions.length, bytes: written.bytes });
        this.cacheBytes += written.bytes.length;
      }
      const sync = this.journal.syncGroup(written).then(() => {
        this.journaled += group.length;
        this.awaitingJournal -= group.length;
        for (const { record: { batch }, resolve } of group) resolve({ uploadId: 0, verdict: batch.upload.verdict, samplesStored: batch.samples.length, samplesDuplicate: 0, spooled: true });
      }, (err: unknown) => this.failAppend(group, err)).finally(() => {
        this.syncsInFlight.delete(sync);
        this.startDrain();
      });
      this.syncsInFlight.add(sync);
      if (this.syncsInFlight.size >= MAX_SYNCS_IN_FLIGHT) await Promise.race(this.syncsInFlight);
    }
    this.appending = null;
  }

  private failAppend(group: Waiting[], err: unknown): void {
    const error = new StoreUnavailableError(`the local journal could not be written: ${(err as Error).message}`, { cause: err });
    this.log.error('journal: append failed; the devices are told to retry', { error: error.message });
    this.awaitingJournal -= group.length;
    for (const w of group) w.reject(error);
  }

  private startDrain(): void {
    if (this.closed || this.holdReason !== null) return;
    if (this.drainLoop) { this.retry.wake(); return; }
    if (this.journal.depth === 0) return;
    if (!this.applyDue()) {
      this.applyTimer ??= setTimeout(() => { this.applyTimer = null; this.startDrain(); },
        this.yieldingToIngest ? YIELD_RECHECK_MS : Math.max(1, this.lastApplyStartedAt + this.applyEveryMs - performance.now()));
      return;
    }
    if (this.applyTimer) { clearTimeout(this.applyTimer); this.applyTimer = null; }
    this.drainLoop = this.drain()
      .catch((err: unknown) => {
        this.lastError = (err as Error).message;
        this.log.error('journal: apply stopped on an unexpected error; it resumes with the next upload or at restart', { error: this.lastError });
      })
      .finally(() => {
        this.drainLoop = null;
        // A batch journaled after the loop last looked must not wait for the next one.
        if (this.journal.depth > 0 && !this.closed && !this.lastError) this.startDrain();
      });
  }

  /**
   * The next records to apply, as journal bytes: from memory where this run still holds them, else
   * read back from disk. An earlier run's records come in chunks of their own (their alarms are evaluated).
   */
  private async nextChunk(): Promise<RawChunk | null> {
    const [first] = this.journal.pendingPositions(1);
    if (!first) return null;
    while (this.cache.length && this.cache[0].end <= first.offset) this.dropCached();
    if (this.cache.length && this.cache[0].start === first.offset) {
      const groups: RawChunk[] = [];
      let count = 0;
      const pendingEnd = this.journal.pendingEnd;
      for (const g of this.cache) {
        if (g.end > pendingEnd) break; // written, not yet synced
        if (groups.length && (count + g.count > this.replayChunk || g.end - groups[0].start > this.replayChunkBytes || g.start !== groups[groups.length - 1].end)) break;
        groups.push(g);
        count += g.count;
      }
      if (!groups.length) return null;
      const bytes = groups.length === 1 ? groups[0].bytes : Buffer.concat(groups.map((g) => g.bytes));
      return { start: groups[0].start, end: groups[groups.length - 1].end, count, bytes, ownBytes: groups.length > 1 };
    }
    const before = first.offset < this.earlierRunEnd ? this.earlierRunEnd : (this.cache[0]?.start ?? Number.POSITIVE_INFINITY);
    const read = await this.journal.readPending(this.replayChunk, before, this.replayChunkBytes);
    return read && { ...read, ownBytes: true };
  }

  /** Forgets the oldest cached group, applied by now, and frees its bytes (release-bytes.ts). */
  private dropCached(): void {
    const g = this.cache.shift()!;
    this.cacheBytes -= g.bytes.length;
    releaseBytes(g.bytes);
  }

  /**
   * Applies one chunk; returns the refused records and whether everything applied so far is durable
   * in the store, or throws StoreUnavailableError. A store that commits without fsync is asked to
   * sync about every cursorEveryMs.
   */
  private async applyChunk(chunk: RawChunk): Promise<{ refused: { position: number; error: string; payload: Uint8Array }[]; durable: boolean }> {
    const earlierRun = chunk.start < this.earlierRunEnd;
    const maybeStoredBefore = Math.max(this.earlierRunEnd, this.uncertainEnd);
    if (this.store.applyJournal && !earlierRun) {
      const sync = this.now() - this.lastSyncAt >= this.cursorEveryMs;
      const applied = await this.store.applyJournal({ bytes: chunk.bytes, position: chunk.start, journalId: this.journalId, maybeStoredBefore, sync, bytesMovable: chunk.ownBytes === true });
      if (applied.durable) this.lastSyncAt = this.now();
      return { refused: applied.refused, durable: applied.durable };
    }
    const records = splitRecords(chunk.bytes, chunk.start);
    const batches = records.map((r) => {
      const batch = decodeBatch(r.payload);
      batch.upload.uploadKey ??= uploadKeyOf(this.journalId, r.offset);
      return batch;
    });
    let outcomes: PromiseSettledResult<CommitResult>[];
    if (this.store.applyBatches) {
      outcomes = (await this.store.applyBatches(batches, records.map((r) => r.offset < maybeStoredBefore)))
        .map((r): PromiseSettledResult<CommitResult> => (r instanceof Error ? { status: 'rejected', reason: r } : { status: 'fulfilled', value: r }));
    } else {
      outcomes = await Promise.allSettled(batches.map((b) => this.store.commit(b)));
    }
    const unavailable = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && isTransientStoreError(o.reason));
    if (unavailable) throw unavailable.reason;
    const refused: { position: number; error: string; payload: Uint8Array }[] = [];
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 'rejected') refused.push({ position: records[i].offset, error: (o.reason as Error).message, payload: records[i].payload });
      else if (earlierRun) this.onEarlierRunReplayed?.(batches[i], o.value);
    }
    // commit() and applyBatches() answer once their commit is durable.
    return { refused, durable: true };
  }

  /** Whether the next apply round may start now (applyEveryMs, and yielding to ingest). */
  private applyDue(): boolean {
    const urgent = this.closing || this.appliedWaiters.length > 0 || this.lastError !== null;
    const wasYielding = this.yieldingToIngest;
    this.yieldingToIngest = !urgent && this.shouldYieldToIngest();
    if (this.yieldingToIngest) {
      if (!wasYielding) this.yieldedRounds++;
      return false;
    }
    return this.applyEveryMs <= 0 || urgent
      || this.journal.depth >= this.replayChunk || performance.now() - this.lastApplyStartedAt >= this.applyEveryMs;
  }

  /**
   * The apply's store transaction costs the machine about as much CPU per upload as answering it: while
   * uploads arrive faster than this thread answers them, applying now would slow every answer, when the
   * journal already holds each upload durably. So the apply waits, within yieldMaxLagMs of apply lag.
   */
  private shouldYieldToIngest(): boolean {
    if (this.yieldMaxLagMs <= 0) return false;
    const oldest = this.journal.oldestAppendedAt;
    if (oldest === null || this.now() - oldest >= this.yieldMaxLagMs) return false;
    return this.ingestBusy();
  }

  private async drain(): Promise<void> {
    this.retry.reset();
    let replayedThisRound = 0;
    let lastProgressLog = this.now();
    let first = true;
    while (!this.closed) {
      // A round applies what is synced now, in chunks; what is journaled meanwhile waits for the next round.
      if (first) this.lastApplyStartedAt = performance.now();
      else if (!this.applyDue()) break;
      first = false;
      const chunk = await this.nextChunk();
      if (!chunk) break;
      const started = performance.now();
      let refused: { position: number; error: string; payload: Uint8Array }[];
      let durable: boolean;
      try {
        ({ refused, durable } = await this.applyChunk(chunk));
      } catch (err) {
        if (!isTransientStoreError(err)) throw err;
        // What did land is found again by its upload key on the next attempt.
        this.uncertainEnd = Math.max(this.uncertainEnd, chunk.end);
        if (this.lastError === null) this.log.warn('store unavailable: uploads wait in the local journal until it is back', { error: err.message });
        this.lastError = err.message;
        this.log.warn('journal: store still unavailable; will retry', { depth: this.journal.depth, retryInMs: this.retry.nextMs, error: this.lastError });
        await this.retry.sleep();
        continue;
      }
      this.lastApplyMs = performance.now() - started;
      this.lastApplyBatches = chunk.count;
      this.retry.reset();
      if (this.lastError !== null && this.holdReason === null) {
        this.log.info('journal: the store takes uploads again', { depth: this.journal.depth });
        this.lastError = null;
      }
      for (const r of refused) {
        this.rejected++;
        await appendFile(this.rejectedFile, `${JSON.stringify({ at: new Date(this.now()).toISOString(), position: r.position, error: r.error, batch: Buffer.from(r.payload).toString('base64') })}\n`, { flush: true });
        this.log.error('journal: the store refused an upload; it was moved to the rejected file', { error: r.error, file: this.rejectedFile });
      }
      while (this.cache.length && this.cache[0].end <= chunk.end) this.dropCached();
      if (durable) this.storedDurably = chunk.end;
      await this.journal.advance(chunk.end, false, this.storedDurably);
      this.applied += chunk.count;
      this.wakeWaiters();
      if (chunk.start < this.earlierRunEnd || replayedThisRound) {
        replayedThisRound += chunk.count;
        if (this.now() - lastProgressLog >= 10_000 || this.journal.depth === 0) {
          lastProgressLog = this.now();
          this.log.info('journal: applying the uploads of an earlier run', { applied: replayedThisRound, depth: this.journal.depth });
        }
      }
    }
  }

  private wakeWaiters(): void {
    const applied = this.journal.depth === 0 ? Number.POSITIVE_INFINITY : this.journal.applied;
    for (let i = this.appliedWaiters.length - 1; i >= 0; i--) {
      if (this.appliedWaiters[i].position <= applied) this.appliedWaiters.splice(i, 1)[0].resolve();
    }
  }

  /**
   * Stops taking batches, waits for the appends in flight, applies what is journaled for up to
   * drainMs (the store permitting), and closes the journal: what is left is applied at the next start.
   */
  async close(drainMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.appending) await this.appending;
    await Promise.allSettled([...this.syncsInFlight]);
    if (this.holdReason === null && this.journal.depth > 0 && !this.lastError) {
      this.startDrain();
      await this.waitApplied(drainMs);
    }
    this.closed = true;
    if (this.applyTimer) { clearTimeout(this.applyTimer); this.applyTimer = null; }
    this.retry.wake();
    await this.drainLoop;
    await this.journal.close();
  }
}
