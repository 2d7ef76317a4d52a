// Plain domain types shared by ingest, pipeline, store and api. No I/O here.

/** Device families Inlet speaks. One folder under src/ingest/ per family. */
export type Family = 'soap' | 'wifi' | 'websensor-json' | 'logger';
export const FAMILIES: readonly Family[] = ['soap', 'wifi', 'websensor-json', 'logger'];

export type AlarmState = 'no' | 'hi' | 'lo';

/** What kind of message the device says this is; drives throttling and duplicate rules. */
export type MessageKind =
  | 'periodic'   // regular interval message
  | 'async'      // alarm change or other event outside the interval
  | 'restart'    // first message after restart / reconfiguration
  | 'test';      // test message from the device UI

/** One channel reading as the device stated it, after decoding sentinels. */
export interface Reading {
  channel: number;            // 1-based channel number on the device
  quantity: string;           // e.g. 'temperature', 'relative_humidity', or the device's own label
  unit: string;               // unit as received ('C', '°C', '%RH', 'hPa', 'ppm', ...)
  value: number | null;       // null when the device reported an error
  errorCode: number | null;   // device error code (e.g. 9999 -> 1, -9999 -> 2, -9998 -> 98, FF8100NN -> NN)
  alarm: AlarmState;
  /** Sample time in ms since epoch (UTC), when the device sends one; else the receive time. */
  sampleTime?: number;
}

/** One parsed upload from a device, produced by an ingest adapter. */
export interface Upload {
  family: Family;
  entryToken: string;         // secret path segment the device posted to
  receivedAt: number;         // server receive time, ms since epoch UTC
  remoteAddress: string;
  serial: string;             // device identity as the device states it (serial, 8 digits as text)
  modelCode: number | null;   // SOAP `device`, JSON `Kind`
  declaredIntervalS: number | null; // SOAP `timer`, JSON `Interval`, logger interval
  kind: MessageKind;
  /** Message counter (OrderId) where the family has one; of the last message when the upload carries several. */
  counter: number | null;
  /** Counter of the first message when the upload carries several (logger batch); absent means `counter`. */
  firstCounter?: number;
  /** The device's own idea of "now" (ms UTC) when it sent the message, if it tells. */
  deviceNow: number | null;
  /** True when the message was sent from the device's cache (resend), per the device. */
  fromCache: boolean;
  /** Extra identity proof where the family has one (logger CustomerUid). */
  customerUid?: string;
  /** Samples; each has sampleTime set (receive time if the device sends none). */
  readings: Reading[];
  /** Family-specific extra facts worth keeping (alarm string, compType, unknown elements...). */
  meta: Record<string, unknown>;
  raw: Buffer;
  contentType: string;
}

/** A raw upload that could not be turned into an Upload (malformed etc.). */
export interface RejectedRaw {
  family: Family | 'unknown';
  entryToken: string | null;
  receivedAt: number;
  remoteAddress: string;
  raw: Buffer;
  contentType: string;
  reason: string;
  serial?: string;
}

export type VerdictKind = 'accepted' | 'duplicate' | 'refused' | 'quarantined';

export interface Verdict {
  kind: VerdictKind;
  /** Human-readable reason: shown in logs, events, and (short form) to the device where the family allows. */
  reason: string;
  /** HTTP status the adapter should use for refusals. */
  httpStatus: number;
  uploadId?: number;
  stored: number;     // samples newly stored
  /** Set when the answer must make the device retry later (store unavailable and spool full...). */
  retryLater?: boolean;
  /** Refused before its body was read (no device has the entry point): answered like a parsed upload refused as unknown. */
  unknownEntryPoint?: boolean;
}

export type DeviceState = 'active' | 'suspended';

