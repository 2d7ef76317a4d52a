// Gathers what one report shows, from the Store interface only: devices with model and serial,
// each channel's limits, samples (read a month at a time, analysed in one pass), alarms with their
// acknowledgement, and the events of the period. The result is plain data; pdf.ts draws it and
// verification.ts hashes it.
import type { AlarmLimit, Channel, Device } from '../domain/types.ts';
import type { Store, StoredAlarm, StoredEvent } from '../store/store.ts';
import { allowedIntervalS } from '../pipeline/throttle.ts';
import { ChannelAnalyzer, type ChannelAnalysis, type Excursion } from './analysis.ts';
import { localDayStarts } from './time-zone.ts';
import { segmentsOf, splitByUnit } from '../store/unit-versions.ts';

const DAY_MS = 86_400_000;
/** Samples are read this much at a time, so that a year of one-minute data never sits in memory twice. */
const READ_WINDOW_MS = 31 * DAY_MS;
export const REPORT_LIMITS = { rangeMs: 400 * DAY_MS, devices: 50, channels: 64, events: 2000, alarms: 2000 } as const;

export interface ReportRequest {
  deviceIds: number[];
  /** "deviceId:channel" pairs to keep; absent: every channel of the devices. */
  channels?: string[];
  from: number;
  to: number;
  timeZone: string;
  /** Title of the report; absent: the devices' locations. */
  title?: string;
}

export interface ReportSettings {
  site: string;
  activationEnergyKJPerMol: number;
  version: string;
}

export interface ExcursionRow extends Excursion {
  /** The alarm raised for it, if any, with its acknowledgement. */
  alarm: Pick<StoredAlarm, 'id' | 'raisedAt' | 'acknowledgedAt' | 'acknowledgedBy' | 'ackComment' | 'clearedAt'> | null;
}

export interface ChannelSection {
  deviceId: number;
  channel: number;
  quantity: string;
  unit: string;
  /**
   * Set only when the channel's unit changed inside the period: this section covers the samples of
   * `unit` alone, valid from/until these times (each unit version is its own section, never converted).
   */
  unitFrom?: number | null;
  unitUntil?: number | null;
  limits: AlarmLimit[];
  analysis: Omit<ChannelAnalysis, 'excursions'>;
  excursions: ExcursionRow[];
  alarms: StoredAlarm[];
}

export interface DeviceSummary { id: number; name: string; location: string; model: string; serial: string; family: string; intervalS: number }

export interface ReportModel {
  title: string;
  site: string;
  from: number;
  to: number;
  /** Data was expected up to here (the period's end, or the time of making when the period is not over). */
  end: number;
  timeZone: string;
  activationEnergyKJPerMol: number;
  version: string;
  devices: DeviceSummary[];
  channels: ChannelSection[];
  events: StoredEvent[];
  eventsLeftOut: number;
}

export class ReportRequestError extends Error {}

/** Matches each excursion to the limit alarm raised for it: same channel, level and direction, raised while it lasted. */
export function matchAlarms(excursions: Excursion[], alarms: StoredAlarm[], intervalMs: number, from: number, end: number): ExcursionRow[] {
  const used = new Set<number>();
  return excursions.map((e) => {
    const until = (e.end ?? end) + intervalMs;
    // an excursion already under way when the period starts may have had its alarm raised before it
    const since = e.start <= from + intervalMs ? Number.NEGATIVE_INFINITY : e.start;
    const alarm = alarms.find((a) => !used.has(a.id) && a.source === 'limit' && a.level === e.level && a.direction === e.direction &&
      a.raisedAt >= since && a.raisedAt <= until && (a.clearedAt === null || a.clearedAt >= e.start));
    if (!alarm) return { ...e, alarm: null };
    used.add(alarm.id);
    const { id, raisedAt, acknowledgedAt, acknowledgedBy, ackComment, clearedAt } = alarm;
    return { ...e, alarm: { id, raisedAt, acknowledgedAt, acknowledgedBy, ackComment, clearedAt } };
  });
}

