// GSM/LTE data loggers UxxxxM/UxxxxG: HTTP POST of a positional JSON array, JsonType 1 (spec §5).
// A body is one message, or a batch: an outer array of messages (buffered mode; framing not documented,
// so both are accepted). One upload may thus carry many samples, each with its own sample time.
import type { MessageKind, Reading, Upload, Verdict } from '../../domain/types.ts';
import type { DeviceAnswer, IngestAdapter, ParseResult, RequestContext } from '../adapter.ts';
import { alarmStateFromPairs } from '../common/alarm.ts';
import { decodeHexFloat32, type HexFloatResult } from '../common/hex-float.ts';
import { readJsonBody } from '../common/json-body.ts';
import { BINARY_QUANTITY, normaliseQuantity } from '../common/quantity.ts';
import { compileSchema, dottedName } from '../common/schema.ts';
import { decodeQuarterHourTimezone, epoch2000HexToMs } from '../common/time.ts';
import {
  ANALOG_CHANNEL_FIELDS, ANALOG_CHANNEL_SCHEMA, BINARY_CHANNEL_FIELDS, BINARY_CHANNEL_SCHEMA, LOGGER_LAYOUTS, loggerLayout, type LoggerMessage,
} from './layouts.ts';
import { ASTATE_EXTERNAL_POWER, LOGGER_CLOCK_COUNTS, LOGGER_KIND_RANK, LOGGER_MODELS, loggerMessageKind } from './tables.ts';
import { INGEST_PATH_SEGMENT } from '../families.ts';

export const LOGGER_JSON_TYPE = 1;
/**
 * A logger that was out of coverage sends its backlog, which must fit in one upload: 100,000 samples
 * as 25,000 messages of 4 channels are about 10.3 MB of compact JSON (412 B a message as the simulator
 * writes it; longest Desc, CustomerUid, labels and units add up to about 25 %). 16 MiB leaves that
 * headroom. The number of messages is bounded by this cap only: BufferedModeMaxMessagesCnt (at most
 * 255) sizes the normal buffered mode, not a backlog.
 */
export const LOGGER_MAX_BODY_BYTES = 16 * 1024 * 1024;
const LOGGER_MAX_DEPTH = 8;

/** Refusal names say both the documented name and the array position, since the format has no keys. */
function positionalName(fields: readonly string[]) {
  return (segments: string[]) => {
    // Tuple schemas report the position; names are what the documentation uses.
    const index = /^\d+$/.test(segments[0] ?? '') ? Number(segments[0]) : -1;
    if (index < 0 || index >= fields.length) return dottedName(segments);
    return `${dottedName([fields[index], ...segments.slice(1)])} (element ${index})`;
  };
}

const messageValidators = new Map(
  Object.entries(LOGGER_LAYOUTS).map(([version, layout]) => [
    Number(version),
    compileSchema<unknown[]>(layout.schema, positionalName(layout.fields)),
  ]),
);
const validateAnalog = compileSchema<unknown[]>(ANALOG_CHANNEL_SCHEMA, positionalName(ANALOG_CHANNEL_FIELDS));
const validateBinary = compileSchema<unknown[]>(BINARY_CHANNEL_SCHEMA, positionalName(BINARY_CHANNEL_FIELDS));

/** Where a layout keeps each field: the positions of the fields this parser reads. */
function positions(fields: readonly string[]): Record<keyof LoggerMessage, number> {
  return Object.fromEntries(fields.map((f, i) => [f, i])) as Record<keyof LoggerMessage, number>;
}
const LAYOUT_POSITIONS = new Map(Object.entries(LOGGER_LAYOUTS).map(([version, layout]) => [Number(version), positions(layout.fields)]));

/** Channel element positions (the same in every documented version). */
const CH_NUMBER = 0;
const CH_QUANTITY = 2;
const AN_VALUE = ANALOG_CHANNEL_FIELDS.indexOf('Value');
const AN_UNIT = ANALOG_CHANNEL_FIELDS.indexOf('Unit');
const AN_DEC = ANALOG_CHANNEL_FIELDS.indexOf('DecimalPlaces');
const AN_ALARMS = ANALOG_CHANNEL_FIELDS.indexOf('Alarms');
const AN_LIMITS = ANALOG_CHANNEL_FIELDS.indexOf('AlarmLimits');
const AN_BEHAVIOURS = ANALOG_CHANNEL_FIELDS.indexOf('AlarmBehaviours');
const BI_DESCRIPTIONS = BINARY_CHANNEL_FIELDS.indexOf('BinDescriptions');
const BI_STATE = BINARY_CHANNEL_FIELDS.indexOf('State');
const BI_ALARMS = BINARY_CHANNEL_FIELDS.indexOf('Alarms');
const BI_BEHAVIOURS = BINARY_CHANNEL_FIELDS.indexOf('AlarmBehaviours');

