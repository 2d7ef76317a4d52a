// Config files as Windows tools write them, the installed copy's configuration, and `config check` = start's checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig, resolveConfigFile } from '../../src/config/load.ts';
import { decodeConfigText } from '../../src/config/text.ts';
import { installedConfigFile } from '../../src/config/installed.ts';
import { preflight } from '../../src/config/preflight.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CLI = path.resolve(import.meta.dirname, '../../src/cli/inlet.ts');
const JSON_TEXT = '{\r\n  "http": { "port": 8081 },\r\n  "smtp": { "from": "zürich@example.com" }\r\n}\r\n';

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1], le[i]];
  return le;
}

const ENCODINGS: Array<[string, Buffer]> = [
  ['UTF-8 without BOM', Buffer.from(JSON_TEXT, 'utf8')],
  ['UTF-8 with BOM (PowerShell 5.1 Set-Content -Encoding UTF8, older Notepad)', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON_TEXT, 'utf8')])],
  ['UTF-16 LE with BOM (Out-File, Notepad "Unicode")', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON_TEXT, 'utf16le')])],
  ['UTF-16 BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(JSON_TEXT)])],
];

for (const [name, bytes] of ENCODINGS) {
  test(`a config saved as ${name} loads`, () => {
    assert.equal(decodeConfigText(bytes), JSON_TEXT);
    const file = path.join(tempDir('inlet-enc-'), 'inlet.config.json');
    writeFileSync(file, bytes);
    const { config } = loadConfig(file, {});
    assert.equal(config.http.port, 8081);
    assert.equal(config.smtp.from, "zürich@example.com");
  });
}

test('bytes that are not UTF-8 are refused with the file named, not read as garbage', () => {
  const file = path.join(tempDir('inlet-enc-'), 'inlet.config.json');
  writeFileSync(file, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d])); // {"é":1} in Latin-1
  assert.throws(() => loadConfig(file, {}), /inlet\.config\.json is not valid JSON/);
});

test('an installed copy uses the installed configuration when no --config, INLET_CONFIG or ./inlet.config.json', () => {
  const dir = tempDir('inlet-installed-');
  const marker = path.join(dir, 'installed.json');
  writeFileSync(marker, JSON.stringify({ config: { underEnv: 'ProgramData', path: ['Inlet', 'inlet.config.json'] } }));
  assert.equal(installedConfigFile({ ProgramData: path.join(dir, 'pd') }, marker), path.join(dir, 'pd', 'Inlet', 'inlet.config.json'));
  assert.equal(installedConfigFile({ ProgramData: dir }, path.join(dir, 'absent.json')), null, 'a source checkout has no marker');
  // and a source checkout keeps the old rule
  assert.equal(resolveConfigFile(undefined, {}), null);
});

test('config check runs the checks start runs: a connection string start refuses is refused, exit 1', () => {
  const dir = tempDir('inlet-check-');
  const file = path.join(dir, 'inlet.config.json');
  writeFileSync(file, JSON.stringify({ store: { kind: 'mssql', mssql: { connectionString: 'Server=sql01;Database=Inlet;Integrated Security=true' } } }));
  const r = spawnSync(process.execPath, [CLI, 'config', 'check', '--config', file], { encoding: 'utf8', env: { ...process.env, INLET_CONFIG: '' } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /would not start: Integrated Security is not available/);
  const good = path.join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ store: { kind: 'mssql', mssql: { connectionString: 'Server=sql01;Database=Inlet;User Id=inlet_svc;Password=x;Encrypt=true' } } }));
  const ok = spawnSync(process.execPath, [CLI, 'config', 'check', '--config', good], { encoding: 'utf8', env: { ...process.env, INLET_CONFIG: '' } });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /checked store\.mssql\.connectionString: server sql01/);
  assert.ok(!ok.stdout.includes('Password=x'), 'the password is not printed');
});

test('preflight: instance name, HTTPS files', () => {
  const dir = tempDir('inlet-pre-');
  mkdirSync(path.join(dir, 'tls'));
  const base = loadConfig(undefined, {}).config;
  assert.throws(() => preflight({ ...base, instanceName: 'a b' }), /Instance name "a b" is not valid/);
  assert.throws(() => preflight({ ...base, dataDir: dir, https: { ...base.https, enabled: true, certFile: 'tls/x.pem', keyFile: 'tls/x.key' } }),
    /https\.certFile/);
  assert.deepEqual(preflight(base).checked, ['instanceName "default"']);
});
