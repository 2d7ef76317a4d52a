import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Verdict } from '../../src/domain/types.ts';
import { websensorJsonAdapter } from '../../src/ingest/websensor-json/index.ts';
import { buildWebsensorBody } from '../../src/sim/websensor-json.ts';
import { fixture, itRefusesWith422, refusal, requestContext, upload } from '../helpers/fixtures.ts';

const RECEIVED = Date.UTC(2026, 10, 23, 8, 30, 0);
const parse = (name: string) => websensorJsonAdapter.parse(fixture('websensor-json', name), requestContext(RECEIVED));



describe('TAx6xx adapter contract', () => {
  it('is the websensor-json family on path segment json', () => {
    assert.equal(websensorJsonAdapter.family, 'websensor-json');
    assert.equal(websensorJsonAdapter.pathSegment, 'json');
  });
});

describe('TAx6xx message parsing', () => {
  it('decodes a periodic TA7610 message', () => {
    const u = upload(parse('periodic-ta7610.json'));
    assert.equal(u.family, 'websensor-json');
    assert.equal(u.serial, '26690042');
    assert.equal(u.modelCode, 3);
    assert.equal(u.meta.model, 'TA7610');
    assert.equal(u.declaredIntervalS, 60);
    assert.equal(u.kind, 'periodic');
    assert.equal(u.counter, 412);
    assert.equal(u.fromCache, false);
    const t = Date.UTC(2026, 10, 23, 8, 14, 0);
    assert.equal(u.deviceNow, t);
    assert.deepEqual(u.readings, [
      { channel: 1, quantity: 'temperature', unit: '°C', value: 4.3, errorCode: null, alarm: 'no', sampleTime: t },
      { channel: 2, quantity: 'relative_humidity', unit: '%RH', value: 87.5, errorCode: null, alarm: 'hi', sampleTime: t },
      { channel: 3, quantity: 'pressure', unit: 'hPa', value: 1008.6, errorCode: null, alarm: 'no', sampleTime: t },
    ]);
    assert.deepEqual(u.meta.skippedChannels, [{ channel: 4, label: 'Calculated channel', reason: 'disabled' }]);
    assert.deepEqual(u.meta.aState, { Reg: 128, Mask: 10688 });
    assert.equal(u.meta.confId, '1-5C21B0D7-04-11');
    assert.equal(u.meta.localIp, '192.168.10.61');
    assert.deepEqual((u.meta.channels as { label: string; type: number[] }[]).map((c) => [c.label, c.type]),
      [['Temperature', [3, 255]], ['Relative humidity', [6, 255]], ['Atmospheric pressure', [8, 255]]]);
  });

  it('uses the TAx6xx MsgType table (0 restart, 2 async, 4 and 5 test)', () => {
    const restart = upload(parse('first-after-restart-ta3610.json'));
    assert.equal(restart.kind, 'restart');
    assert.equal(restart.counter, 0);
    assert.deepEqual(restart.readings.map((r) => [r.quantity, r.value]), [['temperature', 20.3], ['relative_humidity', 45.6], ['dew_point', 8]]);
    const alarm = upload(parse('async-alarm.json'));
    assert.equal(alarm.kind, 'async');
    assert.deepEqual([alarm.readings[0].value, alarm.readings[0].alarm], [-18.4, 'lo']);
    assert.equal(upload(parse('test-message.json')).kind, 'test');
    const web = upload(parse('test-from-web.json'));
    assert.equal(web.kind, 'test');
    assert.equal(web.meta.messageType, 'test started from the web UI');
  });

  it('marks a cached resend with the TAx6xx cache reason and its old sample time', () => {
    const u = upload(parse('cached-resend.json'));
    assert.equal(u.fromCache, true);
    assert.equal(u.meta.cacheReason, 'WRONG_HTTP_CODE');
    assert.equal(u.deviceNow, Date.UTC(2026, 10, 23, 8, 14, 5));
    assert.ok(u.readings.every((r) => r.sampleTime === Date.UTC(2026, 10, 23, 8, 2, 0)));
  });

  it('turns an enabled channel in error into value null with its error code', () => {
    const u = upload(parse('error-values-ta0610.json'));
    assert.deepEqual(u.readings, [{ channel: 1, quantity: 'temperature', unit: '°C', value: null, errorCode: 4, alarm: 'no', sampleTime: Date.UTC(2026, 10, 23, 8, 17, 10) }]);
    assert.equal(u.declaredIntervalS, 30);
  });

  it('reads PA8652 binary inputs as 0/1, skips the unused slot and the disabled input', () => {
    const u = upload(parse('pa8652-binary.json'));
    assert.equal(u.modelCode, 128);
    assert.equal(u.meta.model, 'PA8652');
    const t = Date.UTC(2026, 10, 23, 8, 17, 10);
    assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.unit, r.value, r.errorCode, r.alarm]), [
      [1, 'temperature', '°C', 22.3125, null, 'no'],
      [3, 'temperature', '°C', 21.7, null, 'no'],
      [4, 'relative_humidity', '%RH', 28.7, null, 'no'],
      [5, 'binary', '', 1, null, 'hi'],
      [6, 'binary', '', 0, null, 'no'],
    ]);
    assert.ok(u.readings.every((r) => r.sampleTime === t));
    assert.equal(u.deviceNow, Date.UTC(2026, 10, 23, 8, 17, 21));
    assert.deepEqual(u.meta.skippedChannels, [
      { channel: 2, label: '', reason: 'unused' },
      { channel: 7, label: 'Binary input 3', reason: 'disabled' },
    ]);
    const input1 = (u.meta.channels as { channel: number; label: string; binDesc?: string[] }[]).find((c) => c.channel === 5)!;
    assert.equal(input1.label, 'Binary input 1');
    assert.deepEqual(input1.binDesc, ['Closed', 'Open']);
  });

  it('accepts lower-case hex and the SDK spelling LocalIP', () => {
    const u = upload(parse('lower-case-hex-localip.json'));
    assert.deepEqual(u.readings.map((r) => r.value), [20.3, 45.6]);
    assert.equal(u.meta.localIp, '192.168.10.61');
    assert.equal(u.meta.unknownKeys, undefined);
  });

  it('uses the receive time when Time.IsValid is 0', () => {
    const u = upload(parse('time-invalid.json'));
    assert.equal(u.meta.timeInvalid, true);
    assert.equal(u.deviceNow, null);
    assert.ok(u.readings.every((r) => r.sampleTime === RECEIVED));
  });

  it('keeps keys it does not know in meta instead of refusing', () => {
    const body = JSON.parse(fixture('websensor-json', 'periodic-ta7610.json').toString());
    body.Firmware = '11-0-0-1';
    const u = upload(websensorJsonAdapter.parse(Buffer.from(JSON.stringify(body)), requestContext(RECEIVED)));
    assert.deepEqual(u.meta.unknownKeys, ['Firmware']);
  });
});

