import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Verdict } from '../../src/domain/types.ts';
import { wifiAdapter } from '../../src/ingest/wifi/index.ts';
import { buildWifiBody } from '../../src/sim/wifi.ts';
import { fixture, refusal, requestContext, upload } from '../helpers/fixtures.ts';

const RECEIVED = Date.UTC(2026, 10, 23, 9, 20, 0);
const parse = (name: string) => wifiAdapter.parse(fixture('wifi', name), requestContext(RECEIVED));



describe('WiFi adapter contract', () => {
  it('is the wifi family on path segment wifi', () => {
    assert.equal(wifiAdapter.family, 'wifi');
    assert.equal(wifiAdapter.pathSegment, 'wifi');
    assert.equal(wifiAdapter.maxBodyBytes, 16 * 1024);
  });
});

describe('WiFi message parsing', () => {
  it('decodes a periodic message: identity, counter, times, values, alarms', () => {
    const raw = fixture('wifi', 'periodic.json');
    const u = upload(wifiAdapter.parse(raw, requestContext(RECEIVED)));
    assert.equal(u.family, 'wifi');
    assert.equal(u.serial, '21960311');
    assert.equal(u.modelCode, 4);
    assert.equal(u.declaredIntervalS, 300);
    assert.equal(u.kind, 'periodic');
    assert.equal(u.counter, 17);
    assert.equal(u.fromCache, false);
    assert.equal(u.deviceNow, Date.UTC(2026, 10, 23, 9, 5, 0));
    assert.equal(u.entryToken, 'tok-123');
    assert.equal(u.receivedAt, RECEIVED);
    assert.equal(u.remoteAddress, '192.0.2.10');
    assert.equal(u.raw, raw);
    const sampled = Date.UTC(2026, 10, 23, 9, 5, 0);
    assert.deepEqual(u.readings, [
      { channel: 1, quantity: 'temperature', unit: '°C', value: 4.3, errorCode: null, alarm: 'no', sampleTime: sampled },
      { channel: 2, quantity: 'relative_humidity', unit: '%RH', value: 87.5, errorCode: null, alarm: 'no', sampleTime: sampled },
    ]);
    assert.equal(u.meta.messageType, 'synchronous');
    assert.equal(u.meta.cacheReason, null);
    assert.deepEqual(u.meta.rssi, { Now: -61, Sample: -63 });
    assert.equal(u.meta.localIp, '192.168.10.57');
    assert.equal(u.meta.model, 'AWP-TR1D (W3711?)');
    assert.deepEqual((u.meta.channels as { label: string; alarmLimits: number[] }[]).map((c) => [c.label, c.alarmLimits]),
      [['Temperature', [0, 8]], ['Relative humidity', [30, 60]]]);
  });

  it('skips a disabled channel and records it', () => {
    const u = upload(parse('periodic.json'));
    assert.deepEqual(u.meta.skippedChannels, [{ channel: 3, label: 'Dew point', reason: 'disabled' }]);
    assert.ok(!u.readings.some((r) => r.channel === 3));
  });

  it('maps MsgType 0 and 1 to restart, 3 to async, 4 to test', () => {
    assert.equal(upload(parse('first-after-restart.json')).kind, 'restart');
    assert.equal(upload(parse('first-after-restart.json')).counter, 0);
    const config = upload(parse('config-change.json'));
    assert.equal(config.kind, 'restart');
    assert.equal(config.meta.messageType, 'first after configuration change');
    assert.equal(upload(parse('async-alarm.json')).kind, 'async');
    assert.equal(upload(parse('test-message.json')).kind, 'test');
  });

  it('reads alarm state from Alarm and AlarmMode', () => {
    const u = upload(parse('async-alarm.json'));
    assert.deepEqual(u.readings.map((r) => [r.channel, r.value, r.alarm]), [[1, 31.2, 'hi'], [2, 25, 'lo']]);
    assert.equal(u.readings[0].sampleTime, Date.UTC(2026, 10, 23, 9, 7, 31));
  });

  it('marks a cached resend and keeps its sample time apart from its send time', () => {
    const u = upload(parse('cached-resend.json'));
    assert.equal(u.fromCache, true);
    assert.equal(u.meta.cacheReason, 'SOCK_ERR');
    assert.equal(u.deviceNow, Date.UTC(2026, 10, 23, 9, 16, 40));
    assert.ok(u.readings.every((r) => r.sampleTime === Date.UTC(2026, 10, 23, 9, 5, 0)));
  });

  it('turns FF8100NN into null values with error codes', () => {
    const u = upload(parse('error-values.json'));
    assert.deepEqual(u.readings.map((r) => [r.channel, r.value, r.errorCode]), [[1, null, 1], [2, null, 2]]);
  });

  it('accepts lower-case hex in values and limits', () => {
    const u = upload(parse('lower-case-hex.json'));
    assert.deepEqual(u.readings.map((r) => r.value), [4.3, 45.6]);
    assert.deepEqual((u.meta.channels as { alarmLimits: number[] }[])[1].alarmLimits, [30, 60]);
  });

  it('uses the receive time when the device clock is invalid', () => {
    const u = upload(parse('time-invalid.json'));
    assert.equal(u.meta.timeInvalid, true);
    assert.equal(u.deviceNow, null);
    assert.ok(u.readings.every((r) => r.sampleTime === RECEIVED));
  });
});

