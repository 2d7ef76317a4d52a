// The MSI as IT receives it: built with installer/build.sh, its tables read with msiinfo, extracted with
// msiextract, and the extracted application started with Node 24 against a temporary ProgramData: the viewer
// and its assets are served, a SOAP upload is stored, the payload's `inlet` finds the installed configuration
// without --config, `inlet backup` copies the live database, the configure step refuses a bad connection string
// and logs why. Needs the Debian packages wixl and msitools and the npm registry (node.exe and the wrapper come
// from npm packages); skipped, with the reason, without wixl/msitools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { winswXml } from '../../src/service/winsw.ts';
import { msiVersion } from '../../scripts/msi-version.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
const MSI = path.join(ROOT, 'installer/out', `inlet-${VERSION}-x64.msi`);
const WINSW_SHA256 = '5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01';
const NODE = process.execPath; // Node 24 (node_modules/.bin/node under npm test)

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

interface RunOptions { env?: NodeJS.ProcessEnv; timeout?: number; cwd?: string; expectStatus?: number; input?: string }
function run(cmd: string, args: string[], opts: RunOptions = {}): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeout ?? 120_000, env: opts.env ?? process.env, input: opts.input });
  assert.equal(r.status, opts.expectStatus ?? 0, `${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** msiinfo export <table>: rows as objects keyed by column name. */
function table(name: string): Array<Record<string, string>> {
  const lines = run('msiinfo', ['export', MSI, name]).stdout.split(/\r?\n/).filter((l) => l !== '');
  const columns = lines[0].split('\t');
  return lines.slice(3).map((line) => Object.fromEntries(line.split('\t').map((v, i) => [columns[i], v])));
}

const longName = (defaultDir: string) => (defaultDir.split(':').pop() ?? '').split('|').pop() ?? '';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
}

/** The environment of a server where only the MSI put Inlet: no INLET_* variables, ProgramData in a temp folder. */
function serverEnv(programData: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INLET_')) env[k] = v;
  return { ...env, ProgramData: programData };
}

const missing = ['wixl', 'wixl-heat', 'msiinfo', 'msiextract', 'msibuild'].filter((c) => !have(c));

test('Windows installer (MSI): built, inspected, extracted and run as IT receives it', { timeout: HANG_GUARD_MS }, async (t) => {
  if (missing.length > 0) {
    t.skip(`${missing.join(', ')} not installed: apt-get install -y wixl msitools (the MSI is built with wixl)`);
    return;
  }
  const buildStarted = Date.now();
  // npm test builds the viewer before the tests; rebuilding it here would pull it from under the tests serving it.
  const viewerBuilt = fs.existsSync(path.join(ROOT, 'build/viewer/index.html'));
  run('bash', ['installer/build.sh'], { timeout: HANG_GUARD_MS, env: { ...process.env, ...(viewerBuilt ? { INLET_VIEWER_BUILT: '1' } : {}) } });
  t.diagnostic(`installer build took ${seconds(Date.now() - buildStarted)}; MSI ${(fs.statSync(MSI).size / 1048576).toFixed(1)} MiB`);

  await t.test('summary: x64, per-machine package', () => {
    assert.match(run('msiinfo', ['suminfo', MSI]).stdout, /Template: x64;1033/);
  });

  await t.test('files: node.exe, wrapper, `inlet` command, bundles, sql, the viewer; the app under 30 MB in under 500 files', () => {
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
      'inlet.cmd', 'docs/it.md', 'THIRD-PARTY-NOTICES.txt', 'app/package.json', 'app/installed.json', 'app/dist/cli/inlet.js',
      'app/dist/service/stop-signal.js', 'app/dist/store/sqlite/write-worker.js', 'app/sql/sqlite/001_initial.sql',
      'app/sql/mssql/001_initial.sql', 'app/build/viewer/index.html']) {
      assert.ok(files.has(`${inst}/${p}`), `${inst}/${p} is in the MSI`);
    }
    assert.ok(Number(files.get(`${inst}/node.exe`)!.FileSize) > 50_000_000, 'the real node.exe');
    const app = [...files.entries()].filter(([p]) => p.startsWith(`${inst}/app/`));
    const appBytes = app.reduce((sum, [, f]) => sum + Number(f.FileSize), 0);
    t.diagnostic(`payload app\\: ${app.length} files, ${(appBytes / 1048576).toFixed(1)} MiB (whole MSI payload ${files.size} files)`);
    assert.ok(app.length < 500, `the app is ${app.length} files`);
    assert.ok(appBytes < 30 * 1048576, `the app is ${appBytes} bytes`);
    assert.ok(![...files.keys()].some((p) => p.includes('/node_modules/') || p.endsWith('.ts') || p.endsWith('.map')), 'no node_modules, sources or maps');
    assert.ok(app.some(([p]) => /\/app\/build\/viewer\/assets\/main-[A-Z0-9]{8}\.js$/.test(p)), 'the viewer bundle');
    assert.ok(![...files.keys()].some((p) => p.startsWith('[CommonAppDataFolder]')), 'the MSI owns nothing in ProgramData');
    assert.ok([...components.values()].every((c) => /^\{[0-9A-F-]{36}\}$/.test(c.ComponentId)), 'every component has a GUID');
  });

  await t.test('service: registered by Windows Installer with SERVICE_ACCOUNT, started on install, removed on uninstall', () => {
    const [svc] = table('ServiceInstall');
    assert.equal(svc.Name, 'inlet');
    assert.equal(svc.ServiceType, '16', 'own process');
    assert.equal(svc.StartType, '2', 'automatic (a manual/disabled start type is put back by SetFailureActions)');
    assert.equal(svc.StartName, '[SERVICE_ACCOUNT]');
    assert.equal(svc.Password, '[SERVICE_PASSWORD]');
    assert.equal(table('Component').find((c) => c.Component === svc.Component_)!.KeyPath, 'WrapperExeFile');
    const [ctl] = table('ServiceControl');
    const ev = Number(ctl.Event);
    assert.deepEqual({ startOnInstall: !!(ev & 1), stopOnInstall: !!(ev & 2), stopOnUninstall: !!(ev & 32), deleteOnUninstall: !!(ev & 128) },
      { startOnInstall: true, stopOnInstall: true, stopOnUninstall: true, deleteOnUninstall: true });
    assert.equal(ctl.Wait, '1');
  });

  await t.test('sequence: the old version is removed inside the transaction, so a failed upgrade rolls back to it', () => {
    const seq = new Map(table('InstallExecuteSequence').map((r) => [r.Action, r]));
    const n = (a: string) => Number(seq.get(a)?.Sequence ?? NaN);
    const order = ['AppSearch', 'KeepServiceAccount', 'DefaultServiceAccount', 'LaunchConditions', 'InstallValidate', 'InstallInitialize',
      'RemoveExistingProducts', 'StopServices', 'InstallFiles', 'ConfigureInletRollback', 'ConfigureInlet', 'InstallServices', 'SetFailureActions', 'AddFirewallRule',
      'StartServices', 'RemoveDataFolder', 'InstallFinalize'];
    for (let i = 1; i < order.length; i++) assert.ok(n(order[i - 1]) < n(order[i]), `${order[i - 1]} (${n(order[i - 1])}) before ${order[i]} (${n(order[i])})`);
    assert.equal(n('RemoveExistingProducts'), n('InstallInitialize') + 1, 'right after InstallInitialize');
    assert.equal(seq.get('ConfigureInlet')!.Condition, 'NOT (REMOVE~="ALL")');
    assert.equal(seq.get('RemoveDataFolder')!.Condition, 'REMOVE~="ALL" AND REMOVE_DATA="1" AND NOT UPGRADINGPRODUCTCODE');
    assert.equal(seq.get('AddFirewallRule')!.Condition, 'FIREWALL="1" AND NOT (REMOVE~="ALL")');

    const cas = new Map(table('CustomAction').map((c) => [c.Action, c]));
    const cfg = cas.get('ConfigureInlet')!;
    const type = Number(cfg.Type);
    assert.equal(type & 0x3f, 18, 'exe from an installed file');
    assert.ok(type & 1024 && type & 2048 && type & 8192, 'deferred, as LocalSystem, target hidden from logs');
    assert.equal(type & 64, 0, 'a refused configuration fails the install (and rolls back)');
    assert.match(cfg.Target, /service configure --installer .*--mssql-connection "\[MSSQL_CONNECTION\]" --account "\[SERVICE_ACCOUNT\]"$/);
    const undo = cas.get('ConfigureInletRollback')!;
    assert.equal(Number(undo.Type) & 0x500, 0x500, 'a rollback action: runs only when a later step fails');
    assert.match(undo.Target, /service configure --installer --rollback$/);
        const rm = Number(cas.get('RemoveDataFolder')!.Type);
    assert.equal(rm & 0x600, 0x600, 'REMOVE_DATA runs as a commit action: only after a successful uninstall');
    assert.equal(cas.get('SetInstallLog')!.Target, '[CommonAppDataFolder]Inlet\\logs\\install.log');
  });

  await t.test('properties, launch conditions, same-version and prerelease upgrades, PATH, event source, Apps & features', () => {
    const props = Object.fromEntries(table('Property').map((p) => [p.Property, p.Value]));
    assert.equal(props.ProductVersion, msiVersion(VERSION));
    assert.equal(props.UpgradeCode, '{6C1B7E0A-3D51-4C2E-9E55-2B8F4A1D7C31}');
    assert.equal(props.ALLUSERS, '1');
    for (const p of ['HTTP_PORT', 'HTTPS_PORT', 'HTTPS_CERT', 'HTTPS_KEY', 'MSSQL_CONNECTION', 'SERVICE_ACCOUNT', 'SERVICE_PASSWORD', 'FIREWALL', 'FIREWALL_REMOTE', 'REMOVE_DATA']) {
      assert.ok(props.SecureCustomProperties.split(';').includes(p), `${p} is secure`);
    }
    assert.equal(props.MsiHiddenProperties, 'MSSQL_CONNECTION;SERVICE_PASSWORD');
    assert.equal(props.ARPPRODUCTICON, 'inlet.ico');
    const upgrade = table('Upgrade').find((u) => u.ActionProperty === 'WIX_UPGRADE_DETECTED')!;
    assert.equal(upgrade.VersionMax, msiVersion(VERSION));
    assert.ok(Number(upgrade.Attributes) & 512, 'VersionMax inclusive: a rebuild of the same version upgrades in place');
    const conditions = table('LaunchCondition').map((c) => c.Condition);
    for (const c of ['NOT WIX_DOWNGRADE_DETECTED', 'Installed OR (VersionNT64 AND WINDOWS_BUILD >= 14393)',
      'NOT HTTP_PORT OR (HTTP_PORT >= 1 AND HTTP_PORT <= 65535)', 'NOT FIREWALL OR FIREWALL="0" OR FIREWALL="1"']) {
      assert.ok(conditions.includes(c), `launch condition ${c}`);
    }
    assert.ok(conditions.some((c) => c.includes('SERVICE_ACCOUNT>>"$"')), 'an account with a password needs SERVICE_PASSWORD');
    const [pathEntry] = table('Environment');
    assert.deepEqual([pathEntry.Name, pathEntry.Value, pathEntry.Component_], ['=-*PATH', '[~];[INSTALLDIR]', 'CommandLine']);
    const registry = table('Registry').filter((r) => r.Key === 'SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\Inlet');
    assert.deepEqual(registry.map((r) => r.Name).sort(), ['CustomSource', 'EventMessageFile', 'TypesSupported']);
    const searches = table('RegLocator').map((r) => `${r.Key}\\${r.Name}`);
    assert.ok(searches.includes('SYSTEM\\CurrentControlSet\\Services\\inlet\\ObjectName'), 'the account IT set is read before the upgrade');
    assert.ok(searches.includes('SYSTEM\\CurrentControlSet\\Services\\inlet\\Start'), 'the start type IT set is read before the upgrade');
  });

  await t.test('the extracted payload runs: configure, start, viewer, SOAP upload stored, `inlet` without --config, backup, stop helper', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inlet-msi-'));
    let gateway: ReturnType<typeof spawn> | null = null;
    try {
      let started = Date.now();
      run('msiextract', ['-C', path.join(dir, 'Program Files'), MSI]);
      t.diagnostic(`msiextract took ${seconds(Date.now() - started)}`);
      const inst = path.join(dir, 'Program Files', 'Inlet');
      const app = path.join(inst, 'app', 'dist', 'cli', 'inlet.js');
      const programData = path.join(dir, 'ProgramData');
      const env = serverEnv(programData);
      const elsewhere = fs.mkdtempSync(path.join(dir, 'some-folder-'));

      assert.equal(createHash('sha256').update(fs.readFileSync(path.join(inst, 'inlet-service.exe'))).digest('hex'), WINSW_SHA256);
      assert.equal(fs.readFileSync(path.join(inst, 'inlet-service.xml'), 'utf8').trimEnd(), winswXml({ instanceName: 'default' }).trimEnd());
      assert.equal(fs.readFileSync(path.join(inst, 'node.exe')).subarray(0, 2).toString('latin1'), 'MZ');
      for (const f of ['inlet.config.default.json', 'inlet.cmd', 'THIRD-PARTY-NOTICES.txt', 'docs/it.md']) {
        const text = fs.readFileSync(path.join(inst, f), 'utf8');
        assert.ok(!/[^\r]\n/.test(text) && text.includes('\r\n'), `${f} has CRLF line ends (Notepad)`);
      }
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(inst, 'inlet.config.default.json'), 'utf8')),
        JSON.parse(fs.readFileSync(path.join(ROOT, 'installer/inlet.config.json'), 'utf8')));

      // ConfigureInlet as the MSI runs it (--installer: %ProgramData%\Inlet), with the template of the payload.
      const port = await freePort();
      const configure = (...extra: string[]) => spawnSync(NODE, [app, 'service', 'configure', '--installer', '--template',
        path.join(inst, 'inlet.config.default.json'), '--data-dir', path.join(programData, 'Inlet'), ...extra],
      { cwd: elsewhere, env, encoding: 'utf8' });
      started = Date.now();
      let r = configure('--http-port', String(port), '--https-port', '', '--mssql-connection', '');
      assert.equal(r.status, 0, r.stdout + r.stderr);
      t.diagnostic(`configure (first install) took ${seconds(Date.now() - started)}`);
      const configFile = path.join(programData, 'Inlet', 'inlet.config.json');
      const installLog = path.join(programData, 'Inlet', 'logs', 'install.log');
      const configured = fs.readFileSync(configFile, 'utf8');
      assert.equal(JSON.parse(configured).http.port, port);
      assert.ok(configured.includes('\r\n'), 'the written config has CRLF');

      // A refused upgrade: docs/it.md's old example (Integrated Security) would crash-loop the service.
      r = configure('--mssql-connection', 'Server=sql01;Database=Inlet;Integrated Security=true');
      assert.equal(r.status, 1, 'configure refuses a connection string start would refuse');
      assert.equal(fs.readFileSync(configFile, 'utf8'), configured, 'and changes nothing');
      assert.match(fs.readFileSync(installLog, 'utf8'), /ERROR inlet service configure: the configuration would not start, so nothing was changed: Integrated Security/);
      assert.ok(!fs.readFileSync(installLog, 'utf8').includes('sql01;Database'), 'the connection string is not logged');

      // The service: `node.exe app\dist\cli\inlet.js start --service` with INLET_CONFIG from the WinSW XML.
      gateway = spawn(NODE, [app, 'start', '--service'], {
        cwd: inst, env: { ...env, INLET_CONFIG: configFile, INLET_HTTP_HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      gateway.stdout!.on('data', (d) => { output += d; });
      gateway.stderr!.on('data', (d) => { output += d; });
      const exited = new Promise<number | null>((resolve) => gateway!.once('exit', (code) => resolve(code)));
      started = Date.now();
      await Promise.race([
        (async () => {
          // A bound only against a hang (a reworded banner): the condition is the banner, not the time.
          for (const deadline = Date.now() + 180_000; !/listening on http:/.test(output);) {
            if (Date.now() > deadline) throw new Error(`no "listening on http:" from the gateway within 180 s:\n${output}`);
            await new Promise((res) => setTimeout(res, 50));
          }
        })(),
        exited.then((code) => { throw new Error(`the gateway exited (${code}) before listening:\n${output}`); }),
      ]);
      t.diagnostic(`the extracted gateway started in ${seconds(Date.now() - started)}`);
      const base = `http://127.0.0.1:${port}`;

      const index = await fetch(`${base}/`);
      assert.equal(index.status, 200, 'the viewer is shipped');
      const html = await index.text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      assert.ok(assets.length >= 2, `the page names its script and styles: ${assets.join(', ')}`);
      for (const asset of assets) {
        const res = await fetch(`${base}${asset}`);
        assert.equal(res.status, 200, asset);
        assert.ok((await res.arrayBuffer()).byteLength > 0, asset);
      }

      // IT, in another folder, with no --config: the installed configuration and database.
      const inlet = (...args: string[]) => run(NODE, [app, ...args], { cwd: elsewhere, env });
      const added = inlet('device', 'add', '--serial', '20960050', '--model', 'T3510', '--name', 'Cold room 1', '--reason', 'commissioning').stdout;
      const entry = /(http:\/\/\S+\/ingest\/soap\/\S+)/.exec(added)?.[1];
      assert.ok(entry, added);
      assert.ok(entry.includes(`:${port}/`), `the entry point uses the installed config's port: ${entry}`);
      assert.ok(!fs.existsSync(path.join(elsewhere, 'data')), 'no second database in the current folder');
      const body = fs.readFileSync(path.join(ROOT, 'test/fixtures/soap/t3510-bom.xml'));
      let status = 0;
      for (let i = 0; i < 600 && status !== 200; i++) {
        // The gateway learns of the device from the shared database within its registry refresh.
        status = (await fetch(entry.replace(/^http:\/\/[^/]+/, base), { method: 'POST', body, headers: { 'Content-Type': 'text/xml' } })).status;
        if (status !== 200) await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(status, 200, 'the SOAP upload is acknowledged');
      // Acknowledged once journaled: the gateway applies it to the database a moment later.
      const countSamples = () => {
        const db = new DatabaseSync(path.join(programData, 'Inlet', 'inlet.sqlite'), { readOnly: true });
        try { return (db.prepare('SELECT COUNT(*) AS n FROM samples').get() as { n: number }).n; } finally { db.close(); }
      };
      let stored = countSamples();
      for (let i = 0; i < 600 && stored < 1; i++) { await new Promise((res) => setTimeout(res, 100)); stored = countSamples(); }
      assert.ok(stored >= 1, 'its samples are in the installed database');

      // The first account, made as docs/it.md says; the viewer's API reads the device through the bundled read path.
      run(NODE, [app, 'user', 'add', '--username', 'admin', '--role', 'administrator', '--password-stdin', '--reason', 'first administrator'],
        { cwd: elsewhere, env, input: 'Cold-Room-Ledger-42!\n' });
      const signIn = await fetch(`${base}/api/session`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-inlet-request': '1' },
        body: JSON.stringify({ username: 'admin', password: 'Cold-Room-Ledger-42!' }),
      });
      assert.equal(signIn.status, 200, await signIn.text());
      const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
      const devices = await fetch(`${base}/api/devices`, { headers: { cookie, 'x-inlet-request': '1' } });
      assert.equal(devices.status, 200);
      assert.match(await devices.text(), /20960050/);

            // Backup while the service runs; the copy passes `inlet verify`.
      const copyDir = fs.mkdtempSync(path.join(dir, 'backup-'));
      const backedUp = inlet('backup', '--out', path.join(copyDir, 'inlet.sqlite')).stdout;
      assert.match(backedUp, /backed up .* chains verified/);
      fs.copyFileSync(path.join(programData, 'Inlet', 'chain.key'), path.join(copyDir, 'chain.key'));
      fs.writeFileSync(path.join(copyDir, 'inlet.config.json'), '{ "dataDir": "." }');
      assert.match(inlet('verify', '--config', path.join(copyDir, 'inlet.config.json')).stdout, /integrity OK/);

      // The stop helper WinSW runs: a small bundle of its own, not the whole application.
      const helper = path.join(inst, 'app', 'dist', 'service', 'stop-signal.js');
      assert.ok(fs.statSync(helper).size < 50_000, `stop-signal.js is ${fs.statSync(helper).size} bytes`);
      started = Date.now();
      run(NODE, ['-e', '0'], { env });
      const bare = Date.now() - started;
      started = Date.now();
      run(NODE, [helper, '--help-is-not-an-option'], { env, expectStatus: 2 });
      t.diagnostic(`the stop helper starts and exits in ${Date.now() - started} ms; node -e 0 took ${bare} ms on this machine now`);
      started = Date.now();
      const stop = run(NODE, [helper, '--instance', 'default', '--data-dir', path.join(programData, 'Inlet'), '--timeout', '30', '--', 'start', '--service'], { env });
      assert.match(stop.stdout, /stopped gracefully/);
      assert.equal(await exited, 0, 'the gateway exits 0 after a graceful stop');
      gateway = null;
      t.diagnostic(`graceful stop through the helper took ${seconds(Date.now() - started)}`);

      // An upgrade, as far as Linux can play it: the new payload over the old one, configure keeps the config.
      started = Date.now();
      run('msiextract', ['-C', path.join(dir, 'Program Files'), MSI]);
      r = configure('--http-port', '', '--https-port', '', '--mssql-connection', '');
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(JSON.parse(fs.readFileSync(configFile, 'utf8')).http.port, port, 'the upgrade keeps the configuration');
      t.diagnostic(`upgrade (files replaced + configure) took ${seconds(Date.now() - started)}`);
    } finally {
      gateway?.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
