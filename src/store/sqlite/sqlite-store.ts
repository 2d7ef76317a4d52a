// Embedded store on node:sqlite (built into Node 24: no native module to ship).
// WAL + synchronous=FULL so that a committed transaction survives a power cut: the
// gateway acknowledges a device only after commit() resolves.
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type {
  AlarmLimit, Batch, Channel, CommitResult, Device, DeviceLiveness, Family, SampleRow, VerdictKind,
} from '../../domain/types.ts';
import { loadMigrations, pendingMigrations } from '../migrations.ts';
import { GroupCommitter } from '../group-commit.ts';
import { releaseQuarantined } from '../commit-rules.ts';
import {
  ALARM_COLUMNS, ALARM_LIMIT_COLUMNS, DEVICE_COLUMNS, DEVICE_COLUMNS_WITH_CLOCK, DEVICE_LIVENESS_COLUMNS, HORIZON_COLUMNS, type Row, type UserPatch, deviceAssignments, toAlarm, toAlarmLimit,
  toChainAnchor, toChainCheckpoint, toDevice, toDeviceLiveness, toQuarantineEntry, toRawSeriesPoint, toRetentionHorizon, toRetentionPreview, toSample,
  toStoredEvent, toStoredUpload, toUploadSample, toUser, userAssignments, toChainedEvent, toChannelUnit,
} from '../row-mapping.ts';
import { acknowledgedEvent, clearedEvent, limitsChangedEvent, raisedEvent } from '../alarm-events.ts';
import { horizonAdvancedEvent, recordsNothingNew } from '../retention-events.ts';
import type { BodyPurgeChunk, BodyPurgeRequest, DeviceRetirement, IssuedDevice, StoredSession, UploadBodyPurge, VerifyProgressRecord } from '../store.ts';
import { entryTokenSha256 } from '../../domain/entry-token.ts';
import { csvRows, type CsvChannel, type CsvRowOptions, type CsvRows } from '../../domain/csv-export.ts';
import { SQLITE_PRAGMAS, SqliteWriter, isUnavailable } from './writer.ts';
import { SqliteEventAppender } from './event-chain.ts';
import { channelUnitEvent, channelsRegisteredEvent } from '../unit-events.ts';
import { type UserAudit, userAddedEvent, userChangedEvent } from '../user-events.ts';
import { rollupShareSql, toRollupMismatch } from '../rollup-check.ts';
import * as zones from './zones.ts';
import type { Zone, ZoneGrant } from '../../domain/zones.ts';
import { StoreUnavailableError } from '../errors.ts';
import { IdleWorker } from '../idle-worker.ts';
import {
  ISSUED_REPORT_COLUMNS, REPORT_SCHEDULE_COLUMNS, issuedEvent, scheduleChangedEvent, toIssuedReport, toReportSchedule,
  type IssuedReport, type ReportSchedule, type ReportScheduleInput,
} from '../report-records.ts';
import { archiveRefusalsOn, refusalsOn } from './refusal-archive.ts';
import { addVerifyProgressOn, lastUploadsBeforeOn, purgeUploadBodiesOn, uploadBodyPurgesOn, verifyProgressOn } from './body-retention.ts';
import type { ChainKeyMessage, JournalRequest, ReadRequest, WriteReply, WriteRequest } from './write-worker.ts';
import type { WriteThreadRead, WriteThreadReader } from './write-thread-reads.ts';
import { ChunkUnavailableError, applyJournalChunk } from './apply-journal.ts';
import { packWriteGroup, transferList } from './write-group.ts';
import { WORKER_YOUNG_GENERATION_MIB } from '../../memory.ts';
import type {
  AlarmQuery, AppliedChunk, ChainAnchor, ChannelSamples, JournalChunk, ChainCheckpoint, DevicePatch, PurgeChunk, RetentionHorizon, RetentionPreview, RetentionRequest, NewAlarm, StoredAlarm, EventQuery, LatestValue, NewDevice, QuarantineEntry, ReleaseResult, ChainedEvent, ChangeAudit, RollupMismatch,
  ChangeActor, MigrateOptions, NewEvent, RefusalArchiveLimits, RefusalRecord, StoredRefusal, SeriesPoint, UserZoneRole, SeriesQuery, Store, StoreHealth, StoredEvent, StoredUpload, UploadSample, UserRecord,
} from '../store.ts';

/** Width of the rows in sample_rollup_hour (migration 002). */
const HOUR_MS = 3_600_000;

export interface SqliteStoreOptions {
  file: string;            // path, or ':memory:'
  /** Most batches that share one transaction. */
  maxGroup?: number;
  /** Commit in a worker thread (default for files); ':memory:' always commits in-thread. */
  writeInWorker?: boolean;
  /** A connection that may only read (PRAGMA query_only): the viewer's reader worker (read-worker.ts). */
  queryOnly?: boolean;
  /** How long the write worker may sit idle before it is stopped (default WRITER_IDLE_MS). */
  writerIdleMs?: number;
}

