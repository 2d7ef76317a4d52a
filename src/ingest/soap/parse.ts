// COMET Web Sensor SOAP 1.1 messages (shared/protocols §1, §2): InsertTx5xxSample,
// InsertTx5xxCO2Sample (T- and H-line) and the P-line "v2" body. The device sends no time:
// every reading is stamped with the server's receive time.
import type { AlarmState, Reading, Upload } from '../../domain/types.ts';
import type { ParseResult, RequestContext } from '../adapter.ts';
import { SOAP_MODELS, type SoapQuantity } from './models.ts';
import { XmlError, parseXml, type XmlElement } from './xml.ts';

export const SOAP_NS_T = 'http://cometsystem.cz/schemas/soapTx5xx_v2.xsd';
export const SOAP_NS_CO2 = 'http://cometsystem.cz/schemas/soapTx5xxCO2.xsd';

/** Error sentinels: 9999 = Error 1 (over range), -9999 = Errors 2-4, CO2 -9998 = not yet available. */
export const ERROR_OVER_RANGE = 1;
export const ERROR_UNDER_RANGE_OR_SENSOR = 2;
export const ERROR_NOT_YET_AVAILABLE = 98;

const DECIMAL = /^-?\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;
const SERIAL = /^\d{8}$/;
const TEMP_UNITS = new Set(['C', 'F', 'n/a']);
const PRESSURE_UNITS = new Set(['hPa', 'PSI', 'inHg', 'mBar', 'oz/in^2', 'mmHg', 'inH2O', 'kPa', 'n/a']);
const COMP_TYPES: Record<string, string> = {
  'Absolute humidity': 'absolute_humidity', 'Specific humidity': 'specific_humidity',
  'Mixing proportion': 'mixing_ratio', 'Specific enthalpy': 'specific_enthalpy', 'Dew point': 'dew_point',
};
const ALARM_TOKENS = new Set<AlarmState>(['no', 'lo', 'hi']);

class SoapFormatError extends Error {}

function fail(reason: string): never { throw new SoapFormatError(reason); }

/** The element's children by local name; a repeated scalar element is malformed. */
class Fields {
  private readonly byName = new Map<string, XmlElement>();
  readonly unknown: Record<string, string> = {};

  constructor(element: XmlElement, known: ReadonlySet<string>) {
    for (const child of element.children) {
      if (this.byName.has(child.local)) fail(`element <${child.local}> appears more than once`);
      this.byName.set(child.local, child);
      if (!known.has(child.local)) this.unknown[child.local] = child.text.trim();
    }
  }

  has(name: string): boolean { return this.byName.has(name); }

  text(name: string, required = true): string | undefined {
    const el = this.byName.get(name);
    if (!el) { if (required) fail(`element <${name}> is missing`); return undefined; }
    if (el.children.length) fail(`element <${name}> must hold text, not elements`);
    return el.text.trim();
  }

  decimal(name: string, required = true): number | undefined {
    const t = this.text(name, required);
    if (t === undefined) return undefined;
    if (!DECIMAL.test(t)) fail(`element <${name}> must be a decimal number with a dot, got "${t.slice(0, 40)}"`);
    return Number(t);
  }

  integer(name: string, required = true): number | undefined {
    const t = this.text(name, required);
    if (t === undefined) return undefined;
    if (!INTEGER.test(t)) fail(`element <${name}> must be a whole number, got "${t.slice(0, 40)}"`);
    return Number(t);
  }
}

function parseAlarms(value: string): AlarmState[] {
  const tokens = value.split(',');
  if (tokens.length !== 4 || tokens.some((t) => !ALARM_TOKENS.has(t as AlarmState))) {
    fail(`element <alarms> must be four of no/lo/hi separated by commas, got "${value.slice(0, 40)}"`);
  }
  return tokens as AlarmState[];
}

function reading(channel: number, quantity: string, unit: string, raw: number, alarm: AlarmState, co2 = false): Reading {
  let errorCode: number | null = null;
  if (raw === 9999) errorCode = ERROR_OVER_RANGE;
  else if (raw === -9999) errorCode = ERROR_UNDER_RANGE_OR_SENSOR;
  else if (co2 && raw === -9998) errorCode = ERROR_NOT_YET_AVAILABLE;
  return { channel, quantity, unit, value: errorCode === null ? raw : null, errorCode, alarm };
}

