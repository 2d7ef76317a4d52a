// Every device parser with the inputs to fuzz it with and the check its result must pass. Shared
// by test/unit/fuzz.test.ts (seconds, in CI) and bench/fuzz-long.ts (minutes, with memory figures).
// Inputs are random bytes, random JSON/XML, and valid messages mutated at random: the last reach
// deep into the parsers, where pure noise is refused at the first byte.
import fc from 'fast-check';
import type { ParseResult, RequestContext } from '../../src/ingest/adapter.ts';
import { isDeepStrictEqual } from 'node:util';
import { parseSoap, parseSoapByTree } from '../../src/ingest/soap/parse.ts';
import { XmlError, parseXml, type XmlElement } from '../../src/ingest/soap/xml.ts';
import { wifiAdapter } from '../../src/ingest/wifi/index.ts';
import { websensorJsonAdapter } from '../../src/ingest/websensor-json/index.ts';
import { loggerAdapter } from '../../src/ingest/logger/index.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { buildWifiBody } from '../../src/sim/wifi.ts';
import { buildWebsensorBody } from '../../src/sim/websensor-json.ts';
import { buildLoggerBody } from '../../src/sim/logger.ts';
import { fixture } from './fixtures.ts';

const CONTEXT: RequestContext = { entryToken: 'fuzz-token-0001', receivedAt: Date.UTC(2026, 10, 23, 12), remoteAddress: '192.0.2.1', contentType: 'application/octet-stream' };
const SAMPLE_TIME = Date.UTC(2026, 10, 23, 11, 59);
const ALARMS = new Set(['no', 'hi', 'lo']);

/** Why a parse result is not a well-formed ParseResult for this input, or null when it is. */
export function parseResultProblem(result: ParseResult, raw: Buffer, family: string): string | null {
  if (result.ok) {
    const u = result.upload;
    if (u.family !== family) return `family ${u.family}`;
    if (u.raw !== raw) return 'raw is not the input';
    if (u.entryToken !== CONTEXT.entryToken || u.receivedAt !== CONTEXT.receivedAt) return 'context not carried';
    if (typeof u.serial !== 'string' || u.serial === '') return 'no serial';
    if (!Array.isArray(u.readings)) return 'readings not an array';
    for (const r of u.readings) {
      if (!Number.isInteger(r.channel)) return `channel ${r.channel}`;
      // the store's CHECK: exactly one of value and error code
      if ((r.value === null) === (r.errorCode === null)) return `channel ${r.channel}: value ${r.value} with error code ${r.errorCode}`;
      if (r.value !== null && typeof r.value !== 'number') return `channel ${r.channel}: value of type ${typeof r.value}`;
      if (!ALARMS.has(r.alarm)) return `channel ${r.channel}: alarm ${r.alarm}`;
      if (typeof r.sampleTime !== 'number') return `channel ${r.channel}: sample time ${r.sampleTime}`;
      if (typeof r.quantity !== 'string' || typeof r.unit !== 'string') return `channel ${r.channel}: quantity or unit not text`;
    }
    return null;
  }
  if (typeof result.reason !== 'string' || result.reason === '') return 'refusal without a reason';
  // 500 is what the adapters' last-resort catch answers: a parser bug, not a refusal
  if (!Number.isInteger(result.status) || result.status < 400 || result.status > 499) return `status ${result.status}: ${result.reason}`;
  return null;
}

/** A valid message with random bytes replaced, inserted, removed or repeated. */
export function mutated(seeds: Buffer[], alphabet: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  const edit = fc.record({
    at: fc.nat(), length: fc.nat({ max: 24 }), kind: fc.constantFrom('replace', 'insert', 'delete', 'repeat'), text: alphabet,
  });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([seed, edits]) => {
    let s = seed.toString('latin1');
    for (const e of edits) {
      const at = e.at % (s.length + 1);
      const end = Math.min(s.length, at + e.length);
      if (e.kind === 'replace') s = s.slice(0, at) + e.text + s.slice(end);
      else if (e.kind === 'insert') s = s.slice(0, at) + e.text + s.slice(at);
      else if (e.kind === 'delete') s = s.slice(0, at) + s.slice(end);
      else s = s.slice(0, end) + s.slice(at, end).repeat(1 + (e.length % 4)) + s.slice(end);
    }
    return Buffer.from(s, 'latin1');
  });
}

