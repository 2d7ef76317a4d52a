// The one place that decides what happens to an upload. Plain TypeScript: no HTTP, no SQL.
// accept() returns only after the decision and the raw upload are durable (store or spool).
import type { LogSink } from '../domain/log-sink.ts';
import type {
  AlarmState, Batch, Channel, CommitResult, Device, EventRow, Family, Reading, RejectedRaw, SampleRow, Upload, Verdict, VerdictKind,
} from '../domain/types.ts';
import type { AlarmMonitor } from './alarm-monitor.ts';
import { DeviceRegistry } from './registry.ts';
import { allowedIntervalS, newThrottleState, throttle, type ThrottleSettings, DEFAULT_THROTTLE, type ThrottleState } from './throttle.ts';
import { MAX_FUTURE_SKEW_MS, canonicaliseUnits, checkIdentity, checkReadings, unitChanges } from './validate.ts';
import { decideLoggerClock, describeSkew, type LoggerClockDecision, type LoggerClockEvidence } from './logger-clock.ts';
import { checkCounter, describeCounterBreak, newCounterState, type CounterState } from './counter.ts';
import type { RefusalCode, RefusalRecorder } from './refusals.ts';
import { channelKind } from './channel-kind.ts';

/** Where batches go: the store, or the spool in front of it. */
export interface BatchSink {
  commit(batch: Batch): Promise<CommitResult>;
}

/** The logger this module writes to. */
export type PipelineLogger = LogSink;

export interface PipelineOptions {
  sink: BatchSink;
  registry: DeviceRegistry;
  log: PipelineLogger;
  throttle?: ThrottleSettings;
  /** Applies alarm limits to the readings stored; none: no limit alarms. */
  alarms?: AlarmMonitor;
  /** At most one refusal event per device (or source) and reason, and one counter-break event per device, within this window. */
  refusalEventEveryMs?: number;
  /**
   * The bounded refusal archive (refusals.ts). Without it (tests of the chain) refused uploads are
   * committed to the chained uploads table as before.
   */
  refusals?: RefusalRecorder;
  /** Quarantine readings dated before their device's registration (backfillBeforeRegistration); default on. */
  quarantineBackfill?: boolean;
  now?: () => number;
}

interface DeviceRuntime {
  throttle: ThrottleState;
  counter: CounterState;
  /** Last receive time used as a sample time, so that two messages never share one. */
  lastReceiptStamp: number;
  lastAlarms: string | null;
  /**
   * Channels whose last reported alarm state was not 'no', to record device alarms on change only;
   * null while every channel is quiet (most devices, most of the time: no Map per device).
   */
  deviceAlarms: Map<number, AlarmState> | null;
  channels: Map<number, { quantity: string; unit: string }> | null;
  /** Channels already reported as unexpected for the device's model, so the event is not repeated every upload. */
  unexpectedReported: string | null;
  /** Loggers: the clock reading last applied and recorded (null until the first accepted upload of this run). */
  loggerClock: Pick<LoggerClockDecision, 'counts' | 'basis'> | null;
}

export interface PipelineCounters {
  accepted: number;
  duplicate: number;
  refused: number;
  quarantined: number;
  suspensions: number;
  samplesStored: number;
}

export class Pipeline {
  readonly counters: PipelineCounters = { accepted: 0, duplicate: 0, refused: 0, quarantined: 0, suspensions: 0, samplesStored: 0 };
  private readonly runtime = new Map<number, DeviceRuntime>();
  private readonly recentRefusalEvents = new Map<string, number>();
  private readonly sink: BatchSink;
  private readonly registry: DeviceRegistry;
  private readonly alarms: AlarmMonitor | undefined;
  private readonly log: PipelineLogger;
  private readonly throttleSettings: ThrottleSettings;
  private readonly refusalEventEveryMs: number;
  private readonly now: () => number;
  private readonly refusals: RefusalRecorder | undefined;
  private readonly quarantineBackfill: boolean;

  constructor(options: PipelineOptions) {
    this.quarantineBackfill = options.quarantineBackfill ?? true;
    this.refusals = options.refusals;
    this.sink = options.sink;
    this.registry = options.registry;
    this.alarms = options.alarms;
    this.log = options.log;
    this.throttleSettings = options.throttle ?? DEFAULT_THROTTLE;
    this.refusalEventEveryMs = options.refusalEventEveryMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    // An administrator's change (resume, new interval) starts throttling afresh.
    this.registry.onChange = (device) => {
      const rt = this.runtime.get(device.id);
      if (rt) { rt.throttle = newThrottleState(); rt.channels = null; }
    };
  }

