// The JSON object format shared by WiFi sensors (JsonType 2, spec §4) and TAx6xx/PAx6xx Web Sensors
// (JsonType 5, spec §3). The two differ in numbering tables and in a few optional keys, which each family
// folder supplies; everything else is parsed here once.
import type { SchemaObject } from 'ajv';
import type { Family, MessageKind, Reading, Upload } from '../../domain/types.ts';
import type { ParseResult, RequestContext } from '../adapter.ts';
import { alarmStateFromPairs } from './alarm.ts';
import { decodeHexFloat32 } from './hex-float.ts';
import { readJsonBody } from './json-body.ts';
import { BINARY_QUANTITY, normaliseQuantity } from './quantity.ts';
import { compileSchema, HEX_FLOAT_PATTERN, RFC3339_PATTERN, type Validation } from './schema.ts';
import { parseRfc3339 } from './time.ts';

export interface MessageTypeEntry {
  name: string;
  kind: MessageKind;
}

/** What one JSON-object family contributes: its numbering tables and its schema differences. */
export interface JsonObjectFamilySpec {
  family: Family;
  /** For refusals: which devices this endpoint expects. */
  deviceLine: string;
  jsonType: number;
  jsonVersions: number[];
  messageTypes: Record<number, MessageTypeEntry>;
  cacheReasons: Record<number, string>;
  models: Record<number, string>;
  /** Keys only this family sends, as JSON schema properties. */
  extraMessageProperties: Record<string, SchemaObject>;
  extraChannelProperties: Record<string, SchemaObject>;
}

export interface JsonObjectChannel {
  Nr: number;
  En?: number;
  Quant: string;
  Val: string;
  ValStr?: string;
  Unit: string;
  Dec?: number;
  Alarm: number[];
  AlarmMode: number[];
  AlarmLim?: string[]; // WiFi only
  Type?: number[]; // TAx6xx only
  BinDesc?: string[]; // PA8652 binary inputs only
}

export interface JsonObjectMessage {
  JsonType: number;
  JsonVersion: number;
  OrderId: number;
  MsgType: number;
  MsgCache: number;
  Sn: string;
  Desc?: string;
  Kind: number;
  AState?: { Reg: number; Mask: number };
  NConf?: number;
  ConfID?: string;
  Interval: number;
  Time: { Now: string; Sample: string; IsValid: number };
  Rssi?: { Now: number; Sample: number }; // WiFi only
  LocalIP?: string;
  LocalIPv4?: string; // TAx6xx fixtures spell it so (spec §3.2)
  Channels: JsonObjectChannel[];
  [unknownKey: string]: unknown;
}

export const JSON_OBJECT_MAX_BODY_BYTES = 16 * 1024;
const JSON_OBJECT_MAX_DEPTH = 8;

const pair = (item: SchemaObject): SchemaObject => ({ type: 'array', items: item, minItems: 2, maxItems: 2 });
const flag: SchemaObject = { type: 'integer', enum: [0, 1] };
const uint = (maximum: number): SchemaObject => ({ type: 'integer', minimum: 0, maximum });

export const hexFloatPairSchema = pair({ type: 'string', pattern: HEX_FLOAT_PATTERN });

