// The one store interface. Both adapters (sqlite/, mssql/) implement it and pass
// test/contract/. Writes go through commit(), which groups concurrent batches into one
// transaction and resolves each caller only after that transaction is durable.
import type { UserAudit } from './user-events.ts';
import type { Access, Zone, ZoneGrant } from '../domain/zones.ts';
import type {
  AlarmDirection, AlarmLevel, AlarmLimit, Batch, Channel, CommitResult, Device, DeviceLiveness, DeviceState, EventLevel, Family, Reading, SampleRow, UploadRecord, VerdictKind,
} from '../domain/types.ts';
import type { IssuedReport, ReportSchedule, ReportScheduleInput } from './report-records.ts';
import type { LoggerClockSetting } from '../domain/types.ts';
import type { CsvChannel, CsvRowOptions, CsvRows } from '../domain/csv-export.ts';

export interface NewDevice {
  family: Family;
  serial: string;
  modelCode: number | null;
  model: string;
  name: string;
  location?: string;
  /** The new secret entry token; the store keeps only its SHA-256. */
  entryToken: string;
  allowedIntervalS?: number | null;
  customerUid?: string | null;
  /** The zone the device is placed in; `location` then holds the zone's path. */
  zoneId?: number | null;
  channels: Omit<Channel, 'deviceId'>[];
}

/**
 * A device with the entry token it was just given. Only the token's hash is stored, so this is the
 * one moment the token (and the URL made of it) can be shown: at registration and at renewal.
 */
export type IssuedDevice = Device & { entryToken: string };

export interface DevicePatch {
  name?: string;
  location?: string;
  allowedIntervalS?: number | null;
  state?: DeviceState;
  suspendedReason?: string | null;
  /** A new secret entry token; the store keeps only its SHA-256. */
  entryToken?: string;
  customerUid?: string | null;
  /** The zone the device is placed in (null: none); callers set `location` to the zone's path with it. */
  zoneId?: number | null;
  loggerClock?: LoggerClockSetting;
}

export interface LatestValue extends SampleRow {
  quantity: string;
  unit: string;
}

export interface SeriesPoint {
  time: number;           // bucket start (or exact time when not downsampled)
  min: number | null;
  max: number | null;
  avg: number | null;
  count: number;
  errors: number;         // samples with an error in the bucket
}

/** One channel's samples as columns, in time order (reports read a year of one-minute samples at once). */
export interface ChannelSamples {
  length: number;
  time: Float64Array;
  /** NaN where the sample has no value. */
  value: Float64Array;
  /** NaN where the sample has no error code. */
  errorCode: Float64Array;
}

export interface SeriesQuery {
  deviceId: number;
  channel: number;
  from: number;
  to: number;             // exclusive
  /**
   * Bucket width in ms; 0 = raw samples. Buckets are aligned to the epoch (start = floor(time /
   * bucketMs) * bucketMs) so they stay put when the range moves. When bucketMs is a whole number of
   * hours the adapter answers from its hourly rollup; the first bucket then starts at the hour
   * that holds `from`.
   */
  bucketMs: number;
}

export interface StoredEvent {
  id: number;
  at: number;
  deviceId: number | null;
  type: string;
  level: EventLevel;
  message: string;
  data: Record<string, unknown> | null;
  /** Who and from where (migration 019); null on older events. */
  actor?: string | null;
  source?: string | null;
  /** When the store wrote it, by the database's clock where it has one; null on older events. */
  recordedAt?: number | null;
}

/** An event with its link in the audit chain, for verification. */
export interface ChainedEvent extends StoredEvent {
  actor: string | null;
  source: string | null;
  recordedAt: number | null;
  /** The data column's text exactly as stored. */
  dataText: string | null;
  prevHash: Buffer | null;
  hash: Buffer | null;
}

export interface EventQuery {
  deviceId?: number;
  /** Only events of these devices (a caller's zones: src/api/scope.ts); events of no device are left out. */
  deviceIds?: number[];
  since?: number;
  type?: string;
  limit?: number;
  /** Audit review filters (issue 18): events before `until` (exclusive), by actor, by type prefix ("alarm." ...), older than `beforeId`. */
  until?: number;
  actor?: string;
  typePrefix?: string;
  beforeId?: number;
}