  private runtimeFor(deviceId: number): DeviceRuntime {
    let rt = this.runtime.get(deviceId);
    if (!rt) {
      rt = { throttle: newThrottleState(), counter: newCounterState(), lastReceiptStamp: 0, lastAlarms: null, deviceAlarms: null, channels: null, unexpectedReported: null, loggerClock: null };
      this.runtime.set(deviceId, rt);
    }
    return rt;
  }

  /** Decide on a parsed upload and store it durably with its raw bytes. */
  async accept(upload: Upload): Promise<Verdict> {
    // A registered device's uploads are matched at once; only a token not seen before waits on a lookup.
    const device = this.knownDevice(upload.entryToken) ?? await this.registry.byEntryToken(upload.entryToken, this.now());
    if (!device) {
      return this.refuse(upload, null, 404, 'unknown-entry-point', `unknown entry point (serial ${upload.serial} stated); register the device with 'inlet device add' and use the URL it prints`);
    }
    const identity = checkIdentity(device, upload);
    if (identity) return this.refuse(upload, device, identity.status, 'identity-mismatch', identity.reason);
    const unknownUnit = canonicaliseUnits(upload);
    if (unknownUnit) return this.refuse(upload, device, unknownUnit.status, 'implausible-readings', unknownUnit.reason);
    const clock = upload.family === 'logger' ? this.readLoggerClock(device, upload) : null;
    const invalid = checkReadings(upload);
    if (invalid) {
      const hint = clock ? ` (logger clock read as ${clock.counts === 'local' ? 'local time' : 'UTC'}; an administrator can set it: inlet device set-clock --serial ${device.serial} --clock utc|local|auto)` : '';
      return this.refuse(upload, device, invalid.status, 'implausible-readings', invalid.reason + hint);
    }

    const rt = this.runtimeFor(device.id);
    this.distinctReceiptTime(rt, upload);
    const alarms = newestAlarmStates(upload);
    const alarmChanged = rt.lastAlarms !== null && alarms !== rt.lastAlarms;
    const events: EventRow[] = [];
    let suspendReason: string | null = null;

    if (device.state === 'active' && this.throttleSettings.enabled) {
      const decision = throttle(rt.throttle, {
        receivedAt: upload.receivedAt, kind: upload.kind, fromCache: upload.fromCache, oldestSampleTime: oldestSampleTime(upload), alarmChanged,
        allowedIntervalS: allowedIntervalS(device.family, device.allowedIntervalS, upload.declaredIntervalS ?? device.declaredIntervalS),
      }, this.throttleSettings);
      if (decision.suspend) suspendReason = decision.reason;
    }
    rt.lastAlarms = alarms;
    // Units never change history: a channel reporting another quantity or unit than registered is
    // held back (the device suspended, its data quarantined) until an administrator confirms the change.
    if (device.state === 'active' && typeof this.registry.registeredChannels === 'function') {
      const registered = this.knownChannels(device.id) ?? await this.registry.registeredChannels(device.id);
      const changed = registered ? unitChanges(registered, upload) : [];
      if (changed.length) {
        const what = changed.map((c) => `channel ${c.channel} reports ${c.to} but is registered as ${c.from}`).join('; ');
        events.push({
          at: upload.receivedAt, deviceId: device.id, type: 'channel.unit.mismatch', level: 'alarm', actor: 'device', source: upload.remoteAddress,
          message: `${device.name} (serial ${device.serial}): ${what}. Its data is held back until an administrator confirms the new unit (viewer: Administration) and resumes it.`,
          data: { changes: changed },
        });
        suspendReason ??= `unit changed: ${what}; confirm the new unit before its data is used`;
      }
    }
    const counterBreak = checkCounter(rt.counter, {
      family: upload.family, receivedAt: upload.receivedAt, kind: upload.kind, fromCache: upload.fromCache,
      firstCounter: upload.firstCounter ?? upload.counter, lastCounter: upload.counter,
    }, this.refusalEventEveryMs);
    if (counterBreak) {
      events.push({
        at: upload.receivedAt, deviceId: device.id, type: 'upload.counter-break', level: 'warning',
        message: `${device.name} (serial ${device.serial}): ${describeCounterBreak(counterBreak)}`, data: { ...counterBreak },
      });
      this.log.warn('message counter break', { serial: device.serial, deviceId: device.id, ...counterBreak });
    }

    // Back-fill has bounds: readings dated before the device was registered are not its data (a wrong
    // clock, another device's backlog, a capture replayed): kept aside for an administrator to release or discard.
    const backfill = this.quarantineBackfill && device.state === 'active' && suspendReason === null ? backfillBeforeRegistration(device, upload) : null;
    const tooOld = this.quarantineBackfill && device.state === 'active' && suspendReason === null && !backfill ? backfillOlderThanCache(device, upload) : null;
    if (tooOld) {
      events.push({
        at: upload.receivedAt, deviceId: device.id, type: 'upload.backfill-quarantined', level: 'warning',
        message: `${device.name} (serial ${device.serial}) sent ${tooOld.count} reading(s) dated from ${new Date(tooOld.oldest).toISOString()}, ` +
          `older than its cache can hold (${CACHED_MESSAGES[device.family]} messages, ${(tooOld.boundMs / 3_600_000).toFixed(1)} h at its interval): kept aside. ` +
          `Import or discard them with 'inlet device resume --serial ${device.serial} [--import]'.`,
        data: { readings: tooOld.count, oldest: tooOld.oldest, cacheMessages: CACHED_MESSAGES[device.family], boundMs: tooOld.boundMs, reason: 'older than the device cache' },
      });
      this.log.warn('readings older than the device cache can hold quarantined', { serial: device.serial, deviceId: device.id, readings: tooOld.count });
    }
    if (backfill) {
      events.push({
        at: upload.receivedAt, deviceId: device.id, type: 'upload.backfill-quarantined', level: 'warning',
        message: `${device.name} (serial ${device.serial}) sent ${backfill.count} reading(s) dated from ${new Date(backfill.oldest).toISOString()}, ` +
          `before it was registered (${new Date(device.createdAt).toISOString()}): kept aside. Import or discard them with ` +
          `'inlet device resume --serial ${device.serial} [--import]'.`,
        data: { readings: backfill.count, oldest: backfill.oldest, registeredAt: device.createdAt },
      });
      this.log.warn('readings dated before registration quarantined', { serial: device.serial, deviceId: device.id, readings: backfill.count });
    }
    const quarantine = device.state === 'suspended' || suspendReason !== null || backfill !== null || tooOld !== null;
    if (suspendReason) {
      events.push({
        at: upload.receivedAt, deviceId: device.id, type: 'device.suspended', level: 'alarm',
        message: `${device.name} (serial ${device.serial}) suspended: ${suspendReason}. Its data is kept aside; ` +
          `release it with 'inlet device resume --serial ${device.serial} [--import]' or in the viewer.`,
        data: { reason: suspendReason },
      });
    }
    if (!quarantine) events.push(...this.deviceAlarmChanges(device, rt, upload));
    const unexpected = unexpectedChannelEvent(device, rt, upload);
    if (unexpected) events.push(unexpected);
    if (clock) {
      const clockEvent = loggerClockEvent(device, rt, upload, clock);
      if (clockEvent) events.push(clockEvent);
    }
    const samples: SampleRow[] = quarantine ? [] : upload.readings.map((r) => ({
      deviceId: device.id, channel: r.channel, time: r.sampleTime ?? upload.receivedAt,
      value: r.value, errorCode: r.errorCode, alarm: r.alarm,
    }));
    const verdict: VerdictKind = quarantine ? 'quarantined' : 'accepted';
    const reason = suspendReason ? `suspended now: ${suspendReason}`
      : backfill ? 'readings dated before the device was registered: kept aside for an administrator'
      : tooOld ? 'readings older than the device\'s cache can hold: kept aside for an administrator'
      : quarantine ? `device suspended since ${new Date(device.suspendedAt ?? upload.receivedAt).toISOString()}: ${device.suspendedReason ?? ''}`.trim()
        : 'ok';
    const batch: Batch = {
      upload: {
        deviceId: device.id, family: upload.family, receivedAt: upload.receivedAt, remoteAddress: upload.remoteAddress,
        contentType: upload.contentType, raw: upload.raw, verdict, reason, serial: upload.serial, counter: upload.counter,
      },
      samples,
      channels: quarantine ? [] : this.channelChanges(device.id, rt, upload),
      events,
      quarantine: quarantine ? upload.readings : null,
      deviceSeen: { deviceId: device.id, at: upload.receivedAt, declaredIntervalS: upload.declaredIntervalS },
      suspend: suspendReason ? { deviceId: device.id, at: upload.receivedAt, reason: suspendReason } : null,
    };
    const result = await this.sink.commit(batch);
    if (!quarantine && batch.channels.length && typeof this.registry.noteChannels === 'function') this.registry.noteChannels(device.id, batch.channels);
    if (suspendReason) {
      this.registry.update(device.id, { state: 'suspended', suspendedReason: suspendReason, suspendedAt: upload.receivedAt });
      this.counters.suspensions++;
      this.log.warn('device suspended', { serial: device.serial, deviceId: device.id, reason: suspendReason });
    }
    this.counters[result.verdict]++;
    this.counters.samplesStored += result.samplesStored;
    if (result.samplesStored > 0) this.alarms?.observe(device, samples);
    return {
      kind: result.verdict, reason: result.verdict === 'duplicate' ? 'already stored' : reason, httpStatus: 200,
      uploadId: result.uploadId, stored: result.samplesStored,
    };
  }

