// COMET Web Sensor SOAP 1.1 messages (shared/protocols §1, §2): InsertTx5xxSample,
// InsertTx5xxCO2Sample (T- and H-line) and the P-line "v2" body. The device sends no time:
// every reading is stamped with the server's receive time.
import type { AlarmState, Reading, Upload } from '../../domain/types.ts';
import type { ParseResult, RequestContext } from '../adapter.ts';
import { SOAP_MODELS, type SoapModel, type SoapQuantity } from './models.ts';
import { XmlError, parseXml, readFlatSoap, setOwn, type FlatSoap, type XmlElement } from './xml.ts';

export const SOAP_NS_T = 'http://cometsystem.cz/schemas/soapTx5xx_v2.xsd';
export const SOAP_NS_CO2 = 'http://cometsystem.cz/schemas/soapTx5xxCO2.xsd';
/**
 * P-line namespace [inferred]: COMET's P86xx manual names the schema soapP85xx_v2.xsd, and the
 * T-line's schema soapTx5xx_v2.xsd is its namespace under http://cometsystem.cz/schemas/. The parser
 * does not depend on it (it routes on element names); answers echo the namespace the device used.
 */
export const SOAP_NS_P = 'http://cometsystem.cz/schemas/soapP85xx_v2.xsd';

/** Error sentinels: 9999 = Error 1 (over range), -9999 = Errors 2-4, CO2 -9998 = not yet available. */
export const ERROR_OVER_RANGE = 1;
export const ERROR_UNDER_RANGE_OR_SENSOR = 2;
export const ERROR_NOT_YET_AVAILABLE = 98;

// Numbers are checked and converted by hand: a regex test and Number() per field cost more
// than the rest of a field's handling. Shapes: decimal /^-?\d+(\.\d+)?$/, whole /^\d+$/,
// serial /^\d{8}$/.
const ZERO = 48, NINE = 57, MINUS = 45, DOT = 46, COMMA = 44;
/** 10^0 .. 10^22, the powers of ten a double holds exactly. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Up to this many digits, the digits read as an integer are exact in a double (< 2^53). */
const EXACT_DIGITS = 15;

/** Index of the first non-digit at or after `from` (the length if none). */
function digitsEnd(text: string, from: number): number {
  let i = from;
  for (let code = text.charCodeAt(i); code >= ZERO && code <= NINE; code = text.charCodeAt(++i));
  return i;
}

/**
 * The value of a decimal, or NaN when `text` is not one. Up to 15 digits it is the digits as
 * an exact integer divided by an exact power of ten: one correctly rounded division, which is
 * the double Number(text) gives. Longer ones are left to Number(text).
 */
function decimalValue(text: string): number {
  const negative = text.charCodeAt(0) === MINUS;
  const start = negative ? 1 : 0;
  let digits = 0;
  let i = start;
  let code = text.charCodeAt(i);
  for (; code >= ZERO && code <= NINE; code = text.charCodeAt(++i)) digits = digits * 10 + (code - ZERO);
  if (i === start) return NaN;
  let fractionDigits = 0;
  if (i < text.length) {
    if (code !== DOT) return NaN;
    const fractionStart = ++i;
    for (code = text.charCodeAt(i); code >= ZERO && code <= NINE; code = text.charCodeAt(++i)) digits = digits * 10 + (code - ZERO);
    fractionDigits = i - fractionStart;
    if (fractionDigits === 0 || i < text.length) return NaN;
  }
  const digitCount = i - start - (fractionDigits > 0 ? 1 : 0);
  if (digitCount > EXACT_DIGITS) return Number(text);
  const magnitude = digits / EXACT_POWERS_OF_TEN[fractionDigits];
  return negative ? -magnitude : magnitude;
}

/** The value of a whole number, or NaN when `text` is not one (exact as decimalValue is). */
function wholeValue(text: string): number {
  let value = 0;
  let i = 0;
  for (let code = text.charCodeAt(0); code >= ZERO && code <= NINE; code = text.charCodeAt(++i)) value = value * 10 + (code - ZERO);
  if (i === 0 || i < text.length) return NaN;
  return i > EXACT_DIGITS ? Number(text) : value;
}

function isSerial(text: string): boolean { return text.length === 8 && digitsEnd(text, 0) === 8; }

/** text.trim() without the call when both ends are printable ASCII, so there is nothing to trim. */
function trimmed(text: string): string {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first > 32 && first < 127 && last > 32 && last < 127 ? text : text.trim();
}