/** What a new event says; actor and source default to 'system' and null. */
export interface NewEvent {
  at: number;
  deviceId: number | null;
  type: string;
  level: EventLevel;
  message: string;
  data?: Record<string, unknown>;
  actor?: string | null;
  source?: string | null;
}

/** One hour of the rollup that differs from what its samples add up to. */
export interface RollupMismatch {
  deviceId: number;
  channel: number;
  hourStart: number;
  stored: string;
  recomputed: string;
}

export interface StoredUpload extends Omit<UploadRecord, 'family'> {
  id: number;
  /** A family name; older rows or foreign writers may hold one this version does not know. */
  family: string;
  hash: Buffer;
  prevHash: Buffer;
  /** The body's SHA-256 recorded when the raw-body retention emptied it (migration 031); set by verification only. */
  rawSha256?: Buffer;
}

/** A sample together with the upload that stored it: what the chain's samples digest covers. */
export interface UploadSample extends SampleRow {
  uploadId: number;
}

/** The head of one upload chain (chain = device id, 0 for uploads of no device) as verified at `at`. */
export interface ChainCheckpoint {
  at: number;
  chain: number;
  uploadId: number;
  hash: Buffer;
}

/** Which condition a system alarm stands for. offline: a silent device; integrity: data changed outside Inlet; device: a channel's own alarm state as the device reports it; sensor: a sensor error that lasted the configured delay. */
export type SystemAlarmKind = 'offline' | 'integrity' | 'device' | 'sensor';

export interface NewAlarm {
  deviceId: number | null;
  channel: number | null;
  /** 'limit': an alarm limit was crossed; 'system': integrity, device offline and the like. */
  source: 'limit' | 'system';
  /** For system alarms: which one (null or absent for limit alarms). At most one uncleared 'offline' alarm per device. */
  kind?: SystemAlarmKind | null;
  level: AlarmLevel;
  direction: AlarmDirection | null;
  raisedAt: number;
  value: number | null;
  message: string;
}

export interface StoredAlarm extends NewAlarm {
  id: number;
  kind: SystemAlarmKind | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
  /** The meaning of the acknowledging user's electronic signature (reviewed, approved, ...); null before signatures. */
  ackMeaning?: string | null;
  clearedAt: number | null;
  clearedValue: number | null;
}

export interface AlarmQuery {
  /** One alarm by id. */
  id?: number;
  /** Only alarms not yet both acknowledged and cleared. */
  open?: boolean;
  deviceId?: number;
  /** Only alarms not yet cleared (acknowledged or not). */
  uncleared?: boolean;
  kind?: SystemAlarmKind;
  /** Only alarms of these devices (a caller's zones); system alarms of no device are left out. */
  deviceIds?: number[];
  limit?: number;
  /** Only alarms with a smaller id (paging through all of them, newest first). */
  beforeId?: number;
}

/**
 * One advance of the retention horizon (docs/retention.md). Uploads with an id below belowUploadId
 * (all received before dataBefore), their samples and quarantine rows may be deleted; events and
 * closed alarms before auditBefore too (null: the audit trail is kept).
 */
export interface RetentionHorizon {
  id: number;
  at: number;
  dataBefore: number;
  belowUploadId: number;
  auditBefore: number | null;
  setBy: string;
  reason: string;
}

export interface RetentionRequest {
  at: number;
  dataBefore: number;
  auditBefore: number | null;
  setBy: string;
  reason: string;
  /** The electronic signature of the user who ordered a purge by hand, bound to the horizon's event. */
  signature?: { by: string; meaning: string; at: number };
  /** Where a purge by hand was ordered from (the command line's machine), for its event. */
  source?: string | null;
  /** The nightly purge's authority: the signed retention policy's event (src/jobs/retention-policy.ts), named in the horizon's event. */
  policy?: { eventId: number; signature: { by: string; meaning: string; at: number } };
}

/** The last upload of one chain below a horizon, as it was when the horizon advanced. */
export interface ChainAnchor {
  horizonId: number;
  chain: number;
  uploadId: number;
  hash: Buffer;
}

