// An idle gateway on SQLite loads only what its configuration needs: not the SQL Server driver and
// its Azure libraries, and not the libraries of things nobody has used yet (reports and PDF exports,
// the directory, the password estimator, the soap package), also once /health has loaded the API.
// The gateway runs in a child process with test/helpers/loaded-packages-hook.ts noting every package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startChildGateway, tempDir } from './harness.ts';

const HOOK = new URL('../helpers/loaded-packages-hook.ts', import.meta.url).pathname;
const NOT_UNTIL_USED = [/^mssql$/, /^tedious$/, /^@azure\//, /^@js-joda\//, /^pdfkit$/, /^fontkit$/, /^ldapts$/, /^@zxcvbn-ts\//, /^soap$/];

test('a gateway on SQLite loads neither the SQL Server driver nor the libraries of unused features', async () => {
  const dataDir = tempDir('inlet-lazy-');
  const loaded = path.join(dataDir, 'loaded-packages.txt');
  const gateway = await startChildGateway(dataDir, {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${HOOK}`.trim(),
    INLET_TEST_LOADED_PACKAGES: loaded,
  });
  try {
    const packages = () => (existsSync(loaded) ? readFileSync(loaded, 'utf8').split('\n').filter(Boolean) : []);
    const atStart = packages();
    // the hook saw the gateway's own libraries: without it, this test could not fail
    assert.ok(atStart.includes('winston'), `the hook recorded no package at start: ${atStart.join(', ')}`);
    // monitoring's first request loads the viewer's API (express and every route)
    const health = await fetch(`${gateway.url}/health`);
    assert.equal(health.status, 200);
    const afterHealth = packages();
    assert.ok(afterHealth.includes('express'), `the API was not loaded by /health: ${afterHealth.join(', ')}`);
    const unwanted = afterHealth.filter((p) => NOT_UNTIL_USED.some((r) => r.test(p)));
    assert.deepEqual(unwanted, [], `loaded before anyone used them: ${unwanted.join(', ')}`);
  } finally {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
  }
});