/** Valid JSON in which any value may be swapped for random JSON: types, ranges and shapes all wrong. */
function jsonWithRandomValues(seeds: unknown[]): fc.Arbitrary<Buffer> {
  const swap = (value: unknown, chooser: () => unknown): unknown => {
    if (Array.isArray(value)) return value.map((v) => swap(v, chooser));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, swap(v, chooser)]));
    const replacement = chooser();
    return replacement === undefined ? value : replacement;
  };
  return fc.tuple(fc.constantFrom(...seeds), fc.infiniteStream(fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 6 })))
    .map(([seed, stream]) => {
      const values = stream[Symbol.iterator]();
      return Buffer.from(JSON.stringify(swap(seed, () => { const v = values.next().value; return v === null ? undefined : v; })));
    });
}

const bytes = fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a));
const xmlChars = fc.string({ unit: fc.constantFrom('<', '>', '/', '!', '?', '&', ';', '#', 'x', '"', "'", '=', ' ', ':', 'a', '1', '[', ']', '-', 'é', '\u0000') });
const jsonChars = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', 'u', '1', 'e', '-', '.', ' ', 'n', 'N', 'a', '9', '0', 'F', '\u00ff') });

/** Random element trees, serialised: well-formed XML that is not (quite) a device message. */
const randomXml = fc.letrec((tie) => ({
  element: fc.tuple(
    fc.constantFrom('soap:Envelope', 'soap:Body', 'InsertTx5xxSample', 'InsertTx5xxCO2Sample', 'passKey', 'device', 'temp', 'alarms', 'timer', 'c', 'sn', 'kind', 'x:y'),
    fc.array(fc.tuple(fc.constantFrom('i', 'xmlns', 'a'), fc.string({ maxLength: 8 })), { maxLength: 2 }),
    fc.array(fc.oneof(fc.string({ maxLength: 12 }), tie('element')), { maxLength: 4 }),
  ).map(([name, attributes, children]) => {
    const attrs = attributes.map(([k, v], i) => ` ${k}${i}="${v.replace(/[<&"]/g, '')}"`).join('');
    const inner = children.map((c) => (typeof c === 'string' ? c.replace(/[<&]/g, '') : c)).join('');
    return `<${name}${attrs}>${inner}</${name}>`;
  }),
})).element.map((xml) => Buffer.from(xml));

const soapSeeds = [
  Buffer.from(buildSoapMessage({ serial: '20970001', modelCode: 4145 })),
  Buffer.from(buildSoapMessage({ serial: '20970002', modelCode: 4155, co2: 800 })),
  fixture('soap', 'p8541-provisional.xml'), fixture('soap', 't7611-trhp.xml'), fixture('soap', 't3510-bom.xml'),
];
/** Messages in the flat reader's shape (parse.ts reads them without an element tree), and the characters that break it. */
export const flatSoapSeeds = [
  ...soapSeeds.slice(0, 2), fixture('soap', 't7611-trhp.xml'), fixture('soap', 't3510-bom.xml'), fixture('soap', 'h3531-extra-element.xml'),
  fixture('soap', 't0510-errors-fahrenheit.xml'), fixture('soap', 't6540-co2-not-ready.xml'),
];
export const flatSoapChars = fc.string({ unit: fc.constantFrom('<', '>', '/', '!', '?', '&', ';', '"', "'", '=', ' ', '\t', '\r', '\n', '\u00a0', ':', 'a', '1', '.', '-', 'passKey', 'temp', 'soap:', 'Body', '<![CDATA[', '<!--', '-->') });