type Step<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * What decoding one upload's messages keeps: every reading in one list, and per-upload caches. A
 * backlog is 25,000 messages of the same few labels, and values at a sensor's resolution repeat, so
 * hex values, timezones and quantity names are decoded once each.
 */
class Decoder {
  readonly readings: Reading[] = [];
  private readonly hex = new Map<string, HexFloatResult>();
  private readonly quantityByLabel: (readonly [string, string] | undefined)[] = [];

  hexFloat(text: string): HexFloatResult {
    let r = this.hex.get(text);
    if (r === undefined) { r = decodeHexFloat32(text); this.hex.set(text, r); }
    return r;
  }

  quantity(label: string, channel: number): string {
    const last = this.quantityByLabel[channel];
    if (last && last[0] === label) return last[1];
    const q = normaliseQuantity(label, channel);
    this.quantityByLabel[channel] = [label, q];
    return q;
  }
}

export function parseLoggerUpload(raw: Buffer, ctx: RequestContext): ParseResult {
  try {
    return parseBody(raw, ctx);
  } catch (err) {
    return { ok: false, status: 500, reason: `internal parser error: ${(err as Error).message}` };
  }
}

function parseBody(raw: Buffer, ctx: RequestContext): ParseResult {
  const body = readJsonBody(raw, { maxBytes: LOGGER_MAX_BODY_BYTES, maxDepth: LOGGER_MAX_DEPTH });
  if (!body.ok) return body;
  const json = body.value;
  if (!Array.isArray(json) || json.length === 0) {
    return { ok: false, status: 422, reason: 'expected a logger message (JSON array starting with JsonType 1) or a non-empty array of them' };
  }
  const isBatch = Array.isArray(json[0]);
  const items: unknown[] = isBatch ? json : [json];

  const decoder = new Decoder();
  for (let index = 0; index < items.length; index++) {
    const step = decodeMessage(items[index], decoder);
    if (!step.ok) return { ok: false, status: 422, reason: (isBatch ? `message ${index}: ` : '') + step.reason, serial: statedSerial(items[index]) };
  }

  // Every message decoded, so each is an array of its version's layout.
  const messages = items as unknown[][];
  const first = messages[0];
  const firstAt = LAYOUT_POSITIONS.get(first[1] as number)!;
  for (let index = 0; index < messages.length; index++) {
    const at = LAYOUT_POSITIONS.get(messages[index][1] as number)!;
    for (const field of ['Sn', 'CustomerUid', 'Kind'] as const) {
      const value = messages[index][at[field]];
      if (value !== first[firstAt[field]]) {
        return { ok: false, status: 422, serial: serialText(first[firstAt.Sn] as number), reason: `message ${index}: ${field} ${JSON.stringify(value)} differs from message 0 (${JSON.stringify(first[firstAt[field]])}); a batch comes from one logger` };
      }
    }
  }
  return { ok: true, upload: toUpload(messages, decoder, raw, ctx) };
}

/** Checks one message and appends its readings to the decoder's list. */
function decodeMessage(item: unknown, decoder: Decoder): Step<null> {
  if (!Array.isArray(item)) return { ok: false, reason: 'a logger message must be a JSON array' };
  if (item[0] !== LOGGER_JSON_TYPE) {
    return { ok: false, reason: `element 0 (JsonType) is ${JSON.stringify(item[0])}, expected ${LOGGER_JSON_TYPE} (logger online data); check the device's server path` };
  }
  const layout = loggerLayout(item[1]);
  if (!layout) {
    const known = Object.entries(LOGGER_LAYOUTS).map(([v, l]) => `${v} (firmware ${l.firmware})`).join(', ');
    return { ok: false, reason: `JsonVersion ${JSON.stringify(item[1])} has no known field layout; supported: ${known}. Update the logger firmware or add the layout` };
  }
  if (item.length !== layout.fields.length) {
    return { ok: false, reason: `JsonVersion ${item[1]} message must have ${layout.fields.length} elements, got ${item.length}` };
  }
  const checked = messageValidators.get(item[1] as number)!(item);
  if (!checked.ok) return checked;
  const at = LAYOUT_POSITIONS.get(item[1] as number)!;
  const timezone = decodeQuarterHourTimezone(item[at.Timezone] as number);
  if (!timezone.ok) return { ok: false, reason: `field Timezone (element ${at.Timezone}): ${timezone.reason}` };

  // TimeNow and Time are 8 hex digits by the schema, so they decode.
  const sampleTime = loggerInstant(epoch2000HexToMs(item[at.Time] as string)!, timezone.offsetMinutes);
  const channels = item[at.Channels] as unknown[][];
  const firstReading = decoder.readings.length;
  let seen = 0; // bit n: channel number n (1..8 by the schema) already in this message
  for (let index = 0; index < channels.length; index++) {
    const channel = decodeChannel(channels[index], index, sampleTime, decoder);
    if (!channel.ok) {
      decoder.readings.length = firstReading;
      return channel;
    }
    const number = channel.value.channel;
    if (seen & (1 << number)) return { ok: false, reason: `Channels[${index}] repeats channel number ${number}` };
    seen |= 1 << number;
    decoder.readings.push(channel.value);
  }
  return { ok: true, value: null };
}

