// The SQLite write path: one transaction per group of batches; a group that fails is written
// again one batch per transaction so one bad batch fails alone. Runs in a worker thread (write-worker.ts) so that the commit's fsync
// never blocks the event loop that parses uploads; runs in-thread for ':memory:' databases.
import type { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import type { CommitResult, VerdictKind } from '../../domain/types.ts';
import { GENESIS_HASH, chainKey, channelTimeOrder, samplesDigestHexOfColumns } from '../../domain/chain.ts';
import { ALARM_CODES, type SampleColumns } from '../../domain/sample-columns.ts';
import { commitResult, eventDataJson, sealUploadWithDigest, type ChainRecordFields } from '../commit-rules.ts';
import type { WireBatch, WriteGroup } from './write-group.ts';
import { SqliteEventAppender } from './event-chain.ts';
import { channelRecord } from '../audit-records.ts';
import { unitVersionRecord } from '../zone-records.ts';

// busy_timeout first: switching a new file to WAL needs a lock, and a second process (two
// `inlet device add` at once) must wait for it rather than fail with "database is locked".
export const SQLITE_PRAGMAS = `PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
  PRAGMA temp_store = MEMORY;`;

/**
 * The writer waits less for a lock held by someone else (a backup tool, a DBA's session) than
 * the admin connection does: after this, the upload goes to the spool and the device is answered.
 */
export const WRITER_BUSY_TIMEOUT_MS = 2000;

/** SQLite failures that say "not now" rather than "not this batch": the spool takes those. */
export function isUnavailable(err: unknown): boolean {
  return /SQLITE_BUSY|database is locked|SQLITE_FULL|database or disk is full|SQLITE_IOERR|disk I\/O error|SQLITE_CANTOPEN|unable to open/i
    .test(err instanceof Error ? `${(err as { code?: string }).code ?? ''} ${err.message}` : String(err));
}

/**
 * SQLite's automatic checkpoint interval (pages) while the journal is applied: a page the apply
 * rewrites in every round (the tail of the uploads table and of its indexes, a device's rollup rows)
 * is copied to the database once per checkpoint, so checkpoints rarer than SQLite's default (1,000)
 * save that copying and its fsyncs. Not too rare: a checkpoint writes the whole WAL into the database
 * file at once and fsyncs it, and the journal's fdatasyncs, which devices wait for, queue behind that
 * burst on the same disk. bench:ingest's p99 at 1,000 uploads/s, alternating runs: 10,000 pages
 * (40 MiB) 16-29 ms, mean 21; 3,000 pages 12-18 ms, mean 15; 1,000 pages 13-16 ms. bench:apply's CPU
 * per upload against 10,000 pages: +1-2 µs at 3,000, +4 µs at 1,000. The WAL stays near 12 MiB.
 */
export const JOURNAL_AUTOCHECKPOINT_PAGES = 3_000;

/**
 * The checkpoint interval while the apply takes small chunks (under SMALL_APPLY_CHUNK_BYTES): a
 * steady load that the apply keeps up with, where devices keep arriving one by one and each waits
 * for a journal fdatasync. Smaller checkpoints are smaller bursts for those fsyncs to queue behind,
 * and the CPU they add is spare at such loads. bench:ingest's p99 at 1,000 uploads/s, three
 * alternating runs each (2026-12-06): 1,000 pages 11.1, 12.5 and 13.5 ms; 3,000 pages 14.5, 17.9
 * and 23.4 ms. A logger's backlog or the catch-up after a burst comes in large chunks and keeps
 * JOURNAL_AUTOCHECKPOINT_PAGES, where the CPU counts.
 */
export const STEADY_JOURNAL_AUTOCHECKPOINT_PAGES = 1_000;
/** An apply chunk under this many bytes is steady load (1,000 SOAP uploads/s gives about 300 kB per 200 ms round). */
export const SMALL_APPLY_CHUNK_BYTES = 1024 * 1024;

/** The automatic checkpoint interval for applying a journal chunk of this many bytes. */
export function journalCheckpointPages(chunkBytes: number): number {
  return chunkBytes < SMALL_APPLY_CHUNK_BYTES ? STEADY_JOURNAL_AUTOCHECKPOINT_PAGES : JOURNAL_AUTOCHECKPOINT_PAGES;
}

/**
 * Rows per multi-row sample INSERT. One statement call costs about as much as inserting a row, so a
 * logger backlog's 100,000 samples go in 64 at a time (448 bound values, well under SQLite's limit).
 */
export const SAMPLE_ROWS_PER_INSERT = 64;
const SAMPLE_COLUMNS = '(device_id, channel, time, value, error_code, alarm, upload_id)';

/**
 * Rows per multi-row uploads INSERT in the journal's apply (14 bound values each, 448 in all): one
 * statement call per upload cost about as much as the row itself.
 */
export const UPLOAD_ROWS_PER_INSERT = 32;
const UPLOAD_COLUMNS = `(id, device_id, family, received_at, remote_address, content_type, raw,
  verdict, reason, serial, counter, prev_hash, hash, upload_key)`;
const UPLOAD_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/** Hours per multi-row rollup upsert (9 bound values each). */
const ROLLUP_ROWS_PER_UPSERT = 32;

/**
 * Adds `rows` hours' aggregates to the hourly rollup (migration 040). MIN()/MAX() with a NULL
 * argument are NULL in SQLite, hence the COALESCE: an hour of errors only has no extremes.
 */
function rollupUpsertSql(rows: number): string {
  return `INSERT INTO sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
    VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
    ON CONFLICT (device_id, channel, hour_start) DO UPDATE SET
      value_min    = COALESCE(MIN(value_min, excluded.value_min), value_min, excluded.value_min),
      value_max    = COALESCE(MAX(value_max, excluded.value_max), value_max, excluded.value_max),
      value_sum    = value_sum + excluded.value_sum,
      value_count  = value_count + excluded.value_count,
      sample_count = sample_count + excluded.sample_count,
      error_count  = error_count + excluded.error_count`;
}

export class SqliteWriter {
  private readonly db: DatabaseSync;
  private readonly statements;
  private readonly insertSamples: StatementSync;
  private readonly insertUploads: StatementSync;
  private readonly upsertRollups: StatementSync;
  private readonly rollupArgs: (number | null)[] = new Array(ROLLUP_ROWS_PER_UPSERT * 9);
  /** Upload rows sealed but not yet inserted (writeSorted), 14 values each. */
  private readonly uploadArgs: (number | string | Uint8Array | null)[] = new Array(UPLOAD_ROWS_PER_INSERT * 14);
  private pendingUploads = 0;
  private readonly events: SqliteEventAppender;
  private readonly sampleArgs: (number | string | null)[] = new Array(SAMPLE_ROWS_PER_INSERT * 7);
  /** Chain heads by chain key, valid while nobody else has written uploads since our last group. */
  private readonly heads = new Map<number, Uint8Array>();
  private lastWrittenId = -1;
  lastCommitMs: number | null = null;
  /** Whether the last transaction wrote anything (a replay of stored batches writes nothing, so commits no WAL frame). */
  lastGroupWrote = false;
  /** The chain key new links are computed under (null: unkeyed chains). */
  chainKey: Uint8Array | null = null;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.statements = {
      // Never below a retention horizon, even once every upload under it is purged: ids are not reused.
      maxUploadId: db.prepare(`SELECT MAX(COALESCE((SELECT MAX(id) FROM uploads), 0),
        COALESCE((SELECT MAX(below_upload_id) FROM retention_horizons), 1) - 1) AS id`),
      chainHead: db.prepare('SELECT hash FROM uploads WHERE device_id IS ? ORDER BY id DESC LIMIT 1'),
      // A chain whose uploads were all purged continues from its anchor (migration 008).
      chainAnchor: db.prepare('SELECT hash FROM chain_anchors WHERE chain = ? ORDER BY id DESC LIMIT 1'),
      upsertChannel: db.prepare(`INSERT INTO channels (device_id, channel, quantity, unit) VALUES (?, ?, ?, ?)
        ON CONFLICT (device_id, channel) DO UPDATE SET quantity = excluded.quantity, unit = excluded.unit
        WHERE channels.quantity <> excluded.quantity OR channels.unit <> excluded.unit`),
      // The first version of a channel first seen in an upload; later versions only by an administrator (setChannelUnit).
      channelVersion: db.prepare(`INSERT OR IGNORE INTO channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
        VALUES (?, ?, ?, ?, ?, 'device', 'first upload with this channel')`),
      insertSample: db.prepare(`INSERT OR IGNORE INTO samples ${SAMPLE_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?)`),
      insertUpload: db.prepare(`INSERT INTO uploads ${UPLOAD_COLUMNS} VALUES ${UPLOAD_VALUES}`),
      uploadByKey: db.prepare('SELECT id, verdict FROM uploads WHERE upload_key = ?'),
      samplesOfUpload: db.prepare('SELECT COUNT(*) AS n FROM samples WHERE upload_id = ?'),
      sampleUpload: db.prepare('SELECT upload_id FROM samples WHERE device_id = ? AND channel = ? AND time = ?'),
      // The hour's aggregate of the samples a group stored, added to the hour's row (migration 040).
      upsertRollup: db.prepare(rollupUpsertSql(1)),
      insertQuarantine: db.prepare('INSERT INTO quarantine (upload_id, device_id, received_at, readings) VALUES (?, ?, ?, ?)'),
      deviceSeen: db.prepare(`UPDATE devices SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?),
        declared_interval_s = COALESCE(?, declared_interval_s) WHERE id = ?`),
      suspend: db.prepare(`UPDATE devices SET state = 'suspended', suspended_reason = ?, suspended_at = ?, updated_at = ?
        WHERE id = ? AND state = 'active'`),
    };
    this.events = new SqliteEventAppender(db);
    this.insertSamples = db.prepare(`INSERT OR IGNORE INTO samples ${SAMPLE_COLUMNS} VALUES
      ${Array.from({ length: SAMPLE_ROWS_PER_INSERT }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
    this.upsertRollups = db.prepare(rollupUpsertSql(ROLLUP_ROWS_PER_UPSERT));
    this.insertUploads = db.prepare(`INSERT INTO uploads ${UPLOAD_COLUMNS} VALUES
      ${Array.from({ length: UPLOAD_ROWS_PER_INSERT }, () => UPLOAD_VALUES).join(', ')}`);
  }

  /** Queues one uploads row for a multi-row INSERT; a full queue is inserted. */
  private queueUpload(...row: (number | string | Uint8Array | null)[]): void {
    const args = this.uploadArgs;
    const at = this.pendingUploads * 14;
    for (let j = 0; j < 14; j++) args[at + j] = row[j];
    if (++this.pendingUploads === UPLOAD_ROWS_PER_INSERT) {
      this.insertUploads.run(...args);
      this.pendingUploads = 0;
    }
  }

  /** Inserts the queued uploads rows (before anything that refers to them, and at the end of the group). */
  private flushUploads(): void {
    const args = this.uploadArgs;
    for (let r = 0; r < this.pendingUploads; r++) {
      this.statements.insertUpload.run(args[r * 14], args[r * 14 + 1], args[r * 14 + 2], args[r * 14 + 3], args[r * 14 + 4], args[r * 14 + 5], args[r * 14 + 6],
        args[r * 14 + 7], args[r * 14 + 8], args[r * 14 + 9], args[r * 14 + 10], args[r * 14 + 11], args[r * 14 + 12], args[r * 14 + 13]);
    }
    this.pendingUploads = 0;
  }

  /**
   * The whole group in one transaction. A batch that fails (it should not: the pipeline has
   * checked it) rolls the group back, and the group is written again one batch per
   * transaction so that only the bad batch fails; savepoints per batch cost more than this.
   */
  writeGroup(group: WriteGroup): (CommitResult | Error)[] {
    const started = performance.now();
    this.lastGroupWrote = false;
    let results: (CommitResult | Error)[];
    try {
      results = this.transaction(group, group.batches);
    } catch (err) {
      // The database cannot be written now (locked, full, I/O): one batch at a time would only wait
      // out the busy timeout once per batch. The caller keeps the group (the journal) and retries.
      if (isUnavailable(err)) { this.lastCommitMs = performance.now() - started; throw err; }
      results = group.batches.map((b): CommitResult | Error => {
        try { return this.transaction(group, [b])[0]; } catch (err) { return err instanceof Error ? err : new Error(String(err)); }
      });
    }
    this.lastCommitMs = performance.now() - started;
    return results;
  }

  private transaction(group: WriteGroup, batches: WireBatch[]): CommitResult[] {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const maxId = (this.statements.maxUploadId.get() as { id: number }).id;
      if (maxId !== this.lastWrittenId) this.heads.clear(); // another connection wrote uploads
      let results: CommitResult[];
      let lastId: number;
      if (batches.length > 1) {
        ({ results, lastId } = this.writeSorted(group, batches, maxId + 1));
      } else {
        results = batches.map((batch, i) => this.writeBatch(group, batch, maxId + 1 + i));
        lastId = maxId + batches.length;
      }
      this.db.exec('COMMIT');
      this.lastWrittenId = lastId;
      if (results.some((r) => r.uploadId > maxId)) this.lastGroupWrote = true;
      return results;
    } catch (err) {
      this.pendingUploads = 0;
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      this.heads.clear(); // heads moved in memory for rows that were rolled back
      this.lastWrittenId = -1;
      throw err;
    }
  }

  private chainHeadFor(deviceId: number | null): Uint8Array {
    const cached = this.heads.get(chainKey(deviceId));
    if (cached) return cached;
    const row = (this.statements.chainHead.get(deviceId) ?? this.statements.chainAnchor.get(chainKey(deviceId))) as { hash: Uint8Array } | undefined;
    return row ? row.hash : GENESIS_HASH;
  }

  /** A channel's first appearance (or a quantity/unit the pipeline let through) is an audited change. */
  private recordChannel(c: WireBatch['channels'][number], u: WireBatch['upload'], uploadId: number): void {
    const w = this.statements;
    if (Number(w.upsertChannel.run(c.deviceId, c.channel, c.quantity, c.unit).changes) > 0) {
      const versioned = Number(w.channelVersion.run(c.deviceId, c.channel, u.receivedAt, c.quantity, c.unit).changes) > 0;
      const records = [channelRecord(c), ...(versioned ? [unitVersionRecord(c.deviceId, { ...c, validFrom: u.receivedAt })] : [])];
      this.events.append({
        at: u.receivedAt, deviceId: c.deviceId, type: 'channel.recorded', level: 'info', actor: 'device', source: u.remoteAddress,
        message: `channel ${c.channel} recorded as ${c.quantity} in ${c.unit || '(no unit)'} from the device's upload`,
      }, JSON.stringify({ channel: c.channel, quantity: c.quantity, unit: c.unit, uploadId, records }), this.chainKey);
    }
  }

  /** Writes one batch under the given id, or answers with the stored upload when its upload key is known (spool replay). */
  private writeBatch(group: WriteGroup, batch: WireBatch, id: number): CommitResult {
    const w = this.statements;
    const u = batch.upload;
    const submitted = batch.sampleEnd - batch.sampleStart;
    if (u.uploadKey !== undefined && batch.maybeStored) {
      const earlier = w.uploadByKey.get(u.uploadKey) as { id: number; verdict: VerdictKind } | undefined;
      if (earlier) {
        const { n } = w.samplesOfUpload.get(earlier.id) as { n: number };
        return commitResult(earlier.id, earlier.verdict, submitted, n);
      }
    }
    for (const c of batch.channels) this.recordChannel(c, u, id);
    // In key order, as a group of many batches is: each page of the samples key is then visited once
    // (a logger's backlog arrives message by message, its channels interleaved), and the rollup
    // takes the rows as they are. A 100,000-sample backlog's apply: 255-265 ms of inserts in arrival
    // order, 160-190 ms in key order, and no sort for the rollup.
    const order = keyOrder(group.samples, batch.sampleStart, batch.sampleEnd);
    const stored = rowsFlagged(order, this.insertSortedRows(group.samples, order, id));
    this.rollUp(group.samples, stored, null);
    const prev = this.chainHeadFor(u.deviceId);
    const raw = group.raw.subarray(u.rawStart, u.rawEnd);
    const { verdict, reason, hash } = sealUploadWithDigest(chainFields(u, raw), id, submitted, stored.length, samplesDigestHexOfColumns(group.samples, stored), prev, this.chainKey);
    w.insertUpload.run(id, u.deviceId, u.family, u.receivedAt, u.remoteAddress, u.contentType, raw,
      verdict, reason, u.serial, u.counter, prev, hash, u.uploadKey ?? null);
    this.heads.set(chainKey(u.deviceId), hash);
    if (batch.quarantineJson !== null && u.deviceId !== null) {
      w.insertQuarantine.run(id, u.deviceId, u.receivedAt, batch.quarantineJson);
    }
    for (const e of batch.events) this.events.append({ actor: 'device', source: u.remoteAddress, ...e }, eventDataJson(e, id), this.chainKey);
    if (batch.deviceSeen) w.deviceSeen.run(batch.deviceSeen.at, batch.deviceSeen.declaredIntervalS, batch.deviceSeen.deviceId);
    if (batch.suspend) w.suspend.run(batch.suspend.reason, batch.suspend.at, batch.suspend.at, batch.suspend.deviceId);
    return commitResult(id, verdict, submitted, stored.length);
  }

  /** The stored upload of a batch whose upload key is already in the database, or undefined. */
  private storedResult(batch: WireBatch): CommitResult | undefined {
    const u = batch.upload;
    if (u.uploadKey === undefined || !batch.maybeStored) return undefined;
    const earlier = this.statements.uploadByKey.get(u.uploadKey) as { id: number; verdict: VerdictKind } | undefined;
    if (!earlier) return undefined;
    const { n } = this.statements.samplesOfUpload.get(earlier.id) as { n: number };
    return commitResult(earlier.id, earlier.verdict, batch.sampleEnd - batch.sampleStart, n);
  }

  /**
   * A group of many batches (the journal's apply) in one pass: every new sample of the group is
   * inserted in key order (device, channel, time), so that each page of the samples key is visited
   * once per group rather than once per upload; then each upload is sealed in order with the
   * samples it stored, which keeps the chain and the duplicate verdicts exactly those of writing
   * the batches one by one (for two equal keys in one group, the earlier batch stores the sample).
   * Device last-seen updates are merged per device (MAX of the times, the last declared interval).
   */
  private writeSorted(group: WriteGroup, batches: WireBatch[], firstId: number): { results: CommitResult[]; lastId: number } {
    const w = this.statements;
    const cols = group.samples;
    const results: (CommitResult | undefined)[] = batches.map((b) => this.storedResult(b));
    const ids = new Float64Array(batches.length);
    let nextId = firstId;
    let rows = 0;
    for (let b = 0; b < batches.length; b++) {
      if (results[b]) continue;
      ids[b] = nextId++;
      rows += batches[b].sampleEnd - batches[b].sampleStart;
      for (const c of batches[b].channels) this.recordChannel(c, batches[b].upload, ids[b]);
    }
    // Rows of the new batches with their upload ids, sorted by key; ties keep batch order.
    const order = new Uint32Array(rows);
    const uploadOf = new Float64Array(cols.length);
    let k = 0;
    for (let b = 0; b < batches.length; b++) {
      if (results[b]) continue;
      for (let i = batches[b].sampleStart; i < batches[b].sampleEnd; i++) { order[k++] = i; uploadOf[i] = ids[b]; }
    }
    order.sort(byKey(cols));
    const stored = this.insertSortedRows(cols, order, uploadOf);
    this.rollUp(cols, order, stored);
    const seen = new Map<number, { at: number; declaredIntervalS: number | null }>();
    let widest = 0;
    for (const batch of batches) widest = Math.max(widest, batch.sampleEnd - batch.sampleStart);
    const storedRows = new Uint32Array(widest);
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b];
      if (results[b]) continue;
      const u = batch.upload;
      const id = ids[b];
      const submitted = batch.sampleEnd - batch.sampleStart;
      let storedCount = 0;
      for (let i = batch.sampleStart; i < batch.sampleEnd; i++) if (stored[i]) storedRows[storedCount++] = i;
      const prev = this.chainHeadFor(u.deviceId);
      const raw = group.raw.subarray(u.rawStart, u.rawEnd);
      const { verdict, reason, hash } = sealUploadWithDigest(chainFields(u, raw), id, submitted, storedCount,
        samplesDigestHexOfColumns(cols, storedRows.subarray(0, storedCount)), prev, this.chainKey);
      this.queueUpload(id, u.deviceId, u.family, u.receivedAt, u.remoteAddress, u.contentType, raw,
        verdict, reason, u.serial, u.counter, prev, hash, u.uploadKey ?? null);
      this.heads.set(chainKey(u.deviceId), hash);
      // Quarantine rows and events refer to the upload: it is inserted first.
      if ((batch.quarantineJson !== null && u.deviceId !== null) || batch.events.length) this.flushUploads();
      if (batch.quarantineJson !== null && u.deviceId !== null) w.insertQuarantine.run(id, u.deviceId, u.receivedAt, batch.quarantineJson);
      for (const e of batch.events) this.events.append({ actor: 'device', source: u.remoteAddress, ...e }, eventDataJson(e, id), this.chainKey);
      if (batch.deviceSeen) {
        const s = seen.get(batch.deviceSeen.deviceId);
        seen.set(batch.deviceSeen.deviceId, {
          at: Math.max(s?.at ?? Number.NEGATIVE_INFINITY, batch.deviceSeen.at),
          declaredIntervalS: batch.deviceSeen.declaredIntervalS ?? s?.declaredIntervalS ?? null,
        });
      }
      if (batch.suspend) w.suspend.run(batch.suspend.reason, batch.suspend.at, batch.suspend.at, batch.suspend.deviceId);
      results[b] = commitResult(id, verdict, submitted, storedCount);
    }
    this.flushUploads();
    for (const [deviceId, s] of seen) w.deviceSeen.run(s.at, s.declaredIntervalS, deviceId);
    return { results: results as CommitResult[], lastId: nextId - 1 };
  }

  /**
   * Adds the rows `rows` (in key order; those flagged in `storedFlags` when given) to the hourly rollup: one upsert per device,
   * channel and hour, the aggregate of that hour's rows (migration 040; the rollup is exactly the
   * aggregate of the samples, which `inlet verify` recomputes).
   */
  private rollUp(cols: SampleColumns, rows: ArrayLike<number>, storedFlags: Uint8Array | null): void {
    const args = this.rollupArgs;
    let hours = 0;
    let k = 0;
    while (k < rows.length) {
      if (storedFlags && !storedFlags[rows[k]]) { k++; continue; }
      const first = rows[k];
      const deviceId = cols.deviceId[first];
      const channel = cols.channel[first];
      const hourStart = cols.time[first] - (cols.time[first] % HOUR_MS);
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      let sum = 0;
      let values = 0;
      let errors = 0;
      let samples = 0;
      for (; k < rows.length; k++) {
        const i = rows[k];
        if (cols.deviceId[i] !== deviceId || cols.channel[i] !== channel || cols.time[i] - (cols.time[i] % HOUR_MS) !== hourStart) break;
        if (storedFlags && !storedFlags[i]) continue;
        const v = cols.value[i];
        if (!Number.isNaN(v)) {
          values++;
          sum += v;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        if (!Number.isNaN(cols.errorCode[i])) errors++;
        samples++;
      }
      const at = hours * 9;
      args[at] = deviceId; args[at + 1] = channel; args[at + 2] = hourStart; args[at + 3] = values ? min : null; args[at + 4] = values ? max : null;
      args[at + 5] = sum; args[at + 6] = values; args[at + 7] = samples; args[at + 8] = errors;
      if (++hours === ROLLUP_ROWS_PER_UPSERT) { this.upsertRollups.run(...args); hours = 0; }
    }
    for (let h = 0; h < hours; h++) this.statements.upsertRollup.run(...args.slice(h * 9, h * 9 + 9));
  }

  /**
   * Inserts the rows `order` lists (sorted by key), 64 per statement, and returns a flag per row
   * index: stored now or not (already there). A statement that stored fewer than all its rows is
   * resolved by reading back each row's upload id: a row stored now carries its own upload's id.
   * A key repeated inside the group is stored by its first row only. `uploadOf`: each row's
   * upload id by row index, or the one id of all of them.
   */
  private insertSortedRows(cols: SampleColumns, order: Uint32Array, uploadOf: Float64Array | number): Uint8Array {
    const idOf = typeof uploadOf === 'number' ? null : uploadOf;
    const onlyId = typeof uploadOf === 'number' ? uploadOf : 0;
    const stored = new Uint8Array(cols.length);
    const args = this.sampleArgs;
    const candidates: number[] = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (k > 0) {
        const p = order[k - 1];
        if (cols.deviceId[p] === cols.deviceId[i] && cols.channel[p] === cols.channel[i] && cols.time[p] === cols.time[i]) continue;
      }
      candidates.push(i);
    }
    let k = 0;
    for (; k + SAMPLE_ROWS_PER_INSERT <= candidates.length; k += SAMPLE_ROWS_PER_INSERT) {
      for (let j = 0; j < SAMPLE_ROWS_PER_INSERT; j++) setSampleArgs(args, j * 7, cols, candidates[k + j], idOf ? idOf[candidates[k + j]] : onlyId);
      const changes = Number(this.insertSamples.run(...args).changes);
      if (changes === SAMPLE_ROWS_PER_INSERT) {
        for (let j = 0; j < SAMPLE_ROWS_PER_INSERT; j++) stored[candidates[k + j]] = 1;
      } else {
        for (let j = 0; j < SAMPLE_ROWS_PER_INSERT; j++) {
          const i = candidates[k + j];
          const row = this.statements.sampleUpload.get(cols.deviceId[i], cols.channel[i], cols.time[i]) as { upload_id: number } | undefined;
          if (row && row.upload_id === (idOf ? idOf[i] : onlyId)) stored[i] = 1;
        }
      }
    }
    for (; k < candidates.length; k++) {
      const i = candidates[k];
      setSampleArgs(args, 0, cols, i, idOf ? idOf[i] : onlyId);
      if (this.statements.insertSample.run(args[0], args[1], args[2], args[3], args[4], args[5], args[6]).changes > 0) stored[i] = 1;
    }
    return stored;
  }
}