/** The message schema: keys both families send, plus the family's own extras. Unknown keys pass (kept in meta). */
export function jsonObjectSchema(spec: JsonObjectFamilySpec): SchemaObject {
  const channel: SchemaObject = {
    type: 'object',
    required: ['Nr', 'Quant', 'Val', 'Unit', 'Alarm', 'AlarmMode'],
    properties: {
      Nr: { type: 'integer', minimum: 1, maximum: 8 },
      En: flag,
      Quant: { type: 'string', maxLength: 32 },
      // Checked as a hex float only on enabled channels: a disabled channel is not data.
      Val: { type: 'string' },
      ValStr: { type: 'string', maxLength: 32 },
      Unit: { type: 'string', maxLength: 16 },
      Dec: uint(10),
      Alarm: pair(flag),
      AlarmMode: pair({ type: 'integer', enum: [0, 1, 2] }),
      ...spec.extraChannelProperties,
    },
  };
  return {
    type: 'object',
    required: ['JsonType', 'JsonVersion', 'OrderId', 'MsgType', 'MsgCache', 'Sn', 'Kind', 'Interval', 'Time', 'Channels'],
    properties: {
      JsonType: { const: spec.jsonType },
      JsonVersion: { type: 'integer', enum: spec.jsonVersions },
      OrderId: uint(0xffff_ffff),
      MsgType: { type: 'integer', enum: Object.keys(spec.messageTypes).map(Number) },
      // Any reason code is accepted: only "0 = direct" matters for parsing, and new codes appear.
      MsgCache: uint(255),
      Sn: { type: 'string', pattern: '^[0-9]{8}$' },
      Desc: { type: 'string', maxLength: 64 },
      Kind: uint(255),
      AState: { type: 'object', required: ['Reg', 'Mask'], properties: { Reg: uint(65535), Mask: uint(65535) } },
      NConf: uint(255),
      ConfID: { type: 'string', maxLength: 32 },
      Interval: uint(65535),
      Time: {
        type: 'object',
        required: ['Now', 'Sample', 'IsValid'],
        properties: { Now: { type: 'string' }, Sample: { type: 'string' }, IsValid: flag },
        // When the device says its clock is invalid the times are not used, so their form is not checked.
        if: { properties: { IsValid: { const: 1 } } },
        then: { properties: { Now: { type: 'string', pattern: RFC3339_PATTERN }, Sample: { type: 'string', pattern: RFC3339_PATTERN } } },
      },
      LocalIP: { type: 'string', maxLength: 64 },
      LocalIPv4: { type: 'string', maxLength: 64 },
      Channels: { type: 'array', items: channel, maxItems: 8 },
      ...spec.extraMessageProperties,
    },
  };
}

export interface JsonObjectParser {
  parse(raw: Buffer, ctx: RequestContext): ParseResult;
}

export function createJsonObjectParser(spec: JsonObjectFamilySpec): JsonObjectParser {
  const schema = jsonObjectSchema(spec);
  const validate = compileSchema<JsonObjectMessage>(schema);
  const knownKeys = new Set(Object.keys(schema.properties as object));
  return {
    parse(raw, ctx) {
      try {
        return parseMessage(raw, ctx, spec, validate, knownKeys);
      } catch (err) {
        // A bug here must not take the request down with it; the raw body is still journaled upstream.
        return { ok: false, status: 500, reason: `internal parser error: ${(err as Error).message}` };
      }
    },
  };
}

type Refusal = Extract<ParseResult, { ok: false }>;