function decodeChannel(ch: unknown[], index: number, sampleTime: number, decoder: Decoder): Step<Reading> {
  const binary = ch[1] === 1;
  const fields = binary ? BINARY_CHANNEL_FIELDS : ANALOG_CHANNEL_FIELDS;
  if (ch.length !== fields.length) {
    return { ok: false, reason: `Channels[${index}] is ${binary ? 'a binary' : 'an analog'} channel and must have ${fields.length} elements, got ${ch.length}` };
  }
  const checked = (binary ? validateBinary : validateAnalog)(ch, `Channels[${index}].`);
  if (!checked.ok) return checked;
  const number = ch[CH_NUMBER] as number;
  if (binary) {
    return {
      ok: true,
      value: {
        channel: number, quantity: BINARY_QUANTITY, unit: '', value: ch[BI_STATE] as number, errorCode: null,
        alarm: alarmStateFromPairs(ch[BI_ALARMS] as number[], ch[BI_BEHAVIOURS] as number[]), sampleTime,
      },
    };
  }
  const value = decoder.hexFloat(ch[AN_VALUE] as string);
  if (!value.ok) return { ok: false, reason: `field Channels[${index}].Value (element ${AN_VALUE}): ${value.reason}` };
  const limits = ch[AN_LIMITS] as string[];
  for (let l = 0; l < limits.length; l++) {
    const limit = decoder.hexFloat(limits[l]);
    if (!limit.ok) return { ok: false, reason: `field Channels[${index}].AlarmLimits[${l}]: ${limit.reason}` };
  }
  return {
    ok: true,
    value: {
      channel: number, quantity: decoder.quantity(ch[CH_QUANTITY] as string, number), unit: ch[AN_UNIT] as string,
      value: value.value, errorCode: value.errorCode, alarm: alarmStateFromPairs(ch[AN_ALARMS] as number[], ch[AN_BEHAVIOURS] as number[]), sampleTime,
    },
  };
}

/** What the upload keeps of each channel of a (decoded) message. */
function channelFacts(channels: unknown[][], decoder: Decoder): Record<string, unknown>[] {
  return channels.map((ch) => {
    const base = { channel: ch[CH_NUMBER], label: ch[CH_QUANTITY] };
    if (ch[1] === 1) {
      return { ...base, binary: true, binDescriptions: ch[BI_DESCRIPTIONS], alarms: ch[BI_ALARMS], alarmBehaviours: ch[BI_BEHAVIOURS] };
    }
    return {
      ...base, binary: false, dec: ch[AN_DEC], alarms: ch[AN_ALARMS],
      alarmLimits: (ch[AN_LIMITS] as string[]).map((l) => { const r = decoder.hexFloat(l); return r.ok ? r.value : null; }),
      alarmBehaviours: ch[AN_BEHAVIOURS],
    };
  });
}

/** Positional array (length already checked) -> record keyed by the layout's field names. */
function named(values: readonly unknown[], fields: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) record[fields[i]] = values[i];
  return record;
}

/** A logger clock reading -> ms UTC, per the (undocumented, see tables.ts) clock basis. */
function loggerInstant(countMs: number, offsetMinutes: number | null): number {
  return LOGGER_CLOCK_COUNTS === 'local' && offsetMinutes !== null ? countMs - offsetMinutes * 60_000 : countMs;
}

function serialText(sn: number): string {
  return String(sn).padStart(8, '0');
}

/** The serial of a refused message, where its version's layout says where Sn sits. */
function statedSerial(item: unknown): string | undefined {
  if (!Array.isArray(item)) return undefined;
  const layout = loggerLayout(item[1]);
  const sn = layout ? item[layout.fields.indexOf('Sn')] : undefined;
  return Number.isInteger(sn) && sn >= 0 ? serialText(sn) : undefined;
}