const HOUR_MS = 3_600_000;

/** What the chain covers of a wire upload, with its body: spelt out, as a spread of the row costs more than the hash. */
function chainFields(u: WireBatch['upload'], raw: Uint8Array): ChainRecordFields {
  return {
    deviceId: u.deviceId, family: u.family, receivedAt: u.receivedAt, verdict: u.verdict, reason: u.reason,
    serial: u.serial, counter: u.counter, raw, remoteAddress: u.remoteAddress, contentType: u.contentType,
  };
}

/**
 * Rows [start, end) of one batch in key order (device, channel, time); ties keep their order. A batch
 * is one device's upload, whose rows come in time order per message: channelTimeOrder puts them in
 * order with a counting pass over the channel, without a comparison sort.
 */
function keyOrder(cols: SampleColumns, start: number, end: number): Uint32Array {
  const rows = new Uint32Array(end - start);
  let oneDevice = true;
  for (let k = 0; k < rows.length; k++) {
    rows[k] = start + k;
    if (cols.deviceId[start + k] !== cols.deviceId[start]) oneDevice = false;
  }
  if (oneDevice) return channelTimeOrder(cols, rows);
  return rows.sort(byKey(cols));
}

/** Compares rows by key (device, channel, time), then by index: equal keys keep their order. */
function byKey(cols: SampleColumns): (a: number, b: number) => number {
  return (a, b) => (cols.deviceId[a] - cols.deviceId[b]) || (cols.channel[a] - cols.channel[b]) || (cols.time[a] - cols.time[b]) || (a - b);
}

/** The rows of `order` whose flag is set, in that order. */
function rowsFlagged(order: Uint32Array, flags: Uint8Array): Uint32Array {
  let n = 0;
  for (let k = 0; k < order.length; k++) if (flags[order[k]]) n++;
  const rows = new Uint32Array(n);
  n = 0;
  for (let k = 0; k < order.length; k++) if (flags[order[k]]) rows[n++] = order[k];
  return rows;
}

/** The seven bound values of sample row i, at args[at..at+6], in SAMPLE_COLUMNS order. */
function setSampleArgs(args: (number | string | null)[], at: number, cols: SampleColumns, i: number, uploadId: number): void {
  const v = cols.value[i];
  const e = cols.errorCode[i];
  args[at] = cols.deviceId[i];
  args[at + 1] = cols.channel[i];
  args[at + 2] = cols.time[i];
  args[at + 3] = Number.isNaN(v) ? null : v;
  args[at + 4] = Number.isNaN(e) ? null : e;
  args[at + 5] = ALARM_CODES[cols.alarm[i]];
  args[at + 6] = uploadId;
}
