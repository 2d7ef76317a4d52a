// GSM/LTE data loggers UxxxxM/UxxxxG: HTTP POST of a positional JSON array, JsonType 1 (spec §5).
// A body is one message, or a batch: an outer array of messages (buffered mode; framing not documented,
// so both are accepted). One upload may thus carry many samples, each with its own sample time.
import type { MessageKind, Reading, Upload, Verdict } from '../../domain/types.ts';
import type { DeviceAnswer, IngestAdapter, ParseResult, RequestContext } from '../adapter.ts';
import { alarmStateFromPairs } from '../common/alarm.ts';
import { decodeHexFloat32 } from '../common/hex-float.ts';
import { readJsonBody } from '../common/json-body.ts';
import { BINARY_QUANTITY, normaliseQuantity } from '../common/quantity.ts';
import { compileSchema, dottedName } from '../common/schema.ts';
import { decodeQuarterHourTimezone, epoch2000HexToMs } from '../common/time.ts';
import {
  ANALOG_CHANNEL_FIELDS, ANALOG_CHANNEL_SCHEMA, BINARY_CHANNEL_FIELDS, BINARY_CHANNEL_SCHEMA, LOGGER_LAYOUTS, loggerLayout,
  type AnalogChannel, type BinaryChannel, type LoggerMessage,
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
    const name = dottedName(segments);
    const index = fields.indexOf(segments[0]);
    return index >= 0 ? `${name} (element ${index})` : name;
  };
}

const messageValidators = new Map(
  Object.entries(LOGGER_LAYOUTS).map(([version, layout]) => [
    Number(version),
    compileSchema<LoggerMessage>(layout.schema, positionalName(layout.fields)),
  ]),
);
const validateAnalog = compileSchema<AnalogChannel>(ANALOG_CHANNEL_SCHEMA, positionalName(ANALOG_CHANNEL_FIELDS));
const validateBinary = compileSchema<BinaryChannel>(BINARY_CHANNEL_SCHEMA, positionalName(BINARY_CHANNEL_FIELDS));

interface DecodedMessage {
  message: LoggerMessage;
  sampleTime: number;
  readings: Reading[];
  channelFacts: Record<string, unknown>[];
}

type Step<T> = { ok: true; value: T } | { ok: false; reason: string };

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

  const decoded: DecodedMessage[] = [];
  for (const [index, item] of items.entries()) {
    const step = decodeMessage(item);
    const where = isBatch ? `message ${index}: ` : '';
    if (!step.ok) return { ok: false, status: 422, reason: where + step.reason, serial: statedSerial(item) };
    decoded.push(step.value);
  }

  const first = decoded[0].message;
  for (const [index, { message }] of decoded.entries()) {
    for (const field of ['Sn', 'CustomerUid', 'Kind'] as const) {
      if (message[field] !== first[field]) {
        return { ok: false, status: 422, serial: serialText(first.Sn), reason: `message ${index}: ${field} ${JSON.stringify(message[field])} differs from message 0 (${JSON.stringify(first[field])}); a batch comes from one logger` };
      }
    }
  }
  return { ok: true, upload: toUpload(decoded, raw, ctx) };
}

function decodeMessage(item: unknown): Step<DecodedMessage> {
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
  const checked = messageValidators.get(item[1] as number)!(named(item, layout.fields));
  if (!checked.ok) return checked;
  const message = checked.value;
  const timezone = decodeQuarterHourTimezone(message.Timezone);
  if (!timezone.ok) return { ok: false, reason: `field Timezone (element 10): ${timezone.reason}` };

  // TimeNow and Time are 8 hex digits by the schema, so they decode.
  const sampleTime = loggerInstant(epoch2000HexToMs(message.Time)!, timezone.offsetMinutes);
  const readings: Reading[] = [];
  const channelFacts: Record<string, unknown>[] = [];
  const seen = new Set<number>();
  for (const [index, rawChannel] of message.Channels.entries()) {
    const channel = decodeChannel(rawChannel, index, sampleTime);
    if (!channel.ok) return channel;
    const { reading, facts } = channel.value;
    if (seen.has(reading.channel)) return { ok: false, reason: `Channels[${index}] repeats channel number ${reading.channel}` };
    seen.add(reading.channel);
    readings.push(reading);
    channelFacts.push(facts);
  }
  return { ok: true, value: { message, sampleTime, readings, channelFacts } };
}

