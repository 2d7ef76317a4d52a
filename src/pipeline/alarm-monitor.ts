// Applies the alarm limits (rules in alarm-rules.ts) and the devices' own alarm states and sensor
// errors (device-alarm-rules.ts) to every reading the pipeline stores, and records the alarms they
// raise and clear. Evaluation is synchronous and in arrival order; the
// store writes queue behind one another, so a clear is never written before its raise.
import type { AlarmLimit, Device, SampleRow } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import { Backoff } from '../domain/backoff.ts';
import { evaluateReading, initialLimitState, type AlarmTransition, type LimitState } from './alarm-rules.ts';
import { evaluateDeviceReading, initialDeviceChannelState, type DeviceAlarmTransition, type DeviceChannelState } from './device-alarm-rules.ts';
import type { PipelineLogger } from './pipeline.ts';

type AlarmStore = Pick<Store, 'alarmLimits' | 'alarms' | 'raiseAlarm' | 'clearAlarm' | 'samples' | 'listDevices'> & Partial<Pick<Store, 'listChannels'>>;

/** One channel's device-reported state and the ids of its raised alarms (set once their raise is written). */
interface DeviceWatched {
  state: DeviceChannelState;
  deviceAlarmId: number | null;
  sensorAlarmId: number | null;
}

export interface DeviceAlarmSettings {
  /** A sensor error raises an alarm once it lasted this long (config alarms.sensorErrorDelayS). */
  sensorErrorDelayS: number;
}

/** "Fridge A (serial 20960050, Pharmacy) channel 1 temperature": device, place, channel and quantity. */
export function channelName(device: Device, channel: number, quantity: string | undefined): string {
  return `${device.name} (serial ${device.serial}${device.location ? `, ${device.location}` : ''}) channel ${channel}${quantity ? ` ${quantity.replace(/_/g, ' ')}` : ''}`;
}

const withUnit = (value: number | null, unit: string | undefined) => (value === null ? 'no value' : unit ? `${value} ${unit}` : String(value));

/**
 * How far back load() re-reads stored readings to find alarm changes a crash kept from being written
 * (readings are committed before their alarms are): from the limit's last recorded change, but never
 * more than this, and at most CATCH_UP_READINGS readings per channel.
 */
export const CATCH_UP_MS = 24 * 3600_000;
const CATCH_UP_READINGS = 50_000;

interface Watched {
  limit: AlarmLimit;
  state: LimitState;
  /** Id of the raised, uncleared alarm; set once its raise is written. */
  alarmId: number | null;
}

/** Setting a limit to the values it had keeps its state: only a changed rule starts afresh. */
const sameLimit = (a: AlarmLimit, b: AlarmLimit) => JSON.stringify({ ...a, updatedAt: 0 }) === JSON.stringify({ ...b, updatedAt: 0 });

const key = (deviceId: number, channel: number, level: string) => `${deviceId}:${channel}:${level}`;

export class AlarmMonitor {
  private readonly store: AlarmStore;
  private readonly log: PipelineLogger;
  private watched = new Map<string, Watched>();
  private byChannel = new Map<string, Watched[]>();
  private devicesWithLimits = new Set<number>();
  private writes: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly retry: Backoff;
  private readonly deviceSettings: DeviceAlarmSettings;
  private deviceWatched = new Map<string, DeviceWatched>();

  constructor(store: AlarmStore, log: PipelineLogger, retry = { firstMs: 1000, maxMs: 30_000 }, deviceSettings: DeviceAlarmSettings = { sensorErrorDelayS: 300 }) {
    this.store = store;
    this.log = log;
    this.retry = new Backoff(retry.firstMs, retry.maxMs);
    this.deviceSettings = deviceSettings;
  }

  /**
   * Reads the limits, picks up limit alarms still raised (not cleared) from before a restart, and
   * evaluates the readings stored since each limit's last recorded change, so that an alarm whose
   * reading was committed just before a crash (and whose raise or clear was not) is written now.
   */
  async load(now = Date.now()): Promise<void> {
    await this.reloadLimits();
    for (const alarm of await this.store.alarms({ open: true, limit: 10_000 })) {
      if (alarm.clearedAt !== null || alarm.deviceId === null || alarm.channel === null) continue;
      // the devices' own alarms still raised: the next reading with the state back to normal clears them
      if (alarm.kind === 'device' || alarm.kind === 'sensor') {
        const d = this.deviceEntry(alarm.deviceId, alarm.channel);
        if (alarm.kind === 'device' && d.deviceAlarmId === null) { d.state = { ...d.state, alarm: alarm.direction }; d.deviceAlarmId = alarm.id; }
        if (alarm.kind === 'sensor' && d.sensorAlarmId === null) { d.state = { ...d.state, errorRaised: true }; d.sensorAlarmId = alarm.id; }
        continue;
      }
      if (alarm.source !== 'limit') continue;
      const w = this.watched.get(key(alarm.deviceId, alarm.channel, alarm.level));
      if (w && w.alarmId === null) { w.state = initialLimitState(alarm.direction); w.alarmId = alarm.id; }
    }
    await this.catchUp(now);
  }

