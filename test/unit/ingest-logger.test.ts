import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Verdict } from '../../src/domain/types.ts';
import { loggerAdapter } from '../../src/ingest/logger/index.ts';
import { buildLoggerBody, buildLoggerMessage, loggerBacklogMessages, type SimLoggerMessage } from '../../src/sim/logger.ts';
import { fixture, itRefusesWith422, refusal, requestContext, upload } from '../helpers/fixtures.ts';

const RECEIVED = Date.UTC(2025, 2, 14, 10, 35, 12);
const parse = (name: string, receivedAt = RECEIVED) => loggerAdapter.parse(fixture('logger', name), requestContext(receivedAt));



describe('logger adapter contract', () => {
  it('is the logger family on path segment logger with a batch-sized body limit', () => {
    assert.equal(loggerAdapter.family, 'logger');
    assert.equal(loggerAdapter.pathSegment, 'logger');
    assert.equal(loggerAdapter.maxBodyBytes, 16 * 1024 * 1024);
  });
});

describe('logger JsonVersion 6, single message', () => {
  it('decodes identity, times, analog and binary channels', () => {
    const u = upload(parse('v6-single.json'));
    assert.equal(u.family, 'logger');
    assert.equal(u.serial, '19990042');
    assert.equal(u.customerUid, 'k3F9q2Lm7xA1b0Zc');
    assert.equal(u.modelCode, 1);
    assert.equal(u.kind, 'periodic');
    assert.equal(u.counter, 37);
    assert.equal(u.fromCache, false);
    // AState 192 has external power (bit 6), so the power-mode interval applies.
    assert.equal(u.declaredIntervalS, 120);
    assert.equal(u.deviceNow, Date.UTC(2025, 2, 14, 10, 35, 12));
    const t = Date.UTC(2025, 2, 14, 10, 30, 0);
    assert.deepEqual(u.readings, [
      { channel: 1, quantity: 'temperature', unit: '°C', value: -6.5, errorCode: null, alarm: 'no', sampleTime: t },
      { channel: 2, quantity: 'relative_humidity', unit: '%', value: 65, errorCode: null, alarm: 'no', sampleTime: t },
      { channel: 3, quantity: 'binary', unit: '', value: 0, errorCode: null, alarm: 'no', sampleTime: t },
    ]);
    assert.equal(u.meta.description, 'Truck 7 reefer');
    assert.equal(u.meta.batteryPercentage, 87);
    assert.equal(u.meta.rssiCsq, 24);
    assert.equal(u.meta.timezoneOffsetMinutes, 60);
    assert.deepEqual(u.meta.channels, [
      { channel: 1, label: 'Temperature', binary: false, dec: 1, alarms: [0, 0], alarmLimits: [-10, 0], alarmBehaviours: [1, 2] },
      { channel: 2, label: 'Rel. humidity', binary: false, dec: 0, alarms: [0, 0], alarmLimits: [30, 60], alarmBehaviours: [1, 2] },
      { channel: 3, label: 'Door', binary: true, binDescriptions: ['closed', 'open'], alarms: [0, 0], alarmBehaviours: [0, 2] },
    ]);
  });

  it('records the clock skew under both the UTC and the local reading of the counter', () => {
    const u = upload(parse('v6-single.json', RECEIVED + 2_000));
    assert.deepEqual(u.meta.clock, { counts: 'utc', offsetMinutes: 60, skewIfUtcMs: 2_000, skewIfLocalMs: 3_602_000 });
  });

  it('maps RstOk to restart and IsAsync to async', () => {
    const restart = upload(parse('v6-restart.json'));
    assert.equal(restart.kind, 'restart');
    assert.equal(restart.counter, 0);
    const asyncMsg = upload(parse('v6-binary-lower-case.json'));
    assert.equal(asyncMsg.kind, 'async');
  });

  it('reads lower-case hex, alarm direction and the battery interval', () => {
    const u = upload(parse('v6-binary-lower-case.json'));
    assert.equal(u.serial, '17279901');
    // AState 35985 lacks bit 6 (external power): the battery-mode interval applies.
    assert.equal(u.meta.externalPower, false);
    assert.equal(u.declaredIntervalS, 900);
    assert.equal(u.meta.timezoneOffsetMinutes, 120);
    assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.value, r.alarm]), [
      [1, 'temperature', 21.3, 'hi'], [2, 'relative_humidity', 45, 'no'], [3, 'binary', 0, 'no'],
    ]);
    assert.deepEqual((u.meta.channels as { alarmLimits?: number[] }[])[0].alarmLimits, [0, 21]);
    assert.deepEqual((u.meta.channels as { label: string; binDescriptions?: string[] }[])[2],
      { channel: 3, label: 'Input 1', binary: true, binDescriptions: ['vypnuto', 'zapnuto'], alarms: [0, 0], alarmBehaviours: [0, 0] });
  });

  it('turns ff8100NN into an error reading and accepts a timezone marked not used', () => {
    const u = upload(parse('v6-error-value-no-timezone.json'));
    assert.deepEqual(u.readings.map((r) => [r.channel, r.value, r.errorCode]), [[1, null, 4], [2, 65, null]]);
    assert.equal(u.meta.timezoneOffsetMinutes, null);
    assert.equal((u.meta.clock as { skewIfLocalMs: number | null }).skewIfLocalMs, null);
  });
});