function parseMessage(
  raw: Buffer,
  ctx: RequestContext,
  spec: JsonObjectFamilySpec,
  validate: (value: unknown) => Validation<JsonObjectMessage>,
  knownKeys: Set<string>,
): ParseResult {
  const body = readJsonBody(raw, { maxBytes: JSON_OBJECT_MAX_BODY_BYTES, maxDepth: JSON_OBJECT_MAX_DEPTH });
  if (!body.ok) return body;
  const json = body.value;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, status: 422, reason: `expected a JSON object from a ${spec.deviceLine} (JsonType ${spec.jsonType})` };
  }
  const statedSerial = typeof (json as { Sn?: unknown }).Sn === 'string' ? (json as { Sn: string }).Sn : undefined;
  const refuse = (reason: string): Refusal => ({ ok: false, status: 422, reason, serial: statedSerial });

  const jsonType = (json as { JsonType?: unknown }).JsonType;
  if (jsonType !== undefined && jsonType !== spec.jsonType) {
    return refuse(`JsonType ${JSON.stringify(jsonType)} is not a ${spec.deviceLine} message (expected ${spec.jsonType}); check the device's server path`);
  }
  const checked = validate(json);
  if (!checked.ok) return refuse(checked.reason);
  const msg = checked.value;

  const timeValid = msg.Time.IsValid === 1;
  const deviceNow = timeValid ? parseRfc3339(msg.Time.Now) : null;
  const sampled = timeValid ? parseRfc3339(msg.Time.Sample) : ctx.receivedAt;
  if (timeValid && deviceNow === null) return refuse(`field Time.Now is not a real date-time: "${msg.Time.Now}"`);
  if (sampled === null) return refuse(`field Time.Sample is not a real date-time: "${msg.Time.Sample}"`);

  const readings: Reading[] = [];
  const channelFacts: Record<string, unknown>[] = [];
  const skippedChannels: { channel: number; label: string; reason: string }[] = [];
  const seen = new Set<number>();
  for (const [index, ch] of msg.Channels.entries()) {
    const field = `Channels[${index}]`;
    if (seen.has(ch.Nr)) return refuse(`field ${field}.Nr repeats channel number ${ch.Nr}`);
    seen.add(ch.Nr);
    // A fixture shows an unused slot (empty Quant) without En; such a slot is not a channel.
    if (ch.En === 0 || (ch.En === undefined && ch.Quant === '')) {
      skippedChannels.push({ channel: ch.Nr, label: ch.Quant, reason: ch.En === 0 ? 'disabled' : 'unused' });
      continue;
    }
    const decoded = decodeHexFloat32(ch.Val);
    if (!decoded.ok) return refuse(`field ${field}.Val: ${decoded.reason}`);
    const binary = ch.BinDesc !== undefined;
    if (binary && decoded.value !== null && decoded.value !== 0 && decoded.value !== 1) {
      return refuse(`field ${field}.Val: a binary input must be 0 or 1, got ${decoded.value}`);
    }
    const facts: Record<string, unknown> = {
      channel: ch.Nr, label: ch.Quant, valStr: ch.ValStr, dec: ch.Dec, alarm: ch.Alarm, alarmMode: ch.AlarmMode,
    };
    if (ch.AlarmLim) {
      const limits = ch.AlarmLim.map(decodeHexFloat32);
      const bad = limits.findIndex((l) => !l.ok);
      if (bad >= 0) return refuse(`field ${field}.AlarmLim[${bad}]: ${(limits[bad] as { reason: string }).reason}`);
      facts.alarmLimits = limits.map((l) => (l.ok ? l.value : null));
    }
    if (ch.Type) facts.type = ch.Type;
    if (ch.BinDesc) facts.binDesc = ch.BinDesc;
    channelFacts.push(facts);
    readings.push({
      channel: ch.Nr,
      quantity: binary ? BINARY_QUANTITY : normaliseQuantity(ch.Quant, ch.Nr),
      unit: ch.Unit,
      value: decoded.value,
      errorCode: decoded.errorCode,
      alarm: alarmStateFromPairs(ch.Alarm, ch.AlarmMode),
      sampleTime: sampled,
    });
  }

  const messageType = spec.messageTypes[msg.MsgType];
  const meta: Record<string, unknown> = {
    jsonType: msg.JsonType,
    jsonVersion: msg.JsonVersion,
    msgType: msg.MsgType,
    messageType: messageType.name,
    msgCache: msg.MsgCache,
    cacheReason: msg.MsgCache === 0 ? null : (spec.cacheReasons[msg.MsgCache] ?? `unknown reason ${msg.MsgCache}`),
    model: spec.models[msg.Kind] ?? null,
    description: msg.Desc,
    aState: msg.AState,
    nConf: msg.NConf,
    confId: msg.ConfID,
    localIp: msg.LocalIP ?? msg.LocalIPv4,
    time: msg.Time,
    channels: channelFacts,
  };
  if (!timeValid) meta.timeInvalid = true;
  if (msg.Rssi) meta.rssi = msg.Rssi;
  if (skippedChannels.length > 0) meta.skippedChannels = skippedChannels;
  const unknownKeys = Object.keys(msg).filter((k) => !knownKeys.has(k));
  if (unknownKeys.length > 0) meta.unknownKeys = unknownKeys;

  const upload: Upload = {
    family: spec.family,
    entryToken: ctx.entryToken,
    receivedAt: ctx.receivedAt,
    remoteAddress: ctx.remoteAddress,
    serial: msg.Sn,
    modelCode: msg.Kind,
    declaredIntervalS: msg.Interval,
    kind: messageType.kind,
    counter: msg.OrderId,
    deviceNow,
    fromCache: msg.MsgCache !== 0,
    readings,
    meta,
    raw,
    contentType: ctx.contentType,
  };
  return { ok: true, upload };
}
