// Embedded store on node:sqlite (built into Node 24: no native module to ship).
// WAL + synchronous=FULL so that a committed transaction survives a power cut: the
// gateway acknowledges a device only after commit() resolves.
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type {
  Batch, Channel, CommitResult, Device, EventLevel, Family, SampleRow, VerdictKind,
} from '../../domain/types.ts';
import { GENESIS_HASH, chainKey } from '../../domain/chain.ts';
import { loadMigrations, pendingMigrations } from '../migrations.ts';
import { GroupCommitter } from '../group-commit.ts';
import { commitResult, eventDataJson, releaseQuarantined, sealUpload } from '../commit-rules.ts';
import {
  DEVICE_COLUMNS, type Row, type UserPatch, deviceAssignments, toDevice, toQuarantineEntry, toRawSeriesPoint, toSample,
  toStoredEvent, toStoredUpload, toUser, userAssignments,
} from '../row-mapping.ts';
import type {
  DevicePatch, EventQuery, LatestValue, NewDevice, QuarantineEntry, ReleaseResult,
  SeriesPoint, SeriesQuery, Store, StoreHealth, StoredEvent, StoredUpload, UserRecord,
} from '../store.ts';

export interface SqliteStoreOptions {
  file: string;            // path, or ':memory:'
  /** Most batches that share one transaction. */
  maxGroup?: number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private readonly committer: GroupCommitter<Batch, CommitResult>;
  private statements: ReturnType<SqliteStore['prepareWriteStatements']> | null = null;
  private lastCommitMs: number | null = null;
  private lastError: string | null = null;

