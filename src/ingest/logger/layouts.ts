// Positional layouts of the logger message, by JsonVersion. Only version 6 (firmware >= 0.0.129) is
// documented position by position; older versions add/remove fields at unknown positions (spec §5.3), so
// they are refused until a layout is known. To support one, add its field list and schema here.
import type { SchemaObject } from 'ajv';
import { HEX_FLOAT_PATTERN } from '../common/schema.ts';

export interface LoggerLayout {
  firmware: string;
  fields: readonly string[];
  /** Validates the positional array itself (a tuple schema): no keyed copy of 25,000 messages. */
  schema: SchemaObject;
}

export interface LoggerMessage {
  JsonType: number;
  JsonVersion: number;
  Rssi: number;
  TimeNow: string;
  OrderId: number;
  IsAsync: number;
  Sn: number;
  Desc: string;
  Kind: number;
  Time: string;
  Timezone: number;
  IntervalPowerMode: number;
  IntervalBatteryMode: number;
  RstOk: number;
  BufferedModeMaxMessagesCnt: number;
  AStateMask: number;
  AState: number;
  NConf: number;
  AlarmsEvalOffDueTimeLimit: number;
  CustomerUid: string;
  BatteryPercentage: number;
  Channels: unknown[][];
}

export interface AnalogChannel {
  Number: number;
  IsBinary: 0;
  Quantity: string;
  Value: string;
  Unit: string;
  DecimalPlaces: number;
  Alarms: number[];
  AlarmLimits: string[];
  AlarmBehaviours: number[];
}

export interface BinaryChannel {
  Number: number;
  IsBinary: 1;
  Quantity: string;
  BinDescriptions: string[];
  State: number;
  Alarms: number[];
  AlarmBehaviours: number[];
}

const flag: SchemaObject = { type: 'integer', enum: [0, 1] };
const uint = (maximum: number): SchemaObject => ({ type: 'integer', minimum: 0, maximum });
const hex8: SchemaObject = { type: 'string', pattern: HEX_FLOAT_PATTERN };
const pair = (item: SchemaObject): SchemaObject => ({ type: 'array', items: item, minItems: 2, maxItems: 2 });
const behaviours = pair({ type: 'integer', enum: [0, 1, 2] }); // 0 off, 1 below limit / low, 2 above / high

/** The positional array whose element i is fields[i], described by properties[fields[i]]. */
function tupleSchema(fields: readonly string[], properties: Record<string, SchemaObject>): SchemaObject {
  const missing = fields.filter((f) => !properties[f]);
  if (missing.length || Object.keys(properties).length !== fields.length) throw new Error(`layout fields and schema differ: ${missing.join(', ')}`);
  return { type: 'array', items: fields.map((f) => properties[f]), minItems: fields.length, maxItems: fields.length };
}

const V6_FIELDS = [
  'JsonType', 'JsonVersion', 'Rssi', 'TimeNow', 'OrderId', 'IsAsync', 'Sn', 'Desc', 'Kind', 'Time', 'Timezone',
  'IntervalPowerMode', 'IntervalBatteryMode', 'RstOk', 'BufferedModeMaxMessagesCnt', 'AStateMask', 'AState',
  'NConf', 'AlarmsEvalOffDueTimeLimit', 'CustomerUid', 'BatteryPercentage', 'Channels',
] as const;

export const LOGGER_LAYOUTS: Record<number, LoggerLayout> = {
  6: {
    firmware: '>= 0.0.129',
    fields: V6_FIELDS,
    schema: tupleSchema(V6_FIELDS, {
      JsonType: { const: 1 },
      JsonVersion: { const: 6 },
      Rssi: uint(99), // GSM CSQ, 99 = unknown
      TimeNow: hex8,
      OrderId: uint(255),
      IsAsync: flag,
      Sn: uint(99_999_999),
      Desc: { type: 'string', maxLength: 32 },
      Kind: uint(255),
      Time: hex8,
      Timezone: { type: 'integer', minimum: -128, maximum: 127 },
      IntervalPowerMode: uint(604_800),
      IntervalBatteryMode: uint(604_800),
      RstOk: flag,
      BufferedModeMaxMessagesCnt: uint(255),
      AStateMask: uint(65_535),
      AState: uint(65_535),
      NConf: uint(255),
      AlarmsEvalOffDueTimeLimit: flag,
      CustomerUid: { type: 'string', maxLength: 16 },
      BatteryPercentage: uint(100),
      Channels: { type: 'array', items: { type: 'array' }, minItems: 1, maxItems: 8 },
    }),
  },
};

/**
 * The layout of a JsonVersion. Only a number that is an own key counts: indexing with the value a
 * device sent would find "6" (a string) by coercion and "constructor" or "valueOf" on the prototype.
 */
export function loggerLayout(version: unknown): LoggerLayout | undefined {
  return typeof version === 'number' && Object.hasOwn(LOGGER_LAYOUTS, version) ? LOGGER_LAYOUTS[version] : undefined;
}

/** Channel layouts, chosen by element 1 (IsBinary); the same in every documented version. */
export const ANALOG_CHANNEL_FIELDS = [
  'Number', 'IsBinary', 'Quantity', 'Value', 'Unit', 'DecimalPlaces', 'Alarms', 'AlarmLimits', 'AlarmBehaviours',
] as const;
export const BINARY_CHANNEL_FIELDS = [
  'Number', 'IsBinary', 'Quantity', 'BinDescriptions', 'State', 'Alarms', 'AlarmBehaviours',
] as const;

export const ANALOG_CHANNEL_SCHEMA = tupleSchema(ANALOG_CHANNEL_FIELDS, {
  Number: { type: 'integer', minimum: 1, maximum: 8 },
  IsBinary: { const: 0 },
  Quantity: { type: 'string', maxLength: 16 },
  Value: { type: 'string' }, // decoded (hex, error form, NaN) by decodeHexFloat32 for a precise reason
  Unit: { type: 'string', maxLength: 8 },
  DecimalPlaces: uint(10),
  Alarms: pair(flag),
  AlarmLimits: pair(hex8),
  AlarmBehaviours: behaviours,
});

export const BINARY_CHANNEL_SCHEMA = tupleSchema(BINARY_CHANNEL_FIELDS, {
  Number: { type: 'integer', minimum: 1, maximum: 8 },
  IsBinary: { const: 1 },
  Quantity: { type: 'string', maxLength: 16 },
  BinDescriptions: pair({ type: 'string', maxLength: 16 }), // [state 0, state 1]
  State: flag,
  Alarms: pair(flag),
  AlarmBehaviours: behaviours,
});
