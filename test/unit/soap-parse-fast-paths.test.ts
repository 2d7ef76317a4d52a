// The SOAP parser reads numbers, alarm lists and trimmed texts by hand instead of with
// Number(), split() and trim() on every field; these pin the cases where a hand-written
// path could drift from the library behaviour it replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSoap } from '../../src/ingest/soap/parse.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';

const ctx = { entryToken: 'tok12345678', receivedAt: Date.UTC(2026, 10, 23, 9, 0, 0), remoteAddress: '10.0.0.5', contentType: 'text/xml' };
const message = buildSoapMessage({ serial: '20960050', modelCode: 4146, pressure: 1000 }); // T7510: T, RH, dew point, pressure

function withField(name: string, text: string): Buffer {
  return Buffer.from(message.replace(new RegExp(`<${name}>[^<]*</${name}>`), `<${name}>${text}</${name}>`));
}

test('decimals and whole numbers convert exactly as Number() does, short and long', () => {
  const decimals = ['0', '-0', '-0.0', '007.50', '21.5', '-3.25', '0.1', '0.3', '123456789012345', '1234567890.12345', '9007199254740993',
    '0.1234567890123456789', '-98765432109876543210.5', '1.000000000000000000000001', '99999999999999999999999'];
  for (const text of decimals) {
    const r = parseSoap(withField('temp', text), ctx);
    assert.ok(r.ok, text);
    assert.ok(r.ok && Object.is(r.upload.readings[0].value, Number(text)), `temp ${text}`);
  }
  for (const text of ['60', '007', '0', '123456789012345', '1234567890123456789']) {
    const r = parseSoap(withField('timer', text), ctx);
    assert.ok(r.ok && Object.is(r.upload.declaredIntervalS, Number(text) > 0 ? Number(text) : null), `timer ${text}`);
  }
  for (const text of ['1.', '.5', '-', '--1', '1e5', '+1', '1.2.3', '0x10', '１２', '']) {
    const r = parseSoap(withField('temp', text), ctx);
    assert.ok(!r.ok && r.reason.startsWith('element <temp> must be a decimal number'), `temp ${JSON.stringify(text)}`);
  }
});

test('alarm lists: exactly four of no/lo/hi, read in place', () => {
  const r = parseSoap(withField('alarms', 'hi,lo,no,hi'), ctx);
  assert.deepEqual(r.ok && r.upload.readings.map((x) => x.alarm), ['hi', 'lo', 'no', 'hi']);
  assert.equal(r.ok && r.upload.meta.alarms, 'hi,lo,no,hi');
  for (const text of ['no,no,no', 'no,no,no,no,', 'no,no,no,no,no', 'no;no;no;no', 'NO,no,no,no', 'no,no,no,noo', ',no,no,no,n', 'no,,no,no,no']) {
    const r2 = parseSoap(withField('alarms', text), ctx);
    assert.ok(!r2.ok && r2.reason.startsWith('element <alarms> must be four'), text);
  }
});

test('texts are trimmed of any white space trim() removes, not only ASCII', () => {
  const r = parseSoap(withField('tempU', '\u00a0C\u2028'), ctx);
  assert.ok(r.ok && r.upload.readings[0].unit === 'C');
});

test('P-line channel texts keep every sub-element name as an own property, "__proto__" included', () => {
  const body = '<?xml version="1.0"?><s:Envelope xmlns:s="u"><s:Body><InsertP8xxxSample>' +
    '<sn>21940005</sn><kind>4353</kind><tmr>60</tmr><c i="1"><val>1.5</val><__proto__>x</__proto__><val>2.5</val></c>' +
    '</InsertP8xxxSample></s:Body></s:Envelope>';
  const r = parseSoap(Buffer.from(body), ctx);
  assert.ok(r.ok);
  const channel = (r.upload.meta.channels as Record<string, Record<string, string>>)[1];
  assert.deepEqual(Object.keys(channel), ['val', '__proto__']);
  assert.equal(channel.val, '2.5'); // the later one, as before
  assert.equal(Object.getPrototypeOf(channel), Object.prototype);
  assert.equal(r.upload.readings[0].value, 1.5); // the value is the first <val>
});

test('names a device writes never reach inherited properties: toString, constructor and __proto__ mean nothing', () => {
  const entity = parseSoap(withField('compType', 'Dew &toString; point'), ctx);
  assert.ok(!entity.ok);
  assert.match(entity.reason, /unknown or invalid entity reference &toString;/);

  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    const r = parseSoap(withField('compType', name), ctx);
    assert.ok(!r.ok, `compType ${name} is refused`);
    assert.equal(r.reason, `element <compType> has an unknown value "${name}"`);
  }

  const attributes = parseSoap(Buffer.from(message.replace('<passKey>', '<passKey toString="1" constructor="2" __proto__="3">')), ctx);
  assert.ok(attributes.ok, attributes.ok ? '' : attributes.reason);

  const unknown = parseSoap(Buffer.from(message.replace('<passKey>', '<__proto__>x</__proto__><toString>y</toString><passKey>')), ctx);
  assert.ok(unknown.ok, unknown.ok ? '' : unknown.reason);
  const reported = unknown.upload.meta.unknownElements as Record<string, string>;
  assert.deepEqual(Object.keys(reported), ['__proto__', 'toString']);
  assert.equal(reported.toString, 'y');
  assert.equal(Object.getPrototypeOf(reported), Object.prototype);
});
