import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { SOAP_NS_P, parseSoap } from '../../src/ingest/soap/parse.ts';
import { createSoapAdapter } from '../../src/ingest/soap/index.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import type { Upload } from '../../src/domain/types.ts';
import { SOAP_MODELS, soapModelByName } from '../../src/ingest/soap/models.ts';

const dir = new URL('../fixtures/soap/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, dir));
const ctx = { entryToken: 'tok12345678', receivedAt: Date.UTC(2026, 10, 23, 9, 0, 0), remoteAddress: '10.0.0.5', contentType: 'text/xml' };

function ok(raw: Buffer): Upload {
  const r = parseSoap(raw, ctx);
  if (!r.ok) assert.fail(`expected a parsed upload, got refusal: ${r.reason}`);
  return r.upload;
}

test('T7611 T+RH+P message: four channels with units, alarm states, interval and receive time', () => {
  const u = ok(fixture('t7611-trhp.xml'));
  assert.equal(u.serial, '21950017');
  assert.equal(u.modelCode, 4178);
  assert.equal(u.declaredIntervalS, 60);
  assert.equal(u.family, 'soap');
  assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.unit, r.value, r.errorCode, r.alarm, r.sampleTime]), [
    [1, 'temperature', 'C', 4.3, null, 'no', ctx.receivedAt],
    [2, 'relative_humidity', '%RH', 87.5, null, 'hi', ctx.receivedAt],
    [3, 'dew_point', 'C', 2.3, null, 'no', ctx.receivedAt],
    [4, 'pressure', 'hPa', 1008.6, null, 'no', ctx.receivedAt],
  ]);
  assert.equal(u.meta.root, 'InsertTx5xxSample');
});

test('CO2 message: -9998 means not yet available, stored as error 98 and no value', () => {
  const u = ok(fixture('t6540-co2-not-ready.xml'));
  assert.equal(u.modelCode, 4158);
  const co2 = u.readings.find((r) => r.quantity === 'co2');
  assert.deepEqual(co2 && [co2.channel, co2.value, co2.errorCode, co2.unit], [4, null, 98, 'ppm']);
  assert.equal(u.meta.root, 'InsertTx5xxCO2Sample');
  assert.deepEqual(u.meta.leds, [0, 0, 0]);
});

test('error sentinels become errors, never numbers; n/a units and models without RH drop channels', () => {
  const u = ok(fixture('t0510-errors-fahrenheit.xml'));
  // T0510 measures temperature only; compType and pressureU are n/a
  assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.unit, r.value, r.errorCode, r.alarm]), [
    [1, 'temperature', 'F', null, 1, 'hi'],
  ]);
  assert.equal(u.declaredIntervalS, 300);
});

test('H-line message with another envelope prefix, any element order and an unknown element kept in meta', () => {
  const u = ok(fixture('h3531-extra-element.xml'));
  assert.equal(u.modelCode, 4658);
  assert.deepEqual(u.readings.map((r) => [r.quantity, r.value, r.alarm]), [
    ['temperature', -18.4, 'lo'], ['relative_humidity', 12, 'no'], ['absolute_humidity', 1.2, 'no'],
  ]);
  assert.deepEqual(u.meta.unknownElements, { bin1: '1' });
});

test('a UTF-8 byte order mark is accepted', () => {
  assert.equal(ok(fixture('t3510-bom.xml')).serial, '20960050');
});

test('P-line body is parsed generically (provisional layout)', () => {
  const u = ok(fixture('p8541-provisional.xml'));
  assert.equal(u.serial, '21940005');
  assert.equal(u.modelCode, 4353);
  assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.value, r.errorCode, r.alarm]), [
    [1, 'temperature', -21.3, null, 'no'], [2, 'temperature', null, 1, 'hi'],
  ]);
});

test('a P-line message is answered with its own root and namespace, not the T-line response', () => {
  const upload = ok(fixture('p8541-provisional.xml'));
  const answer = createSoapAdapter().answer({ kind: 'accepted', reason: 'ok', httpStatus: 200, stored: 2 }, upload);
  const root = String(upload.meta.root);
  const ns = String(upload.meta.namespace ?? SOAP_NS_P);
  assert.ok(String(answer.body).includes(`<${root}Response xmlns="${ns}"/>`), String(answer.body));
  assert.doesNotMatch(String(answer.body), /InsertTx5xxSampleResponse/);
  // a namespace the device made up is echoed escaped, never as markup
  const odd = { ...upload, meta: { ...upload.meta, namespace: 'urn:x"/><evil/>' } };
  assert.match(String(createSoapAdapter().answer({ kind: 'accepted', reason: 'ok', httpStatus: 200, stored: 2 }, odd).body), /xmlns="urn:x&quot;\/&gt;&lt;evil\/&gt;"/);
});