// Short lists searched with includes: hashing each newly read string for a Set lookup cost more.
const TEMP_UNITS = ['C', 'F', 'n/a'];
const PRESSURE_UNITS = ['hPa', 'PSI', 'inHg', 'mBar', 'oz/in^2', 'mmHg', 'inH2O', 'kPa', 'n/a'];
const COMP_TYPES: Record<string, string> = {
  'Absolute humidity': 'absolute_humidity', 'Specific humidity': 'specific_humidity',
  'Mixing proportion': 'mixing_ratio', 'Specific enthalpy': 'specific_enthalpy', 'Dew point': 'dew_point',
};
const COMP_TYPE_NAMES = Object.keys(COMP_TYPES);

/** The quantity a compType names; only the device's own names count ("toString" is no compType). */
function compQuantity(compType: string): string | undefined {
  for (const name of COMP_TYPE_NAMES) if (name === compType) return COMP_TYPES[name];
  return undefined;
}

const ALARM_TOKENS: readonly AlarmState[] = ['no', 'lo', 'hi'];

class SoapFormatError extends Error {}

function fail(reason: string): never { throw new SoapFormatError(reason); }

/**
 * An operation's fields by local name; a repeated scalar element is malformed. Each field is put
 * in the slot of its name once (a short search among constant names: cheaper than a Map per
 * message, which hashes every newly read name), and fields are then read by slot number. Filled
 * from the element tree (ofElements) or from the flat reader (ofFlat), with the same rules.
 */
class Fields {
  private readonly names: readonly string[];
  /** Each slot's text as read; null when the element holds elements; undefined when it is absent. */
  private readonly slots: (string | null | undefined)[] = [];
  private unknownNames: string[] | null = null;
  /** Children whose names are not in `names`, by name, with their text; null when there are none. */
  unknown: Record<string, string> | null = null;

  private constructor(names: readonly string[]) {
    this.names = names;
    for (let slot = 0; slot < names.length; slot++) this.slots.push(undefined);
  }

  static ofElements(children: readonly XmlElement[], names: readonly string[]): Fields {
    const fields = new Fields(names);
    for (const child of children) fields.add(child.local, child.text, child.children.length > 0);
    return fields;
  }

  static ofFlat(flat: FlatSoap, names: readonly string[]): Fields {
    const fields = new Fields(names);
    for (let i = 0; i < flat.count; i++) fields.add(flat.locals[i], flat.texts[i], false);
    return fields;
  }

  private add(local: string, text: string, holdsElements: boolean): void {
    const slot = this.names.indexOf(local);
    const repeated = slot >= 0 ? this.slots[slot] !== undefined : this.unknownNames !== null && this.unknownNames.includes(local);
    if (repeated) fail(`element <${local}> appears more than once`);
    if (slot >= 0) {
      this.slots[slot] = holdsElements ? null : text;
    } else {
      (this.unknownNames ??= []).push(local);
      setOwn(this.unknown ??= {}, local, text.trim());
    }
  }

  text(slot: number, required = true): string | undefined {
    const text = this.slots[slot];
    const name = this.names[slot];
    if (text === undefined) { if (required) fail(`element <${name}> is missing`); return undefined; }
    if (text === null) fail(`element <${name}> must hold text, not elements`);
    return trimmed(text);
  }

  decimal(slot: number, required = true): number | undefined {
    const t = this.text(slot, required);
    if (t === undefined) return undefined;
    const value = decimalValue(t);
    if (Number.isNaN(value)) fail(`element <${this.names[slot]}> must be a decimal number with a dot, got "${t.slice(0, 40)}"`);
    return value;
  }

  integer(slot: number, required = true): number | undefined {
    const t = this.text(slot, required);
    if (t === undefined) return undefined;
    const value = wholeValue(t);
    if (Number.isNaN(value)) fail(`element <${this.names[slot]}> must be a whole number, got "${t.slice(0, 40)}"`);
    return value;
  }
}

/** Four of no/lo/hi separated by commas, read in place rather than split into new strings. */
function parseAlarms(value: string): AlarmState[] {
  const states: AlarmState[] = [];
  if (value.length === 11) {
    for (let at = 0; at < 11; at += 3) {
      const state = ALARM_TOKENS.find((token) => value.startsWith(token, at));
      if (state === undefined || (at < 9 && value.charCodeAt(at + 2) !== COMMA)) break;
      states.push(state);
    }
  }
  if (states.length !== 4) fail(`element <alarms> must be four of no/lo/hi separated by commas, got "${value.slice(0, 40)}"`);
  return states;
}

