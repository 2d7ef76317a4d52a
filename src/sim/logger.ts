// Simulated GSM/LTE logger uploads (JsonType 1, JsonVersion 6 positional arrays, spec §5): one message,
// or a buffered batch as an outer array of messages.
import { encodeHexFloat32 } from '../ingest/common/hex-float.ts';
import { msToEpoch2000Hex } from '../ingest/common/time.ts';
import { LOGGER_JSON_TYPE } from '../ingest/logger/index.ts';
import { LOGGER_CLOCK_COUNTS } from '../ingest/logger/tables.ts';
import type { HexCase, SimValue } from './comet-json-object.ts';

export interface SimLoggerAnalogChannel {
  nr: number;
  label: string;
  value: SimValue;
  unit: string;
  dec?: number;
  alarms?: [number, number];
  alarmLimits?: [number, number];
  behaviours?: [number, number];
}

export interface SimLoggerBinaryChannel {
  nr: number;
  binary: true;
  label: string;
  state: 0 | 1;
  /** [description of state 0, description of state 1] */
  descriptions: [string, string];
  alarms?: [number, number];
  behaviours?: [number, number];
}

export interface SimLoggerMessage {
  serial: number;
  description?: string;
  model: number;
  orderId: number;
  isAsync?: boolean;
  rstOk?: boolean;
  sampleTime: number;
  /** When the message is sent; defaults to sampleTime. */
  now?: number;
  /** UTC offset in quarter hours; -128 = not used. Default 0. */
  timezoneQuarterHours?: number;
  /** Whether the logger's clock counts UTC or local seconds (COMET does not say; both must be stored). Default as the parser's first reading (LOGGER_CLOCK_COUNTS). */
  clockCounts?: 'utc' | 'local';
  intervalPowerMode?: number;
  intervalBatteryMode?: number;
  bufferedMax?: number;
  aStateMask?: number;
  /** Default 192: external power present + recording active. */
  aState?: number;
  nConf?: number;
  alarmsEvalOff?: boolean;
  customerUid?: string;
  batteryPercentage?: number;
  /** GSM CSQ 0-31, 99 = unknown. */
  rssi?: number;
  /** Loggers write hex in lower case (COMET fixture); default 'lower'. */
  hexCase?: HexCase;
  channels: (SimLoggerAnalogChannel | SimLoggerBinaryChannel)[];
}

/** The positional array of one JsonVersion 6 message. */
export function buildLoggerMessage(m: SimLoggerMessage): unknown[] {
  const hexCase = m.hexCase ?? 'lower';
  const timezone = m.timezoneQuarterHours ?? 0;
  // By default the counter is written the way the parser first reads it (see LOGGER_CLOCK_COUNTS).
  const shift = (m.clockCounts ?? LOGGER_CLOCK_COUNTS) === 'local' && timezone !== -128 ? timezone * 15 * 60_000 : 0;
  const clock = (ms: number) => msToEpoch2000Hex(ms + shift, hexCase);
  const flag = (b: boolean | undefined) => (b ? 1 : 0);
  return [
    LOGGER_JSON_TYPE, 6, m.rssi ?? 20, clock(m.now ?? m.sampleTime), m.orderId, flag(m.isAsync), m.serial,
    m.description ?? 'Datalogger', m.model, clock(m.sampleTime), timezone, m.intervalPowerMode ?? 600,
    m.intervalBatteryMode ?? 3600, flag(m.rstOk), m.bufferedMax ?? 1, m.aStateMask ?? 65535, m.aState ?? 192,
    m.nConf ?? 1, flag(m.alarmsEvalOff), m.customerUid ?? 'customer-uid-001', m.batteryPercentage ?? 100,
    m.channels.map((c) => ('binary' in c
      ? [c.nr, 1, c.label, c.descriptions, c.state, c.alarms ?? [0, 0], c.behaviours ?? [0, 0]]
      : [c.nr, 0, c.label, encodeHexFloat32(c.value, hexCase), c.unit, c.dec ?? 1, c.alarms ?? [0, 0],
        (c.alarmLimits ?? [0, 0]).map((l) => encodeHexFloat32(l, hexCase)), c.behaviours ?? [0, 0]])),
  ];
}

/** One message as a body, or several as a batch (outer array). */
export function buildLoggerBody(messages: SimLoggerMessage | SimLoggerMessage[]): Buffer {
  const json = Array.isArray(messages) ? messages.map(buildLoggerMessage) : buildLoggerMessage(messages);
  return Buffer.from(JSON.stringify(json), 'utf8');
}

export interface SimLoggerBacklog {
  serial: number;
  model?: number;
  customerUid?: string;
  /** Samples in the backlog, spread over messages of `channels` channels each (rounded up to whole messages). */
  samples: number;
  /** 1 to 4 analog channels: temperature, humidity, dew point, pressure. */
  channels?: number;
  intervalS: number;
  /** Sample time of the newest message; older messages go back one interval each. */
  newestSampleTime: number;
  /** When the backlog is sent; defaults to newestSampleTime. */
  now?: number;
  /** OrderId of the oldest message; later ones count up and wrap at 256 as the logger's counter does. */
  firstOrderId?: number;
}

const BACKLOG_CHANNELS = [
  { label: 'Temperature', unit: '°C', base: 4, swing: 2 },
  { label: 'Rel. humidity', unit: '%RH', base: 60, swing: 10 },
  { label: 'Dew point', unit: '°C', base: -2, swing: 1 },
  { label: 'Pressure', unit: 'hPa', base: 1005, swing: 8 },
] as const;

/** The messages a logger sends when it regains coverage: one per recording interval, oldest first. */
export function loggerBacklogMessages(b: SimLoggerBacklog): SimLoggerMessage[] {
  const channelCount = b.channels ?? 4;
  if (!Number.isInteger(channelCount) || channelCount < 1 || channelCount > BACKLOG_CHANNELS.length) {
    throw new Error(`a simulated backlog has 1 to ${BACKLOG_CHANNELS.length} channels, not ${channelCount}`);
  }
  const count = Math.ceil(b.samples / channelCount);
  const intervalMs = b.intervalS * 1000;
  return Array.from({ length: count }, (_, i) => ({
    serial: b.serial, model: b.model ?? 1, customerUid: b.customerUid, orderId: ((b.firstOrderId ?? 0) + i) % 256,
    sampleTime: b.newestSampleTime - (count - 1 - i) * intervalMs, now: b.now ?? b.newestSampleTime,
    intervalPowerMode: b.intervalS, intervalBatteryMode: b.intervalS,
    channels: BACKLOG_CHANNELS.slice(0, channelCount).map((c, nr) => ({
      nr: nr + 1, label: c.label, unit: c.unit, value: Number((c.base + c.swing * Math.sin((i + nr) / 50)).toFixed(1)),
    })),
  }));
}