/** A stored body emptied by the raw-body retention (migration 031): what the chain covers of it is kept. */
export interface UploadBodyPurge {
  uploadId: number;
  rawSha256: Buffer;
  rawLength: number;
  purgedAt: number;
}

/** What one chunk of the raw-body purge emptied; bodies 0 when nothing is left to purge. */
export interface BodyPurgeChunk {
  bodies: number;
  bytes: number;
  firstUploadId: number | null;
  lastUploadId: number | null;
}

export interface BodyPurgeRequest {
  /** Bodies of uploads received before this (ms) may be emptied; the store's floor may keep more. */
  before: number;
  /** Bodies per transaction. */
  limit: number;
  at: number;
  setBy: string;
  reason: string;
}

/**
 * How far verification has got (migration 033), appended after each intact run: every upload up to
 * verifiedThrough was verified, and the rolling full pass has re-verified [0, rollingCursor) of the
 * range verified when it began. `mac` links the row to the one before it under the chain key (an
 * HMAC, or a plain SHA-256 for unkeyed stores), so that a forged row that would skip a range is found.
 */
export interface VerifyProgressRecord {
  id: number;
  at: number;
  /** 'incremental' (nightly), 'full' (inlet verify --full, or the first run). */
  mode: 'incremental' | 'full';
  verifiedThrough: number;
  rollingCursor: number;
  /** The highest upload id the rolling pass under way covers (verifiedThrough when it began). */
  rollingEnd: number;
  /** Nights a rolling pass takes at most. */
  rollingNights: number;
  prevMac: Buffer;
  mac: Buffer;
}

/** What a horizon at dataBefore / auditBefore would make purgeable, counted, nothing changed. */
export interface RetentionPreview {
  belowUploadId: number;
  uploads: number;
  samples: number;
  quarantined: number;
  chains: number;
  events: number;
  alarms: number;
}

/** Rows one purge chunk removed; all 0 when nothing is left below the horizon. */
export interface PurgeChunk {
  samples: number;
  rollupHours: number;
  uploads: number;
  quarantined: number;
  events: number;
  alarms: number;
}

export interface QuarantineEntry {
  uploadId: number;
  deviceId: number;
  receivedAt: number;
  readings: Reading[];
}

export interface ReleaseResult { uploads: number; samplesImported: number }

export interface UserRecord {
  id: number;
  username: string;
  role: 'administrator' | 'operator' | 'viewer';
  passwordHash: string;
  failedLogins: number;
  lockedUntil: number | null;
  createdAt: number;
  disabled: boolean;
  /** Set by an administrator's reset: the user must choose a new password before doing anything else (migration 012). */
  mustChangePassword: boolean;
  /** 'global': `role` applies everywhere; 'zones': only the roles of userZoneRoles() (src/domain/zones.ts). */
  scope: 'global' | 'zones';
  /** 'directory': signs in against Active Directory (src/api/directory.ts); no local password. */
  source: 'local' | 'directory';
}

/** A local user's role on one zone. */
export interface UserZoneRole extends ZoneGrant {
  userId: number;
}

/** Who changed something, for the event that records it. */
export interface ChangeActor {
  by: string;
  at: number;
  reason?: string;
  /** Where the change came from (the client's address), for the audit trail. */
  source?: string | null;
}

/** A device taken out of use: its history and chain are kept, it raises no offline alarm, the viewer hides it by default. */
export interface DeviceRetirement { deviceId: number; retiredAt: number; retiredBy: string; reason: string }

/** A viewer session as kept in the store: the SHA-256 (hex) of its id, never the id itself. */
export interface StoredSession {
  idHash: string;
  userId: number;
  createdAt: number;
  lastActiveAt: number;
  /** A wall display's read-only session that stays signed in. */
  display: boolean;
  /** The global role and zone roles the session was signed in with (a directory account's come from its groups). */
  access: Access;
}

export interface StoreHealth {
  ok: boolean;
  detail: string;
  commitLatencyMs: number | null;
  pendingBatches: number;
  /** SQL Server: the last preflight (version, edition, settings, free space), shown in /health. */
  preflight?: StorePreflight;
}

/** What the database server is, judged against what Inlet needs (src/store/mssql/preflight.ts). */
export interface StorePreflight {
  at: string;
  level: 'ok' | 'warn' | 'fail';
  checks: { name: string; level: 'ok' | 'warn' | 'fail'; detail: string }[];
}