function decodeChannel(rawChannel: unknown[], index: number, sampleTime: number): Step<{ reading: Reading; facts: Record<string, unknown> }> {
  const where = `Channels[${index}].`;
  const binary = rawChannel[1] === 1;
  const fields = binary ? BINARY_CHANNEL_FIELDS : ANALOG_CHANNEL_FIELDS;
  if (rawChannel.length !== fields.length) {
    return { ok: false, reason: `Channels[${index}] is ${binary ? 'a binary' : 'an analog'} channel and must have ${fields.length} elements, got ${rawChannel.length}` };
  }
  if (binary) {
    const checked = validateBinary(named(rawChannel, fields), where);
    if (!checked.ok) return checked;
    const ch = checked.value;
    return {
      ok: true,
      value: {
        reading: {
          channel: ch.Number, quantity: BINARY_QUANTITY, unit: '', value: ch.State, errorCode: null,
          alarm: alarmStateFromPairs(ch.Alarms, ch.AlarmBehaviours), sampleTime,
        },
        facts: { channel: ch.Number, label: ch.Quantity, binary: true, binDescriptions: ch.BinDescriptions, alarms: ch.Alarms, alarmBehaviours: ch.AlarmBehaviours },
      },
    };
  }
  const checked = validateAnalog(named(rawChannel, fields), where);
  if (!checked.ok) return checked;
  const ch = checked.value;
  const value = decodeHexFloat32(ch.Value);
  if (!value.ok) return { ok: false, reason: `field Channels[${index}].Value (element 3): ${value.reason}` };
  const limits = ch.AlarmLimits.map(decodeHexFloat32);
  const badLimit = limits.findIndex((l) => !l.ok);
  if (badLimit >= 0) return { ok: false, reason: `field Channels[${index}].AlarmLimits[${badLimit}]: ${(limits[badLimit] as { reason: string }).reason}` };
  return {
    ok: true,
    value: {
      reading: {
        channel: ch.Number, quantity: normaliseQuantity(ch.Quantity, ch.Number), unit: ch.Unit,
        value: value.value, errorCode: value.errorCode, alarm: alarmStateFromPairs(ch.Alarms, ch.AlarmBehaviours), sampleTime,
      },
      facts: {
        channel: ch.Number, label: ch.Quantity, binary: false, dec: ch.DecimalPlaces, alarms: ch.Alarms,
        alarmLimits: limits.map((l) => (l.ok ? l.value : null)), alarmBehaviours: ch.AlarmBehaviours,
      },
    },
  };
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

function toUpload(decoded: DecodedMessage[], raw: Buffer, ctx: RequestContext): Upload {
  const last = decoded.at(-1)!.message;
  const kinds = new Set(decoded.map((d) => loggerMessageKind(d.message)));
  const kind: MessageKind = LOGGER_KIND_RANK.find((k) => kinds.has(k))!;
  const nowCount = epoch2000HexToMs(last.TimeNow)!;
  const offset = decodeQuarterHourTimezone(last.Timezone);
  const offsetMinutes = offset.ok ? offset.offsetMinutes : null; // validated in decodeMessage
  const externalPower = (last.AState & ASTATE_EXTERNAL_POWER) !== 0;
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
    firstCounter: decoded[0].message.OrderId,
    deviceNow: loggerInstant(nowCount, offsetMinutes),
    // Buffered sending is the logger's normal mode, not a resend; loggers state no cache flag.
    fromCache: false,
    customerUid: last.CustomerUid,
    readings: decoded.flatMap((d) => d.readings),
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
      clock: {
        counts: LOGGER_CLOCK_COUNTS,
        skewIfUtcMs: ctx.receivedAt - nowCount,
        skewIfLocalMs: offsetMinutes === null ? null : ctx.receivedAt - (nowCount - offsetMinutes * 60_000),
      },
      messages: decoded.map(({ message }) => ({
        orderId: message.OrderId, isAsync: message.IsAsync, rstOk: message.RstOk, time: message.Time, timeNow: message.TimeNow,
      })),
      channels: decoded.at(-1)!.channelFacts,
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
