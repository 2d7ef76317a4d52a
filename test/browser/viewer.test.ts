// The viewer in Debian's Chromium, driven by playwright-core against a real gateway: sign in,
// watch a live value change, draw a chart, download an export, suspend and resume a device,
// acknowledge an alarm, register a device.
// Screenshots go to test-results/. Nothing here reaches the internet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { SHOTS, browserSkipReason, openViewerBrowser, type ViewerBrowser } from './chromium.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { entryTokenSha256 } from '../../src/domain/entry-token.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from '../e2e/api-helpers.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const skip = browserSkipReason();

let t: TestGateway;
let context: BrowserContext;
let page: Page;
let browser: ViewerBrowser;
let deviceId = 0;
let entryUrl = '';
const SERIAL = '20260001';
const MODEL = soapModelCode('T3510')!;

async function upload(temp: number): Promise<void> {
  const res = await post(entryUrl, buildSoapMessage({ serial: SERIAL, modelCode: MODEL, temp, relHum: 48.5, timer: 1 }), 'text/xml; charset=utf-8');
  assert.equal(res.status, 200, res.body);
}

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `viewer-${name}.png`), fullPage: true });

before(async () => {
  if (skip) return;
  // The device's interval is 1 s so that the test may send at its own pace; on a busy machine a
  // pause of 3 s between two steps would make the minutely offline check raise an offline alarm
  // beside the ones under test. Offline alarms have their own tests (jobs, api).
  t = await startTestGateway((config) => { config.jobs.offline.enabled = false; });
  const admin = new Caller(t.gateway.url);
  await admin.signIn(ADMIN.username, ADMIN.password);
  const added = await admin.json<{ device: { id: number }; entryUrl: string }>('POST', '/api/devices', { reason: 'test fixture', serial: SERIAL, model: 'T3510', name: 'Freezer A', location: 'Pharmacy' });
  deviceId = added.body.device.id;
  entryUrl = added.body.entryUrl;
  await admin.json('PUT', `/api/devices/${deviceId}/interval`, { reason: 'test fixture', allowedIntervalS: 1 });
  await upload(-18.4);
  browser = await openViewerBrowser(t.gateway.url, { acceptDownloads: true, viewport: { width: 1280, height: 900 }, locale: 'de-DE', timezoneId: 'Europe/Prague' });
  context = browser.context;
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await t?.close();
});

test('sign in, live values, chart, export and an admin action', { skip, timeout: HANG_GUARD_MS }, async () => {
  await page.goto(t.gateway.url);
  await page.getByLabel('User name').fill(ADMIN.username);
  await page.getByLabel('Password').fill('wrong password here');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong user name or password' }).waitFor();
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();

  const card = page.locator(`article[data-device="${deviceId}"]`);
  const temperature = card.locator('td.value[data-channel="1"]');
  await assert.doesNotReject(temperature.filter({ hasText: '-18,4 °C' }).waitFor());
  await shot('devices');
  await new Promise((r) => setTimeout(r, 1100));
  await upload(-21.7);
  // no reload: the value arrives over the live stream
  await temperature.filter({ hasText: '-21,7 °C' }).waitFor();
  await shot('devices-live');

  await card.getByRole('link', { name: 'Chart' }).click();
  await page.locator('.plot canvas').waitFor();
  await page.getByRole('status').filter({ hasText: 'points' }).waitFor();
  await page.getByRole('button', { name: 'Last 7 days' }).click();
  await page.getByRole('status').filter({ hasText: 'points' }).waitFor();
  assert.ok(await page.locator('.u-legend').getByText('Freezer A · Temperature (°C)').count() >= 1);
  await shot('chart');

  await page.goto(`${t.gateway.url}/#/export?channels=${deviceId}:1,${deviceId}:2&range=24h`);
  const downloadStarted = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download CSV' }).click();
  const download = await downloadStarted;
  assert.match(download.suggestedFilename(), /^inlet-export-\d{8}-\d{8}\.csv$/);
  const csv = readFileSync((await download.path())!, 'utf8');
  assert.ok(csv.startsWith('\uFEFFtime (UTC);time (Europe/Prague);Freezer A temperature [°C];'), csv.slice(0, 100));
  assert.match(csv, /;-21,7;/);
  await shot('export');

  await page.goto(`${t.gateway.url}/#/admin`);
  const row = page.locator(`tr[data-device="${deviceId}"]`);
  await row.getByRole('button', { name: 'Suspend' }).click();
  await page.getByRole('dialog').getByLabel('Reason').fill('calibration');
  await page.getByRole('dialog').getByRole('button', { name: 'Suspend' }).click();
  await row.getByText('Suspended').waitFor();
  assert.equal((await t.gateway.store.getDevice(deviceId))!.state, 'suspended');
  await shot('admin-suspended');
  await row.getByRole('button', { name: 'Resume' }).click();
  // Releasing the quarantined data is signed (issue 18), with a reason.
  await page.getByRole('dialog').getByLabel('Reason').fill('calibration done');
  await page.getByRole('dialog').getByLabel('Your password').fill(ADMIN.password);
  await page.getByRole('dialog').getByRole('button', { name: 'Sign and resume' }).click();
  await row.getByRole('button', { name: 'Suspend' }).waitFor();
  assert.equal((await t.gateway.store.getDevice(deviceId))!.state, 'active');
  await shot('admin-resumed');
});

