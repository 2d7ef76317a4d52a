// The pipeline's BatchSink in front of a Store. Normally a batch goes straight to store.commit().
// When the store is unavailable (StoreUnavailableError: unreachable, failing over, full, or a commit
// whose outcome is unknown) the batch is appended to a local journal, fsync'd, and the device is
// answered. From then on new batches queue behind it in the journal, so order is kept, and a
// background drain replays the journal in order once the store answers again. Every batch gets an
// upload key before its first attempt, so a replay of something that did reach the database (or
// a replay interrupted by a crash) is stored once.
import type { LogSink } from '../../domain/log-sink.ts';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { Batch, CommitResult } from '../../domain/types.ts';
import type { Store } from '../store.ts';
import { isTransientStoreError } from '../errors.ts';
import { timeOrderedUploadKey } from '../upload-key.ts';
import { Journal } from './journal.ts';
import { Backoff } from '../../domain/backoff.ts';

/** The logger this module writes to. */
export type SpoolLogger = LogSink;

export interface SpoolOptions {
  /** Folder for the journal (e.g. <dataDir>/spool). */
  dir: string;
  log: SpoolLogger;
  /** First wait after the store failed during a drain; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Records replayed per round; they share the store's group commits. */
  replayChunk?: number;
  /** Most journal bytes replayed per round (the first record of a round always goes). */
  replayChunkBytes?: number;
  now?: () => number;
  /**
   * Called for each batch an earlier run journaled, once the store has it. Its readings were
   * acknowledged then, but that process stopped before it could evaluate them (alarm limits).
   */
  onEarlierRunReplayed?: (batch: Batch, result: CommitResult) => void;
}

export interface SpoolGauge {
  /** Batches waiting in the journal. */
  depth: number;
  /** Age of the oldest waiting batch, ms; null when the journal is empty. */
  oldestAgeMs: number | null;
  draining: boolean;
  /** Why the last store attempt failed, while spooling. */
  lastError: string | null;
  /** Batches the store refused on replay for a reason other than availability, kept in rejectedFile. */
  rejected: number;
  rejectedFile: string;
}

/** JSON for a batch; its one binary field travels as base64. */
export function encodeBatch(batch: Batch): Buffer {
  return Buffer.from(JSON.stringify({ ...batch, upload: { ...batch.upload, raw: batch.upload.raw.toString('base64') } }));
}

export function decodeBatch(payload: Buffer): Batch {
  const parsed = JSON.parse(payload.toString('utf8')) as Batch & { upload: { raw: string } };
  return { ...parsed, upload: { ...parsed.upload, raw: Buffer.from(parsed.upload.raw, 'base64') } };
}

export class SpoolingSink {
  private readonly store: Store;
  private readonly journal: Journal;
  private readonly log: SpoolLogger;
  private readonly retry: Backoff;
  private readonly replayChunk: number;
  private readonly replayChunkBytes: number;
  private readonly now: () => number;
  private readonly rejectedFile: string;
  /** Journal operations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private drainLoop: Promise<void> | null = null;
  private closed = false;
  private lastError: string | null = null;
  private rejected = 0;
  /** Set while the store is not ready (an offline start): every batch is journaled and nothing replays. */
  private holdReason: string | null = null;
  /** Records before this offset were journaled by an earlier run (0 once they are all replayed: the journal restarts at 0 when emptied). */
  private earlierRunEnd = 0;
  private readonly onEarlierRunReplayed: SpoolOptions['onEarlierRunReplayed'];