export async function buildReport(store: Store, request: ReportRequest, settings: ReportSettings, now: number): Promise<ReportModel> {
  const { from, to, timeZone } = request;
  if (!(to > from)) throw new ReportRequestError('the period is empty: "to" must be after "from"');
  if (to - from > REPORT_LIMITS.rangeMs) throw new ReportRequestError(`the period is too long: at most ${REPORT_LIMITS.rangeMs / DAY_MS} days in one report`);
  const ids = [...new Set(request.deviceIds)];
  if (!ids.length) throw new ReportRequestError('name at least one device');
  if (ids.length > REPORT_LIMITS.devices) throw new ReportRequestError(`at most ${REPORT_LIMITS.devices} devices in one report`);
  const [allDevices, allChannels] = await Promise.all([store.listDevices(), store.listChannels()]);
  const byId = new Map(allDevices.map((d) => [d.id, d]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length) throw new ReportRequestError(`no device with id ${missing.join(', ')}`);
  const devices = ids.map((id) => byId.get(id)!);
  const wanted = request.channels ? new Set(request.channels) : null;
  const channels: [Device, Channel][] = devices.flatMap((d) => allChannels.filter((c) => c.deviceId === d.id && (!wanted || wanted.has(`${d.id}:${c.channel}`))).map((c) => [d, c] as [Device, Channel]));
  if (wanted) {
    const known = new Set(channels.map(([d, c]) => `${d.id}:${c.channel}`));
    const unknown = [...wanted].filter((w) => !known.has(w));
    if (unknown.length) throw new ReportRequestError(`no channel ${unknown.join(', ')} (device:channel) among the devices asked for`);
  }
  if (channels.length > REPORT_LIMITS.channels) throw new ReportRequestError(`at most ${REPORT_LIMITS.channels} channels in one report; you asked for ${channels.length}`);
  const end = Math.max(from, Math.min(to, now));
  const dayStarts = localDayStarts(from, to, timeZone);
  const limits = await store.alarmLimits();
  const alarmsByDevice = new Map<number, StoredAlarm[]>();
  for (const d of devices) {
    // alarms that were open at some time in the period, oldest first
    const alarms = (await store.alarms({ deviceId: d.id, limit: 10_000 }))
      .filter((a) => a.raisedAt < to && (a.clearedAt === null || a.clearedAt >= from)).reverse();
    alarmsByDevice.set(d.id, alarms);
  }

  const sections: ChannelSection[] = [];
  const unitVersions = new Map<number, Awaited<ReturnType<Store['channelUnits']>>>();
  for (const d of devices) unitVersions.set(d.id, await store.channelUnits(d.id));
  // One section per unit version in the period (units never change history): each analysed in its own unit.
  const segments = channels.flatMap(([device, channel]) =>
    segmentsOf({ device, channel }, (unitVersions.get(device.id) ?? []).filter((v) => v.channel === channel.channel), from, to));
  for (const seg of segments) {
    const { device, channel } = seg.ref;
    const split = splitByUnit(seg);
    const intervalMs = allowedIntervalS(device.family, device.allowedIntervalS, device.declaredIntervalS) * 1000;
    // Limits are set in the channel's current unit: they do not apply to samples in an earlier unit.
    const channelLimits = seg.unit === channel.unit ? limits.filter((l) => l.deviceId === device.id && l.channel === channel.channel) : [];
    const segEnd = Math.max(seg.from, Math.min(seg.to, end));
    const analyzer = new ChannelAnalyzer({
      from: seg.from, to: seg.to, end: segEnd, intervalMs, dayStarts: split ? localDayStarts(seg.from, seg.to, timeZone) : dayStarts, chartPoints: 700,
      limits: channelLimits.map((l) => ({ level: l.level, high: l.high, low: l.low })),
      temperatureUnit: seg.quantity === 'temperature' ? seg.unit : null,
      activationEnergyKJPerMol: settings.activationEnergyKJPerMol,
    });
    for (let start = seg.from; start < seg.to; start += READ_WINDOW_MS) {
      const c = await store.channelSamples(device.id, channel.channel, start, Math.min(seg.to, start + READ_WINDOW_MS));
      for (let i = 0; i < c.length; i++) {
        analyzer.addSample(c.time[i], Number.isNaN(c.value[i]) ? null : c.value[i], Number.isNaN(c.errorCode[i]) ? null : c.errorCode[i]);
      }
    }
    const { excursions, ...analysis } = analyzer.finish();
    const alarms = (alarmsByDevice.get(device.id) ?? []).filter((a) => a.channel === channel.channel &&
      // an alarm belongs to the unit its reading was in: raised after this unit began and before the next
      (seg.unitFrom === null || a.raisedAt >= seg.unitFrom) && (seg.unitUntil === null || a.raisedAt < seg.unitUntil));
    sections.push({
      deviceId: device.id, channel: channel.channel, quantity: seg.quantity, unit: seg.unit,
      ...(split ? { unitFrom: seg.unitFrom, unitUntil: seg.unitUntil } : {}), limits: channelLimits,
      analysis, excursions: matchAlarms(excursions, alarms, intervalMs, seg.from, segEnd), alarms: alarms.slice(0, REPORT_LIMITS.alarms),
    });
  }

  const events = (await Promise.all(devices.map((d) => store.events({ deviceId: d.id, since: from, limit: 10_000 }))))
    .flat().filter((e) => e.at < end).sort((a, b) => a.at - b.at || a.id - b.id);
  const locations = [...new Set(devices.map((d) => d.location).filter(Boolean))];
  return {
    title: request.title ?? (locations.length ? locations.join(', ') : devices.map((d) => d.name).join(', ')),
    site: settings.site, from, to, end, timeZone, activationEnergyKJPerMol: settings.activationEnergyKJPerMol, version: settings.version,
    devices: devices.map((d) => ({
      id: d.id, name: d.name, location: d.location, model: d.model, serial: d.serial, family: d.family,
      intervalS: allowedIntervalS(d.family, d.allowedIntervalS, d.declaredIntervalS),
    })),
    channels: sections,
    events: events.slice(0, REPORT_LIMITS.events),
    eventsLeftOut: Math.max(0, events.length - REPORT_LIMITS.events),
  };
}