export interface MigrateOptions { upTo?: number }

/** How an audited change was made: from where, why, and the electronic signature's meaning when one was given. */
export interface ChangeAudit {
  source?: string | null;
  reason?: string | null;
  signatureMeaning?: string | null;
}

/**
 * A refused upload as the refusal archive keeps it (migration 011): outside the device chains, only
 * the first bytes of the body with its full length and SHA-256, pruned by a row cap and an age.
 */
export interface RefusalRecord {
  receivedAt: number;
  deviceId: number | null;
  family: string;
  remoteAddress: string;
  contentType: string;
  status: number;
  /** A fixed word per kind of refusal, never text from the request (see pipeline/refusals.ts). */
  reasonCode: string;
  reason: string;
  serial: string | null;
  bodyLength: number;
  bodySha256: Buffer;
  bodyPrefix: Buffer;
}

export interface StoredRefusal extends RefusalRecord { id: number }

/** After archiving, rows beyond the newest maxRows and rows received before keepSince are deleted. */
export interface RefusalArchiveLimits { maxRows: number; keepSince: number }


/** Journal records handed to a store as they are on disk (spool/journal.ts framing), back to back. */
export interface JournalChunk {
  bytes: Uint8Array;
  /** Journal position of the first record. */
  position: number;
  /** Upload keys are the journal's id and each record's position (record-codec.ts uploadKeyOf). */
  journalId: string;
  /** Records at positions before this may be stored already (a replay): their upload keys are looked up. */
  maybeStoredBefore: number;
  /**
   * Make everything applied so far durable before answering (SQLite: its commits between syncs are
   * not fsync'd, the journal still holding their records). The journal's cursor moves only past
   * what a durable answer covers.
   */
  sync: boolean;
  /**
   * The bytes are this chunk's alone (no one reads them after the apply is asked for): a store that
   * hands them to another thread may move them there instead of copying.
   */
  bytesMovable?: boolean;
}

/** What applying a JournalChunk did: how many records it applied, and those it refused for good. */
export interface AppliedChunk {
  applied: number;
  /** Everything applied so far, this chunk included, survives a power cut. */
  durable: boolean;
  refused: { position: number; error: string; payload: Uint8Array }[];
}

export interface Store {
  readonly kind: 'sqlite' | 'mssql';
  /**
   * Apply pending migrations; reports progress. Safe to re-run. `upTo` stops after that version
   * (tests of upgrades from each earlier version); the store can only write once fully migrated.
   */
  migrate(onProgress?: (message: string) => void, options?: MigrateOptions): Promise<string[]>;
  /** The key new chain links are computed under from now on (chain-key.ts); null: unkeyed. */
  useChainKey(key: Uint8Array | null): void;
  /** Group-committed write of one upload's batch; resolves after the commit is durable. */
  commit(batch: Batch): Promise<CommitResult>;
  /**
   * Applies journaled batches in order, in as few transactions as it can (the journal's apply,
   * spool/spooling-sink.ts). Optional: a store without it gets each batch through commit().
   * `maybeStored[i]` says batch i may be stored already (a replay after a crash or a failed apply):
   * only then is its upload key looked up. Throws (StoreUnavailableError) when nothing could be applied.
   */
  applyBatches?(batches: Batch[], maybeStored: boolean[]): Promise<(CommitResult | Error)[]>;
  /**
   * applyBatches for records still in the journal's own bytes: the store decodes them where it
   * writes (SQLite: on its write thread), so that the thread answering devices does not. Optional.
   */
  applyJournal?(chunk: JournalChunk): Promise<AppliedChunk>;
  /** Wait for in-flight commits to finish. */
  flush(): Promise<void>;
  close(): Promise<void>;
  health(): StoreHealth;
  /** SQL Server only: reads the server's facts and judges them (`inlet migrate --check`); refreshes health().preflight. */
  preflight?(): Promise<StorePreflight>;
  /**
   * Routine upkeep for the nightly housekeeping job; deletes nothing. Says what it did in one
   * line (SQLite: WAL checkpoint and PRAGMA optimize; SQL Server: how full the data files are, statistics
   * being left to its automatic updates).
   */
  maintain(): Promise<string>;