  /**
   * Reads a logger's times as the device's setting says, or as the evidence says on 'auto' (see
   * logger-clock.ts): shifts the sample times and the send time the adapter read as UTC.
   */
  private readLoggerClock(device: Device, upload: Upload): LoggerClockDecision | null {
    const evidence = upload.meta.clock as LoggerClockEvidence | undefined;
    if (!evidence) return null;
    const previous = this.runtime.get(device.id)?.loggerClock?.counts ?? null;
    const decision = decideLoggerClock(device.loggerClock ?? 'auto', evidence, previous);
    if (decision.shiftMs !== 0) {
      for (const r of upload.readings) if (typeof r.sampleTime === 'number') r.sampleTime += decision.shiftMs;
      if (upload.deviceNow !== null) upload.deviceNow += decision.shiftMs;
    }
    upload.meta.clock = { ...evidence, counts: decision.counts, basis: decision.basis };
    return decision;
  }

  /**
   * Families that send no sample time (SOAP) are stamped with the receive time. Two messages
   * of one device in the same millisecond (pipelined requests) must not collapse into one
   * sample, so such stamps are kept strictly increasing per device.
   */
  private distinctReceiptTime(rt: DeviceRuntime, upload: Upload): void {
    if (!upload.readings.length || !upload.readings.every((r) => r.sampleTime === upload.receivedAt)) return;
    const stamp = Math.max(upload.receivedAt, rt.lastReceiptStamp + 1);
    rt.lastReceiptStamp = stamp;
    for (const r of upload.readings) r.sampleTime = stamp;
  }

