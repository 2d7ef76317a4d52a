// Database rows -> domain records, shared by both adapters. The adapters select the same column
// names (aliasing where a dialect names a column differently), so one mapping serves both; the
// only dialect differences it absorbs are value representations: SQL Server returns datetime2 as
// Date, bigint as string and bit as boolean, where SQLite returns numbers.
import { entryTokenSha256 } from '../domain/entry-token.ts';
import type { AlarmLimit, Device, DeviceLiveness, EventLevel, Family, Reading, SampleRow, VerdictKind } from '../domain/types.ts';
import type {
  ChainAnchor, ChainCheckpoint, ChainedEvent, DevicePatch, PurgeChunk, QuarantineEntry, RetentionHorizon, RetentionPreview, SeriesPoint, StoredAlarm, StoredEvent, StoredUpload, UploadSample, UserRecord,
} from './store.ts';

export type Row = Record<string, unknown>;

/** Columns read for a Device, in both dialects. */
export const DEVICE_COLUMNS = `id, family, serial, model_code, model, name, location, entry_token_sha256, allowed_interval_s,
  declared_interval_s, customer_uid, state, suspended_reason, suspended_at, last_seen_at, created_at, updated_at, zone_id`;

/**
 * DEVICE_COLUMNS and the loggers' clock setting (migration 010). A store selects this list once its
 * schema has the column, and DEVICE_COLUMNS before (a database being upgraded step by step).
 */
export const DEVICE_COLUMNS_WITH_CLOCK = `${DEVICE_COLUMNS}, logger_clock`;

/** Columns read for a StoredAlarm, in both dialects (the same names in both). */
export const ALARM_COLUMNS = `id, device_id, channel, source, kind, level, direction, raised_at, value, message, acknowledged_at,
  acknowledged_by, ack_comment, ack_meaning, cleared_at, cleared_value`;

/** Columns read for an AlarmLimit, in both dialects. */
export const ALARM_LIMIT_COLUMNS = 'device_id, channel, level, high, low, delay_s, hysteresis, updated_at';

/** A time column as ms since epoch UTC: INTEGER in SQLite, datetime2 (read as a UTC Date) in SQL Server. */
export function epochMs(value: unknown): number {
  return value instanceof Date ? value.getTime() : Number(value);
}

export function epochMsOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : epochMs(value);
}

/** An integer column; SQL Server's bigint arrives as a string so that no precision is lost silently. */
export function integer(value: unknown): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`integer column value ${String(value)} is outside JavaScript's safe range`);
  return n;
}

export function integerOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : integer(value);
}

function bytes(value: unknown): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
}

export function toDevice(r: Row): Device {
  return {
    id: integer(r.id),
    family: r.family as Family,
    serial: r.serial as string,
    modelCode: integerOrNull(r.model_code),
    model: r.model as string,
    name: r.name as string,
    location: r.location as string,
    zoneId: integerOrNull(r.zone_id),
    entryTokenSha256: (r.entry_token_sha256 as string).trim(),
    allowedIntervalS: integerOrNull(r.allowed_interval_s),
    declaredIntervalS: integerOrNull(r.declared_interval_s),
    customerUid: (r.customer_uid as string | null) ?? null,
    state: r.state as Device['state'],
    suspendedReason: (r.suspended_reason as string | null) ?? null,
    suspendedAt: epochMsOrNull(r.suspended_at),
    lastSeenAt: epochMsOrNull(r.last_seen_at),
    createdAt: epochMs(r.created_at),
    updatedAt: epochMs(r.updated_at),
    loggerClock: (r.logger_clock as Device['loggerClock'] | undefined) ?? 'auto',
  };
}

/** Columns read for a DeviceLiveness, in both dialects. */
export const DEVICE_LIVENESS_COLUMNS = 'id, family, allowed_interval_s, declared_interval_s, last_seen_at, created_at';

export function toDeviceLiveness(r: Row): DeviceLiveness {
  return {
    id: integer(r.id),
    family: r.family as Family,
    allowedIntervalS: integerOrNull(r.allowed_interval_s),
    declaredIntervalS: integerOrNull(r.declared_interval_s),
    lastSeenAt: epochMsOrNull(r.last_seen_at),
    createdAt: epochMs(r.created_at),
  };
}