  constructor(options: SqliteStoreOptions) {
    if (options.file !== ':memory:') mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    this.db = new DatabaseSync(options.file);
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
      PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY;`);
    this.committer = new GroupCommitter((batches) => this.writeGroup(batches), { maxGroup: options.maxGroup ?? 500 });
  }

  async migrate(onProgress?: (message: string) => void): Promise<string[]> {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const applied = this.db.prepare('SELECT version, checksum FROM schema_migrations ORDER BY version').all() as
      { version: number; checksum: string }[];
    const pending = pendingMigrations(loadMigrations('sqlite'), applied);
    const done: string[] = [];
    pending.forEach((m, i) => {
      onProgress?.(`applying migration ${m.version}_${m.name} (${i + 1}/${pending.length})`);
      this.db.exec('BEGIN IMMEDIATE');
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
    this.statements = this.prepareWriteStatements();
    return done;
  }

  private prepareWriteStatements() {
    const db = this.db;
    return {
      maxUploadId: db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM uploads'),
      chainHead: db.prepare('SELECT hash FROM uploads WHERE device_id IS ? ORDER BY id DESC LIMIT 1'),
      upsertChannel: db.prepare(`INSERT INTO channels (device_id, channel, quantity, unit) VALUES (?, ?, ?, ?)
        ON CONFLICT (device_id, channel) DO UPDATE SET quantity = excluded.quantity, unit = excluded.unit
        WHERE channels.quantity <> excluded.quantity OR channels.unit <> excluded.unit`),
      insertSample: db.prepare(`INSERT OR IGNORE INTO samples (device_id, channel, time, value, error_code, alarm, upload_id)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      insertUpload: db.prepare(`INSERT INTO uploads (id, device_id, family, received_at, remote_address, content_type, raw,
        verdict, reason, serial, counter, prev_hash, hash, upload_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      uploadByKey: db.prepare('SELECT id, verdict FROM uploads WHERE upload_key = ?'),
      samplesOfUpload: db.prepare('SELECT COUNT(*) AS n FROM samples WHERE upload_id = ?'),
      insertQuarantine: db.prepare(`INSERT INTO quarantine (upload_id, device_id, received_at, readings) VALUES (?, ?, ?, ?)`),
      insertEvent: db.prepare('INSERT INTO events (at, device_id, type, level, message, data) VALUES (?, ?, ?, ?, ?, ?)'),
      deviceSeen: db.prepare(`UPDATE devices SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?),
        declared_interval_s = COALESCE(?, declared_interval_s) WHERE id = ?`),
      suspend: db.prepare(`UPDATE devices SET state = 'suspended', suspended_reason = ?, suspended_at = ?, updated_at = ?
        WHERE id = ? AND state = 'active'`),
    };
  }

  private get write() {
    if (!this.statements) throw new Error('store used before migrate()');
    return this.statements;
  }

  commit(batch: Batch): Promise<CommitResult> {
    return this.committer.submit(batch);
  }

  /** One transaction for the whole group; a savepoint per batch so one bad batch fails alone. */
  private writeGroup(batches: Batch[]): (CommitResult | Error)[] {
    const started = performance.now();
    const results: (CommitResult | Error)[] = [];
    this.db.exec('BEGIN IMMEDIATE');
    try {
      let nextId = (this.write.maxUploadId.get() as { id: number }).id + 1;
      const heads = new Map<number, Uint8Array>();
      for (const batch of batches) {
        this.db.exec('SAVEPOINT batch');
        try {
          const result = this.writeBatch(batch, nextId, heads);
          this.db.exec('RELEASE batch');
          results.push(result);
          if (result.uploadId === nextId) nextId++;
        } catch (err) {
          this.db.exec('ROLLBACK TO batch; RELEASE batch');
          heads.clear(); // the failed batch may have moved a head in memory only
          results.push(err instanceof Error ? err : new Error(String(err)));
        }
      }
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      this.lastError = (err as Error).message;
      throw err;
    }
    this.lastError = null;
    this.lastCommitMs = performance.now() - started;
    return results;
  }

  private chainHeadFor(deviceId: number | null, heads: Map<number, Uint8Array>): Uint8Array {
    const key = chainKey(deviceId);
    let head = heads.get(key);
    if (!head) {
      const row = this.write.chainHead.get(deviceId) as { hash: Uint8Array } | undefined;
      head = row ? row.hash : GENESIS_HASH;
    }
    return head;
  }

  /** Writes one batch under the given id, or answers with the stored upload when its upload key is known. */
  private writeBatch(batch: Batch, id: number, heads: Map<number, Uint8Array>): CommitResult {
    const w = this.write;
    const u = batch.upload;
    if (u.uploadKey !== undefined) {
      const earlier = w.uploadByKey.get(u.uploadKey) as { id: number; verdict: VerdictKind } | undefined;
      if (earlier) {
        const { n } = w.samplesOfUpload.get(earlier.id) as { n: number };
        return commitResult(earlier.id, earlier.verdict, batch.samples.length, n);
      }
    }
    for (const c of batch.channels) w.upsertChannel.run(c.deviceId, c.channel, c.quantity, c.unit);
    const stored: SampleRow[] = [];
    for (const s of batch.samples) {
      if (w.insertSample.run(s.deviceId, s.channel, s.time, s.value, s.errorCode, s.alarm, id).changes > 0) stored.push(s);
    }
    const prev = this.chainHeadFor(u.deviceId, heads);
    const { verdict, reason, hash } = sealUpload(u, id, batch.samples.length, stored, prev);
    w.insertUpload.run(id, u.deviceId, u.family, u.receivedAt, u.remoteAddress, u.contentType, u.raw,
      verdict, reason, u.serial, u.counter, prev, hash, u.uploadKey ?? null);
    heads.set(chainKey(u.deviceId), hash);
    if (batch.quarantine && u.deviceId !== null) {
      w.insertQuarantine.run(id, u.deviceId, u.receivedAt, JSON.stringify(batch.quarantine));
    }
    for (const e of batch.events) w.insertEvent.run(e.at, e.deviceId, e.type, e.level, e.message, eventDataJson(e, id));
    if (batch.deviceSeen) w.deviceSeen.run(batch.deviceSeen.at, batch.deviceSeen.declaredIntervalS, batch.deviceSeen.deviceId);
    if (batch.suspend) w.suspend.run(batch.suspend.reason, batch.suspend.at, batch.suspend.at, batch.suspend.deviceId);
    return commitResult(id, verdict, batch.samples.length, stored.length);
  }

  flush(): Promise<void> {
    return this.committer.drain();
  }

  async close(): Promise<void> {
    await this.committer.drain();
    if (this.db.isOpen) this.db.close();
  }

  health(): StoreHealth {
    return {
      ok: this.lastError === null && this.db.isOpen,
      detail: this.lastError ?? 'sqlite ok',
      commitLatencyMs: this.lastCommitMs,
      pendingBatches: this.committer.pending,
    };
  }

  // ---- devices ----

  async addDevice(d: NewDevice, at: number): Promise<Device> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const { lastInsertRowid } = this.db.prepare(`INSERT INTO devices (family, serial, model_code, model, name, location,
        entry_token, allowed_interval_s, customer_uid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(d.family, d.serial, d.modelCode, d.model, d.name, d.location ?? '', d.entryToken, d.allowedIntervalS ?? null,
          d.customerUid ?? null, at, at);
      const upsert = this.db.prepare('INSERT INTO channels (device_id, channel, quantity, unit) VALUES (?, ?, ?, ?)');
      for (const c of d.channels) upsert.run(lastInsertRowid, c.channel, c.quantity, c.unit);
      this.db.exec('COMMIT');
      return (await this.getDevice(Number(lastInsertRowid)))!;
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
    const r = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`).get(id) as Row | undefined;
    return r && toDevice(r);
  }

  async findDeviceBySerial(family: Family, serial: string): Promise<Device | undefined> {
    const r = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE family = ? AND serial = ?`).get(family, serial) as Row | undefined;
    return r && toDevice(r);
  }