  private async catchUp(now: number): Promise<void> {
    const deviceIds = new Set([...this.watched.values()].map((w) => w.limit.deviceId));
    if (!deviceIds.size) return;
    const devices = new Map((await this.store.listDevices()).map((d) => [d.id, d]));
    let transitions = 0;
    for (const deviceId of deviceIds) {
      const device = devices.get(deviceId);
      if (!device) continue;
      const recorded = (await this.store.alarms({ deviceId, limit: 10_000 })).filter((a) => a.source === 'limit');
      for (const w of [...this.watched.values()].filter((x) => x.limit.deviceId === deviceId)) {
        const last = recorded.find((a) => a.channel === w.limit.channel && a.level === w.limit.level);
        const lastChange = last ? (last.clearedAt ?? last.raisedAt) : Number.NEGATIVE_INFINITY;
        // Readings from before the limit was set never raised anything live, so they do not now either.
        const from = Math.max(lastChange, w.limit.updatedAt ?? now, now - CATCH_UP_MS);
        const readings = await this.store.samples(deviceId, w.limit.channel, from, now + CATCH_UP_MS, CATCH_UP_READINGS);
        for (const reading of readings) {
          const { state, transitions: changes } = evaluateReading(w.limit, w.state, reading);
          w.state = state;
          transitions += changes.length;
          for (const t of changes) this.enqueue(() => this.record(device, w, t));
        }
      }
    }
    await this.writes;
    if (transitions) this.log.warn('alarm changes found in readings stored before the last stop and recorded now', { transitions });
  }

  /** After an administrator changed limits: unchanged limits keep their state, changed ones start afresh. */
  async reloadLimits(): Promise<void> {
    const watched = new Map<string, Watched>();
    const byChannel = new Map<string, Watched[]>();
    for (const limit of await this.store.alarmLimits()) {
      const k = key(limit.deviceId, limit.channel, limit.level);
      const old = this.watched.get(k);
      const same = old && sameLimit(old.limit, limit);
      const w: Watched = same ? old : { limit, state: initialLimitState(old?.state.raised ?? null), alarmId: old?.alarmId ?? null };
      watched.set(k, w);
      const ck = `${limit.deviceId}:${limit.channel}`;
      byChannel.set(ck, [...(byChannel.get(ck) ?? []), w]);
    }
    // a limit removed while its alarm is raised: nothing could ever clear that alarm otherwise
    for (const [k, old] of this.watched) {
      const alarmId = old.alarmId;
      if (!watched.has(k) && alarmId !== null) this.enqueue(async () => { await this.store.clearAlarm(alarmId, Date.now(), null); });
    }
    this.watched = watched;
    this.byChannel = byChannel;
    this.devicesWithLimits = new Set([...watched.values()].map((w) => w.limit.deviceId));
  }

  /** Evaluates stored readings of one device; the resulting alarms are written in the background. */
  observe(device: Device, samples: SampleRow[]): void {
    // Most channels have no limits and no alarm: a backlog of 100,000 readings is then neither copied nor sorted.
    const deviceStates = samples.some((s) => s.alarm !== 'no' || s.errorCode !== null) || this.hasRaisedDeviceAlarm(device.id);
    if (!this.devicesWithLimits.has(device.id) && !deviceStates) return;
    const sorted = [...samples].sort((a, b) => a.time - b.time);
    if (deviceStates) this.observeDeviceStates(device, sorted);
    if (!this.devicesWithLimits.has(device.id)) return;
    for (const sample of sorted) {
      for (const w of this.byChannel.get(`${device.id}:${sample.channel}`) ?? []) {
        const { state, transitions } = evaluateReading(w.limit, w.state, sample);
        w.state = state;
        for (const t of transitions) this.enqueue(() => this.record(device, w, t));
      }
    }
  }

  private deviceEntry(deviceId: number, channel: number): DeviceWatched {
    const k = `${deviceId}:${channel}`;
    let d = this.deviceWatched.get(k);
    if (!d) { d = { state: initialDeviceChannelState(), deviceAlarmId: null, sensorAlarmId: null }; this.deviceWatched.set(k, d); }
    return d;
  }

