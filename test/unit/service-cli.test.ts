import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { tempDir } from '../helpers/temp-dir.ts';
import { runServiceCommand, configureFile, maskConnectionString, rollbackConfigureFile } from '../../src/cli/service.ts';

const TEMPLATE = path.resolve('installer/inlet.config.json');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

test('Windows-only verbs say so and exit 2 elsewhere; print-xml works anywhere', { skip: process.platform === 'win32' && 'runs the real wrapper on Windows' }, async () => {
  for (const verb of ['install', 'uninstall', 'start', 'stop', 'status']) {
    const c = capture();
    assert.equal(await runServiceCommand([verb], c.io), 2);
    assert.match(c.err.join('\n'), new RegExp(`"inlet service ${verb}" is Windows only`));
  }
  const c = capture();
  assert.equal(await runServiceCommand(['install', '--print-xml', '--instance', 'east'], c.io), 0);
  assert.match(c.out.join('\n'), /<id>inlet-east<\/id>/);
  const d = capture();
  assert.equal(await runServiceCommand(['print-xml'], d.io), 0);
  assert.match(d.out.join('\n'), /<stopexecutable>%BASE%\\node.exe<\/stopexecutable>/);
});

test('usage errors exit 2 with a message', async () => {
  const c = capture();
  assert.equal(await runServiceCommand(['frobnicate'], c.io), 2);
  assert.match(c.err[0], /unknown command "frobnicate"/);
  const d = capture();
  assert.equal(await runServiceCommand(['status', '--instance', 'no spaces'], d.io), 2);
  assert.match(d.err[0], /Instance name "no spaces" is not valid/);
  const e = capture();
  assert.equal(await runServiceCommand(['stop-signal', '--timeout', 'soon'], e.io), 2);
  assert.match(e.err[0], /--timeout must be a positive number/);
});

test('configure: first install creates from the template with the MSI properties; empty ones are ignored', () => {
  const dir = tempDir('inlet-cfg-');
  const file = path.join(dir, 'inlet.config.json');
  const changes = configureFile({ config: file, template: TEMPLATE, 'data-dir': dir, 'http-port': '8080', 'https-port': '',
    'mssql-connection': 'Server=sql1;Database=inlet;User Id=inlet;Password={s3cr;et}' });
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(cfg.http.port, 8080);
  assert.equal(cfg.https.port, 8443, 'the template has the default HTTPS port');
  assert.equal(cfg.dataDir, dir);
  assert.equal(cfg.store.kind, 'mssql');
  assert.equal(cfg.store.mssql.connectionString, 'Server=sql1;Database=inlet;User Id=inlet;Password={s3cr;et}');
  assert.ok(fs.statSync(path.join(dir, 'logs')).isDirectory());
  assert.ok(!changes.join('\n').includes('s3cr'), 'password not echoed');
  assert.match(changes.join('\n'), /Password=\*\*\*/);

  // Upgrade: the existing file is kept; only given properties change.
  cfg.log.level = 'debug';
  fs.writeFileSync(file, JSON.stringify(cfg));
  const changed = (lines: string[]) => lines.filter((l) => !l.startsWith('checked '));
  assert.deepEqual(changed(configureFile({ config: file, template: TEMPLATE, 'http-port': '', 'mssql-connection': '' })), []);
  const again = configureFile({ config: file, template: TEMPLATE, 'https-port': '9443' });
  assert.deepEqual(changed(again), ['https.port = 9443']);
  assert.ok(again.some((l) => l.startsWith('checked store.mssql.connectionString: server sql1')), 'the result is checked as start checks it');
  // A connection string start would refuse (an unquoted ";" in the password) changes nothing.
  const before = fs.readFileSync(file, 'utf8');
  assert.throws(() => configureFile({ config: file, 'mssql-connection': 'Server=sql1;Database=inlet;User Id=inlet;Password=s3cr;et' }),
    /would not start, so nothing was changed/);
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  const cfg2 = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(cfg2.log.level, 'debug');
  assert.equal(cfg2.http.port, 8080);
});

test('configure: clear errors', async () => {
  const dir = tempDir('inlet-cfg-');
  const file = path.join(dir, 'inlet.config.json');
  assert.throws(() => configureFile({ config: file, template: TEMPLATE, 'http-port': '80a' }), /HTTP_PORT must be a TCP port 1-65535, not "80a"/);
  assert.throws(() => configureFile({ config: file }), /does not exist and no --template/);
  fs.writeFileSync(file, '{ broken');
  const c = capture();
  assert.equal(await runServiceCommand(['configure', '--config', file], c.io), 1);
  assert.match(c.err[0], /is not valid JSON .*Fix or delete it/);
  assert.equal(maskConnectionString('Server=x;pwd={a;b};uid=u'), 'Server=x;pwd=***;uid=u');
});