const refusals: [string, RegExp][] = [
  ['doctype-xxe.xml', /DTD or entity/],
  ['billion-laughs.xml', /DTD or entity/],
  ['malformed-unclosed.xml', /malformed XML/],
  ['temp-comma.xml', /<temp> must be a decimal number/],
  ['alarms-yes.xml', /<alarms> must be four of no\/lo\/hi/],
  ['serial-not-digits.xml', /<passKey> must be the 8-digit serial/],
  ['timer-missing.xml', /<timer> is missing/],
  ['unknown-operation.xml', /unknown SOAP operation <DeleteEverything>/],
  ['temp-nested.xml', /<temp> must hold text/],
  ['not-xml.txt', /malformed XML|not a SOAP envelope/],
];

for (const [file, reason] of refusals) {
  test(`refuses bad/${file} with a clear reason`, () => {
    const r = parseSoap(fixture(`bad/${file}`), ctx);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.reason, reason);
      assert.equal(r.status, 400);
    }
  });
}

test('every bad fixture has an expectation', () => {
  assert.deepEqual(readdirSync(new URL('bad/', dir)).sort(), refusals.map(([f]) => f).sort());
});

test('a refusal still names the serial when it can be read, for the archive and the log', () => {
  const r = parseSoap(fixture('bad/temp-comma.xml'), ctx);
  assert.equal(!r.ok && r.serial, '21950017');
});

test('simulator messages parse back to the values they were built from', () => {
  const raw = Buffer.from(buildSoapMessage({ serial: '20960050', modelCode: 4145, temp: -3.2, relHum: 55.5, compQuant: -9.1, alarms: ['no', 'lo', 'no', 'no'] }));
  const u = ok(raw);
  assert.deepEqual(u.readings.map((r) => [r.quantity, r.value, r.alarm]), [
    ['temperature', -3.2, 'no'], ['relative_humidity', 55.5, 'lo'], ['dew_point', -9.1, 'no'],
  ]);
  // a T5540 measures CO2 only: its other slots carry the -9999 filler
  const co2 = ok(Buffer.from(buildSoapMessage({ serial: '20960052', modelCode: 4155, co2: 1234, temp: -9999, relHum: -9999, compQuant: -9999 })));
  assert.deepEqual(co2.readings.map((r) => [r.quantity, r.value]), [['co2', 1234]]);
});

test('T2514 is a barometer: pressure kept, its empty temperature and humidity slots dropped', () => {
  const u = ok(Buffer.from(buildSoapMessage({
    serial: '21400001', modelCode: 4124, temp: -9999, relHum: -9999, compQuant: -9999, pressure: 1013.2, tempU: 'n/a', compType: 'n/a', pressureU: 'hPa',
  })));
  assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.unit, r.value, r.errorCode]), [[4, 'pressure', 'hPa', 1013.2, null]]);
  assert.equal(u.meta.unexpectedChannels, undefined);
});

test('a slot the model table does not expect is kept when it holds a real value, and flagged', () => {
  // T5540 is CO2 only in the table; this one also reports temperature and humidity.
  const u = ok(Buffer.from(buildSoapMessage({ serial: '20960052', modelCode: 4155, co2: 900, temp: 21.5, relHum: 45, compQuant: -9999, compType: 'n/a' })));
  assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.value]), [[1, 'temperature', 21.5], [2, 'relative_humidity', 45], [4, 'co2', 900]]);
  assert.deepEqual(u.meta.unexpectedChannels, [
    { channel: 1, quantity: 'temperature', value: 21.5, model: 'T5540' }, { channel: 2, quantity: 'relative_humidity', value: 45, model: 'T5540' },
  ]);
});

test('every model row says where its quantities come from; T2514, T3510, T7510, T7511 from the Tx5xx manual', () => {
  for (const m of SOAP_MODELS.values()) assert.ok(['manual', 'inferred', 'self'].includes(m.source), m.model);
  for (const name of ['T2514', 'T3510', 'T7510', 'T7511']) assert.equal(soapModelByName(name)?.source, 'manual', name);
  assert.deepEqual(soapModelByName('T2514')?.quantities, ['pressure']);
  assert.ok(!soapModelByName('T3510')?.quantities.includes('pressure'));
});

test('answers: success envelope per operation with no chunking; refusals as SOAP faults', () => {
  const adapter = createSoapAdapter();
  const upload = ok(fixture('t6540-co2-not-ready.xml'));
  const okAnswer = adapter.answer({ kind: 'accepted', reason: 'ok', httpStatus: 200, stored: 4 }, upload);
  assert.equal(okAnswer.status, 200);
  assert.match(String(okAnswer.body), /<InsertTx5xxCO2SampleResponse xmlns="http:\/\/cometsystem.cz\/schemas\/soapTx5xxCO2.xsd"\/>/);
  const refused = adapter.answer({ kind: 'refused', reason: 'bad <thing> & more', httpStatus: 403, stored: 0 }, null);
  assert.equal(refused.status, 403);
  assert.match(String(refused.body), /<faultstring>bad &lt;thing&gt; &amp; more<\/faultstring>/);
  const quiet = createSoapAdapter({ refusals: 'ok' }).answer({ kind: 'refused', reason: 'x', httpStatus: 403, stored: 0 }, null);
  assert.equal(quiet.status, 200);
  const later = adapter.answer({ kind: 'refused', reason: 'store down', httpStatus: 503, stored: 0, retryLater: true }, null);
  assert.equal(later.status, 503);
});
