// The `inlet` command: what a mistyped command or an unwritable output path gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

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
