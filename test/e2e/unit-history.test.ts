// Units never change history, as the user receives it (issue 18): after a channel's unit changed
// °C → °F (confirmed and signed), the chart series, the table, the CSV export, the printable report's
// data and the PDF report show each sample with the unit valid at its time: one series/column/section
// per unit, labelled with when it was valid, values never converted, and the hourly rollup (which
// holds both units in the hour of the change) never mixing them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';

let t: TestGateway;
let admin: Caller;
let deviceId = 0;
let changeAt = 0;
let from = 0;
let to = 0;
const SIGNED = { password: ADMIN.password, meaning: 'confirmed' };

interface SeriesOut { channel: number; unit: string; unitFrom: number | null; unitUntil: number | null; bucketMs: number; time: number[]; avg: (number | null)[]; min?: (number | null)[]; max?: (number | null)[]; summary?: { min: number | null; max: number | null; count: number } }

before(async () => {
  t = await startTestGateway();
  admin = new Caller(t.gateway.url);
  assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
  const made = await admin.json<{ device: { id: number }; entryUrl: string }>('POST', '/api/devices', { serial: '73100001', model: 'T3510', name: 'Cold room' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  deviceId = made.body.device.id;
  assert.equal((await admin.json('PUT', `/api/devices/${deviceId}/interval`, { allowedIntervalS: 1 })).status, 200);
  const send = async (temp: number, tempU: 'C' | 'F') => {
    const before = (await t.gateway.store.samples(deviceId, 1, 0, Date.now() + 60_000)).length + (await t.gateway.store.quarantined(deviceId)).length;
    // one upload per second at most (the device's interval): wait until the clock has moved on by one
    const earliest = Date.now() + 1100;
    while (Date.now() < earliest) await new Promise((r) => setTimeout(r, earliest - Date.now()));
    assert.equal((await post(made.body.entryUrl, buildSoapMessage({ serial: '73100001', modelCode: soapModelCode('T3510')!, temp, tempU }), 'text/xml; charset=utf-8')).status, 200);
    return before;
  };
  await send(4.5, 'C');
  await send(5.0, 'C');
  await send(40.1, 'F');   // held back: the device is suspended until the unit is confirmed
  for (const channel of [1, 3]) {
    const confirmed = await admin.json('POST', `/api/devices/${deviceId}/channels/${channel}/unit`, { unit: '°F', reason: 'probe set to Fahrenheit', signature: SIGNED });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  }
  assert.equal((await admin.json('POST', `/api/devices/${deviceId}/resume`, { importData: true, signature: { ...SIGNED, meaning: 'released' } })).status, 200);
  await send(41.0, 'F');
  const samples = await t.gateway.store.samples(deviceId, 1, 0, Date.now() + 60_000);
  assert.deepEqual(samples.map((s) => s.value), [4.5, 5, 40.1, 41]);
  changeAt = (await t.gateway.store.channelUnits(deviceId)).find((v) => v.channel === 1 && v.unit === '°F')!.validFrom;
  assert.equal(changeAt, samples[2].time, 'the °F version begins with the first °F sample');
  from = samples[0].time - 60_000;
  to = samples[3].time + 60_000;
});
after(async () => { await t?.close(); });

const channel1 = (series: SeriesOut[]) => series.filter((s) => s.channel === 1);

test('the chart: a channel whose unit changed in the range is two series, each in its own unit and labelled with when', async () => {
  const res = await admin.json<{ series: SeriesOut[] }>('GET', `/api/series?channels=${deviceId}:1&from=${from}&to=${to}`);
  assert.equal(res.status, 200);
  const [celsius, fahrenheit] = channel1(res.body.series);
  assert.equal(channel1(res.body.series).length, 2);
  assert.deepEqual([celsius.unit, celsius.unitFrom, celsius.unitUntil, celsius.avg], ['°C', null, changeAt, [4.5, 5]]);
  assert.deepEqual([fahrenheit.unit, fahrenheit.unitFrom, fahrenheit.unitUntil, fahrenheit.avg], ['°F', changeAt, null, [40.1, 41]]);
});

test('the chart: a range before the change shows the °C samples as °C, although the channel now reads °F', async () => {
  const res = await admin.json<{ series: SeriesOut[] }>('GET', `/api/series?channels=${deviceId}:1&from=${from}&to=${changeAt}`);
  assert.deepEqual(channel1(res.body.series).map((s) => [s.unit, s.unitFrom, s.unitUntil, s.avg]), [['°C', null, null, [4.5, 5]]]);
  const after_ = await admin.json<{ series: SeriesOut[] }>('GET', `/api/series?channels=${deviceId}:1&from=${changeAt}&to=${to}`);
  assert.deepEqual(channel1(after_.body.series).map((s) => [s.unit, s.unitFrom, s.unitUntil, s.avg]), [['°F', null, null, [40.1, 41]]]);
});

test('the long-range chart (hourly rollup, which holds both units in the hour of the change) never mixes them', async () => {
  const tenYears = 10 * 366 * 86_400_000;
  const res = await admin.json<{ series: SeriesOut[] }>('GET', `/api/series?channels=${deviceId}:1&from=${to - tenYears}&to=${to}`);
  assert.equal(res.status, 200);
  const [celsius, fahrenheit] = channel1(res.body.series);
  assert.ok(celsius.bucketMs >= 3_600_000 && celsius.bucketMs % 3_600_000 === 0, `read from the hourly rollup (bucket ${celsius.bucketMs} ms)`);
  const values = (s: SeriesOut) => [...(s.min ?? []), ...(s.max ?? []), ...s.avg].filter((v): v is number => v !== null);
  assert.deepEqual([celsius.unit, Math.min(...values(celsius)), Math.max(...values(celsius))], ['°C', 4.5, 5]);
  assert.deepEqual([fahrenheit.unit, Math.min(...values(fahrenheit)), Math.max(...values(fahrenheit))], ['°F', 40.1, 41]);
});

test('the table: one column per unit, each value under the unit it was measured in', async () => {
  const res = await admin.json<{ channels: { channel: number; unit: string; unitFrom: number | null; unitUntil: number | null }[]; rows: { time: number; values: ({ value: number | null } | null)[] }[] }>(
    'GET', `/api/samples?device=${deviceId}&from=${from}&to=${to}&limit=100`);
  assert.equal(res.status, 200);
  const columnOf = (unit: string) => res.body.channels.findIndex((c) => c.channel === 1 && c.unit === unit);
  const [c, f] = [columnOf('°C'), columnOf('°F')];
  assert.ok(c >= 0 && f >= 0, JSON.stringify(res.body.channels));
  assert.deepEqual(res.body.rows.map((r) => [r.values[c]?.value ?? null, r.values[f]?.value ?? null]), [[4.5, null], [5, null], [null, 40.1], [null, 41]]);
});

test('the CSV export: one column per unit, labelled with when it was valid; nothing converted', async () => {
  const res = await admin.request('GET', `/api/export.csv?channels=${deviceId}:1&from=${from}&to=${to}&decimal=point`);
  assert.equal(res.status, 200);
  const lines = (await res.text()).replace(/^\uFEFF/, '').trim().split('\r\n');
  const at = new Date(changeAt).toISOString().slice(0, 16).replace('T', ' ');
  assert.deepEqual(lines[0].split(',').slice(2), [
    `Cold room temperature [°C] (until ${at} UTC)`, `Cold room temperature state (until ${at} UTC)`,
    `Cold room temperature [°F] (from ${at} UTC)`, `Cold room temperature state (from ${at} UTC)`,
  ]);
  assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(2)), [['4.5', '', '', ''], ['5', '', '', ''], ['', '', '40.1', ''], ['', '', '41', '']]);
});