export interface Device {
  id: number;
  family: Family;
  serial: string;
  modelCode: number | null;
  model: string;
  name: string;
  /** The zone's path ("Hospital/Pharmacy"), kept in step with zoneId; '' when unplaced. */
  location: string;
  /** The zone the device is placed in (src/domain/zones.ts); null: none, seen by global roles only. */
  zoneId: number | null;
  /** SHA-256 of the secret entry token (src/domain/entry-token.ts): the token itself is never stored. */
  entryTokenSha256: string;
  /** Administrator-set minimum interval between periodic messages (s); null = use declared/model default. */
  allowedIntervalS: number | null;
  declaredIntervalS: number | null;
  customerUid: string | null;
  state: DeviceState;
  suspendedReason: string | null;
  suspendedAt: number | null;
  lastSeenAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** GSM/LTE loggers: how the device clock is read (see LoggerClockSetting); absent = 'auto'. */
  loggerClock?: LoggerClockSetting;
}

/** What the offline sweep needs of every device: whether it went silent (src/jobs/offline.ts). */
export type DeviceLiveness = Pick<Device, 'id' | 'family' | 'allowedIntervalS' | 'declaredIntervalS' | 'lastSeenAt' | 'createdAt'>;

/**
 * How a logger's "seconds since 2000" count is read: as UTC, as local time (the message's Timezone
 * is the offset), or 'auto': decided per upload from the send time against the receive time.
 */
export type LoggerClockSetting = 'auto' | 'utc' | 'local';
export const LOGGER_CLOCK_SETTINGS: readonly LoggerClockSetting[] = ['auto', 'utc', 'local'];

export interface Channel {
  deviceId: number;
  channel: number;
  quantity: string;
  unit: string;
}

export interface SampleRow {
  deviceId: number;
  channel: number;
  time: number;            // ms UTC
  value: number | null;
  errorCode: number | null;
  alarm: AlarmState;
}

export type EventLevel = 'info' | 'warning' | 'alarm';

export interface EventRow {
  at: number;
  deviceId: number | null;
  type: string;            // e.g. 'device.suspended', 'upload.refused', 'device.resumed'
  level: EventLevel;
  message: string;
  data?: Record<string, unknown>;
  /** Who made the change: a user name, 'the command line', 'device', 'system'. Null: not said (older callers). */
  actor?: string | null;
  /** Where from: the client's address for the viewer, 'cli' for the command line, the device's address for uploads. */
  source?: string | null;
}

/** The archived record of one upload, as the pipeline decided it. */
export interface UploadRecord {
  deviceId: number | null;
  family: Family | 'unknown';
  receivedAt: number;
  remoteAddress: string;
  contentType: string;
  raw: Buffer;
  verdict: VerdictKind;
  reason: string;
  serial: string | null;
  counter: number | null;
}

/** Everything one upload writes, committed atomically. */
export interface Batch {
  upload: UploadRecord & {
    /**
     * Idempotency key chosen before the first attempt to store (the spool sets one): committing a
     * batch whose key is already stored writes nothing and answers with the stored upload's result.
     */
    uploadKey?: string;
  };
  samples: SampleRow[];
  channels: Channel[];             // channels to upsert (new or changed quantity/unit)
  events: EventRow[];
  /** Readings kept aside for a suspended device. */
  quarantine: Reading[] | null;
  deviceSeen: { deviceId: number; at: number; declaredIntervalS: number | null } | null;
  suspend: { deviceId: number; at: number; reason: string } | null;
}

export interface CommitResult {
  uploadId: number;
  /** As submitted, except that an accepted upload all of whose samples were already stored becomes 'duplicate'. */
  verdict: VerdictKind;
  samplesStored: number;   // newly inserted (duplicates excluded)
  samplesDuplicate: number;
  /**
   * Set when the database was unavailable and the batch was journaled locally (fsync'd) instead: it is
   * stored when the database is back. uploadId is then 0 and the counts are as submitted.
   */
  spooled?: boolean;
}

export type AlarmLevel = 'warning' | 'alarm';
export type AlarmDirection = 'high' | 'low';

/** One level of a channel's alarm limits, as an administrator set them (rule: pipeline/alarm-rules.ts). */
export interface AlarmLimit {
  deviceId: number;
  channel: number;
  level: AlarmLevel;
  high: number | null;       // breached above; null = no upper limit
  low: number | null;        // breached below; null = no lower limit
  delayS: number;            // the breach must last this long (by sample time) before the alarm is raised
  hysteresis: number;        // a raised alarm clears only this far back inside the limit
  /** When the limit was last set; filled in when read from the store. */
  updatedAt?: number;
}