describe('WiFi refusals', () => {
  const cases: [string, number, string | RegExp][] = [
    ['bad-nan.json', 422, 'field Channels[0].Val: "7FC00000" is NaN, not a measurement'],
    ['bad-infinity.json', 422, 'field Channels[0].Val: "7F800000" is Infinity, not a measurement'],
    ['bad-alarm-limit-nan.json', 422, 'field Channels[0].AlarmLim[0]: "7FC00000" is NaN, not a measurement'],
    ['bad-missing-sn.json', 422, 'missing required field Sn'],
    ['bad-orderid-string.json', 422, 'field OrderId must be an integer'],
    ['bad-msgtype-5.json', 422, 'field MsgType must be one of 0, 1, 2, 3, 4'],
    ['bad-time-without-offset.json', 422, 'field Time.Now must be an RFC 3339 date-time with offset'],
    ['bad-duplicate-key.json', 400, 'duplicate key "OrderId" in a JSON object'],
    ['bad-truncated.json', 400, /^malformed JSON: /],
  ];
  for (const [name, status, reason] of cases) {
    it(`refuses ${name}`, () => {
      const r = refusal(parse(name));
      assert.equal(r.status, status);
      if (typeof reason === 'string') assert.equal(r.reason, reason);
      else assert.match(r.reason, reason);
    });
  }

  it('names the serial in a refusal when the message states one', () => {
    assert.equal(refusal(parse('bad-nan.json')).serial, '21960311');
  });

  it('refuses a TAx6xx message posted to the WiFi path', () => {
    const r = refusal(wifiAdapter.parse(fixture('websensor-json', 'periodic-ta7610.json'), requestContext(RECEIVED)));
    assert.equal(r.status, 422);
    assert.equal(r.reason, "JsonType 5 is not a WiFi sensor (Wx7xx) message (expected 2); check the device's server path");
  });

  it('refuses a logger array and bodies over 16 KiB', () => {
    assert.equal(refusal(wifiAdapter.parse(fixture('logger', 'v6-single.json'), requestContext(RECEIVED))).reason,
      'expected a JSON object from a WiFi sensor (Wx7xx) (JsonType 2)');
    assert.equal(refusal(wifiAdapter.parse(Buffer.alloc(16 * 1024 + 1, 0x20), requestContext(RECEIVED))).status, 413);
  });
});

describe('WiFi answers', () => {
  const verdict: Verdict = { kind: 'accepted', reason: 'ok', httpStatus: 200, stored: 2 };
  it('confirms with 200 and {"Result":true,...}', () => {
    const u = upload(parse('periodic.json'));
    assert.deepEqual(wifiAdapter.answer(verdict, u), { status: 200, contentType: 'application/json', body: '{"Result":true,"Message":"stored 2"}' });
  });
  it('makes the device keep the message when retryLater', () => {
    assert.equal(wifiAdapter.answer({ ...verdict, retryLater: true }, upload(parse('periodic.json'))).status, 503);
  });
});

describe('WiFi simulator', () => {
  const base = {
    serial: '21960399', model: 3, orderId: 5, msgType: 'periodic' as const, interval: 60,
    sampleTime: Date.UTC(2026, 10, 23, 9, 0, 0), utcOffsetMinutes: 60,
    channels: [
      { nr: 1, label: 'Temperature', value: -18.4, unit: '°C', alarms: [1, 0] as [number, number], alarmModes: [1, 2] as [number, number], alarmLimits: [-18, -10] as [number, number] },
      { nr: 2, label: 'Relative humidity', value: { errorCode: 2 }, unit: '%RH' },
      { nr: 3, label: 'Dew point', value: 1, unit: '°C', enabled: false },
    ],
  };

  it('builds a byte-exact message in the documented key order', () => {
    const text = buildWifiBody({ ...base, channels: [base.channels[1]] }).toString('utf8');
    assert.equal(text,
      '{"JsonType":2,"JsonVersion":1,"OrderId":5,"MsgType":2,"MsgCache":0,"Sn":"21960399","Desc":"Sensor 21960399","Kind":3,' +
      '"AState":{"Reg":128,"Mask":10688},"NConf":1,"ConfID":"1-00000000-00-01","Interval":60,' +
      '"Time":{"Now":"2026-11-23T10:00:00+01:00","Sample":"2026-11-23T10:00:00+01:00","IsValid":1},' +
      '"Rssi":{"Now":-60,"Sample":-60},"LocalIP":"192.168.1.50","Channels":[{"Nr":2,"En":1,"Quant":"Relative humidity",' +
      '"Val":"FF810002","ValStr":"Error2","Unit":"%RH","Dec":1,"Alarm":[0,0],"AlarmLim":["00000000","00000000"],"AlarmMode":[0,0]}]}');
  });

  it('round-trips through the parser', () => {
    const now = Date.UTC(2026, 10, 23, 9, 12, 0);
    const u = upload(wifiAdapter.parse(buildWifiBody({ ...base, msgType: 'async', msgCache: 6, now }), requestContext(RECEIVED)));
    assert.equal(u.kind, 'async');
    assert.equal(u.meta.msgType, 3);
    assert.equal(u.meta.cacheReason, 'RESULT_NO');
    assert.equal(u.fromCache, true);
    assert.equal(u.deviceNow, now);
    assert.deepEqual(u.readings.map((r) => [r.channel, r.value, r.errorCode, r.alarm, r.sampleTime]),
      [[1, -18.4, null, 'lo', base.sampleTime], [2, null, 2, 'no', base.sampleTime]]);
    assert.deepEqual((u.meta.channels as { alarmLimits: number[] }[])[0].alarmLimits, [-18, -10]);
  });

  it('maps message kinds to WiFi MsgType numbers', () => {
    const msgType = (kind: 'restart' | 'periodic' | 'async' | 'test') =>
      JSON.parse(buildWifiBody({ ...base, msgType: kind }).toString()).MsgType;
    assert.deepEqual(['restart', 'periodic', 'async', 'test'].map((k) => msgType(k as never)), [0, 2, 3, 4]);
  });
});
