// Starts real gateways for end-to-end tests: in-process (startGateway) or as a child process
// (for kill -9 and signal tests), each on a free loopback port with its own data folder.
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway, type Gateway } from '../../src/main.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SpoolingSink } from '../../src/store/spool/spooling-sink.ts';
import { INGEST_PATH_SEGMENT, initialChannels, newEntryToken, soapModelCode } from '../../src/ingest/families.ts';
import type { Family } from '../../src/domain/types.ts';
import type { IssuedDevice, Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { HEADS_FILE } from '../../src/store/heads-file.ts';
import { CHAIN_KEY_FILE, readChainKey, resolveChainKey, type ChainKey } from '../../src/store/chain-key.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

export { tempDir };

/** The default throttle, switched off: these tests send faster than a device's interval allows. */
export const THROTTLE_OFF: InletConfig['throttle'] = { ...DEFAULT_CONFIG.throttle, enabled: false };

/**
 * Tests read through the gateway's store what devices were answered for: on a busy machine the
 * journal's apply (a 100,000-sample backlog) can take longer than the viewer's wait.
 */
export const TEST_READ_WAIT_MS = 60_000;

export function testConfig(dataDir: string, overrides: Partial<InletConfig> = {}): InletConfig {
  return {
    ...DEFAULT_CONFIG,
    dataDir,
    http: { ...DEFAULT_CONFIG.http, host: '127.0.0.1', port: 0 },
    log: { ...DEFAULT_CONFIG.log, console: false, file: true, level: 'debug' },
    // the fixtures are dated from when they were captured, long before these test devices are registered
    security: { ...DEFAULT_CONFIG.security, quarantineBackfill: false },
    ...overrides,
  };
}

export async function startTestGateway(overrides: Partial<InletConfig> = {}): Promise<Gateway & { dataDir: string; config: InletConfig }> {
  const dataDir = tempDir();
  const config = testConfig(dataDir, overrides);
  const gateway = await startGateway(config, createLogger(config), { readWaitMs: TEST_READ_WAIT_MS });
  return Object.assign(gateway, { dataDir, config });
}

export interface TestDevice {
  family: Family;
  serial: string;
  model: string;
  /** SOAP `device`, JSON `Kind`; for SOAP taken from the model when not given. */
  modelCode?: number | null;
  allowedIntervalS?: number;
  customerUid?: string;
}

export async function registerDevice(store: Store, d: TestDevice): Promise<IssuedDevice> {
  const modelCode = d.modelCode !== undefined ? d.modelCode : d.family === 'soap' ? soapModelCode(d.model) : null;
  return store.addDevice({
    family: d.family, serial: d.serial, modelCode, model: d.model, name: `Test ${d.model} ${d.serial}`, entryToken: newEntryToken(),
    allowedIntervalS: d.allowedIntervalS ?? null, customerUid: d.customerUid ?? null, channels: initialChannels(d.family, modelCode),
  }, Date.now());
}

export async function registerSoapDevice(store: Store, serial: string, model = 'T3510', extra: { allowedIntervalS?: number } = {}): Promise<IssuedDevice> {
  return registerDevice(store, { family: 'soap', serial, model, ...extra });
}

/** The entry point a device posts to, on the given base URL (http or https). */
export function ingestUrl(base: string, device: Pick<IssuedDevice, 'family' | 'entryToken'>): string {
  return `${base}/ingest/${INGEST_PATH_SEGMENT[device.family]}/${device.entryToken}`;
}

export function soapUrl(base: string, device: Pick<IssuedDevice, 'entryToken'>): string {
  return ingestUrl(base, { family: 'soap', entryToken: device.entryToken });
}

/** The store of a gateway's data folder; it links events and uploads under the folder's chain key, as the gateway does. */
export function openDataStore(dataDir: string): SqliteStore {
  const store = new SqliteStore({ file: path.join(dataDir, 'inlet.sqlite') });
  const key = chainKeyIn(dataDir);
  if (key) store.useChainKey(key.key);
  return store;
}

/**
 * Applies what a stopped (or killed) gateway left in its journal to its store, as its next start
 * would, and returns the number of uploads applied: uploads are acknowledged once journaled.
 */
export async function applyJournal(dataDir: string): Promise<number> {
  const store = openDataStore(dataDir);
  await store.migrate();
  const quiet = { info() {}, warn() {}, error() {} };
  store.useChainKey((await resolveChainKey(store, path.join(dataDir, CHAIN_KEY_FILE), quiet)).key);
  const journal = new SpoolingSink(store, { dir: path.join(dataDir, 'spool'), log: quiet, retryMs: 50, maxRetryMs: 200 });
  await journal.open();
  const depth = journal.gauge().depth;
  const applied = await journal.waitApplied(60_000);
  await journal.close();
  await store.close();
  if (!applied) throw new Error(`the journal in ${dataDir} was not applied within 60 s`);
  return depth;
}

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;

export interface ChildGateway { child: ChildProcess; url: string; exited: Promise<number | null> }

/** Runs `inlet start` in a child process and resolves once it listens; `env` adds config overrides. */
export function startChildGateway(dataDir: string, env: Record<string, string> = {}): Promise<ChildGateway> {
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: { ...process.env, INLET_DATA_DIR: dataDir, INLET_HTTP_PORT: '0', INLET_HTTP_HOST: '127.0.0.1', INLET_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) { child.stdout!.off('data', onData); resolve({ child, url: m[1], exited }); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
    exited.then((code) => reject(new Error(`gateway exited with ${code} before listening:\n${output}`)));
    // a give-up time, not a speed requirement: a loaded 2-core machine can take many seconds to start one
    setTimeout(() => reject(new Error(`gateway did not start in ${HANG_GUARD_MS / 60_000} minutes:\n${output}`)), HANG_GUARD_MS).unref();
  });
}

export interface SpoolHealth { spool: { depth: number; draining: boolean; lastError: string | null } }

export async function spoolHealth(baseUrl: string): Promise<SpoolHealth> {
  return await (await fetch(`${baseUrl}/health`)).json() as SpoolHealth;
}

/** Polls /health until the spool is empty or `timeoutMs` passed (a give-up time: it returns as soon as drained); returns the last report. */
export async function waitForSpoolDrained(baseUrl: string, timeoutMs = HANG_GUARD_MS): Promise<SpoolHealth> {
  const deadline = Date.now() + timeoutMs;
  let health = await spoolHealth(baseUrl);
  while (health.spool.depth > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    health = await spoolHealth(baseUrl);
  }
  return health;
}

/** A private copy of the SQLite store in `fromDir` (with its WAL and the gateway's chain key), in a new temporary folder. */
export function copySqliteStore(fromDir: string, prefix: string): string {
  const dir = tempDir(prefix);
  for (const name of ['inlet.sqlite', 'inlet.sqlite-wal', 'inlet.sqlite-shm', CHAIN_KEY_FILE, HEADS_FILE]) {
    const from = path.join(fromDir, name);
    if (existsSync(from)) copyFileSync(from, path.join(dir, name));
  }
  return dir;
}

/** The chain key the gateway made in `dataDir`, as verification takes it. */
export function chainKeyIn(dataDir: string): ChainKey | null {
  return readChainKey(path.join(dataDir, CHAIN_KEY_FILE));
}