export function toUser(r: Row): UserRecord {
  return {
    id: integer(r.id),
    username: r.username as string,
    role: r.role as UserRecord['role'],
    passwordHash: r.password_hash as string,
    failedLogins: integer(r.failed_logins),
    lockedUntil: epochMsOrNull(r.locked_until),
    createdAt: epochMs(r.created_at),
    disabled: r.disabled === 1 || r.disabled === true,
    mustChangePassword: r.must_change_password === 1 || r.must_change_password === true,
    scope: r.scope === 'zones' ? 'zones' : 'global',
    source: r.source === 'directory' ? 'directory' : 'local',
  };
}

/** Expects the sample time aliased as `time`. */
export function toSample(r: Row): SampleRow {
  return {
    deviceId: integer(r.device_id),
    channel: integer(r.channel),
    time: epochMs(r.time),
    value: (r.value as number | null) ?? null,
    errorCode: integerOrNull(r.error_code),
    alarm: (r.alarm as string).trim() as SampleRow['alarm'],
  };
}

/** Expects the event time aliased as `at`. */
export function toStoredEvent(r: Row): StoredEvent {
  return {
    id: integer(r.id), at: epochMs(r.at), deviceId: integerOrNull(r.device_id), type: r.type as string,
    level: r.level as EventLevel, message: r.message as string,
    data: r.data ? JSON.parse(r.data as string) as Record<string, unknown> : null,
    actor: (r.actor as string | null) ?? null, source: (r.source as string | null) ?? null, recordedAt: epochMsOrNull(r.recorded_at),
  };
}

export function toChainedEvent(r: Row): ChainedEvent {
  return {
    ...toStoredEvent(r), actor: (r.actor as string | null) ?? null, source: (r.source as string | null) ?? null, recordedAt: epochMsOrNull(r.recorded_at),
    dataText: (r.data as string | null) ?? null,
    prevHash: r.prev_hash === null || r.prev_hash === undefined ? null : bytes(r.prev_hash),
    hash: r.hash === null || r.hash === undefined ? null : bytes(r.hash),
  };
}

export function toChannelUnit(r: Row) {
  return {
    channel: integer(r.channel), validFrom: epochMs(r.valid_from), quantity: r.quantity as string, unit: r.unit as string,
    setBy: r.set_by as string, reason: r.reason as string,
  };
}

export function toStoredUpload(r: Row): StoredUpload {
  return {
    id: integer(r.id), deviceId: integerOrNull(r.device_id), family: r.family as string,
    receivedAt: epochMs(r.received_at), remoteAddress: r.remote_address as string, contentType: r.content_type as string,
    raw: bytes(r.raw), verdict: r.verdict as VerdictKind, reason: r.reason as string,
    serial: (r.serial as string | null) ?? null, counter: integerOrNull(r.counter),
    hash: bytes(r.hash), prevHash: bytes(r.prev_hash),
  };
}

/** Expects the sample time aliased as `time`. */
export function toUploadSample(r: Row): UploadSample {
  return { ...toSample(r), uploadId: integer(r.upload_id) };
}

/** Expects the checkpoint time aliased as `at`. */
export function toChainCheckpoint(r: Row): ChainCheckpoint {
  return { at: epochMs(r.at), chain: integer(r.chain), uploadId: integer(r.upload_id), hash: bytes(r.hash) };
}

/** Columns read for a RetentionHorizon; SQL Server aliases set_at AS at. */
export const HORIZON_COLUMNS = 'id, at, data_before, below_upload_id, audit_before, set_by, reason';

export function toRetentionHorizon(r: Row): RetentionHorizon {
  return {
    id: integer(r.id), at: epochMs(r.at), dataBefore: epochMs(r.data_before), belowUploadId: integer(r.below_upload_id),
    auditBefore: epochMsOrNull(r.audit_before), setBy: r.set_by as string, reason: r.reason as string,
  };
}

export function toChainAnchor(r: Row): ChainAnchor {
  return { horizonId: integer(r.horizon_id), chain: integer(r.chain), uploadId: integer(r.upload_id), hash: bytes(r.hash) };
}

export function toRetentionPreview(r: Row): RetentionPreview {
  return {
    belowUploadId: integer(r.below_upload_id), uploads: integer(r.uploads), samples: integer(r.samples), quarantined: integer(r.quarantined),
    chains: integer(r.chains), events: integer(r.events), alarms: integer(r.alarms),
  };
}