describe('logger batch', () => {
  it('carries every sample with its own time, ranks the kind, and counts with the last OrderId', () => {
    const u = upload(parse('v6-batch.json', Date.UTC(2026, 10, 23, 9, 16, 45)));
    const t0 = Date.UTC(2026, 10, 23, 9, 0, 0);
    assert.deepEqual(u.readings.map((r) => [r.channel, r.value, r.alarm, r.sampleTime]), [
      [1, -5, 'no', t0], [3, 0, 'no', t0],
      [1, 2.5, 'no', t0 + 300_000], [3, 1, 'hi', t0 + 300_000],
      [1, -20, 'lo', t0 + 600_000], [3, 0, 'no', t0 + 600_000],
    ]);
    assert.equal(u.kind, 'async'); // message 1 was sent for an alarm
    assert.equal(u.counter, 0); // wrapped 254, 255, 0
    assert.equal(u.deviceNow, Date.UTC(2026, 10, 23, 9, 16, 40));
    assert.deepEqual((u.meta.messages as { orderId: number }[]).map((m) => m.orderId), [254, 255, 0]);
    assert.equal(u.meta.bufferedModeMaxMessages, 3);
    // the last message lacks external power (AState 128)
    assert.equal(u.declaredIntervalS, 900);
  });

  it('refuses a batch that mixes loggers', () => {
    const r = refusal(parse('bad-batch-mixed-serial.json'));
    assert.equal(r.status, 422);
    assert.equal(r.reason, 'message 2: Sn 19990043 differs from message 0 (19990042); a batch comes from one logger');
    assert.equal(r.serial, '19990042');
  });
});