  /**
   * Alarm states the device reports itself, recorded when they change. After a gateway restart
   * the previous state is unknown: a channel already in alarm is recorded again, a quiet one not.
   */
  private deviceAlarmChanges(device: Device, rt: DeviceRuntime, upload: Upload): EventRow[] {
    const events: EventRow[] = [];
    for (const r of upload.readings) {
      const previous = rt.deviceAlarms?.get(r.channel) ?? 'no';
      if (r.alarm === previous) continue;
      if (r.alarm !== 'no') (rt.deviceAlarms ??= new Map()).set(r.channel, r.alarm);
      else if (rt.deviceAlarms?.delete(r.channel) && rt.deviceAlarms.size === 0) rt.deviceAlarms = null;
      const state = r.alarm === 'hi' ? 'high alarm' : r.alarm === 'lo' ? 'low alarm' : 'no alarm';
      events.push({
        at: upload.receivedAt, deviceId: device.id, type: 'device.alarm', level: r.alarm === 'no' ? 'info' : 'alarm',
        message: `${device.name} (serial ${device.serial}) reports ${state} on channel ${r.channel} (${r.quantity}${r.value === null ? '' : ` ${r.value} ${r.unit}`})`,
        data: { channel: r.channel, alarm: r.alarm, previous, value: r.value },
      });
    }
    return events;
  }

