// The PDF report from the viewer, in Debian's Chromium: the report page says its time zone,
// "PDF report" downloads the server-made PDF, "Sign…" signs it with the re-entered password and
// downloads the signed copy; an administrator adds a scheduled report. Screenshots in test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { SHOTS, browserSkipReason, openViewerBrowser, type ViewerBrowser } from './chromium.ts';
import { ADMIN, startTestGateway, type TestGateway } from '../e2e/api-helpers.ts';
import { WEEK_FROM, seedColdRoom } from '../helpers/report-data.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const skip = browserSkipReason();

let t: TestGateway;
let context: BrowserContext;
let page: Page;
let browser: ViewerBrowser;
let deviceId = 0;
const work = mkdtempSync(path.join(os.tmpdir(), 'inlet-report-browser-'));

before(async () => {
  if (skip) return;
  t = await startTestGateway();
  deviceId = (await seedColdRoom(t.gateway.store, { from: WEEK_FROM, to: WEEK_FROM + 3 * 86_400_000 })).id;
  browser = await openViewerBrowser(t.gateway.url, { acceptDownloads: true, viewport: { width: 1280, height: 900 }, locale: 'de-DE', timezoneId: 'Europe/Prague' });
  context = browser.context;
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await t?.close();
});

const pdfText = (file: string) => execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');

test('PDF report from the report page, signed by re-entering the password', { skip, timeout: HANG_GUARD_MS }, async () => {
  await page.goto(t.gateway.url);
  await page.getByLabel('User name').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  await page.goto(`${t.gateway.url}/#/report?channels=${deviceId}:1,${deviceId}:2&from=${WEEK_FROM}&to=${WEEK_FROM + 3 * 86_400_000}`);
  await page.getByRole('button', { name: 'PDF report' }).waitFor();

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'PDF report' }).click()]);
  const file = path.join(work, download.suggestedFilename());
  await download.saveAs(file);
  assert.match(download.suggestedFilename(), /^inlet-report-2026-11-02_2026-11-04-[0-9A-Z-]{19}\.pdf$/);
  const status = page.locator('.pdf-status');
  await status.getByText(/PDF report [0-9A-Z-]{19} downloaded \(times in Europe\/Prague\)/).waitFor();
  const text = pdfText(file);
  assert.match(text, /Measurement report: Cold room 2/);
  assert.match(text, /Generated .* by admin/);
  await page.screenshot({ path: path.join(SHOTS, 'report-pdf-made.png'), fullPage: true });

  await page.getByRole('button', { name: 'Sign…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Password').fill('not the password');
  await dialog.getByRole('button', { name: 'Sign' }).click();
  await status.getByText('the password is not right: the report was not signed').waitFor();

  await page.getByRole('button', { name: 'Sign…' }).click();
  await dialog.getByLabel('Password').fill(ADMIN.password);
  await page.screenshot({ path: path.join(SHOTS, 'report-pdf-sign-dialog.png') });
  const [signed] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Sign' }).click()]);
  const signedFile = path.join(work, signed.suggestedFilename());
  await signed.saveAs(signedFile);
  assert.match(signed.suggestedFilename(), /-signed\.pdf$/);
  assert.match(pdfText(signedFile), /Electronically signed: APPROVED Signed by admin on/);
  await status.getByText(/signed \(approved\)/).waitFor();
});

test('an administrator adds a scheduled report with a reason', { skip, timeout: HANG_GUARD_MS }, async () => {
  await page.goto(`${t.gateway.url}/#/admin`);
  await page.getByRole('heading', { name: 'Scheduled reports' }).waitFor();
  await page.getByRole('button', { name: 'Add a scheduled report' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill('Cold room 2 monthly');
  await dialog.getByLabel('Location').fill('Cold room 2');
  await dialog.getByLabel('Mail to').fill('qa@plant.example');
  await dialog.getByLabel('Reason for the change').fill('GDP audit');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Scheduled report Cold room 2 monthly added.').waitFor();
  await page.locator('.report-schedules tr', { hasText: 'Cold room 2 monthly' }).getByText('mail qa@plant.example').waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'report-schedules.png'), fullPage: true });
  const [event] = await t.gateway.store.events({ type: 'report.schedule.changed', limit: 1 });
  assert.equal(event.data?.reason, 'GDP audit');
});
