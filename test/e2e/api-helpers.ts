// A real gateway on loopback for API and browser tests: temp data folder, the SQLite store,
// the first administrator made by the CLI exactly as an installer would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway, type Gateway } from '../../src/main.ts';
import { TEST_READ_WAIT_MS } from './harness.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const ADMIN = { username: 'admin', password: 'Quiet-Harbour-42' };

export interface TestGateway { gateway: Gateway; config: InletConfig; dataDir: string; close(): Promise<void> }

/** Runs `inlet user add` as a person would, with the password piped in. */
export function cliAddUser(dataDir: string, username: string, role: string, password: string) {
  return spawnSync(process.execPath, ['src/cli/inlet.ts', 'user', 'add', '--username', username, '--role', role, '--password-stdin', '--reason', 'test fixture'], {
    cwd: REPO, input: `${password}\n`, encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dataDir, INLET_CONFIG: '' },
  });
}

/** `configure` changes the configuration before the gateway starts (directory sign-in, say). */
export async function startTestGateway(configure?: (config: InletConfig) => void): Promise<TestGateway> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-api-'));
  const made = cliAddUser(dataDir, ADMIN.username, 'administrator', ADMIN.password);
  if (made.status !== 0) throw new Error(`inlet user add failed: ${made.stderr}`);
  const config: InletConfig = structuredClone(DEFAULT_CONFIG);
  config.dataDir = dataDir;
  config.http = { ...config.http, host: '127.0.0.1', port: 0 };
  config.log = { ...config.log, console: false, file: false };
  configure?.(config);
  const gateway = await startGateway(config, createLogger(config, { quiet: true }), { readWaitMs: TEST_READ_WAIT_MS });
  config.publicUrl = gateway.url;   // port 0 became a real port: entry points must name it
  return { gateway, config, dataDir, async close() { await gateway.stop(); rmSync(dataDir, { recursive: true, force: true }); } };
}

/** A signed-in (or anonymous) caller that sends what the viewer sends. */
export class Caller {
  readonly base: string;
  cookie = '';
  constructor(base: string) { this.base = base; }

  async request(method: string, pathAndQuery: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.base}${pathAndQuery}`, {
      method,
      headers: { 'x-inlet-request': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async json<T = Record<string, unknown>>(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.request(method, pathAndQuery, body);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async signIn(username: string, password: string): Promise<Response> {
    const res = await this.request('POST', '/api/session', { username, password });
    const setCookie = res.headers.get('set-cookie');
    if (res.ok && setCookie) this.cookie = setCookie.split(';')[0];
    return res;
  }
}