/** One reading; the device sends no time, so it is stamped with the receive time. */
function reading(channel: number, quantity: string, unit: string, raw: number, alarm: AlarmState, sampleTime: number, co2 = false): Reading {
  let errorCode: number | null = null;
  if (raw === 9999) errorCode = ERROR_OVER_RANGE;
  else if (raw === -9999) errorCode = ERROR_UNDER_RANGE_OR_SENSOR;
  else if (co2 && raw === -9998) errorCode = ERROR_NOT_YET_AVAILABLE;
  return { channel, quantity, unit, value: errorCode === null ? raw : null, errorCode, alarm, sampleTime };
}

/** An upload as one object literal (no spread of a shared base), fields in their usual order. */
function soapUpload(raw: Buffer, ctx: RequestContext, serial: string, modelCode: number, interval: number, readings: Reading[], meta: Record<string, unknown>): Upload {
  return {
    family: 'soap', entryToken: ctx.entryToken, receivedAt: ctx.receivedAt, remoteAddress: ctx.remoteAddress,
    kind: 'periodic', counter: null, deviceNow: null, fromCache: false, raw, contentType: ctx.contentType,
    serial, modelCode, declaredIntervalS: interval > 0 ? interval : null, readings, meta,
  };
}

/** Slot number of each name, for reading Fields: T.passKey rather than a search for 'passKey'. */
function slotsOf<Name extends string>(names: readonly Name[]): Record<Name, number> {
  return Object.fromEntries(names.map((name, slot) => [name, slot])) as Record<Name, number>;
}

const KNOWN_T = ['passKey', 'device', 'temp', 'relHum', 'compQuant', 'pressure', 'alarms', 'compType', 'tempU', 'pressureU', 'timer', 'co2', 'lev1', 'lev2', 'lev3'] as const;
const KNOWN_P = ['name', 'sn', 'tmr', 'kind'] as const;
const T = slotsOf(KNOWN_T);
const P = slotsOf(KNOWN_P);

/** Finds Envelope/Body/<first element>, whatever prefixes the device used. */
function bodyChild(envelope: XmlElement): XmlElement {
  if (envelope.local !== 'Envelope') fail(`not a SOAP envelope: the root element is <${envelope.name.slice(0, 60)}>`);
  const body = envelope.children.find((c) => c.local === 'Body');
  if (!body) fail('SOAP <Body> element missing');
  const operation = body!.children[0];
  if (!operation) fail('SOAP <Body> is empty');
  return operation;
}

/** True when the model measures the quantity, or when the model is unknown (keep everything). */
function measures(model: SoapModel | undefined, quantity: SoapQuantity): boolean {
  return !model || model.quantities.includes(quantity);
}

/** A value a sensor measured, as opposed to the 9999/-9999 (and CO2 -9998) sentinels of an empty slot. */
function isRealValue(raw: number, co2 = false): boolean {
  return raw !== 9999 && raw !== -9999 && !(co2 && raw === -9998);
}

/** A channel the model table does not expect but the device filled: kept, and flagged for an event. */
export interface UnexpectedChannel { channel: number; quantity: string; value: number; model: string }

/**
 * Whether to keep a slot: always when the table says the model measures it; otherwise only when the
 * device sent a real value, which is then flagged, so a wrong table row never drops a reading.
 */
function keepSlot(model: SoapModel | undefined, quantity: SoapQuantity, raw: number, channel: number, flagged: UnexpectedChannel[], co2 = false): boolean {
  if (measures(model, quantity)) return true;
  if (!isRealValue(raw, co2)) return false;
  flagged.push({ channel, quantity, value: raw, model: model!.model });
  return true;
}