describe('logger refusals', () => {
  const cases: [string, string][] = [
    ['bad-v4-unknown-layout.json', 'JsonVersion 4 has no known field layout; supported: 6 (firmware >= 0.0.129). Update the logger firmware or add the layout'],
    ['bad-nan.json', 'field Channels[0].Value (element 3): "7fc00000" is NaN, not a measurement'],
    ['bad-sn-string.json', 'field Sn (element 6) must be an integer'],
    ['bad-channel-shape.json', 'Channels[0] is an analog channel and must have 9 elements, got 7'],
    ['bad-timezone.json', 'field Timezone (element 10): 100 is neither -128 (not used) nor -48..56 quarter hours (-12 h..+14 h)'],
    ['bad-time-not-hex.json', 'field Time (element 9) must be 8 hex digits'],
    ['bad-empty.json', 'expected a logger message (JSON array starting with JsonType 1) or a non-empty array of them'],
  ];
  itRefusesWith422(parse, cases);

  it('names the serial only where the version layout says where it is', () => {
    assert.equal(refusal(parse('bad-nan.json')).serial, '19990042');
    assert.equal(refusal(parse('bad-v4-unknown-layout.json')).serial, undefined);
  });

  it('refuses a JsonVersion that is a string, even one naming a known version or a prototype key (found by bench:fuzz)', () => {
    const single = JSON.parse(fixture('logger', 'v6-single.json').toString()) as unknown[];
    for (const version of ['6', 'constructor', 'valueOf', '__proto__']) {
      const body = Buffer.from(JSON.stringify([single[0], version, ...single.slice(2)]));
      const r = refusal(loggerAdapter.parse(body, requestContext(RECEIVED)));
      assert.equal(r.status, 422, version);
      assert.match(r.reason, new RegExp(`JsonVersion "${version}" has no known field layout`));
    }
  });

  it('refuses a JSON object from a Web Sensor and a wrong JsonType', () => {
    assert.equal(refusal(loggerAdapter.parse(fixture('wifi', 'periodic.json'), requestContext(RECEIVED))).status, 422);
    const msg = JSON.parse(fixture('logger', 'v6-single.json').toString());
    msg[0] = 2;
    assert.equal(refusal(loggerAdapter.parse(Buffer.from(JSON.stringify(msg)), requestContext(RECEIVED))).reason,
      "element 0 (JsonType) is 2, expected 1 (logger online data); check the device's server path");
  });

  it('refuses a repeated channel number and a binary state other than 0/1', () => {
    const msg = JSON.parse(fixture('logger', 'v6-single.json').toString());
    msg[21][1][0] = 1;
    assert.equal(refusal(loggerAdapter.parse(Buffer.from(JSON.stringify(msg)), requestContext(RECEIVED))).reason, 'Channels[1] repeats channel number 1');
    const bin = JSON.parse(fixture('logger', 'v6-single.json').toString());
    bin[21][2][4] = 2;
    assert.equal(refusal(loggerAdapter.parse(Buffer.from(JSON.stringify(bin)), requestContext(RECEIVED))).reason, 'field Channels[2].State (element 4) must be one of 0, 1');
  });

  it('accepts a backlog of more messages than buffered mode holds (255), bounded by the body cap only', () => {
    const messages = loggerBacklogMessages({ serial: 19990042, samples: 4 * 1000, intervalS: 60, newestSampleTime: RECEIVED - 60_000 });
    const u = upload(loggerAdapter.parse(buildLoggerBody(messages), requestContext(RECEIVED)));
    assert.equal(u.readings.length, 4000);
    assert.equal(u.counter, 999 % 256);
  });

  it('decodes values repeated across messages each time, and refuses a bad one wherever it is (values are decoded once per upload)', () => {
    const base = loggerBacklogMessages({ serial: 19990042, samples: 2 * 3, channels: 2, intervalS: 60, newestSampleTime: RECEIVED - 60_000 });
    const messages: SimLoggerMessage[] = base.map((m, i) => ({
      ...m, channels: [{ nr: 1, label: 'Temperature', unit: '°C', value: i === 1 ? { errorCode: 4 } : 20.3 }, { nr: 2, label: i === 2 ? 'Dew point' : 'Humidity', unit: '%RH', value: 20.3 }],
    }));
    const u = upload(loggerAdapter.parse(buildLoggerBody(messages), requestContext(RECEIVED)));
    assert.deepEqual(u.readings.map((r) => [r.channel, r.quantity, r.value, r.errorCode]), [
      [1, 'temperature', 20.3, null], [2, 'relative_humidity', 20.3, null],
      [1, 'temperature', null, 4], [2, 'relative_humidity', 20.3, null],
      [1, 'temperature', 20.3, null], [2, 'dew_point', 20.3, null],
    ]);
    const batch = messages.map(buildLoggerMessage);
    ((batch[2][21] as unknown[][])[1])[3] = '7f800000';
    assert.equal(refusal(loggerAdapter.parse(Buffer.from(JSON.stringify(batch)), requestContext(RECEIVED))).reason,
      'message 2: field Channels[1].Value (element 3): "7f800000" is Infinity, not a measurement');
    ((batch[1][21] as unknown[][])[0])[7] = ['00000000', '7fc00000'];
    assert.equal(refusal(loggerAdapter.parse(Buffer.from(JSON.stringify(batch)), requestContext(RECEIVED))).reason,
      'message 1: field Channels[0].AlarmLimits[1]: "7fc00000" is NaN, not a measurement');
  });
});