describe('TAx6xx refusals', () => {
  const cases: [string, string][] = [
    ['bad-msgtype-3.json', 'field MsgType must be one of 0, 1, 2, 4, 5'],
    ['bad-nan.json', 'field Channels[0].Val: "7FC00000" is NaN, not a measurement'],
    ['bad-binary-value.json', 'field Channels[0].Val: a binary input must be 0 or 1, got 2.5'],
    ['bad-missing-time-sample.json', 'missing required field Time.Sample'],
    ['bad-kind-string.json', 'field Kind must be an integer'],
    ['bad-duplicate-channel.json', 'field Channels[1].Nr repeats channel number 1'],
    ['bad-impossible-date.json', 'field Time.Now is not a real date-time: "2026-02-30T09:16:00+01:00"'],
  ];
  itRefusesWith422(parse, cases);

  it('refuses a WiFi message posted to the TAx6xx path', () => {
    const r = refusal(websensorJsonAdapter.parse(fixture('wifi', 'periodic.json'), requestContext(RECEIVED)));
    assert.equal(r.reason, "JsonType 2 is not a TAx6xx/PAx6xx Web Sensor message (expected 5); check the device's server path");
    assert.equal(r.serial, '21960311');
  });

  it('refuses a channel Type that is not a [static, dynamic] pair', () => {
    const body = JSON.parse(fixture('websensor-json', 'periodic-ta7610.json').toString());
    body.Channels[0].Type = [3];
    assert.equal(refusal(websensorJsonAdapter.parse(Buffer.from(JSON.stringify(body)), requestContext(RECEIVED))).reason,
      'field Channels[0].Type must have at least 2 elements');
  });
});

