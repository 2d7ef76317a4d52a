import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Verdict } from '../../src/domain/types.ts';
import { alarmStateFromPairs } from '../../src/ingest/common/alarm.ts';
import { decodeHexFloat32, encodeHexFloat32 } from '../../src/ingest/common/hex-float.ts';
import { deviceSafeMessage, jsonAckAnswer } from '../../src/ingest/common/json-ack.ts';
import { readJsonBody } from '../../src/ingest/common/json-body.ts';
import { normaliseQuantity } from '../../src/ingest/common/quantity.ts';
import { compileSchema } from '../../src/ingest/common/schema.ts';
import {
  decodeQuarterHourTimezone, epoch2000HexToMs, formatRfc3339, msToEpoch2000Hex, parseRfc3339,
} from '../../src/ingest/common/time.ts';

describe('decodeHexFloat32', () => {
  it('decodes big-endian float32 values the spec quotes, to their shortest decimal', () => {
    assert.deepEqual(decodeHexFloat32('41A26666'), { ok: true, value: 20.3, errorCode: null });
    assert.deepEqual(decodeHexFloat32('4089999A'), { ok: true, value: 4.3, errorCode: null });
    assert.deepEqual(decodeHexFloat32('447C2666'), { ok: true, value: 1008.6, errorCode: null });
    assert.deepEqual(decodeHexFloat32('C0D00000'), { ok: true, value: -6.5, errorCode: null });
    assert.deepEqual(decodeHexFloat32('00000000'), { ok: true, value: 0, errorCode: null });
  });

  it('keeps a device value that is not a short decimal exactly', () => {
    assert.deepEqual(decodeHexFloat32('41B28000'), { ok: true, value: 22.3125, errorCode: null });
  });

  it('accepts lower-case hex as loggers send it', () => {
    assert.deepEqual(decodeHexFloat32('41aa6666'), { ok: true, value: 21.3, errorCode: null });
  });

  it('turns FF8100NN into an error code with no value, in either case', () => {
    assert.deepEqual(decodeHexFloat32('FF810004'), { ok: true, value: null, errorCode: 4 });
    assert.deepEqual(decodeHexFloat32('ff810035'), { ok: true, value: null, errorCode: 0x35 });
  });

  it('refuses NaN, infinities and malformed hex with a reason', () => {
    for (const [hex, word] of [['7FC00000', 'NaN'], ['FF820001', 'NaN'], ['7F800000', 'Infinity'], ['FF800000', 'Infinity']]) {
      const r = decodeHexFloat32(hex);
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, new RegExp(word));
    }
    for (const hex of ['41A2666', '41A266660', '0x41A266', 'G1A26666', '']) {
      assert.deepEqual(decodeHexFloat32(hex), { ok: false, reason: `"${hex}" is not 8 hex digits` });
    }
  });

  it('encodes values and error codes the way devices do', () => {
    assert.equal(encodeHexFloat32(20.3), '41A26666');
    assert.equal(encodeHexFloat32(21.3, 'lower'), '41aa6666');
    assert.equal(encodeHexFloat32({ errorCode: 4 }), 'FF810004');
    assert.equal(encodeHexFloat32({ errorCode: 0x35 }, 'lower'), 'ff810035');
  });
});