/**
 * A flat-shape message with its fields edited as a device with a bug might: a field's text replaced,
 * a field dropped, repeated or renamed (a prefix, another known name, an unknown one). Most of these
 * keep the flat shape, so that the flat reader's reading of fields is compared, not only its refusals.
 */
export const fieldEditedSoap: fc.Arbitrary<Buffer> = fc.tuple(
  fc.constantFrom(...flatSoapSeeds),
  fc.array(fc.record({
    field: fc.nat(), kind: fc.constantFrom('text', 'drop', 'repeat', 'rename'),
    text: fc.string({ unit: fc.constantFrom('0', '1', '9', '.', '-', ',', ' ', '\t', 'n', 'o', 'h', 'i', 'l', 'C', 'F', '/', 'a', 'é', '>', '\u00a0'), maxLength: 14 }),
    name: fc.constantFrom('passKey', 'device', 'temp', 'relHum', 'compQuant', 'pressure', 'alarms', 'compType', 'tempU', 'pressureU', 'timer', 'co2', 'lev1', 'x:temp', 'bin1', '__proto__', 'toString', 'a:b:c'),
  }), { minLength: 1, maxLength: 4 }),
).map(([seed, edits]) => {
  let xml = seed.toString('utf8');
  for (const e of edits) {
    const fields = [...xml.matchAll(/<([A-Za-z_][\w:.-]*)>([^<]*)<\/\1>/g)];
    if (!fields.length) break;
    const f = fields[e.field % fields.length];
    const at = f.index!;
    const end = at + f[0].length;
    const replacement = e.kind === 'text' ? `<${f[1]}>${e.text}</${f[1]}>` : e.kind === 'drop' ? ''
      : e.kind === 'repeat' ? f[0] + f[0] : `<${e.name}>${f[2]}</${e.name}>`;
    xml = xml.slice(0, at) + replacement + xml.slice(end);
  }
  return Buffer.from(xml);
});

/** Why parseSoap (the flat reader first) and the element tree alone read this message differently, or null when they agree. */
export function flatReaderDisagreement(raw: Buffer): string | null {
  const flat = parseSoap(raw, CONTEXT);
  const tree = parseSoapByTree(raw, CONTEXT);
  if (isDeepStrictEqual(flat, tree)) return null;
  // The results without the raw body, which both hold as the same Buffer.
  const shown = (r: ParseResult) => JSON.stringify(r.ok ? { ...r, upload: { ...r.upload, raw: undefined } } : r);
  return `flat reader and element tree disagree: flat ${shown(flat)}, tree ${shown(tree)}`;
}

const wifiSeeds = [buildWifiBody({ serial: '21960311', model: 3, orderId: 1, msgType: 'periodic', interval: 60, sampleTime: SAMPLE_TIME, channels: [{ nr: 1, label: 'Temperature', value: 4.5, unit: '°C' }, { nr: 2, label: 'Relative humidity', value: { errorCode: 4 }, unit: '%RH' }] }), fixture('wifi', 'periodic.json')];
const websensorSeeds = [buildWebsensorBody({ serial: '26690042', model: 3, orderId: 1, msgType: 'periodic', interval: 60, sampleTime: SAMPLE_TIME, channels: [{ nr: 1, label: 'Temperature', value: 4.5, unit: '°C' }] }), fixture('websensor-json', 'pa8652-binary.json')];
const loggerSeeds = [buildLoggerBody({ serial: 19990042, model: 1, orderId: 3, sampleTime: SAMPLE_TIME, channels: [{ nr: 1, label: 'Temperature', value: -6.5, unit: '°C' }, { nr: 2, binary: true, label: 'Door', state: 1, descriptions: ['closed', 'open'] }] }), fixture('logger', 'v6-batch.json')];