function parseTx5xx(node: Fields, isCo2: boolean, raw: Buffer, ctx: RequestContext): Upload {
  const serial = node.text(T.passKey)!;
  if (!isSerial(serial)) fail(`element <passKey> must be the 8-digit serial number, got "${serial.slice(0, 40)}"`);
  const modelCode = node.integer(T.device)!;
  const timer = node.integer(T.timer)!;
  const alarmsText = node.text(T.alarms)!;
  const alarms = parseAlarms(alarmsText);
  const tempU = node.text(T.tempU)!;
  if (!TEMP_UNITS.includes(tempU)) fail(`element <tempU> must be C, F or n/a, got "${tempU.slice(0, 20)}"`);
  const compType = node.text(T.compType)!;
  if (compType !== 'n/a' && compQuantity(compType) === undefined) fail(`element <compType> has an unknown value "${compType.slice(0, 40)}"`);
  const pressureU = isCo2 ? 'n/a' : node.text(T.pressureU)!;
  if (!PRESSURE_UNITS.includes(pressureU)) fail(`element <pressureU> has an unknown unit "${pressureU.slice(0, 20)}"`);

  const model = SOAP_MODELS.get(modelCode);
  const at = ctx.receivedAt;
  const readings: Reading[] = [];
  const temp = node.decimal(T.temp)!;
  const relHum = node.decimal(T.relHum)!;
  const compQuant = node.decimal(T.compQuant)!;
  const unexpected: UnexpectedChannel[] = [];
  if (tempU !== 'n/a' && keepSlot(model, 'temperature', temp, 1, unexpected)) readings.push(reading(1, 'temperature', tempU, temp, alarms[0], at));
  if (keepSlot(model, 'relative_humidity', relHum, 2, unexpected)) readings.push(reading(2, 'relative_humidity', '%RH', relHum, alarms[1], at));
  if (compType !== 'n/a' && keepSlot(model, 'computed', compQuant, 3, unexpected)) {
    const quantity = compQuantity(compType)!;
    readings.push(reading(3, quantity, quantity === 'dew_point' ? tempU : '', compQuant, alarms[2], at));
  }
  // alarmsText is the four valid tokens joined by commas, as alarms.join(',') would give
  const meta: Record<string, unknown> = { root: isCo2 ? 'InsertTx5xxCO2Sample' : 'InsertTx5xxSample', alarms: alarmsText, compType };
  if (isCo2) {
    const co2 = node.decimal(T.co2)!;
    if (keepSlot(model, 'co2', co2, 4, unexpected, true)) readings.push(reading(4, 'co2', 'ppm', co2, alarms[3], at, true));
    meta.leds = [node.integer(T.lev1, false), node.integer(T.lev2, false), node.integer(T.lev3, false)];
  } else {
    const pressure = node.decimal(T.pressure)!;
    if (pressureU !== 'n/a' && keepSlot(model, 'pressure', pressure, 4, unexpected)) readings.push(reading(4, 'pressure', pressureU, pressure, alarms[3], at));
  }
  if (!model) meta.unknownModel = true;
  if (unexpected.length) meta.unexpectedChannels = unexpected;
  if (node.unknown) meta.unknownElements = node.unknown;
  return soapUpload(raw, ctx, serial, modelCode, timer, readings, meta);
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
    for (const c of channel.children) if (c.local === n && c.children.length === 0) return trimmed(c.text);
  }
  return undefined;
}

const P_CHANNEL_FIELD_NAMES: readonly string[] = Object.values(P_CHANNEL_FIELDS).flat();

/** The candidate name itself when `local` is one: a constant key is found by its cached hash, a newly read one is hashed and interned. */
function channelFieldKey(local: string): string {
  for (const name of P_CHANNEL_FIELD_NAMES) if (name === local) return name;
  return local;
}

/** Each sub-element's trimmed text by name, as Object.fromEntries would make it (later ones win). */
function textsByName(channel: XmlElement): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const f of channel.children) {
    setOwn(texts, channelFieldKey(f.local), trimmed(f.text));
  }
  return texts;
}

const NOT_LABEL_CHARS = /[^a-z0-9]+/g;

/** The channel label as a quantity name: lower case, runs of other characters as "_". */
function quantityName(label: string): string {
  const lower = label.toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    const code = lower.charCodeAt(i);
    if (!((code >= 97 && code <= 122) || (code >= ZERO && code <= NINE))) return lower.replace(NOT_LABEL_CHARS, '_');
  }
  return lower; // nothing to replace: skip the regex
}

