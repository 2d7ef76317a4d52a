// `inlet migrate --check` through the real driver, against the loopback TDS peer answering the
// preflight query as SQL Server would: what the DBA reads, the exit code, and /health's copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { MssqlStore } from '../../src/store/mssql/mssql-store.ts';
import type { ApiDeps } from '../../src/api/app.ts';
import { startFakeTds, type ResultSet } from './fake-tds.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
const connection = (port: number) => `Server=127.0.0.1,${port};Database=inlet;User Id=inlet_owner;Password=not-a-secret;Encrypt=False;Connect Timeout=30`;

function facts(values: { version: string; level: string; edition: string; engineEdition: number; compatibility: number; rcsi: number; recovery: string; used: number; max: number }): ResultSet {
  return {
    columns: [
      { name: 'product_version', type: 'nvarchar' }, { name: 'product_level', type: 'nvarchar' }, { name: 'edition', type: 'nvarchar' },
      { name: 'engine_edition', type: 'int' }, { name: 'compatibility_level', type: 'int' }, { name: 'is_read_committed_snapshot_on', type: 'int' },
      { name: 'recovery_model_desc', type: 'nvarchar' }, { name: 'collation_name', type: 'nvarchar' },
      { name: 'used_pages', type: 'bigint' }, { name: 'allocated_pages', type: 'bigint' }, { name: 'max_pages', type: 'bigint' },
    ],
    rows: [[values.version, values.level, values.edition, values.engineEdition, values.compatibility, values.rcsi, values.recovery,
      'Latin1_General_CI_AS', values.used, values.used * 2, values.max]],
  };
}

/** Runs the CLI without blocking the event loop, so the fake server in this process can answer it. */
function runCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const dir = tempDir('inlet-preflight-');
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, INLET_CONFIG: '', INLET_DATA_DIR: dir, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('migrate --check on a ready server: one line per check, exit code 0, and nothing is changed', async () => {
  const server = await startFakeTds({ resultSet: facts({ version: '16.0.4135.4', level: 'RTM', edition: 'Standard Edition (64-bit)', engineEdition: 2, compatibility: 160, rcsi: 1, recovery: 'FULL', used: 1000, max: -1 }) });
  try {
    const run = await runCli(['migrate', '--check'], { INLET_STORE: 'mssql', INLET_MSSQL_CONNECTION: connection(server.port) });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0], /^SQL Server preflight \(server 127\.0\.0\.1,\d+, database inlet, SQL login inlet_owner, no TLS\): ready$/);
    assert.deepEqual(lines.slice(1).map((l) => l.trim().split(':')[0]), [
      'ok   version', 'ok   edition', 'ok   compatibility level', 'ok   read committed snapshot', 'ok   recovery model', 'ok   collation', 'ok   free space']);
    assert.equal(server.requests, 1, 'one read-only query, no migration');
  } finally {
    await server.close();
  }
});

test('migrate --check on SQL Server 2016 RTM in SIMPLE recovery without RCSI: FAIL and WARN lines, exit code 1', async () => {
  const server = await startFakeTds({ resultSet: facts({ version: '13.0.1601.5', level: 'RTM', edition: 'Express Edition (64-bit)', engineEdition: 4, compatibility: 130, rcsi: 0, recovery: 'SIMPLE', used: 1_200_000, max: -1 }) });
  try {
    const run = await runCli(['migrate', '--check'], { INLET_STORE: 'mssql', INLET_MSSQL_CONNECTION: connection(server.port) });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /: NOT READY\n/);
    assert.match(run.stdout, /^ {2}FAIL version: 13\.0\.1601\.5 RTM: Inlet needs SQL Server 2016 SP1 \(13\.0\.4001\) or later/m);
    assert.match(run.stdout, /^ {2}WARN read committed snapshot: off/m);
    assert.match(run.stdout, /^ {2}WARN recovery model: SIMPLE/m);
    assert.match(run.stdout, /^ {2}WARN free space: .*limit 10240 MB \(92% used\)/m);
  } finally {
    await server.close();
  }
});

test('the store keeps the last preflight for /health', async () => {
  const server = await startFakeTds({ resultSet: facts({ version: '15.0.2000.5', level: 'RTM', edition: 'Enterprise Edition (64-bit)', engineEdition: 3, compatibility: 150, rcsi: 0, recovery: 'FULL', used: 10, max: -1 }) });
  const store = new MssqlStore({ connectionString: connection(server.port) });
  try {
    assert.equal(store.health().preflight, undefined);
    await store.preflight();
    const shown = store.health().preflight!;
    assert.equal(shown.level, 'warn');
    assert.deepEqual(shown.checks.filter((c) => c.level !== 'ok').map((c) => c.name), ['read committed snapshot']);
    // What /health answers: the report under store.preflight.
    const { healthReport } = await import('../../src/api/app.ts');
    const health = healthReport({ store, version: 'test', startedAt: Date.now(), ingestStats: {}, pipeline: { counters: {} } } as unknown as ApiDeps);
    assert.deepEqual(health.store.preflight, shown);
    assert.equal(health.store.kind, 'mssql');
  } finally {
    await store.close();
    await server.close();
  }
});