const KNOWN_T: ReadonlySet<string> = new Set(['passKey', 'device', 'temp', 'relHum', 'compQuant', 'pressure', 'alarms', 'compType', 'tempU', 'pressureU', 'timer', 'co2', 'lev1', 'lev2', 'lev3']);
const KNOWN_P: ReadonlySet<string> = new Set(['name', 'sn', 'tmr', 'kind']);

/** Finds Envelope/Body/<first element>, whatever prefixes the device used. */
function bodyChild(envelope: XmlElement): XmlElement {
  if (envelope.local !== 'Envelope') fail(`not a SOAP envelope: the root element is <${envelope.name.slice(0, 60)}>`);
  const body = envelope.children.find((c) => c.local === 'Body');
  if (!body) fail('SOAP <Body> element missing');
  const operation = body!.children[0];
  if (!operation) fail('SOAP <Body> is empty');
  return operation;
}

function parseTx5xx(node: Fields, isCo2: boolean, base: Omit<Upload, 'serial' | 'modelCode' | 'declaredIntervalS' | 'readings' | 'meta'>): Upload {
  const serial = node.text('passKey')!;
  if (!SERIAL.test(serial)) fail(`element <passKey> must be the 8-digit serial number, got "${serial.slice(0, 40)}"`);
  const modelCode = node.integer('device')!;
  const timer = node.integer('timer')!;
  const alarms = parseAlarms(node.text('alarms')!);
  const tempU = node.text('tempU')!;
  if (!TEMP_UNITS.has(tempU)) fail(`element <tempU> must be C, F or n/a, got "${tempU.slice(0, 20)}"`);
  const compType = node.text('compType')!;
  if (compType !== 'n/a' && !(compType in COMP_TYPES)) fail(`element <compType> has an unknown value "${compType.slice(0, 40)}"`);
  const pressureU = isCo2 ? 'n/a' : node.text('pressureU')!;
  if (!PRESSURE_UNITS.has(pressureU)) fail(`element <pressureU> has an unknown unit "${pressureU.slice(0, 20)}"`);

  const model = SOAP_MODELS.get(modelCode);
  const has = (q: SoapQuantity) => !model || model.quantities.includes(q);
  const readings: Reading[] = [];
  const temp = node.decimal('temp')!;
  const relHum = node.decimal('relHum')!;
  const compQuant = node.decimal('compQuant')!;
  if (tempU !== 'n/a' && has('temperature')) readings.push(reading(1, 'temperature', tempU, temp, alarms[0]));
  if (has('relative_humidity')) readings.push(reading(2, 'relative_humidity', '%RH', relHum, alarms[1]));
  if (compType !== 'n/a' && has('computed')) {
    const quantity = COMP_TYPES[compType];
    readings.push(reading(3, quantity, quantity === 'dew_point' ? tempU : '', compQuant, alarms[2]));
  }
  const meta: Record<string, unknown> = { root: isCo2 ? 'InsertTx5xxCO2Sample' : 'InsertTx5xxSample', alarms: alarms.join(','), compType };
  if (isCo2) {
    const co2 = node.decimal('co2')!;
    if (has('co2')) readings.push(reading(4, 'co2', 'ppm', co2, alarms[3], true));
    meta.leds = [node.integer('lev1', false), node.integer('lev2', false), node.integer('lev3', false)];
  } else {
    const pressure = node.decimal('pressure')!;
    if (pressureU !== 'n/a' && has('pressure')) readings.push(reading(4, 'pressure', pressureU, pressure, alarms[3]));
  }
  if (!model) meta.unknownModel = true;
  if (Object.keys(node.unknown).length) meta.unknownElements = node.unknown;
  return { ...base, serial, modelCode, declaredIntervalS: timer > 0 ? timer : null, readings, meta };
}

/**
 * P-line (P85xx/P86xx) SOAP v2. Only name/sn/tmr/kind and <c i="n"> are documented; the
 * channel sub-element names are not. Candidates are tried in order and everything is kept
 * in meta, so the table below can be corrected from a real capture without touching code.
 */
const P_CHANNEL_FIELDS = {
  value: ['val', 'value', 'v', 'aval'],
  unit: ['unit', 'u', 'units'],
  quantity: ['quant', 'name', 'q', 'quantity'],
  alarm: ['alarm', 'al', 'alm', 'alarms'],
} as const;