describe('logger answers', () => {
  const verdict: Verdict = { kind: 'accepted', reason: 'ok', httpStatus: 200, stored: 3 };
  const u = upload(parse('v6-single.json'));
  it('answers 200 OK when the data is kept', () => {
    for (const kind of ['accepted', 'duplicate', 'quarantined'] as const) {
      assert.deepEqual(loggerAdapter.answer({ ...verdict, kind }, u), { status: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' });
    }
  });
  it('answers a refusal with its 4xx status and reason, and 503 when retryLater', () => {
    assert.deepEqual(loggerAdapter.answer({ ...verdict, kind: 'refused', httpStatus: 403, reason: 'CustomerUid does not match' }, u),
      { status: 403, contentType: 'text/plain; charset=utf-8', body: 'refused: CustomerUid does not match' });
    const r = refusal(parse('bad-v4-unknown-layout.json'));
    assert.equal(loggerAdapter.answer({ ...verdict, kind: 'refused', httpStatus: r.status, reason: r.reason }, null).status, 422);
    assert.equal(loggerAdapter.answer({ ...verdict, retryLater: true, reason: 'store away' }, u).status, 503);
  });
});

describe('logger simulator', () => {
  const sample: SimLoggerMessage = {
    serial: 19990042, description: 'Truck 7 reefer', model: 1, orderId: 37, sampleTime: Date.UTC(2025, 2, 14, 10, 30, 0),
    now: Date.UTC(2025, 2, 14, 10, 35, 12), timezoneQuarterHours: 4, intervalPowerMode: 120, intervalBatteryMode: 900,
    nConf: 3, customerUid: 'k3F9q2Lm7xA1b0Zc', batteryPercentage: 87, rssi: 24, hexCase: 'upper',
    channels: [
      { nr: 1, label: 'Temperature', value: -6.5, unit: '°C', alarmLimits: [-10, 0], behaviours: [1, 2] },
      { nr: 2, label: 'Rel. humidity', value: 65, unit: '%', dec: 0, alarmLimits: [30, 60], behaviours: [1, 2] },
      { nr: 3, binary: true, label: 'Door', state: 0, descriptions: ['closed', 'open'], behaviours: [0, 2] },
    ],
  };

  it('builds the same positional message as the v6 fixture', () => {
    assert.deepEqual(buildLoggerMessage(sample), JSON.parse(fixture('logger', 'v6-single.json').toString()));
  });

  it('builds a batch of buffered samples that parses back sample by sample', () => {
    const messages = [0, 1, 2].map((i) => ({
      ...sample, orderId: 254 + i > 255 ? i - 2 : 254 + i, sampleTime: sample.sampleTime + i * 60_000, hexCase: 'lower' as const,
      channels: [{ nr: 1, label: 'Temperature', value: i === 1 ? { errorCode: 4 } : -6.5 + i, unit: '°C' }],
    }));
    const body = buildLoggerBody(messages);
    assert.ok(body.toString().startsWith('[[1,6,24,"2f66c2e0",254,0,19990042,'));
    const u = upload(loggerAdapter.parse(body, requestContext(RECEIVED)));
    assert.deepEqual(u.readings.map((r) => [r.value, r.errorCode, r.sampleTime]), [
      [-6.5, null, sample.sampleTime], [null, 4, sample.sampleTime + 60_000], [-4.5, null, sample.sampleTime + 120_000],
    ]);
    assert.equal(u.counter, 0);
  });
});
