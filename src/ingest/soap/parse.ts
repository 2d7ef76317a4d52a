// COMET Web Sensor SOAP 1.1 messages (shared/protocols §1, §2): InsertTx5xxSample,
// InsertTx5xxCO2Sample (T- and H-line) and the P-line "v2" body. The device sends no time:
// every reading is stamped with the server's receive time.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { AlarmState, Reading, Upload } from '../../domain/types.ts';
import type { ParseResult, RequestContext } from '../adapter.ts';
import { SOAP_MODELS, type SoapQuantity } from './models.ts';

export const SOAP_NS_T = 'http://cometsystem.cz/schemas/soapTx5xx_v2.xsd';
export const SOAP_NS_CO2 = 'http://cometsystem.cz/schemas/soapTx5xxCO2.xsd';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,     // the five predefined XML entities only: DTDs are refused before parsing
  isArray: (name) => name === 'c',
});

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

type XmlNode = Record<string, unknown>;

function text(node: XmlNode, name: string, required = true): string | undefined {
  const v = node[name];
  if (v === undefined) { if (required) fail(`element <${name}> is missing`); return undefined; }
  if (typeof v === 'object' && v !== null) {
    const inner = (v as XmlNode)['#text'];
    if (inner === undefined && Object.keys(v).some((k) => !k.startsWith('@'))) fail(`element <${name}> must hold text, not elements`);
    return inner === undefined ? '' : String(inner);
  }
  if (Array.isArray(v)) fail(`element <${name}> appears more than once`);
  return String(v);
}

function decimal(node: XmlNode, name: string, required = true): number | undefined {
  const t = text(node, name, required);
  if (t === undefined) return undefined;
  if (!DECIMAL.test(t)) fail(`element <${name}> must be a decimal number with a dot, got "${t.slice(0, 40)}"`);
  return Number(t);
}