  /** Channel rows to insert or correct, compared with what this gateway last wrote. */
  private channelChanges(deviceId: number, rt: DeviceRuntime, upload: Upload): Channel[] {
    rt.channels ??= new Map();
    const changes: Channel[] = [];
    for (const r of upload.readings) {
      const known = rt.channels.get(r.channel);
      if (!known || known.quantity !== r.quantity || known.unit !== r.unit) {
        rt.channels.set(r.channel, channelKind(r.quantity, r.unit));
        changes.push({ deviceId, channel: r.channel, quantity: r.quantity, unit: r.unit });
      }
    }
    return changes;
  }

  private async refuse(upload: Upload, device: Device | null, status: number, code: RefusalCode, reason: string): Promise<Verdict> {
    return this.archiveRefusal({
      deviceId: device?.id ?? null, family: upload.family, receivedAt: upload.receivedAt, remoteAddress: upload.remoteAddress,
      contentType: upload.contentType, raw: upload.raw, serial: upload.serial, counter: upload.counter, status, code, reason,
    });
  }

  /** An upload the ingest adapter could not even parse: archived and refused. */
  async reject(rejected: RejectedRaw, status: number): Promise<Verdict> {
    const device = rejected.entryToken ? await this.registry.byEntryToken(rejected.entryToken, this.now()).catch(() => undefined) : undefined;
    return this.archiveRefusal({
      deviceId: device?.id ?? null, family: rejected.family, receivedAt: rejected.receivedAt, remoteAddress: rejected.remoteAddress,
      contentType: rejected.contentType, raw: rejected.raw, serial: rejected.serial ?? null, counter: null, status,
      code: status === 413 ? 'too-large' : 'malformed', reason: rejected.reason,
    });
  }

  private knownDevice(token: string): Device | undefined {
    return typeof this.registry.knownByEntryToken === 'function' ? this.registry.knownByEntryToken(token, this.now()) : undefined;
  }

  private knownChannels(deviceId: number): Map<number, { quantity: string; unit: string }> | undefined {
    return typeof this.registry.knownRegisteredChannels === 'function' ? this.registry.knownRegisteredChannels(deviceId) : undefined;
  }

  /** knowsEntryPoint without a promise when the answer is already known (true), else undefined. */
  knowsEntryPointNow(token: string): true | undefined {
    return this.knownDevice(token) ? true : undefined;
  }

  /** Whether the entry token belongs to a registered device: asked before an upload's body is read. */
  async knowsEntryPoint(token: string): Promise<boolean> {
    return (await this.registry.byEntryToken(token, this.now())) !== undefined;
  }

  /**
   * An upload to an entry point no device has, refused before its body is read: nothing is archived,
   * and its event is de-duplicated by source like every refusal's.
   */
  refuseUnknownEntryPoint(r: { family: Batch['upload']['family']; receivedAt: number; remoteAddress: string; contentType: string }): Verdict {
    this.counters.refused++;
    const reason = 'unknown entry point; register the device with \'inlet device add\' and use the URL it prints';
    this.refusals?.record({ ...r, deviceId: null, raw: null, status: 404, code: 'unknown-entry-point', reason, serial: null });
    return { kind: 'refused', reason, httpStatus: 404, stored: 0, unknownEntryPoint: true };
  }