export interface FuzzTarget {
  name: string;
  input: fc.Arbitrary<Buffer>;
  /** null when the parser behaved; else what went wrong. */
  run(raw: Buffer): string | null;
}

function adapterTarget(name: string, family: string, parse: (raw: Buffer, ctx: RequestContext) => ParseResult, seeds: Buffer[], extra: fc.Arbitrary<Buffer>[], alphabet: fc.Arbitrary<string>): FuzzTarget {
  return {
    name,
    input: fc.oneof(bytes, mutated(seeds, alphabet), ...extra),
    run(raw) {
      try {
        return parseResultProblem(parse(raw, CONTEXT), raw, family);
      } catch (err) {
        return `threw ${(err as Error).stack}`;
      }
    },
  };
}

function wellFormedTree(e: XmlElement, depth = 0): boolean {
  return typeof e.name === 'string' && typeof e.local === 'string' && typeof e.text === 'string' && depth <= 32 &&
    e.children.every((c) => wellFormedTree(c, depth + 1));
}

const jsonSeeds = (seeds: Buffer[]) => seeds.map((s) => JSON.parse(s.toString()) as unknown);

export const FUZZ_TARGETS: FuzzTarget[] = [
  {
    name: 'xml reader (src/ingest/soap/xml.ts)',
    input: fc.oneof(bytes, randomXml, mutated(soapSeeds, xmlChars)),
    run(raw) {
      try {
        return wellFormedTree(parseXml(raw.toString('utf8'))) ? null : 'malformed element tree';
      } catch (err) {
        // refusing is its job; anything but an XmlError is a bug
        return err instanceof XmlError ? null : `threw ${(err as Error).stack}`;
      }
    },
  },
  adapterTarget('SOAP parse', 'soap', parseSoap, soapSeeds, [randomXml], xmlChars),
  {
    name: 'SOAP flat reader against the element tree (readFlatSoap in src/ingest/soap/xml.ts)',
    input: fc.oneof(fieldEditedSoap, mutated(flatSoapSeeds, flatSoapChars), mutated(flatSoapSeeds, xmlChars), randomXml),
    run: flatReaderDisagreement,
  },
  adapterTarget('WiFi adapter', 'wifi', wifiAdapter.parse, wifiSeeds, [jsonWithRandomValues(jsonSeeds(wifiSeeds))], jsonChars),
  adapterTarget('TAx6xx adapter', 'websensor-json', websensorJsonAdapter.parse, websensorSeeds, [jsonWithRandomValues(jsonSeeds(websensorSeeds))], jsonChars),
  adapterTarget('logger adapter', 'logger', loggerAdapter.parse, loggerSeeds, [jsonWithRandomValues(jsonSeeds(loggerSeeds))], jsonChars),
];

export interface FuzzRun { runs: number; failure: string | null }

/** Runs one target for about `ms` from `seed`; the failure names the shrunk input. */
/** A fixed number of generated inputs: the same inputs on a fast or a busy machine (tests). */
export function fuzzRuns(target: FuzzTarget, seed: number, runs: number): FuzzRun {
  const details = fc.check(fc.property(target.input, (raw) => {
    const problem = target.run(raw);
    if (problem) throw new Error(problem);
  }), { seed, numRuns: runs });
  return { runs: details.numRuns, failure: details.failed ? fc.defaultReportMessage(details) ?? 'failed' : null };
}

/** As many generated inputs as fit in `ms` (benchmarks that explore for minutes). */
export function fuzz(target: FuzzTarget, seed: number, ms: number): FuzzRun {
  const details = fc.check(fc.property(target.input, (raw) => {
    const problem = target.run(raw);
    if (problem) throw new Error(problem);
  }), { seed, numRuns: Number.MAX_SAFE_INTEGER, plugins: [fc.interruptAfterTimeLimit(ms)] });
  return { runs: details.numRuns, failure: details.failed ? fc.defaultReportMessage(details) ?? 'failed' : null };
}