test('an alarm over a limit is listed on the Alarms page and acknowledged there with a comment', { skip, timeout: HANG_GUARD_MS }, async () => {
  await t.gateway.store.setAlarmLimits(deviceId, 1, [{ deviceId, channel: 1, level: 'alarm', high: -15, low: null, delayS: 0, hysteresis: 0.5 }], ADMIN.username, Date.now());
  await t.gateway.alarmMonitor.reloadLimits();
  await upload(-9.5);
  await t.gateway.alarmMonitor.idle();
  const [raised] = await t.gateway.store.alarms({ open: true, deviceId });
  assert.ok(raised, 'the reading raised an alarm');

  await page.goto(`${t.gateway.url}/#/alarms`);
  await page.getByRole('heading', { name: 'Alarms' }).waitFor();
  const row = page.locator(`tr[data-alarm="${raised.id}"]`);
  await row.getByText('active, not acknowledged').waitFor();
  await row.getByText('high limit', { exact: true }).waitFor();
  await row.getByRole('button', { name: 'Acknowledge' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Comment').fill('door of Freezer A was open; closed and checked');
  await dialog.getByLabel('Your password').fill(ADMIN.password);
  await dialog.getByRole('button', { name: 'Acknowledge' }).click();
  await page.locator(`tr[data-alarm="${raised.id}"]`).getByText(/door of Freezer A was open/).waitFor();
  const [acknowledged] = await t.gateway.store.alarms({ deviceId });
  assert.equal(acknowledged.acknowledgedBy, ADMIN.username);
  assert.equal(acknowledged.ackComment, 'door of Freezer A was open; closed and checked');
  await shot('alarms-acknowledged');

  // Filtered by type: the limit alarm is hidden when only offline alarms are asked for.
  await page.getByLabel('Alarm type').selectOption('offline');
  await page.getByRole('heading', { name: 'Open (0)' }).waitFor();
  assert.equal(await page.locator(`tr[data-alarm="${raised.id}"]`).count(), 0);
  await page.getByLabel('Alarm type').selectOption('limit');
  await page.locator(`tr[data-alarm="${raised.id}"]`).waitFor();
});

test('an administrator registers a device in the viewer; a mistyped model is refused with the model it resembles', { skip, timeout: HANG_GUARD_MS }, async () => {
  await page.goto(`${t.gateway.url}/#/admin`);
  await page.getByRole('button', { name: 'Register a device' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Serial number').fill('20260002');
  await dialog.getByLabel('Model').fill('T3150');
  await dialog.getByLabel('Name').fill('Freezer B');
  // a configuration change needs a reason: the form does not submit without one, nor with a blank one
  await dialog.getByRole('button', { name: 'Register' }).click();
  assert.equal(await dialog.getByLabel('Reason').evaluate((el) => (el as HTMLInputElement).validity.valueMissing), true);
  await dialog.getByLabel('Reason').fill('   ');
  await dialog.getByRole('button', { name: 'Register' }).click();
  assert.equal(await dialog.getByLabel('Reason').evaluate((el) => (el as HTMLInputElement).validity.patternMismatch), true);
  assert.ok(await dialog.isVisible(), 'the dialog stays open');
  await shot('admin-register-reason');
  await dialog.getByLabel('Reason').fill('second freezer for the pharmacy');
  await dialog.getByRole('button', { name: 'Register' }).click();
  // the refusal is shown in the dialog, which stays open with everything typed
  await dialog.getByText('"T3150" is not a Web Sensor model Inlet knows (did you mean T3510?)').waitFor();
  assert.equal(await dialog.getByLabel('Name').inputValue(), 'Freezer B');
  assert.equal(await dialog.getByLabel('Serial number').inputValue(), '20260002');
  assert.equal((await t.gateway.store.listDevices()).some((d) => d.serial === '20260002'), false);

  await dialog.getByLabel('Model').fill('T9999');
  await dialog.getByLabel('Family').selectOption('soap');
  await dialog.getByRole('button', { name: 'Register' }).click();
  const done = page.getByRole('dialog', { name: 'Freezer B registered' });
  assert.match((await done.locator('output.entry-url').textContent())!, /\/ingest\/soap\/[\w-]{22}$/);
  await shot('admin-registered');
  await done.getByRole('button', { name: 'Done' }).click();
  const registered = (await t.gateway.store.listDevices()).find((d) => d.serial === '20260002');
  assert.deepEqual([registered?.model, registered?.family, registered?.modelCode], ['T9999', 'soap', null]);
  const event = (await t.gateway.store.events({ type: 'device.added', limit: 1 }))[0];
  assert.equal((event.data as { reason?: string }).reason, 'second freezer for the pharmacy', 'the reason typed is recorded with the change');

  // Only a hash of the entry point is kept: it cannot be shown again, a new one is issued and shown once.
  const row = page.locator(`tr[data-device="${registered!.id}"]`);
  await row.getByRole('button', { name: 'New entry point' }).click();
  const ask = page.getByRole('dialog', { name: 'New entry point for Freezer B' });
  await ask.getByLabel('Reason').fill('URL lost');
  await ask.getByRole('button', { name: 'Issue a new entry point' }).click();
  const issued = page.getByRole('dialog', { name: 'New entry point of Freezer B' });
  const url = (await issued.locator('output.entry-url').textContent())!;
  assert.match(url, /\/ingest\/soap\/[\w-]{22}$/);
  await shot('admin-new-entry-point');
  await issued.getByRole('button', { name: 'Done' }).click();
  assert.equal((await t.gateway.store.getDevice(registered!.id))?.entryTokenSha256, entryTokenSha256(url.split('/').at(-1)!), 'the device now answers to the URL shown');
});

test('the audit trail: filtered by type, paged, exported, and reviewed with a signature', { skip, timeout: HANG_GUARD_MS }, async () => {
  await page.goto(`${t.gateway.url}/#/audit`);
  await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
  await page.getByLabel('Type').selectOption('alarm.');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  // Wait for the filtered answer itself: the unfiltered first page, shown until it comes, holds the
  // acknowledgement too, so the rows below would be found on it (with its unfiltered export links).
  await page.getByRole('link', { name: 'CSV' }).and(page.locator('[href^="/api/audit.csv?type=alarm."]')).waitFor();
  const types = await page.locator('table.audit tbody tr td:nth-child(6)').allTextContents();
  assert.ok(types.length > 0 && types.every((type) => type.startsWith('alarm.')), `only alarm events are listed: ${types.join(', ')}`);
  // the acknowledgement signed on the Alarms page, with who did it and from where
  const ack = page.locator('table.audit tbody tr').filter({ hasText: 'alarm.acknowledged' });
  await ack.getByText(/with electronic signature \(\w+\)/).waitFor();
  assert.equal(await ack.locator('td').nth(2).textContent(), ADMIN.username);
  assert.match((await ack.locator('td').nth(3).textContent())!, /127\.0\.0\.1/);
  await page.getByText(/event\(s\): the whole trail for this filter/).waitFor();
  await page.getByLabel('Review comment').fill('alarm handling of December reviewed');
  await page.getByLabel(/Password for the review/).fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign review' }).click();
  await page.getByText('Review recorded with your signature.').waitFor();
  await page.locator('ul.reviews').getByText(/reviewed by admin with electronic signature \(reviewed\): alarm handling of December reviewed/).waitFor();
  const [review] = await t.gateway.store.events({ type: 'audit.reviewed', limit: 1 });
  assert.equal(review.actor, ADMIN.username);
  await shot('audit-trail-reviewed');
});