  private async archiveRefusal(r: {
    deviceId: number | null; family: Batch['upload']['family']; receivedAt: number; remoteAddress: string; contentType: string;
    raw: Buffer; serial: string | null; counter: number | null; status: number; code: RefusalCode; reason: string;
  }): Promise<Verdict> {
    this.counters.refused++;
    if (this.refusals) {
      this.refusals.record({ ...r, serial: r.serial });
      return { kind: 'refused', reason: r.reason, httpStatus: r.status, stored: 0 };
    }
    this.log.warn('upload refused', { status: r.status, reason: r.reason, serial: r.serial, deviceId: r.deviceId, remote: r.remoteAddress, family: r.family });
    const events: EventRow[] = [];
    const key = `${r.deviceId ?? r.remoteAddress}|${r.reason.slice(0, 60)}`;
    const last = this.recentRefusalEvents.get(key);
    if (last === undefined || r.receivedAt - last >= this.refusalEventEveryMs) {
      this.recentRefusalEvents.set(key, r.receivedAt);
      if (this.recentRefusalEvents.size > 10_000) this.recentRefusalEvents.clear();
      events.push({
        at: r.receivedAt, deviceId: r.deviceId, type: 'upload.refused', level: 'warning',
        message: `upload from ${r.remoteAddress}${r.serial ? ` (serial ${r.serial})` : ''} refused: ${r.reason}`,
        data: { status: r.status, family: r.family },
      });
    }
    const result = await this.sink.commit({
      upload: {
        deviceId: r.deviceId, family: r.family, receivedAt: r.receivedAt, remoteAddress: r.remoteAddress, contentType: r.contentType,
        raw: r.raw, verdict: 'refused', reason: r.reason, serial: r.serial, counter: r.counter,
      },
      samples: [], channels: [], events, quarantine: null, deviceSeen: null, suspend: null,
    });
    return { kind: 'refused', reason: r.reason, httpStatus: r.status, uploadId: result.uploadId, stored: 0 };
  }
}

/** Readings may predate registration by this much (a device clock a little fast, set up before being registered). */
export const BACKFILL_TOLERANCE_MS = 60 * 60_000;

/**
 * How many messages a device family keeps while it cannot deliver (docs/protocols.md): a reading
 * older than that many intervals cannot be one the device still held, so it is a capture replayed,
 * a wrong clock or another device's data. Web Sensors (SOAP) keep no cache and state no sample time
 * (every reading is dated when it arrives), so they have no entry.
 *
 * The GSM/LTE loggers' figure is INFERRED, not COMET's: their memory capacity is in the UxxxxM/UxxxxG
 * user's guide (IE-LGR-UxxxxM, "Technical parameters: measurement, data storage and real time
 * circuitry"), but no copy we could reach gives that page. What the sources do give is far smaller:
 * buffered mode holds at most 255 messages (BufferedModeMaxMessagesCnt) and messages are numbered
 * modulo 256 (OrderId) (docs/protocols.md, source C). So the bound is deliberately generous, keeping
 * aside nothing a logger may still hold: 100,000 messages, the largest backlog Inlet is sized for (the
 * 100,000 samples of LOGGER_MAX_BODY_BYTES, taken as one-channel messages). At a 10-minute sending
 * interval that is about 1.9 years; at the 10-second floor about 11.6 days.
 */
export const CACHED_MESSAGES: Partial<Record<Family, number>> = { wifi: 2240, 'websensor-json': 2688, logger: 100_000 };

/** Readings older than the device's cache can hold (CACHED_MESSAGES intervals, plus the tolerance), or null. */
export function backfillOlderThanCache(device: Device, upload: Upload): { count: number; oldest: number; boundMs: number } | null {
  const messages = CACHED_MESSAGES[device.family];
  if (messages === undefined) return null;
  const intervalS = allowedIntervalS(device.family, device.allowedIntervalS, upload.declaredIntervalS ?? device.declaredIntervalS);
  const boundMs = messages * intervalS * 1000;
  const limit = upload.receivedAt - boundMs - BACKFILL_TOLERANCE_MS;
  let count = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const r of upload.readings) {
    const t = r.sampleTime ?? upload.receivedAt;
    if (t < limit) { count++; oldest = Math.min(oldest, t); }
  }
  return count ? { count, oldest, boundMs } : null;
}

/** Readings dated more than the tolerance before the device's registration, or null when there are none. */
export function backfillBeforeRegistration(device: Device, upload: Upload): { count: number; oldest: number } | null {
  const limit = device.createdAt - BACKFILL_TOLERANCE_MS;
  let count = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const r of upload.readings) {
    const t = r.sampleTime ?? upload.receivedAt;
    if (t < limit) { count++; oldest = Math.min(oldest, t); }
  }
  return count ? { count, oldest } : null;
}

/**
 * The clock reading and the skew it leaves, recorded when a logger's first upload of this run is
 * accepted and whenever the reading or what decided it changes; a warning when the clock is off by
 * more than the 5 minutes a sample may lie ahead.
 */