test('stop-signal stops a running gateway gracefully and ignores what WinSW appends after --', async () => {
  const dataDir = tempDir('inlet-sig-');
  const control = path.resolve('src/service/control.ts');
  // A stand-in gateway: listens, drains for 100 ms on stop, says so, exits 0.
  const gateway = spawn(process.execPath, ['--input-type=module', '-e', `
    import { listenForStopRequests } from ${JSON.stringify(control)};
    const keepAlive = setInterval(() => {}, 1000);
    const close = await listenForStopRequests(async () => {
      await new Promise((r) => setTimeout(r, 100));
      console.log('drained');
      clearInterval(keepAlive);
      setImmediate(() => close());
    }, { instanceName: 'sig', dataDir: ${JSON.stringify(dataDir)} });
    console.log('ready');`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  gateway.stdout.setEncoding('utf8');
  await new Promise<void>((resolve) => gateway.stdout.on('data', (d: string) => { out += d; if (out.includes('ready')) resolve(); }));
  const exited = new Promise<number | null>((resolve) => gateway.on('exit', (code) => resolve(code)));
  const c = capture();
  const rc = await runServiceCommand(['stop-signal', '--instance', 'sig', '--data-dir', dataDir, '--timeout', '10', '--',
    'C:\\Program Files\\Inlet\\app\\dist\\cli\\inlet.js', 'start', '--service'], c.io);
  assert.equal(rc, 0, c.err.join('\n'));
  assert.match(c.out[0], /Inlet \(sig\) stopped gracefully/);
  assert.equal(await exited, 0);
  assert.match(out, /drained/);
});

test('stop-signal ends a gateway that does not finish within the timeout', { skip: process.platform === 'win32' && 'uses a POSIX kill' }, async () => {
  const dataDir = tempDir('inlet-sig-');
  const control = path.resolve('src/service/control.ts');
  const gateway = spawn(process.execPath, ['--input-type=module', '-e', `
    import { listenForStopRequests } from ${JSON.stringify(control)};
    setInterval(() => {}, 1000);
    await listenForStopRequests(() => new Promise(() => {}), { instanceName: 'hung', dataDir: ${JSON.stringify(dataDir)} });
    console.log('ready');`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => gateway.stdout.on('data', () => resolve()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => gateway.on('exit', (_code, signal) => resolve(signal)));
  const c = capture();
  const rc = await runServiceCommand(['stop-signal', '--instance', 'hung', '--data-dir', dataDir, '--timeout', '0.5'], c.io);
  assert.equal(rc, 1);
  assert.match(c.err.join('\n'), /did not stop within 0.5 s .*ending it/);
  assert.equal(await exited, 'SIGTERM');
});

test('configure --installer uses the MSI paths', async () => {
  const { installerPaths } = await import('../../src/cli/service.ts');
  assert.deepEqual(installerPaths({ ProgramData: 'C:\\ProgramData' }, 'C:\\Program Files\\Inlet\\node.exe'), {
    'data-dir': 'C:\\ProgramData\\Inlet',
    config: 'C:\\ProgramData\\Inlet\\inlet.config.json',
    template: 'C:\\Program Files\\Inlet\\inlet.config.default.json',
    log: 'C:\\ProgramData\\Inlet\\logs\\install.log',
  });
});

test('configure: HTTPS_CERT and HTTPS_KEY given together switch HTTPS on; missing files are refused, changing nothing', { skip: spawnSync('openssl', ['version']).status !== 0 && 'openssl not installed' }, () => {
  const dir = tempDir('inlet-cfg-https-');
  const file = path.join(dir, 'inlet.config.json');
  configureFile({ config: file, template: TEMPLATE, 'data-dir': dir, 'https-port': '8443' });
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).https.enabled, false, 'the port alone does not switch HTTPS on');
  const before = fs.readFileSync(file, 'utf8');
  assert.throws(() => configureFile({ config: file, 'https-cert': path.join(dir, 'none.pem'), 'https-key': path.join(dir, 'none.key') }),
    /would not start, so nothing was changed: .*https\.certFile/);
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key',
    '-out', 'tls.pem', '-days', '2', '-subj', '/CN=inlet.test'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = configureFile({ config: file, 'https-cert': path.join(dir, 'tls.pem'), 'https-key': path.join(dir, 'tls.key') });
  assert.ok(lines.includes('https.enabled = true'), lines.join('\n'));
  assert.ok(lines.some((l) => /^checked HTTPS certificate CN=inlet\.test/.test(l)), lines.join('\n'));
});

test('configure --rollback (the MSI\'s rollback action) puts the config back as it was, or removes one this install created', () => {
  const dir = tempDir('inlet-cfg-rb-');
  const file = path.join(dir, 'inlet.config.json');
  configureFile({ config: file, template: TEMPLATE, 'data-dir': dir, 'http-port': '8080' });
  assert.match(rollbackConfigureFile(file), /removed .*which this install had created/);
  assert.ok(!fs.existsSync(file), 'a failed first install leaves no config behind');

  configureFile({ config: file, template: TEMPLATE, 'data-dir': dir, 'http-port': '8080' });
  const installed = fs.readFileSync(file, 'utf8');
  configureFile({ config: file, 'http-port': '9090' });                    // the upgrade's configure step
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).http.port, 9090);
  assert.match(rollbackConfigureFile(file), /restored/);                   // a later step failed
  assert.equal(fs.readFileSync(file, 'utf8'), installed, 'the previous version starts on its own settings');
  assert.match(rollbackConfigureFile(file), /nothing to undo/);

  // A refused configure leaves nothing for a rollback to undo (not an earlier install's backup).
  configureFile({ config: file, 'http-port': '9090' });
  assert.throws(() => configureFile({ config: file, 'mssql-connection': 'Server=a;Integrated Security=true' }), /would not start/);
  assert.match(rollbackConfigureFile(file), /nothing to undo/);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).http.port, 9090);
});
