// SQL Server store over mssql/tedious. Same contract as the SQLite store (test/contract/).
// Writes: the journal's apply (applyBatches) and GroupCommitter (commit()) hand a batch of uploads to
// one transaction of two procedure calls (apply-batch.ts, migration 037): the first takes the
// exclusive application locks, so that ids, commit order and every hash chain agree even when several
// Inlet instances share the database, takes a range of upload ids, inserts the batch's samples sorted
// by key, and says which were stored already; the second writes the uploads, hashed here over exactly
// the samples each stored, and the events, linked here into the audit chain (event-chain.ts).
// Batches run on a connection of their own, capped by rows and bytes, with a lock wait shorter
// than their request timeout; every error that can pass is StoreUnavailableError (errors.ts), so the
// batch waits in the local journal. Admin work (migrations, retention, verification) has no timeout.
// Every statement is parameterised; the SQL text is built from constants only.
import sql from 'mssql';
import type { AlarmLimit, Batch, Channel, CommitResult, Device, DeviceLiveness, Family, SampleRow, VerdictKind } from '../../domain/types.ts';
import { entryTokenSha256 } from '../../domain/entry-token.ts';
import { loadMigrations, pendingMigrations, SQL_ROOT } from '../migrations.ts';
import { GroupCommitter } from '../group-commit.ts';
import { releaseQuarantined } from '../commit-rules.ts';
import {
  ALARM_COLUMNS, ALARM_LIMIT_COLUMNS, type ColumnValue, DEVICE_COLUMNS, DEVICE_COLUMNS_WITH_CLOCK, DEVICE_LIVENESS_COLUMNS, type Row, type UserPatch, deviceAssignments, integer, toAlarm,
  toAlarmLimit, toChainAnchor, toChainCheckpoint, toDevice, toDeviceLiveness, toPurgeChunk, toQuarantineEntry, toRawSeriesPoint, toRetentionHorizon,
  toRetentionPreview, toSample, toStoredEvent, toStoredUpload, toUploadSample, toUser, userAssignments, toChainedEvent, toChannelUnit,
} from '../row-mapping.ts';
import { channelUnitEvent, channelsRegisteredEvent } from '../unit-events.ts';
import { unitVersionRecord } from '../zone-records.ts';
import { type UserAudit, userAddedEvent, userChangedEvent } from '../user-events.ts';
import { toRollupMismatch } from '../rollup-check.ts';
import { acknowledgedEvent, clearedEvent, limitsChangedEvent, raisedEvent } from '../alarm-events.ts';
import { horizonAdvancedEvent } from '../retention-events.ts';
import type { BodyPurgeChunk, BodyPurgeRequest, DeviceRetirement, IssuedDevice, StoredSession, UploadBodyPurge, VerifyProgressRecord } from '../store.ts';
import { toVerifyProgress } from '../sqlite/body-retention.ts';
import { epochMs } from '../row-mapping.ts';
import type {
  ChainedEvent, ChangeAudit, RollupMismatch, AlarmQuery, ChannelSamples, DevicePatch, EventQuery, LatestValue, NewAlarm, NewDevice, QuarantineEntry, ReleaseResult,
  ChangeActor, UserZoneRole, ChainAnchor, ChainCheckpoint, MigrateOptions, NewEvent, RefusalArchiveLimits, RefusalRecord, StoredRefusal, PurgeChunk, RetentionHorizon, RetentionPreview, RetentionRequest, SeriesPoint, SeriesQuery, Store, StoreHealth, StoredAlarm, StoredEvent, StoredUpload, UploadSample, UserRecord,
} from '../store.ts';
import { StoreUnavailableError } from '../errors.ts';
import {
  ISSUED_REPORT_COLUMNS, REPORT_SCHEDULE_COLUMNS, issuedEvent, scheduleChangedEvent, toIssuedReport, toReportSchedule,
  type IssuedReport, type ReportEvent, type ReportSchedule, type ReportScheduleInput,
} from '../report-records.ts';
import { parseConnectionString } from './connection.ts';
import { splitBatches } from './batches.ts';
import { explainMssqlError } from './errors.ts';
import { PREFLIGHT_SQL, evaluatePreflight, type PreflightReport } from './preflight.ts';
import * as zones from './zones.ts';
import { applyUploadBatch, splitByLimits } from './apply-batch.ts';
import { appendEvents, lockEventChain } from './event-chain.ts';
import type { Zone, ZoneGrant } from '../../domain/zones.ts';
import { csvRows, type CsvChannel, type CsvRowOptions, type CsvRows } from '../../domain/csv-export.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface MssqlStoreOptions {
  connectionString: string;
  /** Most batches that share one transaction. */
  maxGroup?: number;
  /**
   * Most rows (samples + events + uploads) and bytes (raw bodies and row data, estimated) in one
   * group's transaction. A batch larger than either commits alone; a backlog never makes one
   * transaction of millions of rows that times out, rolls back and is retried for ever.
   */
  maxGroupRows?: number;
  maxGroupBytes?: number;
  /** Most uploads in one transaction of the journal's apply (applyBatches), within the rows and bytes caps. */
  maxApplyBatch?: number;
  /**
   * 'reader': the store of a worker thread that answers the viewer's reads or verifies (read-worker.ts,
   * jobs/verify-worker.ts). Its pool is its own and says so to the server (application name "Inlet
   * reader"), so that a DBA, and the tests, can tell its sessions from the gateway's. It writes nothing.
   */
  purpose?: 'gateway' | 'reader';
}

/** Defaults of the group caps: a group of this size commits in about a second on modest hardware. */
export const GROUP_LIMITS = { rows: 50_000, bytes: 16 * 1024 * 1024 };

/** Rows and bytes a batch adds to a group's transaction (bytes estimated from its parts). */
export function batchWeight(batch: Batch): { rows: number; bytes: number } {
  const rows = 1 + batch.samples.length + batch.events.length;
  let bytes = batch.upload.raw.length + batch.upload.contentType.length * 2 + batch.upload.reason.length * 2 + 120;
  bytes += batch.samples.length * 48;
  for (const e of batch.events) bytes += (e.message.length + e.type.length) * 2 + 64;
  return { rows, bytes };
}

/**
 * The timeouts of each kind of work, from the Command Timeout of the connection string:
 * - writer: group commits, on their own connection. inlet.apply_upload_batch waits in one request for
 *   two application locks (the upload writer's, then the event chain's), each for at most a third of
 *   the request timeout (and at most 10 s): one share per lock and one for the work, so both waits
 *   together end well before the request's timeout, and a lock wait always ends as THROW 50011/50051
 *   - "store unavailable", the batch goes to the journal - and never races the driver's timeout.
 * - read: the viewer's queries, on the read pool: the Command Timeout as configured.
 * - change: the transactions of configuration changes, alarms and reports on the read pool. They wait
 *   for the event chain lock (at most EVENT_CHAIN_LOCK_TIMEOUT_MS) in one request, so that request
 *   gets at least twice as long: a busy lock ends as THROW 50051 even with a short Command Timeout.
 * - admin: migrations, retention, verification reads, housekeeping: no timeout (0). They are long
 *   on a large database by nature; a timeout would only roll them back to start again.
 */
export function purposeTimeouts(commandTimeoutMs: number): { writerLockMs: number; writerRequestMs: number; readMs: number; changeMs: number; adminMs: number } {
  return {
    writerLockMs: Math.max(1, Math.min(WRITER_LOCK_TIMEOUT_MS, Math.floor(commandTimeoutMs / (APPLICATION_LOCKS_PER_APPLY + 1)))),
    writerRequestMs: commandTimeoutMs,
    readMs: commandTimeoutMs,
    changeMs: Math.max(commandTimeoutMs, 2 * EVENT_CHAIN_LOCK_TIMEOUT_MS),
    adminMs: 0,
  };
}

const SAMPLE_COLUMNS = 'device_id, channel, sample_time AS [time], value, error_code, alarm';
/** Bodies stored since migration 014 are GZIP-compressed (raw_encoding 'gzip'); the chain covers them as received. */
const UPLOAD_COLUMNS = `id, device_id, family, received_at, remote_address, content_type,
  CASE WHEN raw_encoding = 'gzip' THEN DECOMPRESS(raw) ELSE raw END AS raw, verdict, reason, serial, counter, prev_hash, hash`;
const MSSQL_HORIZON_COLUMNS = 'id, set_at AS [at], data_before, below_upload_id, audit_before, set_by, reason';
const USER_COLUMNS = 'id, username, role, password_hash, failed_logins, locked_until, disabled, created_at, scope, source, must_change_password';
/** Columns holding times: ms at the TypeScript side, datetime2(3) UTC here. */
const TIME_COLUMNS = new Set(['suspended_at', 'updated_at', 'locked_until']);
/** binary(32) for hashes: mssql's Binary takes a length at run time, though its type declarations omit it. */
const BINARY_32 = (sql.Binary as unknown as (length: number) => sql.ISqlType)(32);
const UNIQUE_VIOLATIONS = new Set([2601, 2627]);
/** Application locks inlet.apply_upload_batch waits for in one request (migration 037): upload writer, event chain. */
const APPLICATION_LOCKS_PER_APPLY = 2;
/** Longest a group waits for another instance's group before it counts as unavailable (see purposeTimeouts). */
const WRITER_LOCK_TIMEOUT_MS = 10_000;
/** Longest a change waits for another writer of events (the event chain lock); then THROW 50051, "unavailable". */
export const EVENT_CHAIN_LOCK_TIMEOUT_MS = 10_000;

// datetime2 spans years 1..9999; a JavaScript range end such as Number.MAX_SAFE_INTEGER is clamped to it.
const FIRST_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
const LAST_MS = new Date('9999-12-31T23:59:59.999Z').getTime();
function utc(ms: number): Date {
  return new Date(Math.min(LAST_MS, Math.max(FIRST_MS, ms)));
}

/** mssql 12 takes per-request timeout overrides (0: none), which its type declarations do not list yet. */
interface PoolWithOverrides {
  request(overrides: { requestTimeout: number }): sql.Request;
  transaction(overrides: { requestTimeout: number }): sql.Transaction;
}
const withOverrides = (pool: sql.ConnectionPool) => pool as unknown as PoolWithOverrides;

const sqlNumber = (e: unknown) => (e as { number?: number }).number;

/**
 * Most rows one purge statement deletes: SQL Server tries to escalate to a table lock at 5,000 locks
 * on one object, which would block every group commit for the rest of the chunk's transaction.
 */
const PURGE_ROWS_BELOW_ESCALATION = 4000;

/** Width of the rows in inlet.sample_rollup_hour (migration 002). */
const HOUR_MS = 3_600_000;