const WORKER_FILE = fileURLToPath(new URL(`./write-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * How long the write worker may sit without a write or an apply before it is stopped. A worker
 * thread is a V8 instance of its own (about 20 MB of resident memory): a gateway with nothing to
 * apply gives it back, and the next write starts a new one (tens of ms, while devices are answered
 * from the journal). The worker keeps nothing a successor cannot read back from the database
 * (SqliteWriter's chain heads are a cache).
 */
export const WRITER_IDLE_MS = 10_000;

/** Runs write groups on a worker thread that owns its own connection to the same file. */
class WorkerWriter {
  private readonly thread: IdleWorker<WriteReply>;
  private chainKey: Uint8Array | null = null;
  lastCommitMs: number | null = null;

  constructor(file: string, idleMs = WRITER_IDLE_MS) {
    this.thread = new IdleWorker<WriteReply>({
      name: () => 'SQLite write worker',
      idleMs,
      start: () => new Worker(WORKER_FILE, { workerData: { file, chainKey: this.chainKey }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MIB } }),
      onReply: (reply) => { if (reply.commitMs !== null) this.lastCommitMs = reply.commitMs; },
    });
  }

  /** Whether the write worker is running (it stops after idleMs without a request). */
  get running(): boolean {
    return this.thread.running;
  }

  /** Write workers started so far (the first, and each one after an idle stop). */
  get workersStarted(): number {
    return this.thread.workersStarted;
  }

  /** Messages to the worker are handled in order, so every group sent after this uses the key. */
  setChainKey(key: Uint8Array | null): void {
    this.chainKey = key;
    this.thread.notify({ chainKey: key } satisfies ChainKeyMessage);
  }

  async writeGroup(batches: Batch[], maybeStored?: boolean[]): Promise<(CommitResult | Error)[]> {
    const group = packWriteGroup(batches, maybeStored);
    const reply = await this.thread.request((id) => ({ id, group } satisfies WriteRequest), transferList(group));
    if (reply.groupError !== undefined) throw reply.unavailable ? new StoreUnavailableError(reply.groupError) : new Error(reply.groupError);
    return reply.outcomes!.map((o) => (o.ok ? o.result : o.unavailable ? new StoreUnavailableError(o.error) : new Error(o.error)));
  }

  async applyJournal(chunk: JournalChunk): Promise<AppliedChunk> {
    // Bytes made for this chunk move to the write thread (a round is megabytes: no copy on this thread).
    const bytes = chunk.bytes;
    const movable = chunk.bytesMovable === true && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const reply = await this.thread.request((id) => ({ id, journal: chunk } satisfies JournalRequest), movable ? [bytes.buffer as ArrayBuffer] : []);
    if (reply.groupError !== undefined) throw reply.unavailable ? new StoreUnavailableError(reply.groupError) : new Error(reply.groupError);
    return reply.applied!;
  }

  /** One of the offline sweep's reads, on this thread's connection (write-thread-reads.ts); starts the thread if it is stopped. */
  async read(method: WriteThreadRead, args: unknown[]): Promise<unknown> {
    const reply = await this.thread.request((id) => ({ id, read: { method, args } } satisfies ReadRequest));
    if (reply.groupError !== undefined) throw reply.unavailable ? new StoreUnavailableError(reply.groupError) : new Error(reply.groupError);
    return reply.value;
  }

  async close(): Promise<void> {
    await this.thread.close();
  }
}

/** The same writer on this thread (':memory:' databases, or when asked). */
class InThreadWriter {
  private readonly writer: SqliteWriter;
  constructor(db: DatabaseSync) { this.writer = new SqliteWriter(db); }
  setChainKey(key: Uint8Array | null): void { this.writer.chainKey = key; }
  get lastCommitMs(): number | null { return this.writer.lastCommitMs; }
  async writeGroup(batches: Batch[], maybeStored?: boolean[]): Promise<(CommitResult | Error)[]> { return this.writer.writeGroup(packWriteGroup(batches, maybeStored)); }
  async applyJournal(chunk: JournalChunk): Promise<AppliedChunk> {
    try {
      // In this thread the connection stays synchronous=FULL: every commit is durable.
      return { ...applyJournalChunk(this.writer, chunk), durable: true };
    } catch (err) {
      throw err instanceof ChunkUnavailableError || isUnavailable(err) ? new StoreUnavailableError((err as Error).message, { cause: err }) : err;
    }
  }
}

export class SqliteStore implements Store, WriteThreadReader {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private readonly committer: GroupCommitter<Batch, CommitResult>;
  private readonly file: string;
  private readonly writeInWorker: boolean;
  private writer: InThreadWriter | WorkerWriter | null = null;
  private readonly writerIdleMs: number;
  private lastError: string | null = null;
  private chainKey: Uint8Array | null = null;
  private eventAppender: SqliteEventAppender | null = null;
  /**
   * Measured-data reads (latest values, series, samples: what charts, tables, exports and reports
   * ask for) this connection answered. The gateway's own store must keep this at 0: they belong to
   * the reader worker (read-side.ts; isolation.test.ts checks it).
   */
  viewerReads = 0;
  /**
   * Verification walks (samples read by upload, chained events) this connection answered. The
   * gateway's own store must keep this at 0: the nightly job runs in its own worker
   * (jobs/verify-in-worker.ts; isolation.test.ts checks it).
   */
  integrityReads = 0;
  /** CSV export days this connection read and formatted (csvRows): the reader worker's, never the gateway's own. */
  csvDaysFormatted = 0;
  /** Viewer session writes (saveSession, deleteSessions) on this connection: the reader worker's, never the gateway's own. */
  sessionWrites = 0;
  /** The device columns this database's schema has (see DEVICE_COLUMNS_WITH_CLOCK); settled by migrate(). */
  private deviceColumns = DEVICE_COLUMNS;

  constructor(options: SqliteStoreOptions) {
    if (options.file !== ':memory:') mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    this.file = options.file;
    this.writeInWorker = options.file !== ':memory:' && options.writeInWorker !== false;
    this.writerIdleMs = options.writerIdleMs ?? WRITER_IDLE_MS;
    this.db = new DatabaseSync(options.file);
    this.db.exec(SQLITE_PRAGMAS);
    // Migration 024 hashes the entry tokens stored in clear before it; SQLite has no SHA-256 of its own.
    this.db.function('inlet_entry_token_sha256', { deterministic: true }, (token) => entryTokenSha256(String(token)));
    if (options.queryOnly) this.db.exec('PRAGMA query_only = ON');
    this.committer = new GroupCommitter((batches) => this.writeGroup(batches), { maxGroup: options.maxGroup ?? 1000 });
    // Zone changes are events like any other: linked into the audit chain.
    zones.linkZoneEvents(this.db, (at, e) => this.insertEvent({
      at, deviceId: null, type: e.type, level: 'info', message: e.message, data: e.data, actor: typeof e.data.by === 'string' ? e.data.by : 'system',
      source: typeof e.data.source === 'string' ? e.data.source : null,
    }));
  }

  /** The write worker: whether it runs now, and how many were started (it stops when idle). Null when writes run on this thread. */
  get writeWorker(): { running: boolean; started: number } | null {
    return this.writer instanceof WorkerWriter ? { running: this.writer.running, started: this.writer.workersStarted } : null;
  }

  /** Settles which columns this database's schema has; migrate() calls it, a reader that never migrates too. */
  readSchema(): void {
    const hasClock = this.db.prepare("SELECT 1 AS present FROM pragma_table_info('devices') WHERE name = 'logger_clock'").get() !== undefined;
    this.deviceColumns = hasClock ? DEVICE_COLUMNS_WITH_CLOCK : DEVICE_COLUMNS;
  }

  useChainKey(key: Uint8Array | null): void {
    this.chainKey = key;
    this.writer?.setChainKey(key);
  }

  /** The key events are linked under, for the reader worker's refusal archive (read-side.ts). */
  get eventChainKey(): Uint8Array | null { return this.chainKey; }

  async migrate(onProgress?: (message: string) => void, options: MigrateOptions = {}): Promise<string[]> {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const applied = this.db.prepare('SELECT version, checksum FROM schema_migrations ORDER BY version').all() as
      { version: number; checksum: string }[];
    const all = loadMigrations('sqlite');
    const pending = pendingMigrations(all, applied, options.upTo);
    const done: string[] = [];
    pending.forEach((m, i) => {
      onProgress?.(`applying migration ${m.version}_${m.name} (${i + 1}/${pending.length})`);
      this.db.exec('BEGIN IMMEDIATE');
      // Another process (two `inlet device add` on a new data folder) may have applied it while this
      // one waited for the write lock: applying it twice would fail ("index ... already exists").
      if (this.db.prepare('SELECT 1 AS applied FROM schema_migrations WHERE version = ?').get(m.version)) {
        this.db.exec('COMMIT');
        return;
      }
      try {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)')
          .run(m.version, m.name, m.checksum, Date.now());
        this.db.exec('COMMIT');
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`);
      }
      done.push(`${m.version}_${m.name}`);
    });
    this.readSchema();
    // The writer prepares its statements against the latest schema.
    if (!this.writer && (options.upTo === undefined || options.upTo >= Math.max(...all.map((m) => m.version)))) {
      this.writer = this.writeInWorker ? new WorkerWriter(this.file, this.writerIdleMs) : new InThreadWriter(this.db);
      this.writer.setChainKey(this.chainKey);
      // The write thread starts with the first write: devices are answered from the journal, so none
      // waits for it, and a gateway with nothing to write does without its memory (it stops again
      // after WRITER_IDLE_MS without a write).
    }
    return done;
  }

  private async writeGroup(batches: Batch[], maybeStored?: boolean[]): Promise<(CommitResult | Error)[]> {
    if (!this.writer) throw new Error('store used before migrate()');
    try {
      const results = await this.writer.writeGroup(batches, maybeStored);
      this.lastError = null;
      return results;
    } catch (err) {
      this.lastError = (err as Error).message;
      throw isUnavailable(err) && !(err instanceof StoreUnavailableError) ? new StoreUnavailableError((err as Error).message, { cause: err }) : err;
    }
  }

  commit(batch: Batch): Promise<CommitResult> {
    return this.committer.submit(batch);
  }

  /**
   * One of the offline sweep's reads on the write thread's connection (write-thread-reads.ts), or on
   * this connection when writes happen on this thread.
   */
  async readOnWriteThread(method: WriteThreadRead, args: unknown[]): Promise<unknown> {
    if (!this.writer) throw new Error('store used before migrate()');
    if (this.writer instanceof WorkerWriter) return this.writer.read(method, args);
    return (this[method] as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  }

  /** The journal's apply from its own bytes, decoded on the write thread (apply-journal.ts). */
  async applyJournal(chunk: JournalChunk): Promise<AppliedChunk> {
    if (!this.writer) throw new Error('store used before migrate()');
    try {
      const applied = await this.writer.applyJournal(chunk);
      this.lastError = null;
      return applied;
    } catch (err) {
      this.lastError = (err as Error).message;
      throw isUnavailable(err) && !(err instanceof StoreUnavailableError) ? new StoreUnavailableError((err as Error).message, { cause: err }) : err;
    }
  }

  /** The journal's apply: the batches in one transaction on the write thread, samples in key order (writer.ts). */
  applyBatches(batches: Batch[], maybeStored: boolean[]): Promise<(CommitResult | Error)[]> {
    return this.writeGroup(batches, maybeStored);
  }

  flush(): Promise<void> {
    return this.committer.drain();
  }

  async close(): Promise<void> {
    await this.committer.drain();
    if (this.writer instanceof WorkerWriter) await this.writer.close();
    if (this.db.isOpen) this.db.close();
  }

  health(): StoreHealth {
    return {
      ok: this.lastError === null && this.db.isOpen,
      detail: this.lastError ?? 'sqlite ok',
      commitLatencyMs: this.writer?.lastCommitMs ?? null,
      pendingBatches: this.committer.pending,
    };
  }

  async maintain(): Promise<string> {
    // TRUNCATE resets the WAL file to zero bytes once readers allow it, so it cannot grow for
    // weeks on a busy gateway; optimize refreshes the planner's statistics where they are stale.
    const checkpoint = this.db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number; log: number; checkpointed: number };
    this.db.exec('PRAGMA optimize');
    return checkpoint.busy ? 'WAL checkpoint deferred (a reader or the writer was busy); statistics optimized'
      : `WAL checkpointed (${checkpoint.checkpointed} pages) and truncated; statistics optimized`;
  }

  // ---- devices ----

  async addDevice(d: NewDevice, at: number): Promise<IssuedDevice> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const { lastInsertRowid } = this.db.prepare(`INSERT INTO devices (family, serial, model_code, model, name, location,
        entry_token_sha256, allowed_interval_s, customer_uid, created_at, updated_at, zone_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(d.family, d.serial, d.modelCode, d.model, d.name, d.location ?? '', entryTokenSha256(d.entryToken), d.allowedIntervalS ?? null,
          d.customerUid ?? null, at, at, d.zoneId ?? null);
      const upsert = this.db.prepare('INSERT INTO channels (device_id, channel, quantity, unit) VALUES (?, ?, ?, ?)');
      const version = this.db.prepare(`INSERT INTO channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
        VALUES (?, ?, ?, ?, ?, 'registration', 'the model''s channels at registration')`);
      for (const c of d.channels) {
        upsert.run(lastInsertRowid, c.channel, c.quantity, c.unit);
        version.run(lastInsertRowid, c.channel, at, c.quantity, c.unit);
      }
      this.insertEvent(channelsRegisteredEvent(Number(lastInsertRowid), d.channels, at, d));
      this.db.exec('COMMIT');
      return { ...(await this.getDevice(Number(lastInsertRowid)))!, entryToken: d.entryToken };
    } catch (err) {
      this.db.exec('ROLLBACK');
      const message = (err as Error).message;
      if (message.includes('uq_devices_family_serial') || message.includes('devices.family, devices.serial')) {
        throw new Error(`a ${d.family} device with serial ${d.serial} is already registered`);
      }
      throw err;
    }
  }

  async updateDevice(id: number, patch: DevicePatch, at: number): Promise<Device> {
    const sets = deviceAssignments(patch, at);
    const { changes } = this.db.prepare(`UPDATE devices SET ${[...sets.keys()].map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
      .run(...sets.values(), id);
    if (changes === 0) throw new Error(`no device with id ${id}`);
    return (await this.getDevice(id))!;
  }

  async getDevice(id: number): Promise<Device | undefined> {
    const r = this.db.prepare(`SELECT ${this.deviceColumns} FROM devices WHERE id = ?`).get(id) as Row | undefined;
    return r && toDevice(r);
  }

  async findDeviceBySerial(family: Family, serial: string): Promise<Device | undefined> {
    const r = this.db.prepare(`SELECT ${this.deviceColumns} FROM devices WHERE family = ? AND serial = ?`).get(family, serial) as Row | undefined;
    return r && toDevice(r);
  }

  async findDeviceByToken(token: string): Promise<Device | undefined> {
    const r = this.db.prepare(`SELECT ${this.deviceColumns} FROM devices WHERE entry_token_sha256 = ?`).get(entryTokenSha256(token)) as Row | undefined;
    return r && toDevice(r);
  }

  async listDevices(): Promise<Device[]> {
    return (this.db.prepare(`SELECT ${this.deviceColumns} FROM devices ORDER BY location, name, id`).all() as Row[]).map(toDevice);
  }

  async deviceLiveness(): Promise<DeviceLiveness[]> {
    return (this.db.prepare(`SELECT ${DEVICE_LIVENESS_COLUMNS} FROM devices ORDER BY id`).all() as Row[]).map(toDeviceLiveness);
  }

  async devicesChangedSince(since: number): Promise<Device[]> {
    return (this.db.prepare(`SELECT ${this.deviceColumns} FROM devices WHERE updated_at > ? ORDER BY id`).all(since) as Row[]).map(toDevice);
  }

  async listChannels(deviceId?: number): Promise<Channel[]> {
    const rows = (deviceId === undefined
      ? this.db.prepare('SELECT device_id, channel, quantity, unit FROM channels ORDER BY device_id, channel').all()
      : this.db.prepare('SELECT device_id, channel, quantity, unit FROM channels WHERE device_id = ? ORDER BY channel').all(deviceId)) as Row[];
    return rows.map((r) => ({ deviceId: r.device_id as number, channel: r.channel as number, quantity: r.quantity as string, unit: r.unit as string }));
  }

  // ---- read side ----

  async latestValues(deviceId?: number): Promise<LatestValue[]> {
    this.viewerReads++;
    const sql = `SELECT c.device_id, c.channel, c.quantity, c.unit, s.time, s.value, s.error_code, s.alarm
      FROM channels AS c
      JOIN samples AS s ON s.device_id = c.device_id AND s.channel = c.channel
       AND s.time = (SELECT MAX(m.time) FROM samples AS m WHERE m.device_id = c.device_id AND m.channel = c.channel)
      ${deviceId === undefined ? '' : 'WHERE c.device_id = ?'}
      ORDER BY c.device_id, c.channel`;
    const rows = (deviceId === undefined ? this.db.prepare(sql).all() : this.db.prepare(sql).all(deviceId)) as Row[];
    return rows.map((r) => ({ ...toSample(r), quantity: r.quantity as string, unit: r.unit as string }));
  }

  async series(q: SeriesQuery): Promise<SeriesPoint[]> {
    this.viewerReads++;
    if (q.bucketMs <= 0) {
      return (await this.samples(q.deviceId, q.channel, q.from, q.to)).map(toRawSeriesPoint);
    }
    // Parameters are bound as REAL by node:sqlite, so the bucket number is CAST to group at all.
    const rows = (q.bucketMs % HOUR_MS === 0
      ? this.db.prepare(`SELECT CAST(hour_start / ?1 AS INTEGER) AS bucket, MIN(value_min) AS min, MAX(value_max) AS max,
          SUM(value_sum) / NULLIF(SUM(value_count), 0) AS avg, SUM(sample_count) AS count, SUM(error_count) AS errors
        FROM sample_rollup_hour WHERE device_id = ?2 AND channel = ?3 AND hour_start >= ?4 AND hour_start < ?5
        GROUP BY bucket ORDER BY bucket`).all(q.bucketMs, q.deviceId, q.channel, q.from - (q.from % HOUR_MS), q.to)
      : this.db.prepare(`SELECT CAST(time / ?1 AS INTEGER) AS bucket, MIN(value) AS min, MAX(value) AS max,
          AVG(value) AS avg, COUNT(*) AS count, COUNT(error_code) AS errors
        FROM samples WHERE device_id = ?2 AND channel = ?3 AND time >= ?4 AND time < ?5
        GROUP BY bucket ORDER BY bucket`).all(q.bucketMs, q.deviceId, q.channel, q.from, q.to)) as Row[];
    return rows.map((r) => ({
      time: (r.bucket as number) * q.bucketMs,
      min: (r.min as number | null) ?? null, max: (r.max as number | null) ?? null, avg: (r.avg as number | null) ?? null,
      count: r.count as number, errors: r.errors as number,
    }));
  }

  async samples(deviceId: number, channel: number, from: number, to: number, limit = 100_000): Promise<SampleRow[]> {
    this.viewerReads++;
    return (this.db.prepare(`SELECT device_id, channel, time, value, error_code, alarm FROM samples
      WHERE device_id = ? AND channel = ? AND time >= ? AND time < ? ORDER BY time LIMIT ?`)
      .all(deviceId, channel, from, to, limit) as Row[]).map(toSample);
  }

  async csvRows(channels: CsvChannel[], from: number, to: number, options: CsvRowOptions): Promise<CsvRows> {
    const perChannel = await Promise.all(channels.map((c) => (Math.max(from, c.from) < Math.min(to, c.to)
      ? this.samples(c.deviceId, c.channel, Math.max(from, c.from), Math.min(to, c.to), 10_000_000) : Promise.resolve([]))));
    this.csvDaysFormatted++;
    return csvRows(perChannel, options);
  }

  async channelSamples(deviceId: number, channel: number, from: number, to: number): Promise<ChannelSamples> {
    const statement = this.db.prepare(`SELECT time, value, error_code FROM samples
      WHERE device_id = ? AND channel = ? AND time >= ? AND time < ? ORDER BY time`);
    statement.setReturnArrays(true);   // rows as arrays: a quarter of the time of row objects for a month of samples
    const rows = statement.all(deviceId, channel, from, to) as unknown as [number, number | null, number | null][];
    const columns = { length: rows.length, time: new Float64Array(rows.length), value: new Float64Array(rows.length), errorCode: new Float64Array(rows.length) };
    for (let i = 0; i < rows.length; i++) {
      const [time, value, errorCode] = rows[i];
      columns.time[i] = time;
      columns.value[i] = value ?? Number.NaN;
      columns.errorCode[i] = errorCode ?? Number.NaN;
    }
    return columns;
  }

  async events(q: EventQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (q.deviceId !== undefined) { where.push('device_id = ?'); values.push(q.deviceId); }
    if (q.deviceIds !== undefined) { where.push('device_id IN (SELECT value FROM json_each(?))'); values.push(JSON.stringify(q.deviceIds)); }
    if (q.since !== undefined) { where.push('at >= ?'); values.push(q.since); }
    if (q.type !== undefined) { where.push('type = ?'); values.push(q.type); }
    if (q.until !== undefined) { where.push('at < ?'); values.push(q.until); }
    if (q.actor !== undefined) { where.push('actor = ?'); values.push(q.actor); }
    if (q.typePrefix !== undefined) { where.push("substr(type, 1, length(?)) = ?"); values.push(q.typePrefix, q.typePrefix); }
    if (q.beforeId !== undefined) { where.push('id < ?'); values.push(q.beforeId); }
    values.push(Math.min(q.limit ?? 500, 10_000));
    const rows = this.db.prepare(`SELECT id, at, device_id, type, level, message, data, actor, source, recorded_at FROM events
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...values) as Row[];
    return rows.map(toStoredEvent);
  }

  async addEvent(e: NewEvent): Promise<void> {
    this.transaction(() => this.insertEvent(e));
  }

  async chainedEvents(afterId: number, limit: number): Promise<ChainedEvent[]> {
    this.integrityReads++;
    return (this.db.prepare(`SELECT id, at, device_id, type, level, message, data, actor, source, recorded_at, prev_hash, hash
      FROM events WHERE id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as Row[]).map(toChainedEvent);
  }

  async rollupMismatches(share: { part: number; of: number } | null, limit: number): Promise<RollupMismatch[]> {
    const { where, values } = rollupShareSql(share);
    // Both directions: hours whose stored figures differ from (or lack) the samples', and stored hours with no samples at all.
    const rows = this.db.prepare(`WITH recomputed AS (
        SELECT device_id, channel, time - time % ${HOUR_MS} AS hour_start, MIN(value) AS value_min, MAX(value) AS value_max,
          COALESCE(SUM(value), 0) AS value_sum, COUNT(value) AS value_count, COUNT(*) AS sample_count, COUNT(error_code) AS error_count
        FROM samples WHERE ${where('device_id')} GROUP BY device_id, channel, time - time % ${HOUR_MS})
      SELECT r.device_id, r.channel, r.hour_start,
        h.value_min AS s_min, h.value_max AS s_max, h.value_sum AS s_sum, h.value_count AS s_vc, h.sample_count AS s_sc, h.error_count AS s_ec,
        r.value_min AS r_min, r.value_max AS r_max, r.value_sum AS r_sum, r.value_count AS r_vc, r.sample_count AS r_sc, r.error_count AS r_ec
      FROM recomputed AS r LEFT JOIN sample_rollup_hour AS h
        ON h.device_id = r.device_id AND h.channel = r.channel AND h.hour_start = r.hour_start
      WHERE h.device_id IS NULL OR h.value_min IS NOT r.value_min OR h.value_max IS NOT r.value_max OR abs(h.value_sum - r.value_sum) > 1e-6 * max(1, abs(r.value_sum))
        OR h.value_count <> r.value_count OR h.sample_count <> r.sample_count OR h.error_count <> r.error_count
      UNION ALL
      SELECT h.device_id, h.channel, h.hour_start, h.value_min, h.value_max, h.value_sum, h.value_count, h.sample_count, h.error_count,
        NULL, NULL, NULL, NULL, NULL, NULL
      FROM sample_rollup_hour AS h
      WHERE ${where('h.device_id')} AND NOT EXISTS (SELECT 1 FROM samples AS s WHERE s.device_id = h.device_id AND s.channel = h.channel
        AND s.time >= h.hour_start AND s.time < h.hour_start + ${HOUR_MS})
      LIMIT ?`).all(...values, ...values, limit) as Row[];
    return rows.map(toRollupMismatch);
  }

  async devicesWithoutChain(): Promise<number[]> {
    return (this.db.prepare(`SELECT d.id FROM devices AS d
      WHERE (d.last_seen_at IS NOT NULL OR EXISTS (SELECT 1 FROM sample_rollup_hour AS h WHERE h.device_id = d.id))
        AND NOT EXISTS (SELECT 1 FROM uploads AS u WHERE u.device_id = d.id)
        AND NOT EXISTS (SELECT 1 FROM chain_anchors AS a WHERE a.chain = d.id)
      ORDER BY d.id`).all() as Row[]).map((r) => r.id as number);
  }

  async uploads(q: { deviceId?: number; verdict?: VerdictKind; afterId?: number; limit?: number }): Promise<StoredUpload[]> {
    const where: string[] = ['id > ?'];
    const values: (string | number)[] = [q.afterId ?? 0];
    if (q.deviceId !== undefined) { where.push('device_id = ?'); values.push(q.deviceId); }
    if (q.verdict !== undefined) { where.push('verdict = ?'); values.push(q.verdict); }
    values.push(Math.min(q.limit ?? 1000, 100_000));
    const rows = this.db.prepare(`SELECT id, device_id, family, received_at, remote_address, content_type, raw, verdict, reason,
      serial, counter, prev_hash, hash FROM uploads WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...values) as Row[];
    return rows.map(toStoredUpload);
  }

  // ---- integrity verification ----

  async uploadStats(): Promise<{ count: number; maxId: number }> {
    const r = this.db.prepare('SELECT COUNT(*) AS count, COALESCE(MAX(id), 0) AS max_id FROM uploads').get() as Row;
    return { count: r.count as number, maxId: r.max_id as number };
  }

  async uploadSamples(fromUploadId: number, toUploadId: number | null): Promise<UploadSample[]> {
    this.integrityReads++;
    const rows = this.db.prepare(`SELECT device_id, channel, time, value, error_code, alarm, upload_id FROM samples
      WHERE upload_id >= ? AND upload_id <= ? ORDER BY upload_id, channel, time`)
      .all(fromUploadId, toUploadId ?? Number.MAX_SAFE_INTEGER) as Row[];
    return rows.map(toUploadSample);
  }

  async chainCheckpoints(): Promise<ChainCheckpoint[]> {
    const rows = this.db.prepare(`SELECT at, chain, upload_id, hash FROM chain_checkpoints AS c
      WHERE id = (SELECT MAX(id) FROM chain_checkpoints AS l WHERE l.chain = c.chain) ORDER BY chain`).all() as Row[];
    return rows.map(toChainCheckpoint);
  }

  async addChainCheckpoints(checkpoints: ChainCheckpoint[]): Promise<void> {
    const insert = this.db.prepare('INSERT INTO chain_checkpoints (at, chain, upload_id, hash) VALUES (?, ?, ?, ?)');
    this.transaction(() => { for (const c of checkpoints) insert.run(c.at, c.chain, c.uploadId, c.hash); });
  }

  // ---- raw-body retention and verification progress (migrations 031, 033; body-retention.ts) ----

  async uploadBodyPurges(fromUploadId: number, toUploadId: number): Promise<UploadBodyPurge[]> {
    return uploadBodyPurgesOn(this.db, fromUploadId, toUploadId);
  }

  async lastUploadsBefore(beforeId: number): Promise<{ chain: number; uploadId: number; hash: Buffer }[]> {
    return lastUploadsBeforeOn(this.db, beforeId);
  }

  async verifyProgress(): Promise<VerifyProgressRecord | undefined> {
    return verifyProgressOn(this.db);
  }

  async addVerifyProgress(record: Omit<VerifyProgressRecord, 'id'>): Promise<void> {
    this.transaction(() => addVerifyProgressOn(this.db, record));
  }

  async purgeUploadBodies(request: BodyPurgeRequest): Promise<BodyPurgeChunk> {
    return this.transaction(() => purgeUploadBodiesOn(this.db, request, (e) => this.insertEvent(e)));
  }

  // ---- refusal archive ----

  async archiveRefusals(refusals: RefusalRecord[], events: NewEvent[], limits: RefusalArchiveLimits): Promise<void> {
    archiveRefusalsOn(this.db, refusals, events, limits, this.chainKey);
  }

  async refusals(query: { afterId?: number; limit?: number }): Promise<StoredRefusal[]> {
    return refusalsOn(this.db, query);
  }

  // ---- alarms ----

  /** Runs fn in one write transaction on this connection. */
  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Appends to the audit chain; callers hold a write transaction. */
  private insertEvent(e: NewEvent): number {
    this.eventAppender ??= new SqliteEventAppender(this.db);
    return this.eventAppender.append({ ...e, actor: e.actor ?? 'system' }, e.data ? JSON.stringify(e.data) : null, this.chainKey);
  }

  async alarmLimits(deviceId?: number): Promise<AlarmLimit[]> {
    const sql = `SELECT ${ALARM_LIMIT_COLUMNS} FROM alarm_limits
      ${deviceId === undefined ? '' : 'WHERE device_id = ?'} ORDER BY device_id, channel, level`;
    const rows = (deviceId === undefined ? this.db.prepare(sql).all() : this.db.prepare(sql).all(deviceId)) as Row[];
    return rows.map(toAlarmLimit);
  }

  async setAlarmLimits(deviceId: number, channel: number, limits: AlarmLimit[], by: string, at: number, audit: ChangeAudit = {}): Promise<void> {
    this.transaction(() => {
      const previous = (this.db.prepare(`SELECT ${ALARM_LIMIT_COLUMNS} FROM alarm_limits WHERE device_id = ? AND channel = ? ORDER BY level`)
        .all(deviceId, channel) as Row[]).map(toAlarmLimit);
      this.db.prepare('DELETE FROM alarm_limits WHERE device_id = ? AND channel = ?').run(deviceId, channel);
      const insert = this.db.prepare(`INSERT INTO alarm_limits (device_id, channel, level, high, low, delay_s, hysteresis, updated_at, updated_by)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const l of limits) insert.run(deviceId, channel, l.level, l.high, l.low, l.delayS, l.hysteresis, at, by);
      this.insertEvent(limitsChangedEvent(deviceId, channel, limits, by, at, audit, previous));
    });
  }

  private alarmById(id: number): StoredAlarm | undefined {
    const r = this.db.prepare(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = ?`).get(id) as Row | undefined;
    return r && toAlarm(r);
  }

  async raiseAlarm(a: NewAlarm): Promise<StoredAlarm> {
    return this.transaction(() => {
      const { lastInsertRowid } = this.db.prepare(`INSERT INTO alarms (device_id, channel, source, kind, level, direction, raised_at, value, message)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(a.deviceId, a.channel, a.source, a.kind ?? null, a.level, a.direction, a.raisedAt, a.value, a.message);
      const alarm = this.alarmById(Number(lastInsertRowid))!;
      this.insertEvent(raisedEvent(alarm));
      return alarm;
    });
  }

  async clearAlarm(id: number, at: number, value: number | null): Promise<StoredAlarm | undefined> {
    return this.transaction(() => {
      const { changes } = this.db.prepare('UPDATE alarms SET cleared_at = ?, cleared_value = ? WHERE id = ? AND cleared_at IS NULL').run(at, value, id);
      if (!changes) return undefined;
      const alarm = this.alarmById(id)!;
      this.insertEvent(clearedEvent(alarm, at, value));
      return alarm;
    });
  }

  async acknowledgeAlarm(id: number, by: string, comment: string, at: number, meaning: string | null = null, source: string | null = null): Promise<StoredAlarm | undefined> {
    return this.transaction(() => {
      const { changes } = this.db.prepare(`UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ?, ack_comment = ?, ack_meaning = ?
        WHERE id = ? AND acknowledged_at IS NULL`).run(at, by, comment, meaning, id);
      if (!changes) return undefined;
      const alarm = this.alarmById(id)!;
      this.insertEvent(acknowledgedEvent(alarm, by, comment, at, source));
      return alarm;
    });
  }

  async alarms(q: AlarmQuery): Promise<StoredAlarm[]> {
    const where: string[] = [];
    const values: (number | string)[] = [];
    if (q.id !== undefined) { where.push('id = ?'); values.push(q.id); }
    if (q.open) where.push('(cleared_at IS NULL OR acknowledged_at IS NULL)');
    if (q.uncleared) where.push('cleared_at IS NULL');
    if (q.kind !== undefined) { where.push('kind = ?'); values.push(q.kind); }
    if (q.deviceId !== undefined) { where.push('device_id = ?'); values.push(q.deviceId); }
    if (q.beforeId !== undefined) { where.push('id < ?'); values.push(q.beforeId); }
    if (q.deviceIds !== undefined) { where.push('device_id IN (SELECT value FROM json_each(?))'); values.push(JSON.stringify(q.deviceIds)); }
    values.push(Math.min(q.limit ?? 500, 10_000));
    return (this.db.prepare(`SELECT ${ALARM_COLUMNS} FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT ?`).all(...values) as Row[]).map(toAlarm);
  }

  // ---- retention ----

  async retentionHorizon(): Promise<RetentionHorizon | undefined> {
    return this.latestHorizon();
  }

  /** The latest horizon; the forward-only trigger makes it the one with the highest values too. */
  private latestHorizon(): RetentionHorizon | undefined {
    const r = this.db.prepare(`SELECT ${HORIZON_COLUMNS} FROM retention_horizons ORDER BY id DESC LIMIT 1`).get() as Row | undefined;
    return r && toRetentionHorizon(r);
  }

  async retentionHorizons(): Promise<RetentionHorizon[]> {
    return (this.db.prepare(`SELECT ${HORIZON_COLUMNS} FROM retention_horizons ORDER BY id`).all() as Row[]).map(toRetentionHorizon);
  }

  async chainAnchors(): Promise<ChainAnchor[]> {
    return (this.db.prepare(`SELECT horizon_id, chain, upload_id, hash FROM chain_anchors AS a
      WHERE id = (SELECT MAX(l.id) FROM chain_anchors AS l WHERE l.chain = a.chain) ORDER BY chain`).all() as Row[]).map(toChainAnchor);
  }

  /**
   * The first upload id a horizon at dataBefore keeps: the first upload received at or after it,
   * read forward from the previous horizon; with none, one past the last upload. Never below the previous one.
   */
  private belowUploadId(dataBefore: number): number {
    const previous = (this.db.prepare('SELECT MAX(below_upload_id) AS id FROM retention_horizons').get() as { id: number | null }).id;
    const first = this.db.prepare('SELECT id FROM uploads WHERE id >= ? AND received_at >= ? ORDER BY id LIMIT 1')
      .get(previous ?? 0, dataBefore) as { id: number } | undefined;
    const below = first?.id ?? (this.db.prepare('SELECT MAX(id) + 1 AS id FROM uploads').get() as { id: number | null }).id ?? previous ?? 1;
    return Math.max(below, previous ?? 1);
  }

  async previewRetention(dataBefore: number, auditBefore: number | null): Promise<RetentionPreview> {
    const below = this.belowUploadId(dataBefore);
    const audit = auditBefore ?? Number.MIN_SAFE_INTEGER;
    return toRetentionPreview(this.db.prepare(`SELECT ?1 AS below_upload_id,
        (SELECT COUNT(*) FROM uploads WHERE id < ?1) AS uploads,
        (SELECT COUNT(*) FROM samples WHERE upload_id < ?1) AS samples,
        (SELECT COUNT(*) FROM quarantine WHERE upload_id < ?1) AS quarantined,
        (SELECT COUNT(DISTINCT COALESCE(device_id, 0)) FROM uploads WHERE id < ?1) AS chains,
        (SELECT COUNT(*) FROM events WHERE at < ?2) AS events,
        (SELECT COUNT(*) FROM alarms WHERE raised_at < ?2 AND acknowledged_at < ?2 AND cleared_at < ?2) AS alarms`).get(below, audit) as Row);
  }

  async advanceRetentionHorizon(request: RetentionRequest): Promise<RetentionHorizon> {
    return this.transaction(() => {
      const latest = this.latestHorizon();
      const previous = latest?.belowUploadId ?? 0;
      const below = this.belowUploadId(request.dataBefore);
      // Another process (or run) may have recorded this horizon since the caller planned it: then it stands.
      if (latest) {
        // Audit rows the request would add below its horizon: between the latest audit horizon and its own.
        const auditRows = request.auditBefore === null ? 0 : (this.db.prepare(`SELECT
            (SELECT COUNT(*) FROM events WHERE at >= ?1 AND at < ?2)
          + (SELECT COUNT(*) FROM alarms WHERE MAX(raised_at, acknowledged_at, cleared_at) >= ?1
               AND raised_at < ?2 AND acknowledged_at < ?2 AND cleared_at < ?2) AS n`)
          .get(latest.auditBefore ?? Number.MIN_SAFE_INTEGER, request.auditBefore) as { n: number }).n;
        if (recordsNothingNew(latest, request, below, auditRows)) return latest;
      }
      const { lastInsertRowid } = this.db.prepare(`INSERT INTO retention_horizons (at, data_before, below_upload_id, audit_before, set_by, reason)
        VALUES (?, ?, ?, ?, ?, ?)`).run(request.at, request.dataBefore, below, request.auditBefore, request.setBy, request.reason);
      // The anchors are read from the rows before any of them is deleted, in the same transaction.
      this.db.prepare(`INSERT INTO chain_anchors (horizon_id, chain, upload_id, hash)
        SELECT ?1, l.chain, u.id, u.hash
        FROM (SELECT COALESCE(device_id, 0) AS chain, MAX(id) AS last_id FROM uploads WHERE id >= ?2 AND id < ?3 GROUP BY COALESCE(device_id, 0)) AS l
        JOIN uploads AS u ON u.id = l.last_id ORDER BY l.chain`).run(lastInsertRowid, previous, below);
      this.insertEvent(horizonAdvancedEvent(request));
      return toRetentionHorizon(this.db.prepare(`SELECT ${HORIZON_COLUMNS} FROM retention_horizons WHERE id = ?`).get(lastInsertRowid) as Row);
    });
  }

  async purgeBelowHorizon(limits: { rows: number; uploads: number }): Promise<PurgeChunk> {
    const done: PurgeChunk = { samples: 0, rollupHours: 0, uploads: 0, quarantined: 0, events: 0, alarms: 0 };
    return this.transaction(() => {
      const h = this.db.prepare('SELECT MAX(below_upload_id) AS below, MAX(audit_before) AS audit FROM retention_horizons').get() as
        { below: number | null; audit: number | null };
      if (h.below === null) return done;
      // Samples first (an upload is never deleted before its samples), then uploads, then the audit trail.
      const keys = this.db.prepare('SELECT device_id, channel, time FROM samples WHERE upload_id < ? ORDER BY upload_id LIMIT ?')
        .all(h.below, limits.rows) as { device_id: number; channel: number; time: number }[];
      if (keys.length) {
        const deleteSample = this.db.prepare('DELETE FROM samples WHERE device_id = ? AND channel = ? AND time = ?');
        const hours = new Set<string>();
        // The trigger on samples (migration 013) brings each touched hour's rollup to the samples left.
        for (const k of keys) {
          deleteSample.run(k.device_id, k.channel, k.time);
          hours.add(`${k.device_id}:${k.channel}:${k.time - (k.time % HOUR_MS)}`);
        }
        return { ...done, samples: keys.length, rollupHours: hours.size };
      }
      const ids = (this.db.prepare('SELECT id FROM uploads WHERE id < ? ORDER BY id LIMIT ?').all(h.below, limits.uploads) as { id: number }[])
        .map((r) => r.id);
      if (ids.length) {
        const last = ids[ids.length - 1];
        const quarantined = this.db.prepare('DELETE FROM quarantine WHERE upload_id <= ?').run(last).changes;
        this.db.prepare('DELETE FROM uploads WHERE id <= ?').run(last);
        return { ...done, uploads: ids.length, quarantined: Number(quarantined) };
      }
      if (h.audit === null) return done;
      const events = this.db.prepare('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)').run(h.audit, limits.rows).changes;
      if (events) return { ...done, events: Number(events) };
      const alarms = this.db.prepare(`DELETE FROM alarms WHERE id IN (SELECT id FROM alarms
        WHERE raised_at < ?1 AND acknowledged_at < ?1 AND cleared_at < ?1 ORDER BY id LIMIT ?2)`).run(h.audit, limits.rows).changes;
      return { ...done, alarms: Number(alarms) };
    });
  }

  // ---- units ----

  async setChannelUnit(deviceId: number, channel: number, quantity: string, unit: string, validFrom: number, by: string, reason: string, audit: ChangeAudit = {}): Promise<void> {
    this.transaction(() => {
      const old = this.db.prepare('SELECT quantity, unit FROM channels WHERE device_id = ? AND channel = ?').get(deviceId, channel) as { quantity: string; unit: string } | undefined;
      if (!old) throw new Error(`no channel ${channel} on device ${deviceId}`);
      this.db.prepare(`INSERT INTO channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(deviceId, channel, validFrom, quantity, unit, by, reason);
      this.db.prepare('UPDATE channels SET quantity = ?, unit = ? WHERE device_id = ? AND channel = ?').run(quantity, unit, deviceId, channel);
      this.insertEvent(channelUnitEvent(deviceId, channel, old, { quantity, unit }, validFrom, by, reason, audit));
    });
  }

  async channelUnits(deviceId: number): Promise<{ channel: number; validFrom: number; quantity: string; unit: string; setBy: string; reason: string }[]> {
    this.viewerReads++;   // every chart, table and export reads them: counted like the reads they label
    return (this.db.prepare(`SELECT channel, valid_from, quantity, unit, set_by, reason FROM channel_units WHERE device_id = ?
      ORDER BY channel, valid_from`).all(deviceId) as Row[]).map(toChannelUnit);
  }

  // ---- quarantine ----

  async quarantined(deviceId: number): Promise<QuarantineEntry[]> {
    const rows = this.db.prepare(`SELECT upload_id, device_id, received_at, readings FROM quarantine
      WHERE device_id = ? AND released_at IS NULL ORDER BY upload_id`).all(deviceId) as Row[];
    return rows.map(toQuarantineEntry);
  }

  async releaseQuarantine(deviceId: number, importData: boolean, at: number): Promise<ReleaseResult> {
    return releaseQuarantined(this, deviceId, importData, at, async (throughUploadId) => {
      this.db.prepare('UPDATE quarantine SET released_at = ?, imported = ? WHERE device_id = ? AND upload_id <= ? AND released_at IS NULL')
        .run(at, importData ? 1 : 0, deviceId, throughUploadId);
    });
  }

  // ---- zones ----

  async listZones(): Promise<Zone[]> { return zones.listZones(this.db); }
  async addZone(zone: { parentId: number | null; name: string }, actor: ChangeActor): Promise<Zone> { return zones.addZone(this.db, zone, actor); }
  async updateZone(id: number, patch: { parentId?: number | null; name?: string }, actor: ChangeActor): Promise<Zone> { return zones.updateZone(this.db, id, patch, actor); }
  async removeZone(id: number, actor: ChangeActor): Promise<void> { zones.removeZone(this.db, id, actor); }
  async userZoneRoles(userId?: number): Promise<UserZoneRole[]> { return zones.userZoneRoles(this.db, userId); }
  async setUserZoneRoles(userId: number, grants: ZoneGrant[], actor: ChangeActor): Promise<void> { zones.setUserZoneRoles(this.db, userId, grants, actor); }

  // ---- users ----

  async addUser(user: { username: string; role: UserRecord['role']; passwordHash: string; scope?: UserRecord['scope']; source?: UserRecord['source'] }, at: number, audit?: UserAudit): Promise<UserRecord> {
    try {
      return this.transaction(() => {
        const { lastInsertRowid } = this.db.prepare('INSERT INTO users (username, role, password_hash, created_at, scope, source) VALUES (?, ?, ?, ?, ?, ?)')
          .run(user.username, user.role, user.passwordHash, at, user.scope ?? 'global', user.source ?? 'local');
        const added = this.userById(Number(lastInsertRowid))!;
        this.insertEvent(userAddedEvent(added, at, audit));
        return added;
      });
    } catch (err) {
      if ((err as Error).message.includes('UNIQUE')) throw new Error(`user ${user.username} already exists`);
      throw err;
    }
  }

  private userById(id: number): UserRecord | undefined {
    const r = this.db.prepare(`SELECT id, username, role, password_hash, failed_logins, locked_until, disabled, created_at, scope, source
      FROM users WHERE id = ?`).get(id) as Row | undefined;
    return r && toUser(r);
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const r = this.db.prepare(`SELECT id, username, role, password_hash, failed_logins, locked_until, disabled, created_at, scope, source, must_change_password
      FROM users WHERE username = ?`).get(username) as Row | undefined;
    return r && toUser(r);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.db.prepare(`SELECT id, username, role, password_hash, failed_logins, locked_until, disabled, created_at, scope, source, must_change_password
      FROM users ORDER BY username`).all() as Row[]).map(toUser);
  }

  async updateUser(id: number, patch: UserPatch, audit?: UserAudit): Promise<void> {
    const sets = userAssignments(patch);
    if (!sets.size) return;
    this.transaction(() => {
      const before = this.userById(id);
      this.db.prepare(`UPDATE users SET ${[...sets.keys()].map((c) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...sets.values(), id);
      const after = this.userById(id);
      const event = before && after ? userChangedEvent(before, after, patch, Date.now(), audit) : null;
      if (event) this.insertEvent(event);
    });
  }

  async retirements(): Promise<DeviceRetirement[]> {
    return (this.db.prepare('SELECT device_id, retired_at, retired_by, reason FROM device_retirements ORDER BY device_id').all() as Row[]).map((r) => ({
      deviceId: Number(r.device_id), retiredAt: Number(r.retired_at), retiredBy: r.retired_by as string, reason: r.reason as string,
    }));
  }

  async setRetirement(deviceId: number, retirement: Omit<DeviceRetirement, 'deviceId'> | null): Promise<void> {
    if (!retirement) { this.db.prepare('DELETE FROM device_retirements WHERE device_id = ?').run(deviceId); return; }
    this.db.prepare('INSERT INTO device_retirements (device_id, retired_at, retired_by, reason) VALUES (?, ?, ?, ?)')
      .run(deviceId, retirement.retiredAt, retirement.retiredBy, retirement.reason);
  }

  async saveSession(s: StoredSession): Promise<void> {
    this.sessionWrites++;
    this.db.prepare(`INSERT INTO sessions (id_hash, user_id, created_at, last_active_at, display, access) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id_hash) DO UPDATE SET last_active_at = excluded.last_active_at, display = excluded.display, access = excluded.access`)
      .run(s.idHash, s.userId, s.createdAt, s.lastActiveAt, s.display ? 1 : 0, JSON.stringify(s.access));
  }

  async deleteSessions(idHashes: string[]): Promise<void> {
    this.sessionWrites++;
    const remove = this.db.prepare('DELETE FROM sessions WHERE id_hash = ?');
    for (const idHash of idHashes) remove.run(idHash);
  }

  async listSessions(): Promise<StoredSession[]> {
    return (this.db.prepare('SELECT id_hash, user_id, created_at, last_active_at, display, access FROM sessions ORDER BY created_at').all() as Row[]).map((r) => ({
      idHash: r.id_hash as string, userId: Number(r.user_id), createdAt: Number(r.created_at), lastActiveAt: Number(r.last_active_at), display: Number(r.display) === 1,
      access: JSON.parse(r.access as string) as StoredSession['access'],
    }));
  }

  // ---- reports ----

  async recordIssuedReport(r: IssuedReport, source: string | null = null): Promise<void> {
    this.transaction(() => {
      this.db.prepare(`INSERT INTO issued_reports (${ISSUED_REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        r.code, r.fileSha256, r.contentSha256, r.generatedAt, r.generatedBy, JSON.stringify(r.request),
        r.signature?.by ?? null, r.signature?.at ?? null, r.signature?.meaning ?? null, r.signature?.signsCode ?? null);
      this.insertEvent(issuedEvent(r, source));
    });
  }

  async findIssuedReport(by: { code: string } | { fileSha256: string }): Promise<IssuedReport | undefined> {
    const r = ('code' in by
      ? this.db.prepare(`SELECT ${ISSUED_REPORT_COLUMNS} FROM issued_reports WHERE code = ?`).get(by.code)
      : this.db.prepare(`SELECT ${ISSUED_REPORT_COLUMNS} FROM issued_reports WHERE file_sha256 = ? ORDER BY generated_at LIMIT 1`).get(by.fileSha256)) as Row | undefined;
    return r && toIssuedReport(r);
  }

  async listReportSchedules(): Promise<ReportSchedule[]> {
    return (this.db.prepare(`SELECT ${REPORT_SCHEDULE_COLUMNS} FROM report_schedules WHERE deleted_at IS NULL ORDER BY name`).all() as Row[]).map(toReportSchedule);
  }

  private liveSchedule(id: number): ReportSchedule | undefined {
    const r = this.db.prepare(`SELECT ${REPORT_SCHEDULE_COLUMNS} FROM report_schedules WHERE id = ? AND deleted_at IS NULL`).get(id) as Row | undefined;
    return r && toReportSchedule(r);
  }

  async saveReportSchedule(id: number | undefined, s: ReportScheduleInput, by: string, reason: string, at: number, source: string | null = null): Promise<ReportSchedule | undefined> {
    return this.transaction(() => {
      const old = id === undefined ? null : this.liveSchedule(id);
      if (old === undefined) return undefined;
      const values = [s.name, s.scope, s.location, JSON.stringify(s.deviceIds), s.period, JSON.stringify(s.mailTo), s.folder, s.enabled ? 1 : 0, at, by];
      let savedId = id;
      try {
        if (old) {
          this.db.prepare(`UPDATE report_schedules SET name = ?, scope = ?, location = ?, device_ids = ?, period = ?, mail_to = ?, folder = ?,
            enabled = ?, updated_at = ?, updated_by = ? WHERE id = ?`).run(...values, old.id);
        } else {
          savedId = Number(this.db.prepare(`INSERT INTO report_schedules (name, scope, location, device_ids, period, mail_to, folder, enabled, updated_at, updated_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...values).lastInsertRowid);
        }
      } catch (err) {
        if ((err as Error).message.includes('UNIQUE')) throw new Error(`a scheduled report named "${s.name}" already exists`);
        throw err;
      }
      this.insertEvent(scheduleChangedEvent(old, s, by, at, reason, source));
      return this.liveSchedule(savedId!);
    });
  }

  async removeReportSchedule(id: number, by: string, reason: string, at: number, source: string | null = null): Promise<boolean> {
    return this.transaction(() => {
      const old = this.liveSchedule(id);
      if (!old) return false;
      this.db.prepare('UPDATE report_schedules SET deleted_at = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(at, at, by, id);
      this.insertEvent(scheduleChangedEvent(old, null, by, at, reason, source));
      return true;
    });
  }
}