  // devices
  /** Registers the device; the result carries the entry token it was given (only its hash is stored). */
  addDevice(device: NewDevice, at: number): Promise<IssuedDevice>;
  updateDevice(id: number, patch: DevicePatch, at: number): Promise<Device>;
  getDevice(id: number): Promise<Device | undefined>;
  findDeviceBySerial(family: Family, serial: string): Promise<Device | undefined>;
  findDeviceByToken(token: string): Promise<Device | undefined>;
  listDevices(): Promise<Device[]>;
  /**
   * Every device's interval settings and last upload, in order of id: the offline sweep's each minute,
   * a few numbers per device where listDevices() reads every column (10,000 devices: megabytes).
   */
  deviceLiveness(): Promise<DeviceLiveness[]>;
  /** Devices whose row changed after `since` (ms), for the gateway's registry cache. */
  devicesChangedSince(since: number): Promise<Device[]>;
  listChannels(deviceId?: number): Promise<Channel[]>;

  // read side
  latestValues(deviceId?: number): Promise<LatestValue[]>;
  series(query: SeriesQuery): Promise<SeriesPoint[]>;
  samples(deviceId: number, channel: number, from: number, to: number, limit?: number): Promise<SampleRow[]>;
  /**
   * The CSV export's rows for these channels in [from, to) (each within its own unit version's
   * [from, to)), formatted where they are read. Optional:
   * SQLite formats them on its reader worker (the thread answering devices gets finished text);
   * without it the caller reads samples() and formats them itself (domain/csv-export.ts).
   */
  csvRows?(channels: CsvChannel[], from: number, to: number, options: CsvRowOptions): Promise<CsvRows>;
  /** The samples of [from, to) as columns: what samples() returns, without an object per sample. */
  channelSamples(deviceId: number, channel: number, from: number, to: number): Promise<ChannelSamples>;
  events(query: EventQuery): Promise<StoredEvent[]>;
  addEvent(event: NewEvent): Promise<void>;
  uploads(query: { deviceId?: number; verdict?: VerdictKind; afterId?: number; limit?: number }): Promise<StoredUpload[]>;

  // refusal archive (migration 011): bounded, outside the chains
  /** Appends refusals and their de-duplicated events in one transaction, then prunes to the limits. */
  archiveRefusals(refusals: RefusalRecord[], events: NewEvent[], limits: RefusalArchiveLimits): Promise<void>;
  /** Oldest first, after `afterId`. */
  refusals(query: { afterId?: number; limit?: number }): Promise<StoredRefusal[]>;

  // integrity verification (src/jobs/verify.ts)
  /** How many uploads are stored and the highest upload id (0 and 0 when none): for progress only. */
  uploadStats(): Promise<{ count: number; maxId: number }>;
  /**
   * Every sample whose upload_id lies in [fromUploadId, toUploadId] (toUploadId null: no upper
   * bound), whether or not that upload exists, ordered by upload_id, channel, time.
   */
  uploadSamples(fromUploadId: number, toUploadId: number | null): Promise<UploadSample[]>;
  /** The latest checkpoint of each chain, ordered by chain. */
  chainCheckpoints(): Promise<ChainCheckpoint[]>;
  /** Appends checkpoints in one transaction (the table is append-only). */
  addChainCheckpoints(checkpoints: ChainCheckpoint[]): Promise<void>;
  /** Events with their chain links, oldest first, ids above afterId. */
  chainedEvents(afterId: number, limit: number): Promise<ChainedEvent[]>;
  /**
   * Hours of the rollup that differ from the samples they summarise (or exist on one side only), for
   * devices whose id modulo `share.of` is `share.part` (all devices without share). At most `limit`.
   */
  rollupMismatches(share: { part: number; of: number } | null, limit: number): Promise<RollupMismatch[]>;
  /** Devices that have been heard from (or hold samples) but have no upload and no chain anchor: their chain is gone. */
  devicesWithoutChain(): Promise<number[]>;
  /** Bodies purged by the raw-body retention for uploads in [fromUploadId, toUploadId], by upload id (migration 031). */
  uploadBodyPurges(fromUploadId: number, toUploadId: number): Promise<UploadBodyPurge[]>;
  /** Per chain, the last upload with an id below `beforeId` (id and hash), ordered by chain: where a verification of a later range links on. */
  lastUploadsBefore(beforeId: number): Promise<{ chain: number; uploadId: number; hash: Buffer }[]>;
  /** The latest verification progress row (migration 033), undefined before the first. */
  verifyProgress(): Promise<VerifyProgressRecord | undefined>;
  /** Appends a progress row (append-only; the caller computed its mac from the latest row's). */
  addVerifyProgress(record: Omit<VerifyProgressRecord, 'id'>): Promise<void>;