/** SERVERPROPERTY('EngineEdition') of Express, and the data it may hold per database. */
const EXPRESS_ENGINE_EDITION = 4;
const EXPRESS_DATA_LIMIT_MB = 10_240;

export class MssqlStore implements Store {
  readonly kind = 'mssql' as const;
  /** Server, database and login, without the password: safe to log. */
  readonly target: string;
  /** The viewer's and the CLI's queries, and admin work (with its own timeout per request). */
  private readonly pool: sql.ConnectionPool;
  /** Group commits only: one connection of their own, so a busy viewer never delays an ingest write. */
  private readonly writerPool: sql.ConnectionPool;
  private connecting: Promise<sql.ConnectionPool> | null = null;
  private connectingWriter: Promise<sql.ConnectionPool> | null = null;
  private readonly timeouts: ReturnType<typeof purposeTimeouts>;
  /** Set once a pool has opened the database: a later 4060 at login is a failover, not a missing database. */
  private openedBefore = false;
  private readonly committer: GroupCommitter<Batch, CommitResult>;
  private lastCommitMs: number | null = null;
  private lastError: string | null = null;
  /** The device columns this database's schema has (see DEVICE_COLUMNS_WITH_CLOCK); settled by migrate(). */
  private deviceColumns = DEVICE_COLUMNS;
  private loginErrorNumber: number | undefined;
  private chainKey: Uint8Array | null = null;
  private lastPreflight: PreflightReport | undefined;
  /** The caps of one apply transaction (applyBatches): as the group commit's. */
  private readonly groupLimits: { rows: number; bytes: number; count: number };
  /** Measured-data reads this store answered (latest values, series, samples): the reader worker's, not the gateway's. */
  viewerReads = 0;
  /** CSV export days this store read and formatted (csvRows): the reader worker's, never the gateway's own. */
  csvDaysFormatted = 0;

  constructor(options: MssqlStoreOptions) {
    const { config, describe } = parseConnectionString(options.connectionString);
    this.target = describe;
    this.timeouts = purposeTimeouts(config.requestTimeout ?? 30_000);
    // The server's number for a refused login (18456 wrong password, 4060 no database...) is only
    // in the TDS error token; keep it so the message can say which it was. SQL Server follows a
    // specific refusal (4060) with the generic 18456, so the first number of an attempt wins.
    const beforeConnect = (connection: { on(event: 'errorMessage', listener: (token: { number: number }) => void): void }) => {
      this.loginErrorNumber = undefined;
      connection.on('errorMessage', (token: { number: number }) => { this.loginErrorNumber ??= token.number; });
    };
    const appName = `${config.options?.appName ?? 'Inlet'}${options.purpose === 'reader' ? ' reader' : ''}`;
    this.pool = new sql.ConnectionPool({ ...config, requestTimeout: this.timeouts.readMs, beforeConnect, options: { ...config.options, appName } } as sql.config);
    this.writerPool = new sql.ConnectionPool({
      ...config, requestTimeout: this.timeouts.writerRequestMs, pool: { min: 0, max: 1 }, beforeConnect,
      options: { ...config.options, appName: `${config.options?.appName ?? 'Inlet'} writer` },
    } as sql.config);
    for (const p of [this.pool, this.writerPool]) p.on('error', (err: unknown) => { this.lastError = this.explain(err).message; });
    this.groupLimits = { rows: options.maxGroupRows ?? GROUP_LIMITS.rows, bytes: options.maxGroupBytes ?? GROUP_LIMITS.bytes, count: options.maxApplyBatch ?? 5000 };
    this.committer = new GroupCommitter((batches) => this.writeGroup(batches), {
      maxGroup: options.maxGroup ?? 500,
      limits: { rows: options.maxGroupRows ?? GROUP_LIMITS.rows, bytes: options.maxGroupBytes ?? GROUP_LIMITS.bytes, weigh: batchWeight },
    });
  }

  private explain(err: unknown): Error {
    return explainMssqlError(err, { target: this.target, loginErrorNumber: this.loginErrorNumber, openedBefore: this.openedBefore });
  }

  /** The read pool (or the writer's), connected; a failed attempt is forgotten so the next call tries again. */
  private connected(purpose: 'read' | 'writer' = 'read'): Promise<sql.ConnectionPool> {
    const open = (pool: sql.ConnectionPool, forget: () => void) => pool.connect().then((p) => { this.openedBefore = true; return p; }, (err: unknown) => {
      forget();
      const explained = this.explain(err);
      this.lastError = explained.message;
      throw explained;
    });
    if (purpose === 'writer') return this.connectingWriter ??= open(this.writerPool, () => { this.connectingWriter = null; });
    return this.connecting ??= open(this.pool, () => { this.connecting = null; });
  }

  /** Runs a statement (or a few) on the read pool; errors come back explained. 'admin' work has no timeout. */
  private async query(text: string, inputs: Record<string, [sql.ISqlType | (() => sql.ISqlType), unknown]> = {},
    purpose: 'read' | 'admin' = 'read'): Promise<sql.IResult<Row>> {
    const pool = await this.connected();
    const request = purpose === 'admin' ? withOverrides(pool).request({ requestTimeout: this.timeouts.adminMs }) : pool.request();
    for (const [name, [type, value]] of Object.entries(inputs)) request.input(name, type, value);
    try {
      return await request.query<Row>(text);
    } catch (err) {
      throw this.explain(err);
    }
  }

  private async inTransaction<T>(work: (tx: sql.Transaction) => Promise<T>, purpose: 'read' | 'writer' | 'admin' = 'read'): Promise<T> {
    const pool = await this.connected(purpose === 'writer' ? 'writer' : 'read');
    const tx = purpose === 'writer' ? pool.transaction()
      : withOverrides(pool).transaction({ requestTimeout: purpose === 'admin' ? this.timeouts.adminMs : this.timeouts.changeMs });
    try {
      await tx.begin(sql.ISOLATION_LEVEL.READ_COMMITTED);
    } catch (err) {
      throw this.explain(err);
    }
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (err) {
      // XACT_ABORT may already have rolled back; a second rollback failing says nothing new.
      await tx.rollback().catch(() => undefined);
      throw this.explain(err);
    }
  }

  useChainKey(key: Uint8Array | null): void { this.chainKey = key; }

  // ---- migrations ----

