// The Zones page in Debian's Chromium: a global administrator builds a tree and limits a user to a
// zone; that user then signs in and sees that zone's device only. Screenshots go to test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { SHOTS, browserSkipReason, openViewerBrowser, type ViewerBrowser } from './chromium.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from '../e2e/api-helpers.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const skip = browserSkipReason();

let t: TestGateway;
let context: BrowserContext;
let page: Page;
let browser: ViewerBrowser;

before(async () => {
  if (skip) return;
  t = await startTestGateway();
  const admin = new Caller(t.gateway.url);
  await admin.signIn(ADMIN.username, ADMIN.password);
  for (const [serial, name, location] of [['20261001', 'Vaccine fridge', 'Hospital/Pharmacy'], ['20261002', 'Incubator', 'Hospital/Laboratory']]) {
    assert.equal((await admin.json('POST', '/api/devices', { reason: 'test fixture', serial, model: 'T3510', name, location })).status, 201);
  }
  assert.equal((await admin.json('POST', '/api/users', { reason: 'test fixture', username: 'nurse', role: 'viewer', password: 'Lantern-Ridge-77' })).status, 201);
  browser = await openViewerBrowser(t.gateway.url, { viewport: { width: 1440, height: 900 } });
  context = browser.context;
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await t?.close();
});

const zoneNames = async () => (await page.locator('table.zones tbody th').allTextContents()).map((n) => n.replace(/^[\u2003\u2514 ]+/, ''));

async function signIn(username: string, password: string): Promise<void> {
  await page.goto(t.gateway.url);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

test('a global administrator builds the zone tree and limits a user to one zone', { skip, timeout: HANG_GUARD_MS }, async () => {
  await signIn(ADMIN.username, ADMIN.password);
  await page.goto(`${t.gateway.url}/#/zones`);
  await page.getByRole('row', { name: /Pharmacy/ }).waitFor();
  // the locations given at registration became zones under Hospital
  assert.deepEqual(await zoneNames(), ['Hospital', 'Laboratory', 'Pharmacy']);
  await page.getByRole('row', { name: /Pharmacy/ }).getByRole('button', { name: 'Add inside' }).click();
  await page.getByLabel('Name').fill('Fridge room 2');
  await page.getByLabel('Reason').fill('new fridge room');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('row', { name: /Fridge room 2/ }).waitFor();
  await page.getByRole('row', { name: /nurse/ }).getByRole('button', { name: 'Zones' }).click();
  await page.getByLabel('Rights').selectOption('zones');
  await page.getByLabel(/Hospital\/Pharmacy$/).selectOption('viewer');
  await page.getByLabel('Reason').fill('ward nurse');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('nurse: rights saved').waitFor();
  await page.getByRole('row', { name: /nurse viewer at most, on chosen zones/ }).waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'zones-admin.png'), fullPage: true });
  await page.getByRole('button', { name: 'Sign out' }).click();

  await signIn('nurse', 'Lantern-Ridge-77');
  await page.getByText('Vaccine fridge').first().waitFor();
  assert.equal(await page.getByText('Incubator').count(), 0, 'the laboratory\'s device is not shown');
  await page.screenshot({ path: path.join(SHOTS, 'zones-nurse-devices.png'), fullPage: true });
  await page.goto(`${t.gateway.url}/#/zones`);
  await page.getByRole('row', { name: /Fridge room 2/ }).waitFor();
  assert.deepEqual(await zoneNames(), ['Pharmacy', 'Fridge room 2']);
  assert.equal(await page.getByRole('button', { name: 'Add a zone' }).count(), 0);
});