  // alarms: each change below also appends an event in the same transaction (the audit trail)
  /** Limits of one device, or of all devices, ordered by device, channel, level. */
  alarmLimits(deviceId?: number): Promise<AlarmLimit[]>;
  /**
   * Replaces every limit of one channel with `limits` (an empty list removes them) and appends an
   * 'alarm.limits.changed' event naming `by`.
   */
  setAlarmLimits(deviceId: number, channel: number, limits: AlarmLimit[], by: string, at: number, audit?: ChangeAudit): Promise<void>;
  /** Inserts a raised alarm and an 'alarm.raised' event (level = the alarm's level). */
  raiseAlarm(alarm: NewAlarm): Promise<StoredAlarm>;
  /** Marks an alarm cleared and appends 'alarm.cleared'; undefined when no such uncleared alarm. */
  clearAlarm(id: number, at: number, value: number | null): Promise<StoredAlarm | undefined>;
  /** Records who acknowledged and why, appends 'alarm.acknowledged'; undefined when no such unacknowledged alarm. */
  acknowledgeAlarm(id: number, by: string, comment: string, at: number, meaning?: string | null, source?: string | null): Promise<StoredAlarm | undefined>;
  /** Newest first. */
  alarms(query: AlarmQuery): Promise<StoredAlarm[]>;

  // retention (src/jobs/retention.ts): deletes only below an audited horizon that only moves forward
  /** The latest horizon, undefined before the first. */
  retentionHorizon(): Promise<RetentionHorizon | undefined>;
  /** Every horizon, oldest first: the record of who purged what and why. */
  retentionHorizons(): Promise<RetentionHorizon[]>;
  /** The latest anchor of each chain, ordered by chain. */
  chainAnchors(): Promise<ChainAnchor[]>;
  /** Counts what a horizon at these times would make purgeable (the part not purged yet included). */
  previewRetention(dataBefore: number, auditBefore: number | null): Promise<RetentionPreview>;
  /**
   * Appends a horizon (the caller passes times not before the latest horizon's), the anchors of the
   * chains it cuts and a 'retention.horizon.advanced' event, in one transaction; deletes nothing.
   */
  advanceRetentionHorizon(request: RetentionRequest): Promise<RetentionHorizon>;
  /** Deletes one chunk below the latest horizon in one transaction: up to `rows` samples, events or alarms, or `uploads` uploads. */
  purgeBelowHorizon(limits: { rows: number; uploads: number }): Promise<PurgeChunk>;
  /**
   * Raw-body retention (migration 031): empties up to `limit` stored bodies of uploads received before
   * `before`, in upload id order, recording each body's SHA-256 and length (what the chain covers), and
   * appends a 'retention.bodies.purged' event, in one transaction. The database's floor
   * (retention_policy.min_body_keep_days) refuses, or on SQL Server decides, a younger `before`.
   */
  purgeUploadBodies(request: BodyPurgeRequest): Promise<BodyPurgeChunk>;
  /**
   * SQL Server (migration 032): switches out and truncates up to `maxPartitions` upload-id partitions
   * wholly below the latest horizon, rebuilding the rollup hours and latest values they held, one
   * transaction and one 'retention.partition.switched' event each. What is left below the horizon
   * (the partition it cuts) goes by purgeBelowHorizon. Absent on SQLite.
   */
  switchOutBelowHorizon?(maxPartitions: number): Promise<{ partitions: number; uploads: number; samples: number }>;
  /** SQL Server (migration 032): adds empty upload-id partitions ahead of the highest id (a SPLIT of empty ranges). Absent on SQLite. */
  addUploadPartitions?(): Promise<{ added: number; lastBoundary: number }>;