  async migrate(onProgress?: (message: string) => void, options: MigrateOptions = {}): Promise<string[]> {
    const bootstrap = splitBatches(readFileSync(path.join(SQL_ROOT, 'mssql', 'bootstrap.sql'), 'utf8'));
    await this.inTransaction(async (tx) => {
      await lockMigrations(tx);
      for (const b of bootstrap) await tx.request().batch(b.sql);
    }, 'admin');
    const applied = (await this.query('SELECT version, checksum FROM inlet.schema_migrations ORDER BY version', {}, 'admin')).recordset
      .map((r) => ({ version: integer(r.version), checksum: (r.checksum as string).trim() }));
    const pending = pendingMigrations(loadMigrations('mssql'), applied, options.upTo);
    const done: string[] = [];
    for (const [i, m] of pending.entries()) {
      onProgress?.(`applying migration ${m.version}_${m.name} (${i + 1}/${pending.length})`);
      try {
        const appliedNow = await this.inTransaction(async (tx) => {
          await lockMigrations(tx);
          // Another instance may have applied it while this one waited for the lock.
          const already = await tx.request().input('version', sql.Int, m.version)
            .query('SELECT version FROM inlet.schema_migrations WHERE version = @version');
          if (already.recordset.length) return false;
          for (const b of splitBatches(m.sql)) {
            for (let n = 0; n < b.repeat; n++) await tx.request().batch(b.sql);
          }
          await tx.request().input('version', sql.Int, m.version).input('name', sql.NVarChar(200), m.name)
            .input('checksum', sql.Char(64), m.checksum)
            .query('INSERT INTO inlet.schema_migrations (version, name, checksum) VALUES (@version, @name, @checksum)');
          return true;
        }, 'admin');
        if (appliedNow) done.push(`${m.version}_${m.name}`);
      } catch (err) {
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    await this.readSchema();
    // For /health; the bootstrap has already refused a server below the minimum version.
    await this.preflight().catch(() => undefined);
    return done;
  }

  /** Settles which columns this database's schema has; migrate() calls it, a reader that never migrates too. */
  async readSchema(): Promise<void> {
    const clock = await this.query("SELECT COL_LENGTH(N'inlet.devices', N'logger_clock') AS clock_column_bytes");
    this.deviceColumns = clock.recordset[0]?.clock_column_bytes != null ? DEVICE_COLUMNS_WITH_CLOCK : DEVICE_COLUMNS;
  }

  // ---- writes ----

  commit(batch: Batch): Promise<CommitResult> {
    return this.committer.submit(batch);
  }

  /**
   * The journal's apply (spool/spooling-sink.ts): the chunk in batches within the group caps (rows,
   * bytes), each in one transaction of two procedure calls (apply-batch.ts); only the batches that
   * may be stored already (a replay) have their upload key looked up.
   */
  async applyBatches(batches: Batch[], maybeStored: boolean[]): Promise<(CommitResult | Error)[]> {
    const indexed = batches.map((batch, i) => ({ batch, maybeStored: maybeStored[i] ?? true }));
    const results: (CommitResult | Error)[] = [];
    for (const run of splitByLimits(indexed, this.groupLimits, (x) => batchWeight(x.batch))) {
      results.push(...await this.writeGroup(run.map((x) => x.batch), run.map((x) => x.maybeStored)));
    }
    return results;
  }

  /**
   * One transaction per group. A data error in one batch rolls the group back; then each batch is
   * written alone so that only the faulty one fails, as with the SQLite store's savepoints.
   */
  private async writeGroup(batches: Batch[], maybeStored: boolean[] = batches.map(() => true)): Promise<(CommitResult | Error)[]> {
    const started = performance.now();
    let results: (CommitResult | Error)[];
    try {
      results = await this.inTransaction((tx) => applyUploadBatch(tx, batches, maybeStored, this.chainKey, this.timeouts.writerLockMs), 'writer');
    } catch (err) {
      if (err instanceof StoreUnavailableError) { this.lastError = err.message; throw err; }
      if (batches.length === 1) return [err as Error];
      results = [];
      for (const batch of batches) {
        try {
          // The group was rolled back, but an earlier attempt's outcome may be unknown: look the key up.
          results.push((await this.inTransaction((tx) => applyUploadBatch(tx, [batch], [true], this.chainKey, this.timeouts.writerLockMs), 'writer'))[0]);
        } catch (single) {
          if (single instanceof StoreUnavailableError) { this.lastError = single.message; throw single; }
          results.push(single as Error);
        }
      }
    }
    this.lastError = null;
    this.lastCommitMs = performance.now() - started;
    return results;
  }

  flush(): Promise<void> {
    return this.committer.drain();
  }

  async close(): Promise<void> {
    await this.committer.drain();
    if (this.connecting) await this.connecting.catch(() => undefined);
    if (this.connectingWriter) await this.connectingWriter.catch(() => undefined);
    await Promise.all([this.pool.close(), this.writerPool.close()]);
  }

  health(): StoreHealth {
    return {
      ok: this.lastError === null,
      detail: this.lastError ?? 'sql server ok',
      commitLatencyMs: this.lastCommitMs,
      pendingBatches: this.committer.pending,
      ...(this.lastPreflight ? { preflight: this.lastPreflight } : {}),
    };
  }

  /** Version, edition, compatibility level, RCSI, recovery model, collation and free space, judged. */
  async preflight(): Promise<PreflightReport> {
    const r = (await this.query(PREFLIGHT_SQL, {}, 'admin')).recordset[0];
    this.lastPreflight = evaluatePreflight({
      productVersion: String(r.product_version), productLevel: String(r.product_level ?? ''), edition: String(r.edition ?? ''),
      engineEdition: integer(r.engine_edition), compatibilityLevel: integer(r.compatibility_level),
      readCommittedSnapshot: r.is_read_committed_snapshot_on === true || r.is_read_committed_snapshot_on === 1,
      recoveryModel: String(r.recovery_model_desc ?? ''), collation: String(r.collation_name ?? ''),
      usedPages: integer(r.used_pages ?? 0), allocatedPages: integer(r.allocated_pages ?? 0), maxPages: integer(r.max_pages ?? -1),
    });
    return this.lastPreflight;
  }

  // ---- devices ----

  async addDevice(d: NewDevice, at: number): Promise<IssuedDevice> {
    let id: number;
    try {
      id = await this.inTransaction(async (tx) => {
        const inserted = await tx.request()
          .input('family', sql.VarChar(20), d.family).input('serial', sql.NVarChar(64), d.serial)
          .input('model_code', sql.Int, d.modelCode).input('model', sql.NVarChar(100), d.model)
          .input('name', sql.NVarChar(200), d.name).input('location', sql.NVarChar(200), d.location ?? '')
          .input('entry_token_sha256', sql.Char(64), entryTokenSha256(d.entryToken)).input('allowed_interval_s', sql.Int, d.allowedIntervalS ?? null)
          .input('customer_uid', sql.NVarChar(100), d.customerUid ?? null).input('at', sql.DateTime2(3), utc(at))
          .input('zone_id', sql.Int, d.zoneId ?? null)
          .query<Row>(`INSERT INTO inlet.devices (family, serial, model_code, model, name, location, entry_token_sha256, allowed_interval_s,
              customer_uid, created_at, updated_at, zone_id)
            VALUES (@family, @serial, @model_code, @model, @name, @location, @entry_token_sha256, @allowed_interval_s, @customer_uid, @at, @at, @zone_id);
            SELECT CAST(SCOPE_IDENTITY() AS int) AS id;`);
        const deviceId = integer(inserted.recordset[0].id);
        for (const c of d.channels) {
          await upsertChannel(tx, { ...c, deviceId });
          await tx.request().input('device_id', sql.Int, deviceId).input('channel', sql.Int, c.channel).input('valid_from', sql.DateTime2(3), utc(at))
            .input('quantity', sql.NVarChar(200), c.quantity).input('unit', sql.NVarChar(50), c.unit)
            .query(`INSERT INTO inlet.channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
              VALUES (@device_id, @channel, @valid_from, @quantity, @unit, N'registration', N'the model''s channels at registration')`);
        }
        await insertEvent(tx, channelsRegisteredEvent(deviceId, d.channels, at, d), this.chainKey);
        return deviceId;
      });
    } catch (err) {
      if (UNIQUE_VIOLATIONS.has(sqlNumber(err) ?? 0) && /uq_devices_family_serial/.test((err as Error).message)) {
        throw new Error(`a ${d.family} device with serial ${d.serial} is already registered`);
      }
      throw err;
    }
    return { ...(await this.getDevice(id))!, entryToken: d.entryToken };
  }

  async updateDevice(id: number, patch: DevicePatch, at: number): Promise<Device> {
    const sets = deviceAssignments(patch, at);
    const pool = await this.connected();
    const request = pool.request().input('id', sql.Int, id);
    const assignments = [...sets].map(([column, value], i) => {
      bindColumnValue(request, `v${i}`, column, value);
      return `${column} = @v${i}`;
    });
    const result = await request.query(`UPDATE inlet.devices SET ${assignments.join(', ')} WHERE id = @id`).catch((err: unknown) => { throw this.explain(err); });
    if (result.rowsAffected[0] === 0) throw new Error(`no device with id ${id}`);
    return (await this.getDevice(id))!;
  }

  async getDevice(id: number): Promise<Device | undefined> {
    const r = (await this.query(`SELECT ${this.deviceColumns} FROM inlet.devices WHERE id = @id`, { id: [sql.Int, id] })).recordset[0];
    return r && toDevice(r);
  }

  async findDeviceBySerial(family: Family, serial: string): Promise<Device | undefined> {
    const r = (await this.query(`SELECT ${this.deviceColumns} FROM inlet.devices WHERE family = @family AND serial = @serial`,
      { family: [sql.VarChar(20), family], serial: [sql.NVarChar(64), serial] })).recordset[0];
    return r && toDevice(r);
  }

  async findDeviceByToken(token: string): Promise<Device | undefined> {
    const r = (await this.query(`SELECT ${this.deviceColumns} FROM inlet.devices WHERE entry_token_sha256 = @sha256`,
      { sha256: [sql.Char(64), entryTokenSha256(token)] })).recordset[0];
    return r && toDevice(r);
  }

  async listDevices(): Promise<Device[]> {
    return (await this.query(`SELECT ${this.deviceColumns} FROM inlet.devices ORDER BY location, name, id`)).recordset.map(toDevice);
  }

  async deviceLiveness(): Promise<DeviceLiveness[]> {
    return (await this.query(`SELECT ${DEVICE_LIVENESS_COLUMNS} FROM inlet.devices ORDER BY id`)).recordset.map(toDeviceLiveness);
  }

  async devicesChangedSince(since: number): Promise<Device[]> {
    return (await this.query(`SELECT ${this.deviceColumns} FROM inlet.devices WHERE updated_at > @since ORDER BY id`,
      { since: [sql.DateTime2(3), utc(since)] })).recordset.map(toDevice);
  }

  async listChannels(deviceId?: number): Promise<Channel[]> {
    const rows = deviceId === undefined
      ? (await this.query('SELECT device_id, channel, quantity, unit FROM inlet.channels ORDER BY device_id, channel')).recordset
      : (await this.query('SELECT device_id, channel, quantity, unit FROM inlet.channels WHERE device_id = @device_id ORDER BY channel',
        { device_id: [sql.Int, deviceId] })).recordset;
    return rows.map((r) => ({ deviceId: integer(r.device_id), channel: integer(r.channel), quantity: r.quantity as string, unit: r.unit as string }));
  }

  // ---- read side ----

  async latestValues(deviceId?: number): Promise<LatestValue[]> {
    this.viewerReads++;
    // One row per channel, kept by the triggers on inlet.samples (migration 014).
    const rows = (await this.query(`SELECT c.device_id, c.channel, c.quantity, c.unit, s.sample_time AS [time], s.value, s.error_code, s.alarm
      FROM inlet.channels AS c
      INNER JOIN inlet.latest_samples AS s ON s.device_id = c.device_id AND s.channel = c.channel
      ${deviceId === undefined ? '' : 'WHERE c.device_id = @device_id'}
      ORDER BY c.device_id, c.channel`, deviceId === undefined ? {} : { device_id: [sql.Int, deviceId] })).recordset;
    return rows.map((r) => ({ ...toSample(r), quantity: r.quantity as string, unit: r.unit as string }));
  }

  /** Buckets are aligned on whole multiples of bucketMs since the epoch; whole-hour buckets read the hourly rollup. */
  async series(q: SeriesQuery): Promise<SeriesPoint[]> {
    this.viewerReads++;
    if (q.bucketMs <= 0) return (await this.samples(q.deviceId, q.channel, q.from, q.to)).map(toRawSeriesPoint);
    const fromRollup = q.bucketMs % HOUR_MS === 0;
    const rows = (await this.query(fromRollup
      ? `SELECT DATEDIFF_BIG(millisecond, '1970-01-01', r.hour_start) / @bucket_ms AS bucket,
          MIN(r.value_min) AS [min], MAX(r.value_max) AS [max], SUM(r.value_sum) / NULLIF(SUM(r.value_count), 0) AS [avg],
          SUM(CAST(r.sample_count AS bigint)) AS [count], SUM(CAST(r.error_count AS bigint)) AS errors
        FROM inlet.sample_rollup_hour AS r
        WHERE r.device_id = @device_id AND r.channel = @channel AND r.hour_start >= @from AND r.hour_start < @to
        GROUP BY DATEDIFF_BIG(millisecond, '1970-01-01', r.hour_start) / @bucket_ms
        ORDER BY bucket`
      : `SELECT DATEDIFF_BIG(millisecond, '1970-01-01', s.sample_time) / @bucket_ms AS bucket,
          MIN(s.value) AS [min], MAX(s.value) AS [max], AVG(s.value) AS [avg], COUNT_BIG(*) AS [count], COUNT_BIG(s.error_code) AS errors
        FROM inlet.samples AS s
        WHERE s.device_id = @device_id AND s.channel = @channel AND s.sample_time >= @from AND s.sample_time < @to
        GROUP BY DATEDIFF_BIG(millisecond, '1970-01-01', s.sample_time) / @bucket_ms
        ORDER BY bucket`, {
      from: [sql.DateTime2(3), utc(fromRollup ? q.from - (q.from % HOUR_MS) : q.from)], to: [sql.DateTime2(3), utc(q.to)],
      bucket_ms: [sql.BigInt, q.bucketMs], device_id: [sql.Int, q.deviceId], channel: [sql.Int, q.channel],
    })).recordset;
    return rows.map((r) => ({
      time: integer(r.bucket) * q.bucketMs,
      min: (r.min as number | null) ?? null, max: (r.max as number | null) ?? null, avg: (r.avg as number | null) ?? null,
      count: integer(r.count), errors: integer(r.errors),
    }));
  }

  async samples(deviceId: number, channel: number, from: number, to: number, limit = 100_000): Promise<SampleRow[]> {
    this.viewerReads++;
    return (await this.query(`SELECT TOP (@limit) ${SAMPLE_COLUMNS} FROM inlet.samples
      WHERE device_id = @device_id AND channel = @channel AND sample_time >= @from AND sample_time < @to
      ORDER BY sample_time`, {
      limit: [sql.Int, limit], device_id: [sql.Int, deviceId], channel: [sql.Int, channel],
      from: [sql.DateTime2(3), utc(from)], to: [sql.DateTime2(3), utc(to)],
    })).recordset.map(toSample);
  }

  /**
   * The CSV export's rows, formatted where they are read: on the gateway that is the reader worker
   * (read-worker.ts), so the thread answering devices receives finished text, not a day of rows.
   */
  async csvRows(channels: CsvChannel[], from: number, to: number, options: CsvRowOptions): Promise<CsvRows> {
    const perChannel = await Promise.all(channels.map((c) => (Math.max(from, c.from) < Math.min(to, c.to)
      ? this.samples(c.deviceId, c.channel, Math.max(from, c.from), Math.min(to, c.to), 10_000_000) : Promise.resolve([]))));
    this.csvDaysFormatted++;
    return csvRows(perChannel, options);
  }

  async channelSamples(deviceId: number, channel: number, from: number, to: number): Promise<ChannelSamples> {
    const rows = (await this.query(`SELECT sample_time, value, error_code FROM inlet.samples
      WHERE device_id = @device_id AND channel = @channel AND sample_time >= @from AND sample_time < @to
      ORDER BY sample_time`, {
      device_id: [sql.Int, deviceId], channel: [sql.Int, channel], from: [sql.DateTime2(3), utc(from)], to: [sql.DateTime2(3), utc(to)],
    })).recordset;
    const columns = { length: rows.length, time: new Float64Array(rows.length), value: new Float64Array(rows.length), errorCode: new Float64Array(rows.length) };
    rows.forEach((r, i) => {
      columns.time[i] = (r.sample_time as Date).getTime();
      columns.value[i] = (r.value as number | null) ?? Number.NaN;
      columns.errorCode[i] = r.error_code === null ? Number.NaN : Number(r.error_code);
    });
    return columns;
  }

  async events(q: EventQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const inputs: Record<string, [sql.ISqlType | (() => sql.ISqlType), unknown]> = { limit: [sql.Int, Math.min(q.limit ?? 500, 10_000)] };
    if (q.deviceId !== undefined) { where.push('device_id = @device_id'); inputs.device_id = [sql.Int, q.deviceId]; }
    if (q.deviceIds !== undefined) { where.push('device_id IN (SELECT CAST(value AS int) FROM OPENJSON(@device_ids))'); inputs.device_ids = [sql.NVarChar(sql.MAX), JSON.stringify(q.deviceIds)]; }
    if (q.since !== undefined) { where.push('occurred_at >= @since'); inputs.since = [sql.DateTime2(3), utc(q.since)]; }
    if (q.type !== undefined) { where.push('type = @type'); inputs.type = [sql.VarChar(100), q.type]; }
    if (q.until !== undefined) { where.push('occurred_at < @until'); inputs.until = [sql.DateTime2(3), utc(q.until)]; }
    if (q.actor !== undefined) { where.push('actor = @actor'); inputs.actor = [sql.NVarChar(128), q.actor]; }
    if (q.typePrefix !== undefined) { where.push('LEFT(type, LEN(@type_prefix)) = @type_prefix'); inputs.type_prefix = [sql.VarChar(100), q.typePrefix]; }
    if (q.beforeId !== undefined) { where.push('id < @before_id'); inputs.before_id = [sql.BigInt, q.beforeId]; }
    return (await this.query(`SELECT TOP (@limit) id, occurred_at AS at, device_id, type, level, message, data, actor, source, recorded_at FROM inlet.events
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`, inputs)).recordset.map(toStoredEvent);
  }

  async addEvent(e: NewEvent): Promise<void> {
    await this.inTransaction((tx) => insertEvent(tx, e, this.chainKey));
  }

  async chainedEvents(afterId: number, limit: number): Promise<ChainedEvent[]> {
    return (await this.query(`SELECT TOP (@limit) id, occurred_at AS at, device_id, type, level, message, data, actor, source, recorded_at, prev_hash, hash
      FROM inlet.events WHERE id > @after_id ORDER BY id`, { limit: [sql.Int, limit], after_id: [sql.BigInt, afterId] })).recordset.map(toChainedEvent);
  }

  async rollupMismatches(share: { part: number; of: number } | null, limit: number): Promise<RollupMismatch[]> {
    const where = share && share.of > 1 ? (column: string) => `${column} % @share_of = @share_part` : () => '1 = 1';
    // The same comparison as the embedded store: hours that differ from their samples, and hours with no samples.
    return (await this.query(`WITH recomputed AS (
        SELECT device_id, channel, DATEADD(hour, DATEDIFF(hour, '2000-01-01', sample_time), CAST('2000-01-01' AS datetime2(3))) AS hour_start,
          MIN(value) AS value_min, MAX(value) AS value_max, COALESCE(SUM(value), 0) AS value_sum, COUNT(value) AS value_count,
          COUNT_BIG(*) AS sample_count, COUNT(error_code) AS error_count
        FROM inlet.samples WHERE ${where('device_id')}
        GROUP BY device_id, channel, DATEADD(hour, DATEDIFF(hour, '2000-01-01', sample_time), CAST('2000-01-01' AS datetime2(3))))
      SELECT TOP (@limit) device_id, channel, hour_start, s_min, s_max, s_sum, s_vc, s_sc, s_ec, r_min, r_max, r_sum, r_vc, r_sc, r_ec FROM (
        SELECT r.device_id, r.channel, r.hour_start,
          h.value_min AS s_min, h.value_max AS s_max, h.value_sum AS s_sum, h.value_count AS s_vc, h.sample_count AS s_sc, h.error_count AS s_ec,
          r.value_min AS r_min, r.value_max AS r_max, r.value_sum AS r_sum, r.value_count AS r_vc, r.sample_count AS r_sc, r.error_count AS r_ec
        FROM recomputed AS r
        LEFT JOIN inlet.sample_rollup_hour AS h ON h.device_id = r.device_id AND h.channel = r.channel AND h.hour_start = r.hour_start
        WHERE h.device_id IS NULL
           OR EXISTS (SELECT h.value_min, h.value_max, h.value_count, h.sample_count, h.error_count
                      EXCEPT SELECT r.value_min, r.value_max, r.value_count, r.sample_count, r.error_count)
           OR ABS(h.value_sum - r.value_sum) > 1e-6 * IIF(ABS(r.value_sum) > 1, ABS(r.value_sum), 1)
        UNION ALL
        SELECT h.device_id, h.channel, h.hour_start, h.value_min, h.value_max, h.value_sum, h.value_count, h.sample_count, h.error_count,
          NULL, NULL, NULL, NULL, NULL, NULL
        FROM inlet.sample_rollup_hour AS h
        WHERE ${where('h.device_id')} AND NOT EXISTS (SELECT 1 FROM inlet.samples AS s WHERE s.device_id = h.device_id AND s.channel = h.channel
          AND s.sample_time >= h.hour_start AND s.sample_time < DATEADD(hour, 1, h.hour_start))
      ) AS mismatches`, {
      limit: [sql.Int, limit], share_of: [sql.Int, share?.of ?? 1], share_part: [sql.Int, share?.part ?? 0],
      // Verification work: it groups a share of every sample (minutes at 10^9), so no request timeout.
    }, 'admin')).recordset.map(toRollupMismatch);
  }

  async devicesWithoutChain(): Promise<number[]> {
    return (await this.query(`SELECT d.id FROM inlet.devices AS d
      WHERE (d.last_seen_at IS NOT NULL OR EXISTS (SELECT 1 FROM inlet.sample_rollup_hour AS h WHERE h.device_id = d.id))
        AND NOT EXISTS (SELECT 1 FROM inlet.uploads AS u WHERE u.device_id = d.id)
        AND NOT EXISTS (SELECT 1 FROM inlet.chain_anchors AS a WHERE a.chain = d.id)
      ORDER BY d.id`)).recordset.map((r) => integer(r.id));
  }

  async setChannelUnit(deviceId: number, channel: number, quantity: string, unit: string, validFrom: number, by: string, reason: string, audit: ChangeAudit = {}): Promise<void> {
    await this.inTransaction(async (tx) => {
      const old = (await tx.request().input('device_id', sql.Int, deviceId).input('channel', sql.Int, channel)
        .query<Row>('SELECT quantity, unit FROM inlet.channels WITH (UPDLOCK) WHERE device_id = @device_id AND channel = @channel')).recordset[0];
      if (!old) throw new Error(`no channel ${channel} on device ${deviceId}`);
      // A channel first seen in an upload has no version yet on this store: its unit until now becomes
      // the first version (from the beginning), so that its earlier samples keep that unit when shown.
      const firstVersion = (await tx.request().input('device_id', sql.Int, deviceId).input('channel', sql.Int, channel)
        .input('quantity', sql.NVarChar(200), old.quantity as string).input('unit', sql.NVarChar(50), old.unit as string)
        .query<Row>(`INSERT INTO inlet.channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
            SELECT @device_id, @channel, '1970-01-01T00:00:00', @quantity, @unit, N'device', N'first upload with this channel (recorded at its first unit change)'
            WHERE NOT EXISTS (SELECT 1 FROM inlet.channel_units WHERE device_id = @device_id AND channel = @channel);
          SELECT @@ROWCOUNT AS inserted;`)).recordset[0];
      await tx.request().input('device_id', sql.Int, deviceId).input('channel', sql.Int, channel).input('valid_from', sql.DateTime2(3), utc(validFrom))
        .input('quantity', sql.NVarChar(200), quantity).input('unit', sql.NVarChar(50), unit).input('set_by', sql.NVarChar(128), by)
        .input('reason', sql.NVarChar(sql.MAX), reason)
        .query(`INSERT INTO inlet.channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
            VALUES (@device_id, @channel, @valid_from, @quantity, @unit, @set_by, @reason);
          UPDATE inlet.channels SET quantity = @quantity, unit = @unit WHERE device_id = @device_id AND channel = @channel;`);
      const event = channelUnitEvent(deviceId, channel, { quantity: old.quantity as string, unit: old.unit as string }, { quantity, unit }, validFrom, by, reason, audit);
      if (Number(firstVersion?.inserted) > 0) event.data.records.push(unitVersionRecord(deviceId, { channel, validFrom: 0, quantity: old.quantity as string, unit: old.unit as string }));
      await insertEvent(tx, event, this.chainKey);
    });
  }

  async channelUnits(deviceId: number): Promise<{ channel: number; validFrom: number; quantity: string; unit: string; setBy: string; reason: string }[]> {
    return (await this.query(`SELECT channel, valid_from, quantity, unit, set_by, reason FROM inlet.channel_units WHERE device_id = @device_id
      ORDER BY channel, valid_from`, { device_id: [sql.Int, deviceId] })).recordset.map(toChannelUnit);
  }

  async uploads(q: { deviceId?: number; verdict?: VerdictKind; afterId?: number; limit?: number }): Promise<StoredUpload[]> {
    const where = ['id > @after_id'];
    const inputs: Record<string, [sql.ISqlType | (() => sql.ISqlType), unknown]> = {
      after_id: [sql.BigInt, q.afterId ?? 0], limit: [sql.Int, Math.min(q.limit ?? 1000, 100_000)],
    };
    if (q.deviceId !== undefined) { where.push('device_id = @device_id'); inputs.device_id = [sql.Int, q.deviceId]; }
    if (q.verdict !== undefined) { where.push('verdict = @verdict'); inputs.verdict = [sql.VarChar(12), q.verdict]; }
    return (await this.query(`SELECT TOP (@limit) ${UPLOAD_COLUMNS} FROM inlet.uploads WHERE ${where.join(' AND ')} ORDER BY id`, inputs))
      .recordset.map(toStoredUpload);
  }

  // ---- quarantine ----

  async quarantined(deviceId: number): Promise<QuarantineEntry[]> {
    return (await this.query(`SELECT upload_id, device_id, received_at, readings FROM inlet.quarantine
      WHERE device_id = @device_id AND released_at IS NULL ORDER BY upload_id`, { device_id: [sql.Int, deviceId] })).recordset.map(toQuarantineEntry);
  }

  async releaseQuarantine(deviceId: number, importData: boolean, at: number): Promise<ReleaseResult> {
    return releaseQuarantined(this, deviceId, importData, at, async (throughUploadId) => {
      await this.query(`UPDATE inlet.quarantine SET released_at = @at, imported = @imported
        WHERE device_id = @device_id AND upload_id <= @through AND released_at IS NULL`, {
        at: [sql.DateTime2(3), utc(at)], imported: [sql.Bit, importData], device_id: [sql.Int, deviceId], through: [sql.BigInt, throughUploadId],
      });
    });
  }

  // ---- users ----

  // ---- zones ----

  private get zoneContext(): zones.MssqlZoneContext {
    return {
      query: (text, inputs) => this.query(text, inputs), inTransaction: (work) => this.inTransaction(work),
      chainKey: () => this.chainKey, eventLockTimeoutMs: EVENT_CHAIN_LOCK_TIMEOUT_MS,
    };
  }
  async listZones(): Promise<Zone[]> { return zones.listZones(this.zoneContext); }
  async addZone(zone: { parentId: number | null; name: string }, actor: ChangeActor): Promise<Zone> { return zones.addZone(this.zoneContext, zone, actor); }
  async updateZone(id: number, patch: { parentId?: number | null; name?: string }, actor: ChangeActor): Promise<Zone> { return zones.updateZone(this.zoneContext, id, patch, actor); }
  async removeZone(id: number, actor: ChangeActor): Promise<void> { return zones.removeZone(this.zoneContext, id, actor); }
  async userZoneRoles(userId?: number): Promise<UserZoneRole[]> { return zones.userZoneRoles(this.zoneContext, userId); }
  async setUserZoneRoles(userId: number, grants: ZoneGrant[], actor: ChangeActor): Promise<void> { return zones.setUserZoneRoles(this.zoneContext, userId, grants, actor); }

  // ---- users ----

  async addUser(user: { username: string; role: UserRecord['role']; passwordHash: string; scope?: UserRecord['scope']; source?: UserRecord['source'] }, at: number, audit?: UserAudit): Promise<UserRecord> {
    try {
      return await this.inTransaction(async (tx) => {
        const inserted = await tx.request().input('username', sql.NVarChar(128), user.username).input('role', sql.VarChar(20), user.role)
          .input('password_hash', sql.NVarChar(400), user.passwordHash).input('at', sql.DateTime2(3), utc(at))
          .input('scope', sql.VarChar(10), user.scope ?? 'global').input('source', sql.VarChar(10), user.source ?? 'local')
          .query<Row>(`INSERT INTO inlet.users (username, role, password_hash, created_at, scope, source) VALUES (@username, @role, @password_hash, @at, @scope, @source);
            SELECT ${USER_COLUMNS} FROM inlet.users WHERE id = CAST(SCOPE_IDENTITY() AS int);`);
        const added = toUser(inserted.recordset[0]);
        await insertEvent(tx, userAddedEvent(added, at, audit), this.chainKey);
        return added;
      });
    } catch (err) {
      if (UNIQUE_VIOLATIONS.has(sqlNumber(err) ?? 0)) throw new Error(`user ${user.username} already exists`);
      throw err;
    }
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const r = (await this.query(`SELECT ${USER_COLUMNS} FROM inlet.users WHERE username = @username`, { username: [sql.NVarChar(128), username] })).recordset[0];
    return r && toUser(r);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.query(`SELECT ${USER_COLUMNS} FROM inlet.users ORDER BY username`)).recordset.map(toUser);
  }

  async updateUser(id: number, patch: UserPatch, audit?: UserAudit): Promise<void> {
    const sets = userAssignments(patch);
    if (!sets.size) return;
    await this.inTransaction(async (tx) => {
      const read = async (lock: string) => {
        const r = (await tx.request().input('id', sql.Int, id).query<Row>(`SELECT ${USER_COLUMNS} FROM inlet.users ${lock} WHERE id = @id`)).recordset[0];
        return r && toUser(r);
      };
      const before = await read('WITH (UPDLOCK)');
      const request = tx.request().input('id', sql.Int, id);
      const assignments = [...sets].map(([column, value], i) => {
        bindColumnValue(request, `v${i}`, column, value);
        return `${column} = @v${i}`;
      });
      await request.query(`UPDATE inlet.users SET ${assignments.join(', ')} WHERE id = @id`);
      const after = await read('');
      const event = before && after ? userChangedEvent(before, after, patch, Date.now(), audit) : null;
      if (event) await insertEvent(tx, event, this.chainKey);
    }).catch((err: unknown) => { throw this.explain(err); });
  }

  // ---- retired devices ----

  async retirements(): Promise<DeviceRetirement[]> {
    return (await this.query('SELECT device_id, retired_at, retired_by, reason FROM inlet.device_retirements ORDER BY device_id')).recordset.map((r) => ({
      deviceId: Number(r.device_id), retiredAt: epochMs(r.retired_at), retiredBy: r.retired_by as string, reason: r.reason as string,
    }));
  }

  async setRetirement(deviceId: number, retirement: Omit<DeviceRetirement, 'deviceId'> | null): Promise<void> {
    if (!retirement) {
      await this.query('DELETE FROM inlet.device_retirements WHERE device_id = @device_id', { device_id: [sql.Int, deviceId] });
      return;
    }
    await this.query(`INSERT INTO inlet.device_retirements (device_id, retired_at, retired_by, reason) VALUES (@device_id, @retired_at, @retired_by, @reason)`, {
      device_id: [sql.Int, deviceId], retired_at: [sql.DateTime2(3), utc(retirement.retiredAt)],
      retired_by: [sql.NVarChar(128), retirement.retiredBy], reason: [sql.NVarChar(400), retirement.reason],
    });
  }

  // ---- viewer sessions ----

  async saveSession(s: StoredSession): Promise<void> {
    // UPDATE, then INSERT when there was nothing to update, in one transaction: a session is saved by one request at a time
    await this.query(`SET XACT_ABORT ON;
      BEGIN TRANSACTION;
      UPDATE inlet.sessions WITH (UPDLOCK, SERIALIZABLE) SET last_active_at = @last_active_at, display = @display, access = @access WHERE id_hash = @id_hash;
      IF @@ROWCOUNT = 0
        INSERT INTO inlet.sessions (id_hash, user_id, created_at, last_active_at, display, access) VALUES (@id_hash, @user_id, @created_at, @last_active_at, @display, @access);
      COMMIT TRANSACTION;`, {
      id_hash: [sql.Char(64), s.idHash], user_id: [sql.Int, s.userId], created_at: [sql.DateTime2(3), utc(s.createdAt)],
      last_active_at: [sql.DateTime2(3), utc(s.lastActiveAt)], display: [sql.Bit, s.display], access: [sql.NVarChar(sql.MAX), JSON.stringify(s.access)],
    });
  }

  async deleteSessions(idHashes: string[]): Promise<void> {
    for (const idHash of idHashes) await this.query('DELETE FROM inlet.sessions WHERE id_hash = @id_hash', { id_hash: [sql.Char(64), idHash] });
  }

  async listSessions(): Promise<StoredSession[]> {
    return (await this.query('SELECT id_hash, user_id, created_at, last_active_at, display, access FROM inlet.sessions ORDER BY created_at')).recordset.map((r) => ({
      idHash: r.id_hash as string, userId: Number(r.user_id), createdAt: epochMs(r.created_at), lastActiveAt: epochMs(r.last_active_at), display: r.display === true || r.display === 1,
      access: JSON.parse(r.access as string) as StoredSession['access'],
    }));
  }

  // ---- housekeeping ----

  /**
   * Reports how full the data files are (on Express, against its 10 GB limit, past which writes
   * fail and uploads go to the spool). Statistics are left to SQL Server's automatic updates: the
   * service login has no ALTER right, which UPDATE STATISTICS needs, and is not given one for this.
   */
  async maintain(): Promise<string> {
    const r = (await this.query(`SELECT SUM(CAST(FILEPROPERTY(f.name, 'SpaceUsed') AS bigint)) AS used_pages,
        SUM(CAST(f.size AS bigint)) AS allocated_pages, CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition
      FROM sys.database_files AS f
      WHERE f.type = 0`, {}, 'admin')).recordset[0];
    const mb = (pages: unknown) => Math.round(integer(pages ?? 0) * 8 / 1024);
    const used = mb(r.used_pages);
    const parts = [`data files: ${used} MB used of ${mb(r.allocated_pages)} MB allocated`];
    if (integer(r.engine_edition) === EXPRESS_ENGINE_EDITION) {
      const percent = Math.round(used / EXPRESS_DATA_LIMIT_MB * 100);
      parts.push(`Express edition: ${percent}% of its 10 GB limit${percent >= 80 ? ' (plan retention of raw uploads, or move to Standard edition)' : ''}`);
    }
    parts.push('statistics are kept by SQL Server\'s automatic updates');
    // Empty upload-id partitions ahead of the ingest (migration 032): a SPLIT of an empty range only.
    try {
      const { added, lastBoundary } = await this.addUploadPartitions();
      parts.push(`upload partitions: ${added} added, ranges ready up to upload #${lastBoundary}`);
    } catch (err) {
      parts.push(`upload partitions not added: ${(err as Error).message}`);
    }
    const preflight = await this.preflight().catch(() => undefined);
    if (preflight && preflight.level !== 'ok') {
      parts.push(`preflight: ${preflight.checks.filter((c) => c.level !== 'ok').map((c) => `${c.level} ${c.name}`).join(', ')}`);
    }
    return parts.join('; ');
  }

  // ---- integrity verification ----

  async uploadStats(): Promise<{ count: number; maxId: number }> {
    const r = (await this.query('SELECT COUNT_BIG(*) AS [count], COALESCE(MAX(id), 0) AS max_id FROM inlet.uploads', {}, 'admin')).recordset[0];
    return { count: integer(r.count), maxId: integer(r.max_id) };
  }

  async uploadSamples(fromUploadId: number, toUploadId: number | null): Promise<UploadSample[]> {
    return (await this.query(`SELECT ${SAMPLE_COLUMNS}, upload_id FROM inlet.samples
      WHERE upload_id >= @from_id ${toUploadId === null ? '' : 'AND upload_id <= @to_id'}
      ORDER BY upload_id, channel, sample_time`, {
      from_id: [sql.BigInt, fromUploadId], ...(toUploadId === null ? {} : { to_id: [sql.BigInt, toUploadId] }),
    }, 'admin')).recordset.map(toUploadSample);
  }

  async chainCheckpoints(): Promise<ChainCheckpoint[]> {
    return (await this.query(`SELECT c.verified_at AS at, c.chain, c.upload_id, c.hash
      FROM inlet.chain_checkpoints AS c
      WHERE c.id = (SELECT MAX(l.id) FROM inlet.chain_checkpoints AS l WHERE l.chain = c.chain)
      ORDER BY c.chain`)).recordset.map(toChainCheckpoint);
  }

  // ---- refusal archive (migration 011) ----

  async archiveRefusals(refusals: RefusalRecord[], events: NewEvent[], limits: RefusalArchiveLimits): Promise<void> {
    await this.inTransaction(async (tx) => {
      for (const r of refusals) {
        await tx.request()
          .input('received_at', sql.DateTime2(3), utc(r.receivedAt)).input('device_id', sql.Int, r.deviceId)
          .input('family', sql.VarChar(20), r.family.slice(0, 20)).input('remote_address', sql.VarChar(64), r.remoteAddress.slice(0, 64))
          .input('content_type', sql.NVarChar(200), r.contentType.slice(0, 200)).input('status', sql.SmallInt, r.status)
          .input('reason_code', sql.VarChar(40), r.reasonCode).input('reason', sql.NVarChar(1000), r.reason.slice(0, 1000))
          .input('serial', sql.NVarChar(64), r.serial?.slice(0, 64) ?? null).input('body_length', sql.BigInt, r.bodyLength)
          .input('body_sha256', BINARY_32, r.bodySha256).input('body_prefix', sql.VarBinary(8000), r.bodyPrefix.subarray(0, 8000))
          .query(`INSERT INTO inlet.refusals (received_at, device_id, family, remote_address, content_type, status, reason_code, reason,
            serial, body_length, body_sha256, body_prefix)
            VALUES (@received_at, @device_id, @family, @remote_address, @content_type, @status, @reason_code, @reason,
            @serial, @body_length, @body_sha256, @body_prefix)`);
      }
      if (events.length) await appendEvents(tx, events, this.chainKey, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      // through a procedure: the service login may not DELETE (migration 011)
      await tx.request().input('max_rows', sql.BigInt, limits.maxRows).input('keep_since', sql.DateTime2(3), utc(limits.keepSince))
        .execute('inlet.prune_refusals');
    });
  }

  async refusals(query: { afterId?: number; limit?: number }): Promise<StoredRefusal[]> {
    const result = await this.query(`SELECT TOP (@limit) id, received_at, device_id, family, remote_address, content_type, status, reason_code,
      reason, serial, body_length, body_sha256, body_prefix FROM inlet.refusals WHERE id > @after_id ORDER BY id`, {
      after_id: [sql.BigInt, query.afterId ?? 0], limit: [sql.Int, Math.min(query.limit ?? 1000, 100_000)],
    });
    return result.recordset.map((r) => ({
      id: Number(r.id), receivedAt: (r.received_at as Date).getTime(), deviceId: r.device_id === null ? null : Number(r.device_id),
      family: String(r.family), remoteAddress: String(r.remote_address), contentType: String(r.content_type), status: Number(r.status),
      reasonCode: String(r.reason_code), reason: String(r.reason), serial: r.serial === null ? null : String(r.serial),
      bodyLength: Number(r.body_length), bodySha256: Buffer.from(r.body_sha256 as Buffer), bodyPrefix: Buffer.from(r.body_prefix as Buffer),
    }));
  }

  async addChainCheckpoints(checkpoints: ChainCheckpoint[]): Promise<void> {
    if (!checkpoints.length) return;
    const checkpointRows = new sql.Table('inlet.chain_checkpoint_rows');
    checkpointRows.columns.add('verified_at', sql.DateTime2(3), { nullable: false });
    checkpointRows.columns.add('chain', sql.Int, { nullable: false });
    checkpointRows.columns.add('upload_id', sql.BigInt, { nullable: false });
    checkpointRows.columns.add('hash', BINARY_32, { nullable: false });
    for (const c of checkpoints) checkpointRows.rows.add(utc(c.at), c.chain, c.uploadId, Buffer.from(c.hash));
    // One statement: all of them or none.
    await this.query(`INSERT INTO inlet.chain_checkpoints (verified_at, chain, upload_id, hash)
      SELECT verified_at, chain, upload_id, hash FROM @checkpoints`, { checkpoints: [sql.TVP, checkpointRows] });
  }

  // ---- raw-body retention and verification progress (migrations 031, 033) ----

  async uploadBodyPurges(fromUploadId: number, toUploadId: number): Promise<UploadBodyPurge[]> {
    return (await this.query(`SELECT upload_id, raw_sha256, raw_length, purged_at FROM inlet.upload_body_purges
      WHERE upload_id >= @from_id AND upload_id <= @to_id ORDER BY upload_id`, {
      from_id: [sql.BigInt, fromUploadId], to_id: [sql.BigInt, toUploadId],
    }, 'admin')).recordset.map((p) => ({
      uploadId: integer(p.upload_id), rawSha256: Buffer.from(p.raw_sha256 as Buffer), rawLength: integer(p.raw_length), purgedAt: epochMs(p.purged_at),
    }));
  }

  /**
   * A backward seek per device (per partition of the aligned index) on ix_uploads_device_id
   * (device_id, id) INCLUDE (hash), never a scan of the uploads: a GROUP BY over 10^8 rows would
   * read the whole index every night.
   */
  async lastUploadsBefore(beforeId: number): Promise<{ chain: number; uploadId: number; hash: Buffer }[]> {
    return (await this.query(`SELECT d.id AS chain, l.id, l.hash
      FROM inlet.devices AS d
      CROSS APPLY (SELECT TOP (1) u.id, u.hash FROM inlet.uploads AS u
                   WHERE u.device_id = d.id AND u.id < @before_id ORDER BY u.id DESC) AS l
      UNION ALL
      SELECT 0, n.id, n.hash
      FROM (SELECT TOP (1) u.id, u.hash FROM inlet.uploads AS u
            WHERE u.device_id IS NULL AND u.id < @before_id ORDER BY u.id DESC) AS n
      ORDER BY chain`, { before_id: [sql.BigInt, beforeId] }, 'admin')).recordset
      .map((r) => ({ chain: integer(r.chain), uploadId: integer(r.id), hash: Buffer.from(r.hash as Buffer) }));
  }

  async verifyProgress(): Promise<VerifyProgressRecord | undefined> {
    const r = (await this.query(`SELECT TOP (1) id, verified_at AS [at], mode, verified_through, rolling_cursor, rolling_end, rolling_nights, prev_mac, mac
      FROM inlet.verify_progress ORDER BY id DESC`)).recordset[0];
    return r && toVerifyProgress(r);
  }

  async addVerifyProgress(p: Omit<VerifyProgressRecord, 'id'>): Promise<void> {
    await this.query(`INSERT INTO inlet.verify_progress (verified_at, mode, verified_through, rolling_cursor, rolling_end, rolling_nights, prev_mac, mac)
      VALUES (@at, @mode, @verified_through, @rolling_cursor, @rolling_end, @rolling_nights, @prev_mac, @mac)`, {
      at: [sql.DateTime2(3), utc(p.at)], mode: [sql.VarChar(12), p.mode], verified_through: [sql.BigInt, p.verifiedThrough],
      rolling_cursor: [sql.BigInt, p.rollingCursor], rolling_end: [sql.BigInt, p.rollingEnd], rolling_nights: [sql.Int, p.rollingNights],
      prev_mac: [BINARY_32, Buffer.from(p.prevMac)], mac: [BINARY_32, Buffer.from(p.mac)],
    });
  }

  /**
   * In the gateway's transaction, which links the events the procedure writes (038); the upload writer
   * lock first, then the event chain's, the order every group commit takes them in: no deadlock.
   */
  async switchOutBelowHorizon(maxPartitions: number): Promise<{ partitions: number; uploads: number; samples: number }> {
    const r = await this.inTransaction(async (tx) => {
      await lockUploadWriter(tx);
      await lockEventChain(tx, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      const switched = (await tx.request().input('max_partitions', sql.Int, maxPartitions).execute<Row>('inlet.switch_out_below_horizon')).recordset[0];
      await appendEvents(tx, [], this.chainKey, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      return switched;
    }, 'admin');
    return { partitions: integer(r.partitions), uploads: integer(r.uploads), samples: integer(r.samples) };
  }

  async addUploadPartitions(): Promise<{ added: number; lastBoundary: number }> {
    const r = (await this.query('EXEC inlet.add_upload_partitions;', {}, 'admin')).recordset[0];
    return { added: integer(r.added), lastBoundary: integer(r.last_boundary) };
  }

  /** The database decides the date (SYSUTCDATETIME() less the larger of keepDays and its floor) and computes the digests. */
  async purgeUploadBodies(request: BodyPurgeRequest): Promise<BodyPurgeChunk> {
    const keepDays = Math.max(0, Math.ceil((request.at - request.before) / 86_400_000));
    // In the gateway's transaction, which links the event the procedure writes (038).
    const r = await this.inTransaction(async (tx) => {
      await lockEventChain(tx, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      const chunk = (await tx.request().input('keep_days', sql.Int, keepDays).input('batch_size', sql.Int, Math.min(request.limit, PURGE_ROWS_BELOW_ESCALATION))
        .input('reason', sql.NVarChar(1000), `${request.reason} (${request.setBy})`.slice(0, 1000))
        .execute<Row>('inlet.purge_upload_bodies')).recordset[0];
      await appendEvents(tx, [], this.chainKey, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      return chunk;
    }, 'admin');
    return {
      bodies: integer(r.bodies), bytes: integer(r.bytes),
      firstUploadId: r.first_upload_id === null ? null : integer(r.first_upload_id), lastUploadId: r.last_upload_id === null ? null : integer(r.last_upload_id),
    };
  }

  // ---- retention ----

  async retentionHorizon(): Promise<RetentionHorizon | undefined> {
    const r = (await this.query(`SELECT TOP (1) ${MSSQL_HORIZON_COLUMNS} FROM inlet.retention_horizons ORDER BY id DESC`)).recordset[0];
    return r && toRetentionHorizon(r);
  }

  async retentionHorizons(): Promise<RetentionHorizon[]> {
    return (await this.query(`SELECT ${MSSQL_HORIZON_COLUMNS} FROM inlet.retention_horizons ORDER BY id`)).recordset.map(toRetentionHorizon);
  }

  async chainAnchors(): Promise<ChainAnchor[]> {
    return (await this.query(`SELECT a.horizon_id, a.chain, a.upload_id, a.hash
      FROM inlet.chain_anchors AS a
      WHERE a.id = (SELECT MAX(l.id) FROM inlet.chain_anchors AS l WHERE l.chain = a.chain)
      ORDER BY a.chain`)).recordset.map(toChainAnchor);
  }

  /** Read-only: the same horizon inlet.advance_retention_horizon would compute now, and what lies below it. */
  async previewRetention(dataBefore: number, auditBefore: number | null): Promise<RetentionPreview> {
    const r = (await this.query(`SET NOCOUNT ON;
      DECLARE @previous_below bigint = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
      DECLARE @below bigint;
      SELECT TOP (1) @below = u.id FROM inlet.uploads AS u
      WHERE u.id >= COALESCE(@previous_below, 0) AND u.received_at >= @data_before
      ORDER BY u.id;
      IF @below IS NULL SET @below = COALESCE((SELECT MAX(u.id) + 1 FROM inlet.uploads AS u), @previous_below, 1);
      IF @previous_below IS NOT NULL AND @below < @previous_below SET @below = @previous_below;
      SELECT @below AS below_upload_id,
        (SELECT COUNT_BIG(*) FROM inlet.uploads AS u WHERE u.id < @below) AS uploads,
        (SELECT COUNT_BIG(*) FROM inlet.samples AS s WHERE s.upload_id < @below) AS samples,
        (SELECT COUNT_BIG(*) FROM inlet.quarantine AS q WHERE q.upload_id < @below) AS quarantined,
        (SELECT COUNT_BIG(DISTINCT COALESCE(u.device_id, 0)) FROM inlet.uploads AS u WHERE u.id < @below) AS chains,
        (SELECT COUNT_BIG(*) FROM inlet.events AS e WHERE e.occurred_at < @audit_before) AS events,
        (SELECT COUNT_BIG(*) FROM inlet.alarms AS a
         WHERE a.raised_at < @audit_before AND a.acknowledged_at < @audit_before AND a.cleared_at < @audit_before) AS alarms;`, {
      data_before: [sql.DateTime2(3), utc(dataBefore)], audit_before: [sql.DateTime2(3), auditBefore === null ? null : utc(auditBefore)],
    }, 'admin')).recordset[0];
    return toRetentionPreview(r);
  }

  async advanceRetentionHorizon(request: RetentionRequest): Promise<RetentionHorizon> {
    const event = horizonAdvancedEvent(request);
    // The procedure records the horizon, the anchors and the event in one transaction (sql/mssql/013);
    // called in the gateway's, which links the event it wrote (038). The upload writer lock first, as
    // the procedure and every group commit take it, then the event chain's: one order, no deadlock.
    const r = await this.inTransaction(async (tx) => {
      await lockUploadWriter(tx);
      await lockEventChain(tx, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      const horizon = (await tx.request().input('set_at', sql.DateTime2(3), utc(request.at)).input('data_before', sql.DateTime2(3), utc(request.dataBefore))
        .input('audit_before', sql.DateTime2(3), request.auditBefore === null ? null : utc(request.auditBefore))
        .input('set_by', sql.NVarChar(128), request.setBy).input('reason', sql.NVarChar(1000), request.reason)
        .input('event_message', sql.NVarChar(sql.MAX), event.message).input('event_data', sql.NVarChar(sql.MAX), JSON.stringify(event.data))
        .execute<Row>('inlet.advance_retention_horizon')).recordset[0];
      await appendEvents(tx, [], this.chainKey, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      return horizon;
    }, 'admin');
    return toRetentionHorizon(r);
  }

  async purgeBelowHorizon(limits: { rows: number; uploads: number }): Promise<PurgeChunk> {
    const r = (await this.query('EXEC inlet.purge_below_horizon @batch_size = @batch_size, @upload_batch_size = @upload_batch_size;', {
      batch_size: [sql.Int, Math.min(limits.rows, PURGE_ROWS_BELOW_ESCALATION)], upload_batch_size: [sql.Int, limits.uploads],
    }, 'admin')).recordset[0];
    return toPurgeChunk(r);
  }

  // ---- alarms ----

  async alarmLimits(deviceId?: number): Promise<AlarmLimit[]> {
    return (await this.query(`SELECT ${ALARM_LIMIT_COLUMNS} FROM inlet.alarm_limits
      ${deviceId === undefined ? '' : 'WHERE device_id = @device_id'} ORDER BY device_id, channel, level`,
    deviceId === undefined ? {} : { device_id: [sql.Int, deviceId] })).recordset.map(toAlarmLimit);
  }

  async setAlarmLimits(deviceId: number, channel: number, limits: AlarmLimit[], by: string, at: number, audit: ChangeAudit = {}): Promise<void> {
    const previous = (await this.alarmLimits(deviceId)).filter((l) => l.channel === channel);
    const limitRows = new sql.Table('inlet.alarm_limit_rows');
    limitRows.columns.add('level', sql.VarChar(10), { nullable: false });
    limitRows.columns.add('high', sql.Float, { nullable: true });
    limitRows.columns.add('low', sql.Float, { nullable: true });
    limitRows.columns.add('delay_s', sql.Int, { nullable: false });
    limitRows.columns.add('hysteresis', sql.Float, { nullable: false });
    for (const l of limits) limitRows.rows.add(l.level, l.high, l.low, l.delayS, l.hysteresis);
    const event = limitsChangedEvent(deviceId, channel, limits, by, at, audit, previous);
    // The procedure deletes and inserts the limits and writes the event (the service login may not
    // DELETE directly: sql/mssql/005_alarms.sql); the gateway's transaction around it links the event
    // into the audit chain, under the lock taken before the event got its id (event-chain.ts).
    await this.inTransaction(async (tx) => {
      await lockEventChain(tx, EVENT_CHAIN_LOCK_TIMEOUT_MS);
      await tx.request().input('device_id', sql.Int, deviceId).input('channel', sql.Int, channel).input('limits', limitRows)
        .input('updated_at', sql.DateTime2(3), utc(at)).input('updated_by', sql.NVarChar(128), by)
        .input('event_message', sql.NVarChar(sql.MAX), event.message).input('event_data', sql.NVarChar(sql.MAX), JSON.stringify(event.data))
        .input('event_actor', sql.NVarChar(128), event.actor ?? null).input('event_source', sql.NVarChar(128), event.source ?? null)
        .execute('inlet.set_alarm_limits');
      await appendEvents(tx, [], this.chainKey, EVENT_CHAIN_LOCK_TIMEOUT_MS);
    });
  }

  async raiseAlarm(a: NewAlarm): Promise<StoredAlarm> {
    return this.inTransaction(async (tx) => {
      const inserted = await tx.request()
        .input('device_id', sql.Int, a.deviceId).input('channel', sql.Int, a.channel).input('source', sql.VarChar(10), a.source)
        .input('kind', sql.VarChar(10), a.kind ?? null).input('level', sql.VarChar(10), a.level).input('direction', sql.VarChar(4), a.direction)
        .input('raised_at', sql.DateTime2(3), utc(a.raisedAt)).input('value', sql.Float, a.value).input('message', sql.NVarChar(sql.MAX), a.message)
        .query<Row>(`SET NOCOUNT ON;
          INSERT INTO inlet.alarms (device_id, channel, source, kind, level, direction, raised_at, value, message)
          VALUES (@device_id, @channel, @source, @kind, @level, @direction, @raised_at, @value, @message);
          SELECT CAST(SCOPE_IDENTITY() AS bigint) AS id;`);
      const alarm = (await alarmById(tx, integer(inserted.recordset[0].id)))!;
      await insertEvent(tx, raisedEvent(alarm), this.chainKey);
      return alarm;
    });
  }

  async clearAlarm(id: number, at: number, value: number | null): Promise<StoredAlarm | undefined> {
    return this.inTransaction(async (tx) => {
      // OUTPUT ... INTO rather than @@ROWCOUNT or rowsAffected: inlet.alarms has an update trigger.
      const changed = await tx.request().input('id', sql.BigInt, id).input('at', sql.DateTime2(3), utc(at)).input('value', sql.Float, value)
        .query<Row>(`SET NOCOUNT ON;
          DECLARE @changed TABLE (id bigint NOT NULL);
          UPDATE inlet.alarms SET cleared_at = @at, cleared_value = @value
          OUTPUT inserted.id INTO @changed (id)
          WHERE id = @id AND cleared_at IS NULL;
          SELECT ${ALARM_COLUMNS} FROM inlet.alarms WHERE id IN (SELECT c.id FROM @changed AS c);`);
      const alarm = changed.recordset[0] && toAlarm(changed.recordset[0]);
      if (alarm) await insertEvent(tx, clearedEvent(alarm, at, value), this.chainKey);
      return alarm;
    });
  }

  async acknowledgeAlarm(id: number, by: string, comment: string, at: number, meaning: string | null = null, source: string | null = null): Promise<StoredAlarm | undefined> {
    return this.inTransaction(async (tx) => {
      const changed = await tx.request().input('id', sql.BigInt, id).input('at', sql.DateTime2(3), utc(at))
        .input('acknowledged_by', sql.NVarChar(128), by).input('comment', sql.NVarChar(sql.MAX), comment).input('meaning', sql.NVarChar(100), meaning)
        .query<Row>(`SET NOCOUNT ON;
          DECLARE @changed TABLE (id bigint NOT NULL);
          UPDATE inlet.alarms SET acknowledged_at = @at, acknowledged_by = @acknowledged_by, ack_comment = @comment, ack_meaning = @meaning
          OUTPUT inserted.id INTO @changed (id)
          WHERE id = @id AND acknowledged_at IS NULL;
          SELECT ${ALARM_COLUMNS} FROM inlet.alarms WHERE id IN (SELECT c.id FROM @changed AS c);`);
      const alarm = changed.recordset[0] && toAlarm(changed.recordset[0]);
      if (alarm) await insertEvent(tx, acknowledgedEvent(alarm, by, comment, at, source), this.chainKey);
      return alarm;
    });
  }

  async alarms(q: AlarmQuery): Promise<StoredAlarm[]> {
    const where: string[] = [];
    const inputs: Record<string, [sql.ISqlType | (() => sql.ISqlType), unknown]> = { limit: [sql.Int, Math.min(q.limit ?? 500, 10_000)] };
    if (q.id !== undefined) { where.push('id = @id'); inputs.id = [sql.BigInt, q.id]; }
    if (q.open) where.push('(cleared_at IS NULL OR acknowledged_at IS NULL)');
    if (q.uncleared) where.push('cleared_at IS NULL');
    if (q.kind !== undefined) { where.push('kind = @kind'); inputs.kind = [sql.VarChar(10), q.kind]; }
    if (q.deviceId !== undefined) { where.push('device_id = @device_id'); inputs.device_id = [sql.Int, q.deviceId]; }
    if (q.beforeId !== undefined) { where.push('id < @before_id'); inputs.before_id = [sql.BigInt, q.beforeId]; }
    if (q.deviceIds !== undefined) { where.push('device_id IN (SELECT CAST(value AS int) FROM OPENJSON(@device_ids))'); inputs.device_ids = [sql.NVarChar(sql.MAX), JSON.stringify(q.deviceIds)]; }
    return (await this.query(`SELECT TOP (@limit) ${ALARM_COLUMNS} FROM inlet.alarms
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`, inputs)).recordset.map(toAlarm);
  }

  // ---- reports ----

  async recordIssuedReport(r: IssuedReport, source: string | null = null): Promise<void> {
    await this.inTransaction(async (tx) => {
      await tx.request().input('code', sql.VarChar(19), r.code).input('file_sha256', sql.Char(64), r.fileSha256)
        .input('content_sha256', sql.Char(64), r.contentSha256).input('generated_at', sql.DateTime2(3), utc(r.generatedAt))
        .input('generated_by', sql.NVarChar(128), r.generatedBy).input('request', sql.NVarChar(sql.MAX), JSON.stringify(r.request))
        .input('signed_by', sql.NVarChar(128), r.signature?.by ?? null).input('signed_at', sql.DateTime2(3), r.signature ? utc(r.signature.at) : null)
        .input('meaning', sql.NVarChar(100), r.signature?.meaning ?? null).input('signs_code', sql.VarChar(19), r.signature?.signsCode ?? null)
        .query(`INSERT INTO inlet.issued_reports (code, file_sha256, content_sha256, generated_at, generated_by, request, signed_by, signed_at, meaning, signs_code)
          VALUES (@code, @file_sha256, @content_sha256, @generated_at, @generated_by, @request, @signed_by, @signed_at, @meaning, @signs_code)`);
      await insertReportEvent(tx, issuedEvent(r, source), this.chainKey);
    });
  }

  async findIssuedReport(by: { code: string } | { fileSha256: string }): Promise<IssuedReport | undefined> {
    const [row] = ('code' in by
      ? await this.query(`SELECT ${ISSUED_REPORT_COLUMNS} FROM inlet.issued_reports WHERE code = @code`, { code: [sql.VarChar(19), by.code] })
      : await this.query(`SELECT TOP (1) ${ISSUED_REPORT_COLUMNS} FROM inlet.issued_reports WHERE file_sha256 = @file_sha256 ORDER BY generated_at`,
        { file_sha256: [sql.Char(64), by.fileSha256] })).recordset;
    return row && toIssuedReport(row);
  }

  async listReportSchedules(): Promise<ReportSchedule[]> {
    return (await this.query(`SELECT ${REPORT_SCHEDULE_COLUMNS} FROM inlet.report_schedules WHERE deleted_at IS NULL ORDER BY name`)).recordset.map(toReportSchedule);
  }

  async saveReportSchedule(id: number | undefined, s: ReportScheduleInput, by: string, reason: string, at: number, source: string | null = null): Promise<ReportSchedule | undefined> {
    try {
      return await this.inTransaction(async (tx) => {
        const old = id === undefined ? null : await liveSchedule(tx, id, true);
        if (old === undefined) return undefined;
        const request = tx.request().input('name', sql.NVarChar(100), s.name).input('scope', sql.VarChar(10), s.scope)
          .input('location', sql.NVarChar(200), s.location).input('device_ids', sql.VarChar(4000), JSON.stringify(s.deviceIds))
          .input('period', sql.VarChar(10), s.period).input('mail_to', sql.NVarChar(4000), JSON.stringify(s.mailTo))
          .input('folder', sql.NVarChar(400), s.folder).input('enabled', sql.Bit, s.enabled).input('at', sql.DateTime2(3), utc(at))
          .input('by', sql.NVarChar(128), by);
        let savedId = id;
        if (old) {
          await request.input('id', sql.Int, old.id).query(`UPDATE inlet.report_schedules SET name = @name, scope = @scope, location = @location,
            device_ids = @device_ids, period = @period, mail_to = @mail_to, folder = @folder, enabled = @enabled, updated_at = @at, updated_by = @by
            WHERE id = @id`);
        } else {
          savedId = integer((await request.query<Row>(`SET NOCOUNT ON;
            INSERT INTO inlet.report_schedules (name, scope, location, device_ids, period, mail_to, folder, enabled, updated_at, updated_by)
            OUTPUT inserted.id VALUES (@name, @scope, @location, @device_ids, @period, @mail_to, @folder, @enabled, @at, @by);`)).recordset[0].id);
        }
        await insertReportEvent(tx, scheduleChangedEvent(old, s, by, at, reason, source), this.chainKey);
        return liveSchedule(tx, savedId!, false);
      });
    } catch (err) {
      if (UNIQUE_VIOLATIONS.has(sqlNumber(err) ?? 0)) {
        throw new Error(`a scheduled report named "${s.name}" already exists`);
      }
      throw err;
    }
  }

  async removeReportSchedule(id: number, by: string, reason: string, at: number, source: string | null = null): Promise<boolean> {
    return this.inTransaction(async (tx) => {
      const old = await liveSchedule(tx, id, true);
      if (!old) return false;
      await tx.request().input('id', sql.Int, id).input('at', sql.DateTime2(3), utc(at)).input('by', sql.NVarChar(128), by)
        .query('UPDATE inlet.report_schedules SET deleted_at = @at, updated_at = @at, updated_by = @by WHERE id = @id');
      await insertReportEvent(tx, scheduleChangedEvent(old, null, by, at, reason, source), this.chainKey);
      return true;
    });
  }
}

/**
 * Appends an event inside the caller's transaction, linked to the audit chain's last event, after
 * linking any event waiting for a link (event-chain.ts). The lock inlet.event_chain serialises
 * appenders (two gateways on one database) until commit; recorded_at is the server's clock.
 */
async function insertEvent(tx: sql.Transaction, e: NewEvent, key: Uint8Array | null): Promise<void> {
  await appendEvents(tx, [e], key, EVENT_CHAIN_LOCK_TIMEOUT_MS);
}

async function alarmById(tx: sql.Transaction, id: number): Promise<StoredAlarm | undefined> {
  const r = (await tx.request().input('id', sql.BigInt, id).query<Row>(`SELECT ${ALARM_COLUMNS} FROM inlet.alarms WHERE id = @id`)).recordset[0];
  return r && toAlarm(r);
}

/** Binds a value for an UPDATE built from deviceAssignments/userAssignments: times become datetime2. */
function bindColumnValue(request: sql.Request, name: string, column: string, value: ColumnValue): void {
  if (TIME_COLUMNS.has(column)) request.input(name, sql.DateTime2(3), value === null ? null : utc(value as number));
  else if (typeof value === 'number') request.input(name, sql.Int, value);
  else request.input(name, sql.NVarChar(sql.MAX), value);
}

/** Serialises migrations across instances that start together; released with the transaction. */
/** The upload writer's application lock, held until the transaction ends (THROW 50011 when another instance holds it too long). */
async function lockUploadWriter(tx: sql.Transaction): Promise<void> {
  await tx.request().input('lock_timeout_ms', sql.Int, WRITER_LOCK_TIMEOUT_MS).query(`DECLARE @lock_result int;
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.upload_writer', @LockMode = N'Exclusive',
        @LockOwner = N'Transaction', @LockTimeout = @lock_timeout_ms;
    IF @lock_result < 0 THROW 50011, N'timed out waiting for the upload writer lock (another Inlet instance holds it)', 1;`);
}

async function lockMigrations(tx: sql.Transaction): Promise<void> {
  await tx.request().batch(`DECLARE @lock_result int;
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.migrate', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 120000;
    IF @lock_result < 0 THROW 50010, N'another Inlet instance has been migrating this database for two minutes; try again when it is done', 1;`);
}

async function upsertChannel(tx: sql.Transaction, c: Channel): Promise<void> {
  // Channel changes are rare (only sent when a unit or quantity changes), so a plain update-then-insert suffices.
  await tx.request().input('device_id', sql.Int, c.deviceId).input('channel', sql.Int, c.channel)
    .input('quantity', sql.NVarChar(200), c.quantity).input('unit', sql.NVarChar(50), c.unit)
    .query(`UPDATE inlet.channels SET quantity = @quantity, unit = @unit WHERE device_id = @device_id AND channel = @channel;
      IF @@ROWCOUNT = 0
          INSERT INTO inlet.channels (device_id, channel, quantity, unit) VALUES (@device_id, @channel, @quantity, @unit);`);
}

/** A live schedule; `lock` holds it (UPDLOCK) until the transaction ends, so that two saves do not interleave. */
async function liveSchedule(tx: sql.Transaction, id: number, lock: boolean): Promise<ReportSchedule | undefined> {
  const [row] = (await tx.request().input('id', sql.Int, id).query<Row>(`SELECT ${REPORT_SCHEDULE_COLUMNS}
    FROM inlet.report_schedules${lock ? ' WITH (UPDLOCK, HOLDLOCK)' : ''} WHERE id = @id AND deleted_at IS NULL`)).recordset;
  return row && toReportSchedule(row);
}

async function insertReportEvent(tx: sql.Transaction, e: ReportEvent, key: Uint8Array | null): Promise<void> {
  // Who and from where, as the embedded store records them (the data names who too).
  await appendEvents(tx, [{ at: e.at, deviceId: null, type: e.type, level: e.level, message: e.message, data: e.data, actor: e.actor ?? null, source: e.source ?? null }],
    key, EVENT_CHAIN_LOCK_TIMEOUT_MS);
}