function toUpload(messages: unknown[][], decoder: Decoder, raw: Buffer, ctx: RequestContext): Upload {
  const lastArray = messages[messages.length - 1];
  const last = named(lastArray, loggerLayout(lastArray[1])!.fields) as unknown as LoggerMessage;
  const kinds = new Set<MessageKind>();
  const messageFacts = messages.map((m) => {
    const at = LAYOUT_POSITIONS.get(m[1] as number)!;
    const flags = { RstOk: m[at.RstOk] as number, IsAsync: m[at.IsAsync] as number };
    kinds.add(loggerMessageKind(flags));
    return { orderId: m[at.OrderId], isAsync: flags.IsAsync, rstOk: flags.RstOk, time: m[at.Time], timeNow: m[at.TimeNow] };
  });
  const kind: MessageKind = LOGGER_KIND_RANK.find((k) => kinds.has(k))!;
  const nowCount = epoch2000HexToMs(last.TimeNow)!;
  const offset = decodeQuarterHourTimezone(last.Timezone);
  const offsetMinutes = offset.ok ? offset.offsetMinutes : null; // validated in decodeMessage
  const externalPower = (last.AState & ASTATE_EXTERNAL_POWER) !== 0;
  const firstAt = LAYOUT_POSITIONS.get(messages[0][1] as number)!;
  return {
    family: 'logger',
    entryToken: ctx.entryToken,
    receivedAt: ctx.receivedAt,
    remoteAddress: ctx.remoteAddress,
    serial: serialText(last.Sn),
    modelCode: last.Kind,
    declaredIntervalS: externalPower ? last.IntervalPowerMode : last.IntervalBatteryMode,
    kind,
    // The last message's counter, so the next upload's first OrderId should follow it (mod 256).
    counter: last.OrderId,
    firstCounter: messages[0][firstAt.OrderId] as number,
    deviceNow: loggerInstant(nowCount, offsetMinutes),
    // Buffered sending is the logger's normal mode, not a resend; loggers state no cache flag.
    fromCache: false,
    customerUid: last.CustomerUid,
    readings: decoder.readings,
    meta: {
      jsonType: last.JsonType,
      jsonVersion: last.JsonVersion,
      model: LOGGER_MODELS[last.Kind] ?? null,
      description: last.Desc,
      rssiCsq: last.Rssi,
      batteryPercentage: last.BatteryPercentage,
      aState: last.AState,
      aStateMask: last.AStateMask,
      externalPower,
      intervalPowerMode: last.IntervalPowerMode,
      intervalBatteryMode: last.IntervalBatteryMode,
      nConf: last.NConf,
      alarmsEvalOffDueTimeLimit: last.AlarmsEvalOffDueTimeLimit,
      bufferedModeMaxMessages: last.BufferedModeMaxMessagesCnt,
      timezoneQuarterHours: last.Timezone,
      timezoneOffsetMinutes: offsetMinutes,
      // The pipeline picks the reading per device (src/pipeline/logger-clock.ts) from these.
      clock: {
        counts: LOGGER_CLOCK_COUNTS,
        offsetMinutes,
        skewIfUtcMs: ctx.receivedAt - nowCount,
        skewIfLocalMs: offsetMinutes === null ? null : ctx.receivedAt - (nowCount - offsetMinutes * 60_000),
      },
      messages: messageFacts,
      channels: channelFacts(last.Channels, decoder),
    },
    raw,
    contentType: ctx.contentType,
  };
}

/**
 * The logger's expected answer is not documented; COMET's example receiver only dumps the body, so
 * 200 is taken as success. Kept data (stored, duplicate, quarantined) answers 200 `OK`; a refusal its
 * 4xx status with the reason; retryLater 503 so that a logger that retries does so.
 */
export function loggerAnswer(verdict: Verdict, upload: Upload | null): DeviceAnswer {
  if (verdict.retryLater) return text(503, `retry later: ${verdict.reason}`);
  if (upload === null || verdict.kind === 'refused') {
    const status = verdict.httpStatus >= 400 && verdict.httpStatus < 500 ? verdict.httpStatus : upload === null ? 400 : 403;
    return text(status, `refused: ${verdict.reason}`);
  }
  return text(200, 'OK');
}

function text(status: number, body: string): DeviceAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

export const loggerAdapter: IngestAdapter = {
  family: 'logger',
  pathSegment: INGEST_PATH_SEGMENT.logger,
  maxBodyBytes: LOGGER_MAX_BODY_BYTES,
  parse: parseLoggerUpload,
  answer: loggerAnswer,
};