  private hasRaisedDeviceAlarm(deviceId: number): boolean {
    for (const [k, d] of this.deviceWatched) {
      if (k.startsWith(`${deviceId}:`) && (d.state.alarm !== null || d.state.errorRaised || d.state.errorSince !== null)) return true;
    }
    return false;
  }

  private observeDeviceStates(device: Device, sorted: SampleRow[]): void {
    for (const sample of sorted) {
      const d = this.deviceEntry(device.id, sample.channel);
      const { state, transitions } = evaluateDeviceReading(d.state, sample, this.deviceSettings.sensorErrorDelayS);
      d.state = state;
      for (const t of transitions) this.enqueue(() => this.recordDeviceState(device, sample.channel, d, t));
    }
  }

  /** The channel's quantity and unit, for messages that say what was measured. */
  private async channelFacts(deviceId: number, channel: number): Promise<{ quantity?: string; unit?: string }> {
    if (!this.store.listChannels) return {};
    const found = (await this.store.listChannels(deviceId)).find((c) => c.channel === channel);
    return { quantity: found?.quantity, unit: found?.unit };
  }

  private async recordDeviceState(device: Device, channel: number, d: DeviceWatched, t: DeviceAlarmTransition): Promise<void> {
    if (t.kind === 'clear') {
      const id = t.what === 'device' ? d.deviceAlarmId : d.sensorAlarmId;
      if (id !== null) await this.store.clearAlarm(id, t.at, t.value);
      if (t.what === 'device') d.deviceAlarmId = null; else d.sensorAlarmId = null;
      return;
    }
    const { quantity, unit } = await this.channelFacts(device.id, channel);
    const where = channelName(device, channel, quantity);
    if (t.what === 'device') {
      const alarm = await this.store.raiseAlarm({
        deviceId: device.id, channel, source: 'system', kind: 'device', level: 'alarm', direction: t.direction, raisedAt: t.at, value: t.value,
        message: `${where}: the device reports a ${t.direction} alarm at ${withUnit(t.value, unit)}`,
      });
      d.deviceAlarmId = alarm.id;
      return;
    }
    const lasted = Math.round((t.at - t.since) / 1000);
    const alarm = await this.store.raiseAlarm({
      deviceId: device.id, channel, source: 'system', kind: 'sensor', level: 'alarm', direction: null, raisedAt: t.at, value: null,
      message: `${where}: sensor error ${t.errorCode} (no ${quantity ? quantity.replace(/_/g, ' ') : 'value'} measured: probe failed, missing or out of its range)` +
        `${lasted > 0 ? ` for ${lasted} s` : ''}`,
    });
    d.sensorAlarmId = alarm.id;
  }

  private async record(device: Device, w: Watched, t: AlarmTransition): Promise<void> {
    const { limit } = w;
    if (t.kind === 'clear') {
      if (w.alarmId !== null) await this.store.clearAlarm(w.alarmId, t.at, t.value);
      w.alarmId = null;
      return;
    }
    const { quantity, unit } = await this.channelFacts(device.id, limit.channel);
    const alarm = await this.store.raiseAlarm({
      deviceId: device.id, channel: limit.channel, source: 'limit', level: limit.level, direction: t.direction, raisedAt: t.at, value: t.value,
      message: `${channelName(device, limit.channel, quantity)}: ${withUnit(t.value, unit)} is ${t.direction === 'high' ? 'above' : 'below'} ` +
        `the ${limit.level} ${t.direction} limit ${withUnit(t.limit, unit)}${limit.delayS ? ` for ${limit.delayS} s` : ''}`,
    });
    w.alarmId = alarm.id;
  }

  private enqueue(write: () => Promise<void>): void {
    this.writes = this.writes.then(() => this.untilWritten(write)).catch((err: Error) => this.log.error(
      this.stopping && err instanceof StoreUnavailableError
        ? 'an alarm change was not recorded before the stop (the database was unavailable); the next start derives it again from the stored readings'
        : 'could not record an alarm', { error: err.message }));
  }

  /**
   * Retries a write while the database is unavailable (its readings are in the spool meanwhile),
   * so that an outage delays alarms instead of losing them. Writes stay in order: a clear never
   * overtakes its raise. Gives up only when the gateway stops.
   */
  private async untilWritten(write: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await write();
        this.retry.reset();
        return;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || this.stopping) throw err;
        this.log.warn('an alarm change waits for the database to be available again', { error: err.message, retryInMs: this.retry.nextMs });
        await this.retry.sleep();
      }
    }
  }

  /** At stop: no more waiting for the database; resolves once the writes in hand are done or given up. */
  stop(): Promise<void> {
    this.stopping = true;
    this.retry.wake();
    return this.writes;
  }

  /** Resolves once every alarm evaluated so far is written. */
  idle(): Promise<void> {
    return this.writes;
  }
}
