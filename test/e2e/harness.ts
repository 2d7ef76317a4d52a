// Starts real gateways for end-to-end tests: in-process (startGateway) or as a child process
// (for kill -9 and signal tests), each on a free loopback port with its own data folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway, type Gateway } from '../../src/main.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { initialChannels, newEntryToken, soapModelCode } from '../../src/ingest/families.ts';
import type { Device } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';

export function tempDir(prefix = 'inlet-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function testConfig(dataDir: string, overrides: Partial<InletConfig> = {}): InletConfig {
  return {
    ...DEFAULT_CONFIG,
    dataDir,
    http: { ...DEFAULT_CONFIG.http, host: '127.0.0.1', port: 0 },
    log: { ...DEFAULT_CONFIG.log, console: false, file: true, level: 'debug' },
    ...overrides,
  };
}

export async function startTestGateway(overrides: Partial<InletConfig> = {}): Promise<Gateway & { dataDir: string; config: InletConfig }> {
  const dataDir = tempDir();
  const config = testConfig(dataDir, overrides);
  const gateway = await startGateway(config, createLogger(config));
  return Object.assign(gateway, { dataDir, config });
}

export async function registerSoapDevice(store: Store, serial: string, model = 'T3510', extra: { allowedIntervalS?: number } = {}): Promise<Device> {
  const modelCode = soapModelCode(model);
  return store.addDevice({
    family: 'soap', serial, modelCode, model, name: `Test ${model} ${serial}`, entryToken: newEntryToken(),
    allowedIntervalS: extra.allowedIntervalS ?? null, channels: initialChannels('soap', modelCode),
  }, Date.now());
}

export function soapUrl(base: string, device: Pick<Device, 'entryToken'>): string {
  return `${base}/ingest/soap/${device.entryToken}`;
}

export function openDataStore(dataDir: string): SqliteStore {
  return new SqliteStore({ file: path.join(dataDir, 'inlet.sqlite') });
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
    setTimeout(() => reject(new Error(`gateway did not start in 20 s:\n${output}`)), 20_000).unref();
  });
}
