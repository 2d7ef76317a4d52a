// Answers that arrive out of order, in Debian's Chromium against a real gateway: on a busy machine an
// older, slower answer can come after a newer one, and the page must keep showing the newer one (a
// test waiting for the newer state waited forever when it did not). The older answer is held back
// by the test itself, so nothing here depends on the machine's speed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkipReason, openViewerBrowser, type ViewerBrowser } from './chromium.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from '../e2e/api-helpers.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const skip = browserSkipReason();

let t: TestGateway;
let browser: ViewerBrowser;
const deviceIds: Record<string, number> = {};

before(async () => {
  if (skip) return;
  t = await startTestGateway();
  const admin = new Caller(t.gateway.url);
  assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
  for (const [serial, name] of [['20260101', 'Freezer A'], ['20260102', 'Fridge B']]) {
    const added = await admin.json<{ device: { id: number } }>('POST', '/api/devices', { reason: 'test fixture', serial, model: 'T3510', name, location: 'Pharmacy' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    deviceIds[name] = added.body.device.id;
  }
  browser = await openViewerBrowser(t.gateway.url);
});

after(async () => {
  await browser?.close();
  await t?.close();
});

/** Lets the page's queued tasks (an answer's JSON being read and drawn) run before the test looks. */
const settle = (page: Page) => page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));

test('the event log keeps the device filter\'s answer when the unfiltered first page answers after it', { skip, timeout: HANG_GUARD_MS }, async () => {
  const page = await browser.context.newPage();
  await page.goto(t.gateway.url);
  await page.getByLabel('User name').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();

  // the page's first, unfiltered request is held until the filtered one has been answered and drawn
  let releaseFirst!: () => void;
  const firstReleased = new Promise<void>((resolve) => { releaseFirst = resolve; });
  let firstSeen!: () => void;
  const firstArrived = new Promise<void>((resolve) => { firstSeen = resolve; });
  await page.route((url) => url.pathname === '/api/events' && !url.searchParams.has('device'), async (route) => {
    firstSeen();
    await firstReleased;
    await route.continue();
  });

  await page.goto(`${t.gateway.url}/#/events`);
  await firstArrived;
  await page.getByLabel('Device').selectOption({ label: 'Fridge B' });
  const rows = page.locator('table.events tbody tr');
  await rows.filter({ hasText: 'Fridge B' }).first().waitFor();
  assert.equal(await rows.filter({ hasText: 'Freezer A' }).count(), 0, 'the filter shows Fridge B\'s events only');

  // now the older, unfiltered answer comes
  const firstAnswered = page.waitForEvent('requestfinished', (r) => new URL(r.url()).pathname === '/api/events' && !new URL(r.url()).searchParams.has('device'));
  releaseFirst();
  await firstAnswered;
  await settle(page);
  assert.equal(await page.getByLabel('Device').inputValue(), String(deviceIds['Fridge B']));
  assert.equal(await rows.filter({ hasText: 'Freezer A' }).count(), 0, 'the older, unfiltered answer did not replace the filtered one');
  assert.ok(await rows.filter({ hasText: 'Fridge B' }).count() > 0);
  await page.close();
});