describe('RFC 3339 times', () => {
  it('applies the offset', () => {
    assert.equal(parseRfc3339('2026-03-15T16:17:10+01:00'), Date.UTC(2026, 2, 15, 15, 17, 10));
    assert.equal(parseRfc3339('2026-03-15T16:17:10Z'), Date.UTC(2026, 2, 15, 16, 17, 10));
    assert.equal(parseRfc3339('2026-03-15T01:00:00-05:30'), Date.UTC(2026, 2, 15, 6, 30, 0));
    assert.equal(parseRfc3339('2026-03-15T16:17:10.250+00:00'), Date.UTC(2026, 2, 15, 16, 17, 10, 250));
  });

  it('refuses times without offset and impossible dates', () => {
    for (const text of ['2026-03-15T16:17:10', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-03-15T24:00:00Z',
      '2026-03-15T16:17:10+25:00', '15.3.2026 16:17', '']) {
      assert.equal(parseRfc3339(text), null, text);
    }
    assert.equal(parseRfc3339('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  });

  it('formats with the offset the device uses', () => {
    const ms = Date.UTC(2026, 2, 15, 15, 17, 10);
    assert.equal(formatRfc3339(ms, 60), '2026-03-15T16:17:10+01:00');
    assert.equal(formatRfc3339(ms, 0), '2026-03-15T15:17:10+00:00');
    assert.equal(formatRfc3339(ms, -330), '2026-03-15T09:47:10-05:30');
    assert.equal(parseRfc3339(formatRfc3339(ms, -330)), ms);
  });
});

describe('logger 2000-epoch time and timezone', () => {
  it('counts hex seconds from 2000-01-01', () => {
    assert.equal(epoch2000HexToMs('0000000A'), Date.UTC(2000, 0, 1, 0, 0, 10));
    assert.equal(epoch2000HexToMs('2F66C1A8'), Date.UTC(2025, 2, 14, 10, 30, 0));
    assert.equal(epoch2000HexToMs('2f66c1a8'), Date.UTC(2025, 2, 14, 10, 30, 0));
    assert.equal(epoch2000HexToMs('2025-03-14'), null);
    assert.equal(msToEpoch2000Hex(Date.UTC(2025, 2, 14, 10, 35, 12)), '2F66C2E0');
    assert.equal(msToEpoch2000Hex(Date.UTC(2000, 0, 1, 0, 0, 10), 'lower'), '0000000a');
  });

  it('reads the timezone in 15-minute steps, -128 meaning not used', () => {
    assert.deepEqual(decodeQuarterHourTimezone(4), { ok: true, offsetMinutes: 60 });
    assert.deepEqual(decodeQuarterHourTimezone(-14), { ok: true, offsetMinutes: -210 });
    assert.deepEqual(decodeQuarterHourTimezone(56), { ok: true, offsetMinutes: 840 });
    assert.deepEqual(decodeQuarterHourTimezone(-128), { ok: true, offsetMinutes: null });
    assert.equal(decodeQuarterHourTimezone(57).ok, false);
    assert.equal(decodeQuarterHourTimezone(-49).ok, false);
  });
});

describe('readJsonBody', () => {
  const limits = { maxBytes: 200, maxDepth: 4 };
  const read = (text: string | Buffer) => readJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text), limits);

  it('parses a body and strips a UTF-8 BOM', () => {
    assert.deepEqual(read('{"a":[1,{"b":"°C"}]}'), { ok: true, value: { a: [1, { b: '°C' }] } });
    assert.deepEqual(read(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[1]')])), { ok: true, value: [1] });
  });

  it('refuses a body over the cap with 413', () => {
    assert.deepEqual(read(`[${'1,'.repeat(100)}1]`), { ok: false, status: 413, reason: 'body is 203 bytes; the limit is 200' });
  });

  it('refuses nesting deeper than the limit before parsing', () => {
    assert.deepEqual(read('[[[[[1]]]]]'), { ok: false, status: 400, reason: 'JSON nesting is deeper than 4 levels' });
    assert.equal(read('[[[[1]]]]').ok, true);
    // brackets inside strings do not count
    assert.equal(read('[["[[[[[[", "{{{{{{"]]').ok, true);
  });

  it('refuses duplicate keys in one object, but not the same key in sibling objects', () => {
    assert.deepEqual(read('{"Sn":"1","Time":{"Now":1},"Sn":"2"}'), { ok: false, status: 400, reason: 'duplicate key "Sn" in a JSON object' });
    assert.deepEqual(read('{"a":{"x":1,"\\u0078":2}}'), { ok: false, status: 400, reason: 'duplicate key "x" in a JSON object' });
    assert.equal(read('[{"Nr":1},{"Nr":2}]').ok, true);
    assert.equal(read('{"a":"Nr","Nr":1}').ok, true);
  });

  it('refuses numbers that overflow to Infinity', () => {
    assert.deepEqual(read('{"Val":[1,1e999]}'), { ok: false, status: 400, reason: 'number at Val[1] is too large to be finite' });
    // Without an exponent only a number of more than 308 digits can overflow; letters in strings do not count.
    const wide = { maxBytes: 1000, maxDepth: 4 };
    assert.deepEqual(readJsonBody(Buffer.from(`["e",[-${'9'.repeat(309)}]]`), wide), { ok: false, status: 400, reason: 'number at [1][0] is too large to be finite' });
    assert.equal(readJsonBody(Buffer.from(`["1e999",${'9'.repeat(308)}.5, 1E-999, 0.${'0'.repeat(400)}1]`), wide).ok, true);
    assert.deepEqual(readJsonBody(Buffer.from('[true, 2E+400]'), wide), { ok: false, status: 400, reason: 'number at [1] is too large to be finite' });
  });

  it('refuses what a strict UTF-8 decoder refuses: overlong forms, surrogates, beyond U+10FFFF, cut sequences', () => {
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]]) {
      const body = Buffer.concat([Buffer.from('["'), Buffer.from(bytes), Buffer.from('"]')]);
      assert.deepEqual(read(body), { ok: false, status: 400, reason: 'body is not valid UTF-8' }, Buffer.from(bytes).toString('hex'));
    }
    assert.deepEqual(read(Buffer.from('["°C \u00b0 😀"]')), { ok: true, value: ['°C ° 😀'] });
  });

  it('refuses malformed JSON, empty bodies and invalid UTF-8', () => {
    const malformed = read('{"a":');
    assert.equal(malformed.ok, false);
    assert.match((malformed as { reason: string }).reason, /^malformed JSON: /);
    assert.deepEqual(read('  '), { ok: false, status: 400, reason: 'body is empty' });
    assert.deepEqual(read(Buffer.from([0x5b, 0xff, 0x5d])), { ok: false, status: 400, reason: 'body is not valid UTF-8' });
    assert.equal(read('NaN').ok, false);
  });
});

describe('compileSchema refusals name the field', () => {
  const validate = compileSchema<unknown>({
    type: 'object',
    required: ['Sn', 'Time'],
    properties: {
      Sn: { type: 'string', pattern: '^[0-9]{8}$' },
      Time: { type: 'object', required: ['Sample'], properties: { Sample: { type: 'string' } } },
      Channels: { type: 'array', items: { type: 'object', properties: { Val: { type: 'string', pattern: '^[0-9A-Fa-f]{8}$' } } } },
    },
  });

  it('reports missing, mistyped and malformed fields by path', () => {
    assert.deepEqual(validate({ Time: { Sample: 'x' } }), { ok: false, reason: 'missing required field Sn' });
    assert.deepEqual(validate({ Sn: '12345678', Time: {} }), { ok: false, reason: 'missing required field Time.Sample' });
    assert.deepEqual(validate({ Sn: 12345678, Time: { Sample: 'x' } }), { ok: false, reason: 'field Sn must be of type string' });
    assert.deepEqual(validate({ Sn: '12345678', Time: { Sample: 'x' }, Channels: [{ Val: '00000000' }, { Val: 'zz' }] }),
      { ok: false, reason: 'field Channels[1].Val must be 8 hex digits' });
    assert.deepEqual(validate({ Sn: '12345678', Time: { Sample: 'x' } }), { ok: true, value: { Sn: '12345678', Time: { Sample: 'x' } } });
  });

  it('places a partial validation with a name prefix', () => {
    assert.deepEqual(validate({ Time: { Sample: 'x' } }, 'Channels[2].'), { ok: false, reason: 'missing required field Channels[2].Sn' });
  });
});

describe('normaliseQuantity', () => {
  it('maps known COMET labels and slugs the rest', () => {
    assert.equal(normaliseQuantity('Temperature', 1), 'temperature');
    assert.equal(normaliseQuantity('Relative humidity', 2), 'relative_humidity');
    assert.equal(normaliseQuantity('Rel. humidity', 2), 'relative_humidity');
    assert.equal(normaliseQuantity('Atmospheric pressure', 3), 'pressure');
    assert.equal(normaliseQuantity('CO2', 4), 'co2');
    assert.equal(normaliseQuantity('Dew point', 3), 'dew_point');
    assert.equal(normaliseQuantity('Calculated channel', 4), 'calculated_channel');
    assert.equal(normaliseQuantity('Teplota čidla #2', 5), 'teplota_cidla_2');
    assert.equal(normaliseQuantity('  ', 6), 'channel_6');
  });
});

describe('alarmStateFromPairs', () => {
  it('maps active alarms by their mode', () => {
    assert.equal(alarmStateFromPairs([0, 0], [1, 2]), 'no');
    assert.equal(alarmStateFromPairs([0, 1], [1, 2]), 'hi');
    assert.equal(alarmStateFromPairs([1, 0], [1, 2]), 'lo');
    assert.equal(alarmStateFromPairs([1, 0], [2, 0]), 'hi');
    assert.equal(alarmStateFromPairs([1, 1], [1, 2]), 'hi');
    assert.equal(alarmStateFromPairs([1, 0], [0, 0]), 'no');
  });
});

describe('jsonAckAnswer', () => {
  const verdict = (v: Partial<Verdict>): Verdict => ({ kind: 'accepted', reason: 'ok', httpStatus: 200, stored: 3, ...v });
  const upload = {} as never; // jsonAckAnswer only tests upload for null
  const parsed = (a: { body: string | Buffer }) => JSON.parse(String(a.body));

  it('acknowledges kept and permanently refused messages with 200 Result:true', () => {
    const accepted = jsonAckAnswer(verdict({}), upload);
    assert.equal(accepted.status, 200);
    assert.equal(accepted.contentType, 'application/json');
    assert.equal(accepted.body, '{"Result":true,"Message":"stored 3"}');
    assert.deepEqual(parsed(jsonAckAnswer(verdict({ kind: 'duplicate' }), upload)), { Result: true, Message: 'duplicate, already stored' });
    assert.deepEqual(parsed(jsonAckAnswer(verdict({ kind: 'quarantined', reason: 'device suspended' }), upload)),
      { Result: true, Message: 'quarantined: device suspended' });
    const refused = jsonAckAnswer(verdict({ kind: 'refused', reason: 'not registered', httpStatus: 403 }), upload);
    assert.equal(refused.status, 200);
    assert.deepEqual(parsed(refused), { Result: true, Message: 'refused: not registered' });
  });

  it('asks the device to keep and resend with 503 Result:false when retryLater', () => {
    const a = jsonAckAnswer(verdict({ kind: 'accepted', retryLater: true, reason: 'store unavailable' }), upload);
    assert.equal(a.status, 503);
    assert.deepEqual(parsed(a), { Result: false, Message: 'retry later: store unavailable' });
  });

  it('answers a malformed body with its 4xx status and the reason', () => {
    const a = jsonAckAnswer(verdict({ kind: 'refused', httpStatus: 422, reason: 'missing required field Sn' }), null);
    assert.equal(a.status, 422);
    assert.deepEqual(parsed(a), { Result: false, Message: 'malformed: missing required field Sn' });
    assert.equal(jsonAckAnswer(verdict({ kind: 'refused', httpStatus: 500, reason: 'x' }), null).status, 400);
  });

  it('keeps Message within 100 printable ASCII bytes without double quotes', () => {
    const a = jsonAckAnswer(verdict({ kind: 'refused', reason: `duplicate key "Sn" \\ °C ${'x'.repeat(200)}` }), upload);
    const message = parsed(a).Message as string;
    assert.equal(Buffer.byteLength(message), 100);
    assert.ok(message.startsWith("refused: duplicate key 'Sn' / ?C xx"));
    assert.ok(!String(a.body).slice(1, -1).includes('\\'), 'no escapes in the body');
    assert.equal(deviceSafeMessage('a"b'), "a'b");
  });
});
