// Secrets never printed: `inlet config check` shows whether each is set, never its value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HIDDEN, redactSecrets } from '../../src/config/redact.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('every value whose key names a secret is hidden, at any depth; the rest is kept', () => {
  const config = structuredClone(DEFAULT_CONFIG);
  config.smtp.password = 'Sup3r-Secret';
  config.store.mssql.connectionString = 'Server=db;User Id=inlet;Password=Hunter2';
  const shown = redactSecrets(config);
  assert.equal(shown.smtp.password, HIDDEN);
  assert.equal(shown.store.mssql.connectionString, HIDDEN);
  assert.equal(shown.smtp.host, config.smtp.host);
  assert.deepEqual(redactSecrets({ routes: [{ webhookToken: 'abc', name: 'x' }], apiKey: '' }), { routes: [{ webhookToken: HIDDEN, name: 'x' }], apiKey: '' });
  assert.equal(config.smtp.password, 'Sup3r-Secret', 'the original is untouched');
});

test('inlet config check prints no SMTP password or connection string', () => {
  const cli = fileURLToPath(new URL('../../src/cli/inlet.ts', import.meta.url));
  const run = spawnSync(process.execPath, [cli, 'config', 'check'], {
    encoding: 'utf8',
    env: { ...process.env, INLET_CONFIG: '', INLET_DATA_DIR: tempDir(), INLET_SMTP_PASSWORD: 'Sup3r-Secret-Mail', INLET_MSSQL_CONNECTION: 'Server=db;Password=Hunter2' },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.stdout + run.stderr, /Sup3r-Secret-Mail|Hunter2/);
  assert.match(run.stdout, /"password": "\(set, hidden\)"/);
});
