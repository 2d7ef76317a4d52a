// A short command starts fast (issue 16: a shell loop of 100 `inlet device add` under 10 s): it
// loads only what it uses, keeps its compiled modules in the compile cache and the configuration's
// validator as code, so a second run compiles neither. Checked on the modules the process loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
const TRACE = new URL('./fixtures/loaded-modules.mjs', import.meta.url).href;

function deviceAdd(dataDir: string, serial: string): { loaded: string[]; compileCacheDir: string | null } {
  const out = path.join(dataDir, `trace-${serial}.json`);
  // without NODE_COMPILE_CACHE, node itself does not turn the compile cache on: the command must
  const { NODE_COMPILE_CACHE: _set, NODE_DISABLE_COMPILE_CACHE: _disabled, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', TRACE, CLI, 'device', 'add', '--serial', serial, '--model', 'T3610', '--name', `Fridge ${serial}`, '--reason', 'commissioning'], {
    encoding: 'utf8', env: { ...env, INLET_CONFIG: '', INLET_DATA_DIR: dataDir, INLET_TRACE_OUT: out },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Registered Fridge ${serial}`));
  return JSON.parse(readFileSync(out, 'utf8')) as { loaded: string[]; compileCacheDir: string | null };
}

const matching = (loaded: string[], pattern: RegExp) => loaded.filter((url) => pattern.test(url));

test('inlet device add on SQLite loads neither the SQL Server driver nor the gateway; a second run uses the kept configuration validator', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-cli-startup-'));
  try {
    const first = deviceAdd(dataDir, '17000001');
    const second = deviceAdd(dataDir, '17000002');
    for (const run of [first, second]) {
      assert.deepEqual(matching(run.loaded, /\/node_modules\/(mssql|tedious|pdfkit|ldapts|@zxcvbn-ts|express|nodemailer|soap|winston)\//), [], 'packages device add does not use');
      assert.deepEqual(matching(run.loaded, /\/src\/(main\.ts|store\/mssql\/mssql-store\.ts|api\/|viewer\/|report\/)/), [], 'gateway modules device add does not use');
      assert.ok(run.compileCacheDir, 'the command turned the compile cache on');
    }
    // the first run may compile the schema (unless another run kept it already); the second uses the kept code
    assert.equal(matching(second.loaded, /\/node_modules\/\.cache\/inlet\/config-validator-[0-9a-f]+\.cjs$/).length, 1, 'the kept validator is used, ajv does not compile the schema');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