  async findDeviceByToken(token: string): Promise<Device | undefined> {
    const r = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE entry_token = ?`).get(token) as Row | undefined;
    return r && toDevice(r);
  }

  async listDevices(): Promise<Device[]> {
    return (this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY location, name, id`).all() as Row[]).map(toDevice);
  }

  async devicesChangedSince(since: number): Promise<Device[]> {
    return (this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE updated_at > ? ORDER BY id`).all(since) as Row[]).map(toDevice);
  }

  async listChannels(deviceId?: number): Promise<Channel[]> {
    const rows = (deviceId === undefined
      ? this.db.prepare('SELECT device_id, channel, quantity, unit FROM channels ORDER BY device_id, channel').all()
      : this.db.prepare('SELECT device_id, channel, quantity, unit FROM channels WHERE device_id = ? ORDER BY channel').all(deviceId)) as Row[];
    return rows.map((r) => ({ deviceId: r.device_id as number, channel: r.channel as number, quantity: r.quantity as string, unit: r.unit as string }));
  }

  // ---- read side ----

  async latestValues(deviceId?: number): Promise<LatestValue[]> {
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
    if (q.bucketMs <= 0) {
      return (await this.samples(q.deviceId, q.channel, q.from, q.to)).map(toRawSeriesPoint);
    }
    // node:sqlite binds JS numbers as REAL: cast so that the bucket number is an integer division.
    const rows = this.db.prepare(`SELECT (time - CAST(?1 AS INTEGER)) / CAST(?2 AS INTEGER) AS bucket, MIN(value) AS min, MAX(value) AS max,
        AVG(value) AS avg, COUNT(*) AS count, COUNT(error_code) AS errors
      FROM samples WHERE device_id = ?3 AND channel = ?4 AND time >= ?1 AND time < ?5
      GROUP BY bucket ORDER BY bucket`).all(q.from, q.bucketMs, q.deviceId, q.channel, q.to) as Row[];
    return rows.map((r) => ({
      time: q.from + (r.bucket as number) * q.bucketMs,
      min: (r.min as number | null) ?? null, max: (r.max as number | null) ?? null, avg: (r.avg as number | null) ?? null,
      count: r.count as number, errors: r.errors as number,
    }));
  }

  async samples(deviceId: number, channel: number, from: number, to: number, limit = 100_000): Promise<SampleRow[]> {
    return (this.db.prepare(`SELECT device_id, channel, time, value, error_code, alarm FROM samples
      WHERE device_id = ? AND channel = ? AND time >= ? AND time < ? ORDER BY time LIMIT ?`)
      .all(deviceId, channel, from, to, limit) as Row[]).map(toSample);
  }

  async events(q: EventQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (q.deviceId !== undefined) { where.push('device_id = ?'); values.push(q.deviceId); }
    if (q.since !== undefined) { where.push('at >= ?'); values.push(q.since); }
    if (q.type !== undefined) { where.push('type = ?'); values.push(q.type); }
    values.push(Math.min(q.limit ?? 500, 10_000));
    const rows = this.db.prepare(`SELECT id, at, device_id, type, level, message, data FROM events
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...values) as Row[];
    return rows.map(toStoredEvent);
  }

  async addEvent(e: { at: number; deviceId: number | null; type: string; level: EventLevel; message: string; data?: Record<string, unknown> }): Promise<void> {
    this.db.prepare('INSERT INTO events (at, device_id, type, level, message, data) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.deviceId, e.type, e.level, e.message, e.data ? JSON.stringify(e.data) : null);
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

  // ---- users ----

  async addUser(user: { username: string; role: UserRecord['role']; passwordHash: string }, at: number): Promise<UserRecord> {
    try {
      this.db.prepare('INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)')
        .run(user.username, user.role, user.passwordHash, at);
    } catch (err) {
      if ((err as Error).message.includes('UNIQUE')) throw new Error(`user ${user.username} already exists`);
      throw err;
    }
    return (await this.findUser(user.username))!;
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const r = this.db.prepare(`SELECT id, username, role, password_hash, failed_logins, locked_until, disabled, created_at
      FROM users WHERE username = ?`).get(username) as Row | undefined;
    return r && toUser(r);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.db.prepare(`SELECT id, username, role, password_hash, failed_logins, locked_until, disabled, created_at
      FROM users ORDER BY username`).all() as Row[]).map(toUser);
  }

  async updateUser(id: number, patch: UserPatch): Promise<void> {
    const sets = userAssignments(patch);
    if (!sets.size) return;
    this.db.prepare(`UPDATE users SET ${[...sets.keys()].map((c) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...sets.values(), id);
  }
}