  // units (migration 019): a channel's quantity and unit are versioned
  /** Makes `unit` the channel's current unit from `validFrom` on: a new version, the channel row and a 'channel.unit.changed' event, in one transaction. */
  setChannelUnit(deviceId: number, channel: number, quantity: string, unit: string, validFrom: number, by: string, reason: string, audit?: ChangeAudit): Promise<void>;
  /** Every version of a device's channels' units, oldest first. */
  channelUnits(deviceId: number): Promise<{ channel: number; validFrom: number; quantity: string; unit: string; setBy: string; reason: string }[]>;

  // quarantine
  quarantined(deviceId: number): Promise<QuarantineEntry[]>;
  releaseQuarantine(deviceId: number, importData: boolean, at: number): Promise<ReleaseResult>;

  // zones (each change also appends an event naming the actor, old and new)
  listZones(): Promise<Zone[]>;
  addZone(zone: { parentId: number | null; name: string }, actor: ChangeActor): Promise<Zone>;
  /** Renames or moves a zone (the caller has checked that a move makes no cycle). */
  updateZone(id: number, patch: { parentId?: number | null; name?: string }, actor: ChangeActor): Promise<Zone>;
  /** Removes an empty zone: no sub-zones, no devices, no roles on it. */
  removeZone(id: number, actor: ChangeActor): Promise<void>;
  /** Roles of local users on zones: of one user, or of all. */
  userZoneRoles(userId?: number): Promise<UserZoneRole[]>;
  /** Replaces one user's zone roles. */
  setUserZoneRoles(userId: number, grants: ZoneGrant[], actor: ChangeActor): Promise<void>;

  // users
  /** Adds the user and a 'user.added' event naming `audit.actor` (the audit trail; 'system' when not given), in one transaction. */
  addUser(user: { username: string; role: UserRecord['role']; passwordHash: string; scope?: UserRecord['scope']; source?: UserRecord['source'] }, at: number, audit?: UserAudit): Promise<UserRecord>;
  findUser(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /**
   * Changes the user; a change of role, scope, disabled or password (or an unlock with `audit`) also
   * appends an event (user-events.ts) in the same transaction. Sign-in bookkeeping passes no audit.
   */
  updateUser(id: number, patch: Partial<Pick<UserRecord, 'role' | 'passwordHash' | 'failedLogins' | 'lockedUntil' | 'disabled' | 'scope' | 'mustChangePassword'>>, audit?: UserAudit): Promise<void>;

  // reports (src/report/): each write also appends its event in the same transaction
  /** Records a PDF handed out and its 'report.issued' or 'report.signed' event; `source`: where it was asked for, for the event. */
  recordIssuedReport(report: IssuedReport, source?: string | null): Promise<void>;
  /** The issued report with this code or this file hash; undefined when none. */
  findIssuedReport(by: { code: string } | { fileSha256: string }): Promise<IssuedReport | undefined>;
  /** Live schedules (removed ones left out), by name. */
  listReportSchedules(): Promise<ReportSchedule[]>;
  /** Adds (id undefined) or replaces a schedule and appends 'report.schedule.changed' (old -> new); undefined when no such live id. */
  saveReportSchedule(id: number | undefined, schedule: ReportScheduleInput, by: string, reason: string, at: number, source?: string | null): Promise<ReportSchedule | undefined>;
  /** Marks a schedule removed and appends its event; false when no such live id. */
  removeReportSchedule(id: number, by: string, reason: string, at: number, source?: string | null): Promise<boolean>;
  // retired devices (the record of who retired which and why is in events)
  retirements(): Promise<DeviceRetirement[]>;
  /** Records a device as retired, or (null) back in use. */
  setRetirement(deviceId: number, retirement: Omit<DeviceRetirement, 'deviceId'> | null): Promise<void>;

  // viewer sessions, so that a restart signs nobody out (src/api/sessions.ts)
  /** Inserts the session, or updates its last activity and display flag. */
  saveSession(session: StoredSession): Promise<void>;
  deleteSessions(idHashes: string[]): Promise<void>;
  /** Every stored session, oldest first. */
  listSessions(): Promise<StoredSession[]>;
}
