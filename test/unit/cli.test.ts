// The `inlet` command: what a mistyped command or an unwritable output path gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;

test('an unknown command is named on stderr, the usage follows, exit code 2', () => {
  const run = spawnSync(process.execPath, [CLI, 'expor'], { encoding: 'utf8' });
  assert.equal(run.status, 2);
  assert.equal(run.stderr, 'inlet: unknown command "expor"\n');
  assert.match(run.stdout, /^usage: inlet <command>/m);
});

test('migrate --script into a folder that does not exist says so, exit code 2', () => {
  const run = spawnSync(process.execPath, [CLI, 'migrate', '--script', '--out', '/nonexistent-inlet-folder/schema.sql'], { encoding: 'utf8' });
  assert.equal(run.status, 2);
  assert.equal(run.stderr, 'inlet: cannot write the script to /nonexistent-inlet-folder/schema.sql: its folder does not exist\n');
});

test('migrate lists each migration it applies on a new database, then says the schema is up to date', async () => {
  const { tempDir } = await import('../helpers/temp-dir.ts');
  const dir = tempDir('inlet-cli-migrate-');
  const env = { ...process.env, INLET_CONFIG: '', INLET_DATA_DIR: path.join(dir, 'data'), INLET_STORE: 'sqlite' };
  const first = spawnSync(process.execPath, [CLI, 'migrate'], { encoding: 'utf8', cwd: dir, env });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^applying migration 1_initial \(1\/\d+\)$/m);
  assert.match(first.stdout, /^applied 1_initial, 2_sample_rollup_hour, /m);
  const second = spawnSync(process.execPath, [CLI, 'migrate'], { encoding: 'utf8', cwd: dir, env });
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout, 'database schema is up to date\n');
});

test('migrate --check on the embedded store says there is no server to check, exit code 0', async () => {
  const { tempDir } = await import('../helpers/temp-dir.ts');
  const dir = tempDir('inlet-cli-check-');
  const run = spawnSync(process.execPath, [CLI, 'migrate', '--check'], { encoding: 'utf8', cwd: dir, env: { ...process.env, INLET_CONFIG: '', INLET_DATA_DIR: dir, INLET_STORE: 'sqlite' } });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^the preflight checks a SQL Server database; this configuration uses the embedded SQLite store/);
});