export function toPurgeChunk(r: Row): PurgeChunk {
  return {
    samples: integer(r.samples), rollupHours: integer(r.rollup_hours), uploads: integer(r.uploads), quarantined: integer(r.quarantined),
    events: integer(r.events), alarms: integer(r.alarms),
  };
}

export function toAlarmLimit(r: Row): AlarmLimit {
  return {
    deviceId: integer(r.device_id), channel: integer(r.channel), level: r.level as AlarmLimit['level'],
    high: (r.high as number | null) ?? null, low: (r.low as number | null) ?? null,
    delayS: integer(r.delay_s), hysteresis: r.hysteresis as number, updatedAt: epochMs(r.updated_at),
  };
}

export function toAlarm(r: Row): StoredAlarm {
  return {
    id: integer(r.id), deviceId: integerOrNull(r.device_id), channel: integerOrNull(r.channel),
    source: r.source as StoredAlarm['source'], kind: (r.kind as StoredAlarm['kind']) ?? null, level: r.level as StoredAlarm['level'], direction: (r.direction as StoredAlarm['direction']) ?? null,
    raisedAt: epochMs(r.raised_at), value: (r.value as number | null) ?? null, message: r.message as string,
    acknowledgedAt: epochMsOrNull(r.acknowledged_at), acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
    ackComment: (r.ack_comment as string | null) ?? null, ackMeaning: (r.ack_meaning as string | null) ?? null, clearedAt: epochMsOrNull(r.cleared_at),
    clearedValue: (r.cleared_value as number | null) ?? null,
  };
}

export function toQuarantineEntry(r: Row): QuarantineEntry {
  return {
    uploadId: integer(r.upload_id), deviceId: integer(r.device_id), receivedAt: epochMs(r.received_at),
    readings: JSON.parse(r.readings as string) as Reading[],
  };
}

/** A series point for one raw (not downsampled) sample. */
export function toRawSeriesPoint(s: SampleRow): SeriesPoint {
  return { time: s.time, min: s.value, max: s.value, avg: s.value, count: 1, errors: s.errorCode === null ? 0 : 1 };
}

// ---- records -> columns, for UPDATE statements ----

export type ColumnValue = string | number | null;

/**
 * The column assignments a device patch means, times as ms. Resuming clears the suspension; a
 * column appears once even when the patch names it too (SQL Server refuses a column set twice).
 */
export function deviceAssignments(patch: DevicePatch, at: number): Map<string, ColumnValue> {
  const columns: Record<keyof DevicePatch, string> = {
    name: 'name', location: 'location', allowedIntervalS: 'allowed_interval_s', state: 'state',
    suspendedReason: 'suspended_reason', entryToken: 'entry_token_sha256', customerUid: 'customer_uid', zoneId: 'zone_id',
    loggerClock: 'logger_clock',
  };
  const sets = new Map<string, ColumnValue>();
  for (const key of Object.keys(columns) as (keyof DevicePatch)[]) {
    if (patch[key] !== undefined) sets.set(columns[key], patch[key] as ColumnValue);
  }
  // Only the token's hash is stored (src/domain/entry-token.ts).
  if (patch.entryToken !== undefined) sets.set('entry_token_sha256', entryTokenSha256(patch.entryToken));
  if (patch.state === 'suspended') sets.set('suspended_at', at);
  if (patch.state === 'active') { sets.set('suspended_at', null); sets.set('suspended_reason', null); }
  sets.set('updated_at', at);
  return sets;
}

export type UserPatch = Partial<Pick<UserRecord, 'role' | 'passwordHash' | 'failedLogins' | 'lockedUntil' | 'disabled' | 'scope' | 'mustChangePassword'>>;

export function userAssignments(patch: UserPatch): Map<string, ColumnValue> {
  const columns = { role: 'role', passwordHash: 'password_hash', failedLogins: 'failed_logins', lockedUntil: 'locked_until', disabled: 'disabled', scope: 'scope',
    mustChangePassword: 'must_change_password' } as const;
  const sets = new Map<string, ColumnValue>();
  for (const key of Object.keys(columns) as (keyof typeof columns)[]) {
    const v = patch[key];
    if (v !== undefined) sets.set(columns[key], typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
  return sets;
}