  constructor(store: Store, options: SpoolOptions) {
    this.store = store;
    this.journal = new Journal(path.join(options.dir, 'spool.journal'));
    this.rejectedFile = path.join(options.dir, 'spool.rejected.jsonl');
    this.log = options.log;
    this.retry = new Backoff(options.retryMs ?? 1000, options.maxRetryMs ?? 30_000);
    this.replayChunk = options.replayChunk ?? 200;
    this.replayChunkBytes = options.replayChunkBytes ?? 8 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.onEarlierRunReplayed = options.onEarlierRunReplayed;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Opens the journal, repairing a torn tail, and starts draining what an earlier run left. */
  async open(): Promise<void> {
    const report = await this.journal.open();
    this.earlierRunEnd = this.journal.end;
    if (report.droppedTailBytes) {
      this.log.warn('spool: dropped a record cut short by a crash (it had not been acknowledged)', { bytes: report.droppedTailBytes });
    }
    if (report.damagedCopy) {
      this.log.error('spool: the journal is damaged; the damaged part was moved aside, inspect it', { file: report.damagedCopy });
    }
    if (report.pending) {
      this.log.warn('spool: batches from an earlier run are waiting; replaying them', { depth: report.pending });
      this.startDrain();
    }
  }

  /**
   * The store cannot be used until `ready` resolves (it could not even be migrated at start): batches
   * go to the journal, and the replay waits for `ready`, so nothing meets a schema that is not there.
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
    };
  }

  async commit(batch: Batch): Promise<CommitResult> {
    const keyed: Batch = batch.upload.uploadKey ? batch : { ...batch, upload: { ...batch.upload, uploadKey: timeOrderedUploadKey(this.now()) } };
    if (this.journal.depth === 0 && !this.drainLoop && this.holdReason === null) {
      try {
        return await this.store.commit(keyed);
      } catch (err) {
        if (!isTransientStoreError(err)) throw err;
        this.lastError = err.message;
        this.log.warn('store unavailable: spooling uploads locally until it is back', { error: err.message });
      }
    }
    return this.spool(keyed);
  }

  /** Journals a batch behind the ones already waiting; resolves once it is on disk. */
  private async spool(batch: Batch): Promise<CommitResult> {
    await this.serial(() => this.journal.append(encodeBatch(batch), this.now()));
    this.startDrain();
    return {
      uploadId: 0, verdict: batch.upload.verdict, samplesStored: batch.samples.length, samplesDuplicate: 0, spooled: true,
    };
  }

  private startDrain(): void {
    if (this.closed || this.holdReason !== null) return;
    if (this.drainLoop) { this.retry.wake(); return; }
    this.drainLoop = this.drain()
      .catch((err: unknown) => {
        this.lastError = (err as Error).message;
        this.log.error('spool: replay stopped on an unexpected error; it resumes with the next spooled batch or at restart', { error: this.lastError });
      })
      .finally(() => {
        this.drainLoop = null;
        // A batch journaled after the loop last looked must not wait for the next one.
        if (this.journal.depth > 0 && !this.closed && !this.lastError) this.startDrain();
      });
  }

  private async drain(): Promise<void> {
    this.retry.reset();
    let replayed = 0;
    let lastProgressLog = this.now();
    while (!this.closed) {
      const records = await this.serial(() => this.journal.peek(this.replayChunk, this.replayChunkBytes));
      if (!records.length) break;
      // Submitted in one turn, the chunk shares the store's group commits and keeps its order.
      const batches = records.map((r) => decodeBatch(r.payload));
      const outcomes = await Promise.allSettled(batches.map((b) => this.store.commit(b)));
      if (outcomes.some((o) => o.status === 'rejected' && isTransientStoreError(o.reason))) {
        const reason = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!.reason as Error;
        this.lastError = reason.message;
        this.log.warn('spool: store still unavailable; will retry', { depth: this.journal.depth, retryInMs: this.retry.nextMs, error: reason.message });
        await this.retry.sleep();
        continue; // the whole chunk again: what did land is a no-op by its upload key
      }
      this.retry.reset();
      for (const [i, o] of outcomes.entries()) {
        if (o.status === 'fulfilled') {
          if (records[i].offset < this.earlierRunEnd) this.onEarlierRunReplayed?.(batches[i], o.value);
          continue;
        }
        this.rejected++;
        const error = (o.reason as Error).message;
        await appendFile(this.rejectedFile, `${JSON.stringify({ at: new Date(this.now()).toISOString(), error, batch: records[i].payload.toString('utf8') })}\n`, { flush: true });
        this.log.error('spool: the store refused a spooled batch; it was moved to the rejected file', { error, file: this.rejectedFile });
      }
      const advancedTo = records[records.length - 1].end;
      if (advancedTo >= this.earlierRunEnd) this.earlierRunEnd = 0;
      await this.serial(() => this.journal.advance(advancedTo));
      replayed += records.length;
      if (this.now() - lastProgressLog >= 10_000 || this.journal.depth === 0) {
        lastProgressLog = this.now();
        this.log.info('spool: replaying', { replayed, depth: this.journal.depth });
      }
    }
    if (this.journal.depth === 0 && replayed) {
      this.lastError = null;
      this.log.info('spool: drained; uploads go straight to the store again', { replayed });
    }
  }

  /** Stops draining after the current chunk; what is left stays in the journal for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.retry.wake();
    await this.drainLoop;
    await this.serial(() => this.journal.close());
  }
}
