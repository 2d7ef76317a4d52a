// Units never change history, in Debian's Chromium (issue 18): a cold room's probe measured in °C for
// a day and, after a confirmed unit change, in °F. The chart draws two series on two labelled axes,
// each named with when its unit was valid, and the table has a column per unit. Screenshots go to
// test-results/ for a person to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Batch, SampleRow } from '../../src/domain/types.ts';
import { SHOTS, browserSkipReason, openViewerBrowser, type ViewerBrowser } from './chromium.ts';
import { ADMIN, startTestGateway, type TestGateway } from '../e2e/api-helpers.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const skip = browserSkipReason();
const MIN = 60_000;
const HOUR = 60 * MIN;
const FROM = Date.UTC(2026, 10, 2, 0);
const CHANGE_AT = FROM + 26 * HOUR + 20 * MIN;   // inside an hour: the rollup's hour holds both units
const TO = FROM + 48 * HOUR;

let t: TestGateway;
let browser: ViewerBrowser;
let page: Page;
let deviceId = 0;

before(async () => {
  if (skip) return;
  t = await startTestGateway();
  const store = t.gateway.store;
  const device = await store.addDevice({
    family: 'soap', serial: '17960777', modelCode: 0x0d13, model: 'T3510', name: 'Cold room 3', location: 'Pharmacy',
    entryToken: `tok-${Math.random().toString(36).slice(2)}`, allowedIntervalS: 300,
    channels: [{ channel: 1, quantity: 'temperature', unit: '°C' }],
  }, FROM - HOUR);
  deviceId = device.id;
  const commit = async (samples: SampleRow[], at: number) => {
    const batch: Batch = {
      upload: { deviceId, family: 'soap', receivedAt: at, remoteAddress: '192.0.2.10', contentType: 'text/xml', raw: Buffer.from('<seed/>'), verdict: 'accepted', reason: 'ok', serial: device.serial, counter: null },
      samples, channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    };
    await store.commit(batch);
  };
  const wave = (time: number) => Math.sin(((time - FROM) / (24 * HOUR)) * 2 * Math.PI);
  const celsius: SampleRow[] = [];
  const fahrenheit: SampleRow[] = [];
  for (let time = FROM; time < TO; time += 5 * MIN) {
    const c = Math.round((5 + 1.2 * wave(time)) * 100) / 100;
    // the same cold room after the probe was set to Fahrenheit: 41 °F is 5 °C
    if (time < CHANGE_AT) celsius.push({ deviceId, channel: 1, time, value: c, errorCode: null, alarm: 'no' });
    else fahrenheit.push({ deviceId, channel: 1, time, value: Math.round((c * 1.8 + 32) * 100) / 100, errorCode: null, alarm: 'no' });
  }
  await commit(celsius, CHANGE_AT - MIN);
  await store.setChannelUnit(deviceId, 1, 'temperature', '°F', CHANGE_AT, ADMIN.username, 'probe set to Fahrenheit', { signatureMeaning: 'confirmed' });
  await commit(fahrenheit, TO);
  browser = await openViewerBrowser(t.gateway.url, { viewport: { width: 1440, height: 900 }, timezoneId: 'UTC', locale: 'en-GB' });
  page = await browser.context.newPage();
  await page.goto(t.gateway.url);
  await page.getByLabel('User name').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
});

after(async () => {
  await browser?.close();
  await t?.close();
});

test('the chart: one series per unit, each named with when it was valid, on its own labelled axis', { skip, timeout: HANG_GUARD_MS }, async () => {
  await page.goto(`${t.gateway.url}/#/chart?channels=${deviceId}:1&from=${FROM}&to=${TO}`);
  const legend = page.locator('.u-legend');
  await legend.getByText(/°C, until/).first().waitFor();
  const labels = await page.locator('.u-legend .u-series .u-label').allTextContents();
  assert.ok(labels.some((l) => /Cold room 3 · .*\(°C, until .+\)$/.test(l)), labels.join(' | '));
  assert.ok(labels.some((l) => /Cold room 3 · .*\(°F, from .+\)$/.test(l)), labels.join(' | '));
  await page.waitForFunction(() => document.querySelector('.plot')?.getAttribute('data-scales'));
  const scales = JSON.parse(await page.locator('.plot').getAttribute('data-scales') ?? '{}') as Record<string, [number, number]>;
  assert.deepEqual(Object.keys(scales).sort(), ['°C', '°F'], 'one axis per unit');
  assert.ok(scales['°C'][1] < 10 && scales['°F'][0] > 30, `no °F value on the °C axis nor the reverse: ${JSON.stringify(scales)}`);
  await page.screenshot({ path: path.join(SHOTS, 'unit-history-chart.png'), fullPage: true });
});

test('the table: a column per unit around the change', { skip, timeout: HANG_GUARD_MS }, async () => {
  await page.goto(`${t.gateway.url}/#/table?device=${deviceId}&from=${CHANGE_AT - 30 * MIN}&to=${CHANGE_AT + 30 * MIN}`);
  await page.locator('table.samples').waitFor();
  const headers = await page.locator('table.samples thead th').allTextContents();
  assert.equal(headers.length, 3, headers.join(' | '));
  assert.match(headers[1], /\(°C, until .+\)/);
  assert.match(headers[2], /\(°F, from .+\)/);
  const rows = await page.locator('table.samples tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
  const before = rows.filter((r) => r[0] !== '');
  const after_ = rows.filter((r) => r[1] !== '');
  assert.ok(before.length > 0 && after_.length > 0);
  assert.ok(before.every((r) => r[0].endsWith('°C') && r[1] === ''), JSON.stringify(before));
  assert.ok(after_.every((r) => r[1].endsWith('°F') && r[0] === ''), JSON.stringify(after_));
  await page.screenshot({ path: path.join(SHOTS, 'unit-history-table.png'), fullPage: true });
});
