// Builds the JSON object messages of WiFi sensors (JsonType 2) and TAx6xx Web Sensors (JsonType 5),
// key for key in the order the vendor documents them. Pure: same parameters, same bytes.
import type { MessageKind } from '../domain/types.ts';
import type { MessageTypeEntry } from '../ingest/common/comet-json-object.ts';
import { encodeHexFloat32 } from '../ingest/common/hex-float.ts';
import { formatRfc3339 } from '../ingest/common/time.ts';

export type SimValue = number | { errorCode: number };
export type HexCase = 'upper' | 'lower';

export interface SimJsonChannel {
  nr: number;
  /** false sends En 0; 'omitted' leaves En out (seen on an unused PA8652 slot). Default true. */
  enabled?: boolean | 'omitted';
  label: string;
  value: SimValue;
  unit: string;
  dec?: number;
  /** Defaults to the value with `dec` decimals, or `ErrorNN` for an error value. */
  valStr?: string;
  alarms?: [number, number];
  alarmModes?: [number, number];
}

export interface SimJsonMessage<C extends SimJsonChannel> {
  serial: string;
  description?: string;
  /** Device model code (`Kind`). */
  model: number;
  orderId: number;
  /** The family's raw MsgType number, or the message kind (first matching table entry). */
  msgType: number | MessageKind;
  /** 0 = sent directly; otherwise the cache reason code. */
  msgCache?: number;
  interval: number;
  sampleTime: number;
  /** When the message is transmitted; defaults to sampleTime (a direct message). */
  now?: number;
  utcOffsetMinutes?: number;
  timeValid?: boolean;
  aState?: { reg: number; mask: number };
  nConf?: number;
  confId?: string;
  localIp?: string;
  hexCase?: HexCase;
  channels: C[];
}

export function msgTypeNumber(msgType: number | MessageKind, table: Record<number, MessageTypeEntry>): number {
  if (typeof msgType === 'number') return msgType;
  const entry = Object.entries(table).find(([, e]) => e.kind === msgType);
  if (!entry) throw new Error(`no MsgType for kind ${msgType}`);
  return Number(entry[0]);
}

export function defaultValStr(value: SimValue, dec: number): string {
  return typeof value === 'number' ? value.toFixed(dec) : `Error${value.errorCode}`;
}

/** The keys common to both families, in documented order up to and including `Time`. */
export function headerFields(m: SimJsonMessage<SimJsonChannel>, jsonType: number, msgType: number): Record<string, unknown> {
  const offset = m.utcOffsetMinutes ?? 0;
  return {
    JsonType: jsonType,
    JsonVersion: 1,
    OrderId: m.orderId,
    MsgType: msgType,
    MsgCache: m.msgCache ?? 0,
    Sn: m.serial,
    Desc: m.description ?? `Sensor ${m.serial}`,
    Kind: m.model,
    AState: { Reg: m.aState?.reg ?? 128, Mask: m.aState?.mask ?? 10688 },
    NConf: m.nConf ?? 1,
    ConfID: m.confId ?? '1-00000000-00-01',
    Interval: m.interval,
    Time: {
      Now: formatRfc3339(m.now ?? m.sampleTime, offset),
      Sample: formatRfc3339(m.sampleTime, offset),
      IsValid: m.timeValid === false ? 0 : 1,
    },
  };
}

/** Channel keys common to both families, up to `Dec`. */
export function channelHead(c: SimJsonChannel, hexCase: HexCase): Record<string, unknown> {
  const dec = c.dec ?? 1;
  return {
    Nr: c.nr,
    ...(c.enabled === 'omitted' ? {} : { En: c.enabled === false ? 0 : 1 }),
    Quant: c.label,
    Val: encodeHexFloat32(c.value, hexCase),
    ValStr: c.valStr ?? defaultValStr(c.value, dec),
    Unit: c.unit,
    Dec: dec,
  };
}

export function toBody(message: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}