function parsePLine(root: XmlElement, raw: Buffer, ctx: RequestContext): Upload {
  const channels: XmlElement[] = [];
  const others: XmlElement[] = [];
  for (const child of root.children) (child.local === 'c' ? channels : others).push(child);
  const node = Fields.ofElements(others, KNOWN_P);
  const serial = node.text(P.sn)!;
  if (!isSerial(serial)) fail(`element <sn> must be the 8-digit serial number, got "${serial.slice(0, 40)}"`);
  const modelCode = node.integer(P.kind)!;
  const tmr = node.integer(P.tmr)!;
  const readings: Reading[] = [];
  const kept: Record<string, Record<string, string>> = {};
  for (const c of channels) {
    const nr = Number(c.attributes.i);
    if (!Number.isInteger(nr) || nr < 1 || nr > 16) fail('<c> element needs an attribute i with the channel number 1-16');
    kept[nr] = textsByName(c);
    const rawValue = firstOf(c, P_CHANNEL_FIELDS.value);
    if (rawValue === undefined) continue; // channel without a recognisable value: kept in meta only
    const value = decimalValue(rawValue);
    if (Number.isNaN(value)) fail(`channel ${nr} value must be a decimal number, got "${rawValue.slice(0, 40)}"`);
    const alarmText = firstOf(c, P_CHANNEL_FIELDS.alarm) ?? 'no';
    const alarm: AlarmState = ALARM_TOKENS.includes(alarmText as AlarmState) ? alarmText as AlarmState : 'no';
    const label = firstOf(c, P_CHANNEL_FIELDS.quantity) ?? `channel ${nr}`;
    readings.push(reading(nr, quantityName(label), firstOf(c, P_CHANNEL_FIELDS.unit) ?? '', value, alarm, ctx.receivedAt));
  }
  const meta = { root: root.local, namespace: root.attributes.xmlns ?? null, name: node.text(P.name, false), channels: kept, pLineProvisional: true };
  return soapUpload(raw, ctx, serial, modelCode, tmr, readings, meta);
}

const DTD_OR_ENTITY = /<!DOCTYPE|<!ENTITY/i;
const SERIAL_IN_TEXT = /<(?:\w+:)?(?:passKey|sn)>\s*(\d{1,12})\s*</;

function hasChild(element: XmlElement, local: string): boolean {
  return element.children.some((c) => c.local === local);
}

/** Local names the flat reader hands out as constants: the operations and their fields. */
const FLAT_NAMES: readonly string[] = ['InsertTx5xxSample', 'InsertTx5xxCO2Sample', ...KNOWN_T];

export function parseSoap(raw: Buffer, ctx: RequestContext): ParseResult {
  return parseSoapMessage(raw, ctx, true);
}

/** parseSoap with the element tree only, never the flat reader: what the flat reader is held to (tests). */
export function parseSoapByTree(raw: Buffer, ctx: RequestContext): ParseResult {
  return parseSoapMessage(raw, ctx, false);
}

function parseSoapMessage(raw: Buffer, ctx: RequestContext, flatFirst: boolean): ParseResult {
  const hasBom = raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
  const xml = hasBom ? raw.toString('utf8', 3) : raw.toString(); // no arguments: Node's shortest path
  // Refuse any DTD: no device sends one, and it is how XXE and entity-expansion attacks begin.
  if (DTD_OR_ENTITY.test(xml)) return { ok: false, status: 400, reason: 'DTD or entity declarations are not allowed' };
  try {
    // A T- or H-line message in the usual shape is read without an element tree (readFlatSoap);
    // any other, and the P-line, by the tree reader.
    const flat = flatFirst ? readFlatSoap(xml, FLAT_NAMES) : null;
    if (flat && flat.operation === 'InsertTx5xxSample') return { ok: true, upload: parseTx5xx(Fields.ofFlat(flat, KNOWN_T), false, raw, ctx) };
    if (flat && flat.operation === 'InsertTx5xxCO2Sample') return { ok: true, upload: parseTx5xx(Fields.ofFlat(flat, KNOWN_T), true, raw, ctx) };
    const operation = bodyChild(parseXml(xml));
    const name = operation.local;
    let upload: Upload;
    if (name === 'InsertTx5xxSample') upload = parseTx5xx(Fields.ofElements(operation.children, KNOWN_T), false, raw, ctx);
    else if (name === 'InsertTx5xxCO2Sample') upload = parseTx5xx(Fields.ofElements(operation.children, KNOWN_T), true, raw, ctx);
    else if (hasChild(operation, 'sn') && hasChild(operation, 'kind')) upload = parsePLine(operation, raw, ctx);
    else return { ok: false, status: 400, reason: `unknown SOAP operation <${name.slice(0, 60)}>` };
    return { ok: true, upload };
  } catch (err) {
    const serial = SERIAL_IN_TEXT.exec(xml)?.[1];
    const reason = err instanceof SoapFormatError ? err.message
      : err instanceof XmlError ? `malformed XML: ${err.message}` : `unreadable SOAP message: ${(err as Error).message.slice(0, 200)}`;
    return { ok: false, status: 400, reason, serial };
  }
}
