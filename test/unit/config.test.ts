import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function withFile(content: unknown): string {
  const dir = tempDir('inlet-config-');
  const file = path.join(dir, 'inlet.config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('defaults work with no file; dataDir is resolved to an absolute path', () => {
  const { config, file } = loadConfig(undefined, { });
  assert.equal(file, null);
  assert.equal(config.store.kind, 'sqlite');
  assert.ok(path.isAbsolute(config.dataDir));
});

test('a file overrides single keys and keeps the other defaults; dataDir is relative to the file', () => {
  const file = withFile({ http: { port: 9090 }, dataDir: 'var' });
  const { config } = loadConfig(file, {});
  assert.equal(config.http.port, 9090);
  assert.equal(config.http.host, '0.0.0.0');
  assert.equal(config.dataDir, path.join(path.dirname(file), 'var'));
});

test('environment variables override the file', () => {
  const file = withFile({ http: { port: 9090 } });
  assert.equal(loadConfig(file, { INLET_HTTP_PORT: '7070' }).config.http.port, 7070);
  assert.throws(() => loadConfig(file, { INLET_HTTP_PORT: 'eighty' }), /INLET_HTTP_PORT="eighty" must be a whole number \(it sets "http.port"\)/);  assert.equal(loadConfig(file, { INLET_THROTTLE_ENABLED: 'false' }).config.throttle.enabled, false);
  assert.equal(loadConfig(file, {}).config.throttle.enabled, true, 'an override does not leak into the defaults of the next load');
  assert.equal(DEFAULT_CONFIG.throttle.enabled, true);
});

test('errors name the key and what is wrong', () => {
  assert.throws(() => loadConfig(withFile({ http: { prot: 80 } }), {}), (e: Error) =>
    e instanceof ConfigError && /unknown key "http.prot": remove it or check its spelling/.test(e.message));
  assert.throws(() => loadConfig(withFile({ http: { port: 70000 } }), {}), /"http.port" must be <= 65535/);
  assert.throws(() => loadConfig(withFile({ store: { kind: 'oracle' } }), {}), /"store.kind" must be one of "sqlite", "mssql"/);
  assert.throws(() => loadConfig(withFile({ store: { kind: 'mssql' } }), {}), /connectionString" is empty/);
  assert.throws(() => loadConfig(withFile('{ not json'), {}), /is not valid JSON/);
  assert.throws(() => loadConfig('/nonexistent/inlet.json', {}), /does not exist/);
  assert.throws(() => loadConfig(withFile({ notifications: { routes: [{ location: '*', to: ['nobody'] }] } }), {}),
    /"notifications.routes.0.to.0" must match format "email"/);
});