function loggerClockEvent(device: Device, rt: DeviceRuntime, upload: Upload, clock: LoggerClockDecision): EventRow | null {
  const last = rt.loggerClock;
  if (last && last.counts === clock.counts && last.basis === clock.basis) return null;
  rt.loggerClock = { counts: clock.counts, basis: clock.basis };
  const evidence = upload.meta.clock as LoggerClockEvidence;
  const offset = evidence.offsetMinutes;
  const reading = clock.counts === 'local' ? `local time (Timezone ${offset! >= 0 ? '+' : ''}${offset} min)` : 'UTC';
  const why = clock.basis === 'administrator' ? 'as set by an administrator'
    : clock.basis === 'no-offset' ? 'its Timezone is 0 or not used, so both readings agree'
      : `decided from its send time (read as ${clock.counts === 'local' ? 'UTC' : 'local time'} it would be ${describeSkew(clock.counts === 'local' ? evidence.skewIfUtcMs : evidence.skewIfLocalMs!)})`;
  const off = Math.abs(clock.skewMs) > MAX_FUTURE_SKEW_MS;
  return {
    at: upload.receivedAt, deviceId: device.id, type: 'device.clock', level: off ? 'warning' : 'info',
    message: `${device.name} (serial ${device.serial}): logger clock read as ${reading}, ${why}; its send time is ${describeSkew(clock.skewMs)} the receive time` +
      (off ? '. The logger clock is wrong or the reading is: check its time settings, or set the reading with inlet device set-clock' : ''),
    data: { counts: clock.counts, basis: clock.basis, previous: last?.counts ?? null, setting: device.loggerClock ?? 'auto', offsetMinutes: offset, skewMs: clock.skewMs, skewIfUtcMs: evidence.skewIfUtcMs, skewIfLocalMs: evidence.skewIfLocalMs },
  };
}

/**
 * A channel the device filled with a real value although the model table says the model lacks it
 * (the adapter keeps such readings and lists them in meta.unexpectedChannels): stored, and flagged
 * once per device and set of channels, since the table, not the device, is likely wrong.
 */
function unexpectedChannelEvent(device: Device, rt: DeviceRuntime, upload: Upload): EventRow | null {
  const unexpected = upload.meta.unexpectedChannels as { channel: number; quantity: string; value: number; model: string }[] | undefined;
  if (!unexpected?.length) return null;
  const key = unexpected.map((u) => `${u.channel}:${u.quantity}`).join(',');
  if (rt.unexpectedReported === key) return null;
  rt.unexpectedReported = key;
  const listed = unexpected.map((u) => `channel ${u.channel} (${u.quantity}, ${u.value})`).join(', ');
  return {
    at: upload.receivedAt, deviceId: device.id, type: 'device.unexpected-channel', level: 'warning',
    message: `${device.name} (serial ${device.serial}, ${unexpected[0].model}) sent ${listed}, which Inlet's model table does not expect for this model: ` +
      'stored as received; please report the model and its channels so the table can be corrected',
    data: { channels: unexpected },
  };
}

/** A loop, not Math.min(...spread): a logger backlog holds 100,000 readings, beyond a safe argument count. */
function oldestSampleTime(upload: Upload): number {
  let oldest = Number.POSITIVE_INFINITY;
  for (const r of upload.readings) oldest = Math.min(oldest, r.sampleTime ?? upload.receivedAt);
  return Number.isFinite(oldest) ? oldest : upload.receivedAt;
}

/**
 * Alarm state per channel as of the newest reading, so that a batch compares like one message. A
 * message with each channel once (a periodic upload) is written out directly; only a batch that
 * repeats a channel is reduced per channel first.
 */
function newestAlarmStates(upload: Upload): string {
  const readings = upload.readings;
  let text = '';
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i];
    for (let j = 0; j < i; j++) if (readings[j].channel === r.channel) return newestAlarmStatesPerChannel(readings);
    text += i === 0 ? `${r.channel}:${r.alarm}` : `,${r.channel}:${r.alarm}`;
  }
  return text;
}

function newestAlarmStatesPerChannel(readings: readonly Reading[]): string {
  const byChannel = new Map<number, Reading>();
  for (const r of readings) {
    const seen = byChannel.get(r.channel);
    if (!seen || (r.sampleTime ?? 0) >= (seen.sampleTime ?? 0)) byChannel.set(r.channel, r);
  }
  return [...byChannel].map(([channel, r]) => `${channel}:${r.alarm}`).join(',');
}