function firstOf(channel: XmlElement, names: readonly string[]): string | undefined {
  for (const n of names) {
    const el = channel.children.find((c) => c.local === n && c.children.length === 0);
    if (el) return el.text.trim();
  }
  return undefined;
}

function parsePLine(root: XmlElement, base: Omit<Upload, 'serial' | 'modelCode' | 'declaredIntervalS' | 'readings' | 'meta'>): Upload {
  const channels = root.children.filter((c) => c.local === 'c');
  const node = new Fields({ ...root, children: root.children.filter((c) => c.local !== 'c') }, KNOWN_P);
  const serial = node.text('sn')!;
  if (!SERIAL.test(serial)) fail(`element <sn> must be the 8-digit serial number, got "${serial.slice(0, 40)}"`);
  const modelCode = node.integer('kind')!;
  const tmr = node.integer('tmr')!;
  const readings: Reading[] = [];
  const kept: Record<string, Record<string, string>> = {};
  for (const c of channels) {
    const nr = Number(c.attributes.i);
    if (!Number.isInteger(nr) || nr < 1 || nr > 16) fail('<c> element needs an attribute i with the channel number 1-16');
    kept[nr] = Object.fromEntries(c.children.map((f) => [f.local, f.text.trim()]));
    const rawValue = firstOf(c, P_CHANNEL_FIELDS.value);
    if (rawValue === undefined) continue; // channel without a recognisable value: kept in meta only
    if (!DECIMAL.test(rawValue)) fail(`channel ${nr} value must be a decimal number, got "${rawValue.slice(0, 40)}"`);
    const alarmText = firstOf(c, P_CHANNEL_FIELDS.alarm) ?? 'no';
    const alarm: AlarmState = ALARM_TOKENS.has(alarmText as AlarmState) ? alarmText as AlarmState : 'no';
    const label = firstOf(c, P_CHANNEL_FIELDS.quantity) ?? `channel ${nr}`;
    readings.push(reading(nr, label.toLowerCase().replace(/[^a-z0-9]+/g, '_'), firstOf(c, P_CHANNEL_FIELDS.unit) ?? '', Number(rawValue), alarm));
  }
  return {
    ...base, serial, modelCode, declaredIntervalS: tmr > 0 ? tmr : null, readings,
    meta: { root: root.local, name: node.text('name', false), channels: kept, pLineProvisional: true },
  };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function parseSoap(raw: Buffer, ctx: RequestContext): ParseResult {
  const xml = (raw.subarray(0, 3).equals(BOM) ? raw.subarray(3) : raw).toString('utf8');
  // Refuse any DTD: no device sends one, and it is how XXE and entity-expansion attacks begin.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { ok: false, status: 400, reason: 'DTD or entity declarations are not allowed' };
  try {
    const operation = bodyChild(parseXml(xml));
    const base = {
      family: 'soap' as const, entryToken: ctx.entryToken, receivedAt: ctx.receivedAt, remoteAddress: ctx.remoteAddress,
      kind: 'periodic' as const, counter: null, deviceNow: null, fromCache: false, raw, contentType: ctx.contentType,
    };
    let upload: Upload;
    const name = operation.local;
    const hasChild = (local: string) => operation.children.some((c) => c.local === local);
    if (name === 'InsertTx5xxSample') upload = parseTx5xx(new Fields(operation, KNOWN_T), false, base);
    else if (name === 'InsertTx5xxCO2Sample') upload = parseTx5xx(new Fields(operation, KNOWN_T), true, base);
    else if (hasChild('sn') && hasChild('kind')) upload = parsePLine(operation, base);
    else return { ok: false, status: 400, reason: `unknown SOAP operation <${name.slice(0, 60)}>` };
    for (const r of upload.readings) r.sampleTime = ctx.receivedAt;
    return { ok: true, upload };
  } catch (err) {
    const serial = /<(?:\w+:)?(?:passKey|sn)>\s*(\d{1,12})\s*</.exec(xml)?.[1];
    const reason = err instanceof SoapFormatError ? err.message
      : err instanceof XmlError ? `malformed XML: ${err.message}` : `unreadable SOAP message: ${(err as Error).message.slice(0, 200)}`;
    return { ok: false, status: 400, reason, serial };
  }
}
