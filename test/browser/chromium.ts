// Debian's Chromium for the browser tests, driven by playwright-core: one place for how it is found,
// launched (a fresh profile each run, no background traffic: this machine has no internet) and kept
// from fetching anything but the gateway under test.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { REPO } from '../e2e/api-helpers.ts';
import { WAIT_GIVE_UP_MS } from '../support/hang-guard.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots and PDFs the tests write for a person to look at. */
export const SHOTS = path.join(REPO, 'test-results');

/** Why the browser tests cannot run here, or false when they can. */
export function browserSkipReason(): string | false {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM}; install it with: apt-get update && apt-get install -y chromium`;
  if (!existsSync(path.join(REPO, 'build/viewer/index.html'))) return 'the viewer is not built; run npm run build:viewer (npm test does)';
  return false;
}

export interface ViewerBrowser { context: BrowserContext; close(): Promise<void> }

/** A headless Chromium with a fresh profile that may reach only `gatewayUrl`. */
export async function openViewerBrowser(gatewayUrl: string, options: { viewport?: { width: number; height: number }; locale?: string; timezoneId?: string; acceptDownloads?: boolean } = {}): Promise<ViewerBrowser> {
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(path.join(os.tmpdir(), 'inlet-chromium-'));
  // a fresh profile (--user-data-dir) each run; playwright passes it for a persistent context
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: options.viewport ?? { width: 1280, height: 900 }, locale: options.locale, timezoneId: options.timezoneId, acceptDownloads: options.acceptDownloads ?? false,
  });
  // Actions, waits and navigations wait for their condition, however busy the machine: playwright's 30 s
  // default becomes WAIT_GIVE_UP_MS, a give-up, so that a condition that never comes fails with
  // playwright's own account of what it waited for ("waiting for getByRole('status')…"), long before
  // the test-level HANG_GUARD_MS.
  context.setDefaultTimeout(WAIT_GIVE_UP_MS);
  context.setDefaultNavigationTimeout(WAIT_GIVE_UP_MS);
  // the viewer must not fetch anything from anywhere but the gateway
  await context.route((url) => !url.href.startsWith(gatewayUrl), (route) => { throw new Error(`request outside the gateway: ${route.request().url()}`); });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