describe('TAx6xx answers', () => {
  const verdict: Verdict = { kind: 'refused', reason: 'device suspended: interval 10 s < 60 s', httpStatus: 403, stored: 0 };
  it('answers a permanent refusal with 200 Result:true so the cache drains', () => {
    assert.deepEqual(websensorJsonAdapter.answer(verdict, upload(parse('periodic-ta7610.json'))), {
      status: 200, contentType: 'application/json', body: '{"Result":true,"Message":"refused: device suspended: interval 10 s < 60 s"}',
    });
  });
  it('answers retryLater with 503 so the message stays cached', () => {
    const a = websensorJsonAdapter.answer({ ...verdict, kind: 'accepted', retryLater: true, reason: 'spool full' }, upload(parse('periodic-ta7610.json')));
    assert.equal(a.status, 503);
    assert.equal(a.body, '{"Result":false,"Message":"retry later: spool full"}');
  });
  it('answers a malformed body with 400 and a JSON explanation', () => {
    const parsed = refusal(parse('bad-nan.json'));
    const a = websensorJsonAdapter.answer({ kind: 'refused', reason: parsed.reason, httpStatus: 400, stored: 0 }, null);
    assert.equal(a.status, 400);
    assert.deepEqual(JSON.parse(String(a.body)), { Result: false, Message: "malformed: field Channels[0].Val: '7FC00000' is NaN, not a measurement" });
  });
});

describe('TAx6xx simulator', () => {
  it('builds a PA8652 message with binary inputs and an unused slot, byte-exact', () => {
    const body = buildWebsensorBody({
      serial: '26680077', model: 128, orderId: 1, msgType: 1, interval: 10, description: 'PA8652',
      sampleTime: Date.UTC(2026, 2, 15, 14, 17, 10), now: Date.UTC(2026, 2, 15, 14, 17, 21), utcOffsetMinutes: 60,
      aState: { reg: 384, mask: 10688 }, nConf: 164, confId: '0-F4894931-04-23', localIp: '192.168.1.27',
      channels: [
        { nr: 2, label: '', value: { errorCode: 0x35 }, valStr: 'n/a', unit: '', enabled: 'omitted', type: [177, 161] },
        { nr: 5, label: 'Binary input 1', value: 1, unit: '', type: [10, 255], alarms: [1, 0], alarmModes: [2, 0], binDesc: ['Closed', 'Open'] },
      ],
    }).toString('utf8');
    assert.equal(body,
      '{"JsonType":5,"JsonVersion":1,"OrderId":1,"MsgType":1,"MsgCache":0,"Sn":"26680077","Desc":"PA8652","Kind":128,' +
      '"AState":{"Reg":384,"Mask":10688},"NConf":164,"ConfID":"0-F4894931-04-23","Interval":10,' +
      '"Time":{"Now":"2026-03-15T15:17:21+01:00","Sample":"2026-03-15T15:17:10+01:00","IsValid":1},"LocalIPv4":"192.168.1.27",' +
      '"Channels":[{"Nr":2,"Quant":"","Val":"FF810035","ValStr":"n/a","Unit":"","Dec":1,"Type":[177,161],"Alarm":[0,0],"AlarmMode":[0,0]},' +
      '{"Nr":5,"En":1,"Quant":"Binary input 1","Val":"3F800000","ValStr":"1","Unit":"","Dec":0,"Type":[10,255],"Alarm":[1,0],"AlarmMode":[2,0],"BinDesc":["Closed","Open"]}]}');
    const u = upload(websensorJsonAdapter.parse(Buffer.from(body), requestContext(RECEIVED)));
    assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.value, r.alarm]), [[5, 'binary', 1, 'hi']]);
  });

  it('maps message kinds to TAx6xx MsgType numbers, unlike WiFi', () => {
    const msgType = (kind: 'restart' | 'periodic' | 'async' | 'test') => JSON.parse(buildWebsensorBody({
      serial: '26680077', model: 1, orderId: 0, msgType: kind, interval: 60, sampleTime: 0, channels: [],
    }).toString()).MsgType;
    assert.deepEqual([msgType('restart'), msgType('periodic'), msgType('async'), msgType('test')], [0, 1, 2, 4]);
  });

  it('round-trips a cached message with time invalid and lower-case hex', () => {
    const u = upload(websensorJsonAdapter.parse(buildWebsensorBody({
      serial: '26680078', model: 12, orderId: 99, msgType: 'periodic', msgCache: 9, interval: 60, timeValid: false,
      sampleTime: 0, hexCase: 'lower', localIpKey: 'LocalIP',
      channels: [{ nr: 4, label: 'CO2', value: 1250, unit: 'ppm', dec: 0, type: [9, 255] }],
    }), requestContext(RECEIVED)));
    assert.equal(u.fromCache, true);
    assert.equal(u.meta.cacheReason, 'TRANSFER_ERR');
    assert.equal(u.meta.timeInvalid, true);
    assert.deepEqual(u.readings, [{ channel: 4, quantity: 'co2', unit: 'ppm', value: 1250, errorCode: null, alarm: 'no', sampleTime: RECEIVED }]);
  });
});