test('the printable report\'s data: a summary per unit', async () => {
  const res = await admin.json<{ series: SeriesOut[] }>('GET', `/api/report?channels=${deviceId}:1&from=${from}&to=${to}`);
  assert.deepEqual(channel1(res.body.series).map((s) => [s.unit, s.summary?.min, s.summary?.max, s.summary?.count]), [['°C', 4.5, 5, 2], ['°F', 40.1, 41, 2]]);
});

test('the PDF report: a section per unit, each titled with its unit and when it was valid, statistics in that unit', async () => {
  const res = await admin.request('GET', `/api/report.pdf?devices=${deviceId}&channels=${deviceId}:1&from=${from}&to=${to}&tz=UTC`);
  assert.equal(res.status, 200, await res.clone().text());
  const file = path.join(t.dataDir, 'unit-history.pdf');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  const at = new Date(changeAt).toISOString().slice(0, 16).replace('T', ' ');
  assert.match(text, new RegExp(`channel 1: Temperature \\[°C\\] – unit changed: °C until ${at}`));
  assert.match(text, new RegExp(`channel 1: Temperature \\[°F\\] – unit changed: °F from ${at}`));
  assert.match(text, /Maximum 5\.00 °C/);
  assert.match(text, /Minimum 40\.10 °F/);
  assert.doesNotMatch(text, /(40\.10|41\.00) °C|(4\.50|5\.00) °F/, 'no value under the other unit');
});