function integer(node: XmlNode, name: string, required = true): number | undefined {
  const t = text(node, name, required);
  if (t === undefined) return undefined;
  if (!INTEGER.test(t)) fail(`element <${name}> must be a whole number, got "${t.slice(0, 40)}"`);
  return Number(t);
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

/** Finds Envelope/Body/<first element>, whatever prefixes the device used. */
function bodyChild(doc: XmlNode): { name: string; node: XmlNode } {
  const envelope = doc.Envelope as XmlNode | undefined;
  if (!envelope || typeof envelope !== 'object') fail('not a SOAP envelope: <Envelope> element missing');
  const body = envelope.Body as XmlNode | undefined;
  if (!body || typeof body !== 'object') fail('SOAP <Body> element missing');
  const name = Object.keys(body).find((k) => !k.startsWith('@') && k !== '#text');
  if (!name) fail('SOAP <Body> is empty');
  const node = body[name];
  if (typeof node !== 'object' || node === null || Array.isArray(node)) fail(`<${name}> must hold elements`);
  return { name, node: node as XmlNode };
}

const KNOWN_T = new Set(['passKey', 'device', 'temp', 'relHum', 'compQuant', 'pressure', 'alarms', 'compType', 'tempU', 'pressureU', 'timer', 'co2', 'lev1', 'lev2', 'lev3']);

function unknownChildren(node: XmlNode, known: Set<string>): Record<string, unknown> | undefined {
  const extra = Object.entries(node).filter(([k]) => !k.startsWith('@') && k !== '#text' && !known.has(k));
  return extra.length ? Object.fromEntries(extra) : undefined;
}

function parseTx5xx(node: XmlNode, isCo2: boolean, base: Omit<Upload, 'serial' | 'modelCode' | 'declaredIntervalS' | 'readings' | 'meta'>): Upload {
  const serial = text(node, 'passKey')!;
  if (!SERIAL.test(serial)) fail(`element <passKey> must be the 8-digit serial number, got "${serial.slice(0, 40)}"`);
  const modelCode = integer(node, 'device')!;
  const timer = integer(node, 'timer')!;
  const alarms = parseAlarms(text(node, 'alarms')!);
  const tempU = text(node, 'tempU')!;
  if (!TEMP_UNITS.has(tempU)) fail(`element <tempU> must be C, F or n/a, got "${tempU.slice(0, 20)}"`);
  const compType = text(node, 'compType')!;
  if (compType !== 'n/a' && !(compType in COMP_TYPES)) fail(`element <compType> has an unknown value "${compType.slice(0, 40)}"`);
  const pressureU = isCo2 ? 'n/a' : text(node, 'pressureU')!;
  if (!PRESSURE_UNITS.has(pressureU)) fail(`element <pressureU> has an unknown unit "${pressureU.slice(0, 20)}"`);

  const model = SOAP_MODELS.get(modelCode);
  const has = (q: SoapQuantity) => !model || model.quantities.includes(q);
  const readings: Reading[] = [];
  const temp = decimal(node, 'temp')!;
  const relHum = decimal(node, 'relHum')!;
  const compQuant = decimal(node, 'compQuant')!;
  if (tempU !== 'n/a' && has('temperature')) readings.push(reading(1, 'temperature', tempU, temp, alarms[0]));
  if (has('relative_humidity')) readings.push(reading(2, 'relative_humidity', '%RH', relHum, alarms[1]));
  if (compType !== 'n/a' && has('computed')) {
    const quantity = COMP_TYPES[compType];
    readings.push(reading(3, quantity, quantity === 'dew_point' ? tempU : '', compQuant, alarms[2]));
  }
  const meta: Record<string, unknown> = { root: isCo2 ? 'InsertTx5xxCO2Sample' : 'InsertTx5xxSample', alarms: alarms.join(','), compType };
  if (isCo2) {
    const co2 = decimal(node, 'co2')!;
    if (has('co2')) readings.push(reading(4, 'co2', 'ppm', co2, alarms[3], true));
    meta.leds = [integer(node, 'lev1', false), integer(node, 'lev2', false), integer(node, 'lev3', false)];
  } else {
    const pressure = decimal(node, 'pressure')!;
    if (pressureU !== 'n/a' && has('pressure')) readings.push(reading(4, 'pressure', pressureU, pressure, alarms[3]));
  }
  if (!model) meta.unknownModel = true;
  const extra = unknownChildren(node, KNOWN_T);
  if (extra) meta.unknownElements = extra;
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

function firstOf(node: XmlNode, names: readonly string[]): string | undefined {
  for (const n of names) if (node[n] !== undefined && typeof node[n] !== 'object') return String(node[n]);
  return undefined;
}

function parsePLine(rootName: string, node: XmlNode, base: Omit<Upload, 'serial' | 'modelCode' | 'declaredIntervalS' | 'readings' | 'meta'>): Upload {
  const serial = text(node, 'sn')!;
  if (!SERIAL.test(serial)) fail(`element <sn> must be the 8-digit serial number, got "${serial.slice(0, 40)}"`);
  const modelCode = integer(node, 'kind')!;
  const tmr = integer(node, 'tmr')!;
  const channels = (node.c as XmlNode[] | undefined) ?? [];
  const readings: Reading[] = [];
  for (const c of channels) {
    const nr = Number(c['@i']);
    if (!Number.isInteger(nr) || nr < 1 || nr > 16) fail('<c> element needs an attribute i with the channel number 1-16');
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
    meta: { root: rootName, name: text(node, 'name', false), channels, pLineProvisional: true },
  };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function parseSoap(raw: Buffer, ctx: RequestContext): ParseResult {
  const xml = (raw.subarray(0, 3).equals(BOM) ? raw.subarray(3) : raw).toString('utf8');
  // Refuse any DTD: no device sends one, and it is how XXE and entity-expansion attacks begin.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { ok: false, status: 400, reason: 'DTD or entity declarations are not allowed' };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    return { ok: false, status: 400, reason: `malformed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  }
  try {
    const doc = parser.parse(xml) as XmlNode;
    const { name, node } = bodyChild(doc);
    const base = {
      family: 'soap' as const, entryToken: ctx.entryToken, receivedAt: ctx.receivedAt, remoteAddress: ctx.remoteAddress,
      kind: 'periodic' as const, counter: null, deviceNow: null, fromCache: false, raw, contentType: ctx.contentType,
    };
    let upload: Upload;
    if (name === 'InsertTx5xxSample') upload = parseTx5xx(node, false, base);
    else if (name === 'InsertTx5xxCO2Sample') upload = parseTx5xx(node, true, base);
    else if ('sn' in node && 'kind' in node) upload = parsePLine(name, node, base);
    else return { ok: false, status: 400, reason: `unknown SOAP operation <${name.slice(0, 60)}>` };
    for (const r of upload.readings) r.sampleTime = ctx.receivedAt;
    return { ok: true, upload };
  } catch (err) {
    const serial = /<(?:\w+:)?(?:passKey|sn)>\s*(\d{1,12})\s*</.exec(xml)?.[1];
    const reason = err instanceof SoapFormatError ? err.message : `unreadable SOAP message: ${(err as Error).message.slice(0, 200)}`;
    return { ok: false, status: 400, reason, serial };
  }
}
