// `inlet service ...`: the Windows service, driven through the WinSW wrapper that ships next to node.exe.
//
//   install | uninstall | start | stop | status   Windows only: write the WinSW XML next to the wrapper, run it.
//   stop-signal    ask the running gateway to stop gracefully (named pipe; unix socket elsewhere). This is
//                  what WinSW runs when Windows stops the service.
//   configure      create/update the config file (used by the MSI; works anywhere).
//   print-xml      print the WinSW XML (also: --print-xml on any of the above). Works anywhere.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { winswXml, serviceIdFor, scFailureArgs, WRAPPER_BASENAME, type WinswOptions } from '../service/winsw.ts';
import { validateInstanceName } from '../service/control.ts';
import { stopSignal } from '../service/stop-signal.ts';
import { decodeConfigText } from '../config/text.ts';
import { loadConfig, resolveConfigFile } from '../config/load.ts';
import { preflight } from '../config/preflight.ts';
import { firewallCommands, grantModifyArgs, scStartType } from '../service/windows.ts';

const WINDOWS_VERBS = new Set(['install', 'uninstall', 'start', 'stop', 'status', 'set-recovery']);

const USAGE = `Usage: inlet service <command> [options]

Commands (Windows only; run in an elevated prompt):
  install       register the Windows service (WinSW) and write its definition
  uninstall     remove the Windows service (the data folder is kept)
  start | stop  start or stop the service
  status        print whether the service is installed and running
  set-recovery  set the restart-on-failure policy of the installed service (sc.exe failure; the MSI runs it);
                --start-type "#3" puts back a manual (#3) or disabled (#4) start type
  firewall      --add [--remote LIST]: allow the config's HTTP/HTTPS ports in from LIST (default LocalSubnet);
                --remove: delete the rule. Prints the netsh commands elsewhere than Windows
Commands (any platform):
  stop-signal   ask the running gateway to stop gracefully and wait for it
  configure     create or update the config file (used by the installer)
  print-xml     print the WinSW service definition

Options:
  --instance NAME        instance name (default: "default"; service "inlet")
  --data-dir DIR         data folder (default: %ProgramData%\\Inlet)
  --print-xml            print the WinSW XML instead of doing anything
  --wrapper FILE         the WinSW exe (default: inlet-service.exe next to node.exe)
  --timeout SECONDS      stop-signal: graceful stop budget before the process is ended (default 15)
configure options:
  --config FILE  --template FILE  --http-port N  --https-port N  --https-cert FILE  --https-key FILE
  --mssql-connection STRING   (empty values are ignored, so the installer can pass every property)
  --account NAME  the service account: given Modify on the data folder (Windows)
  --log FILE      also append what configure did, or why it refused, to FILE
  --rollback      put back the config as it was before the last configure (the MSI's rollback action)
  --installer    the MSI's paths: config and data in %ProgramData%\\Inlet, template inlet.config.default.json
                 next to node.exe
`;

interface Out { out: (s: string) => void; err: (s: string) => void }
const stdio: Out = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

export async function runServiceCommand(argv: string[], io: Out = stdio): Promise<number> {
  // WinSW appends the service's own arguments to the stop command line; everything after "--" is ignored.
  const dashdash = argv.indexOf('--');
  const args = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        instance: { type: 'string', default: 'default' },
        'data-dir': { type: 'string' },
        'print-xml': { type: 'boolean', default: false },
        wrapper: { type: 'string' },
        timeout: { type: 'string', default: '15' },
        config: { type: 'string' },
        template: { type: 'string' },
        'http-port': { type: 'string' },
        'https-port': { type: 'string' },
        'https-cert': { type: 'string' },
        'https-key': { type: 'string' },
        'mssql-connection': { type: 'string' },
        account: { type: 'string' },
        log: { type: 'string' },
        'start-type': { type: 'string' },
        add: { type: 'boolean', default: false },
        remove: { type: 'boolean', default: false },
        remote: { type: 'string' },
        rollback: { type: 'boolean' },
        installer: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`inlet service: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const verb = positionals[0];
  if (v.help || !verb) { (verb || v.help ? io.out : io.err)(USAGE); return v.help ? 0 : 2; }
  try {
    validateInstanceName(v.instance);
  } catch (err) {
    io.err((err as Error).message);
    return 2;
  }
  const winsw: WinswOptions = { instanceName: v.instance, ...(v['data-dir'] ? { dataDir: v['data-dir'] } : {}) };

  if (verb === 'print-xml' || v['print-xml']) { io.out(winswXml(winsw)); return 0; }
  if (verb === 'stop-signal') return stopSignal(v.instance, v['data-dir'], v.timeout, io);
  if (verb === 'configure') return configure(v.installer ? { ...installerPaths(process.env, process.execPath, path), ...definedOnly(v) } : v, io);
  if (verb === 'firewall') return firewall(v, io);
  if (!WINDOWS_VERBS.has(verb)) { io.err(`inlet service: unknown command "${verb}".\n\n${USAGE}`); return 2; }

  if (process.platform !== 'win32') {
    io.err(`"inlet service ${verb}" is Windows only: it registers Inlet as a Windows service with WinSW. ` +
      'On this system run the gateway with `inlet start` under your own supervisor (for example systemd); ' +
      '`inlet service print-xml` shows the Windows service definition.');
    return 2;
  }
  if (verb === 'set-recovery') return setRecovery(winsw, io, v['start-type']);
  return runWrapper(verb, v.instance, winsw, v.wrapper, io);
}

function setRecovery(winsw: WinswOptions, io: Out, previousStartType?: string): number {
  const args = scFailureArgs(winsw);
  const sc = path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'sc.exe');
  // The MSI registers the service as automatic; put back manual/disabled if IT had chosen it before the upgrade.
  const startType = scStartType(previousStartType);
  if (startType) {
    const r = spawnSync(sc, ['config', serviceIdFor(winsw.instanceName), 'start=', startType], { encoding: 'utf8', windowsHide: true });
    io.out(r.status === 0 ? `Start type kept: ${startType}` : `Could not keep the start type ${startType}: ${(r.stdout + r.stderr).trim()}`);
  }
  const r = spawnSync(sc, args, { encoding: 'utf8', windowsHide: true });
  if (r.error || r.status !== 0) {
    io.err(`Could not set the restart policy (sc.exe ${args.join(' ')}): ${r.error?.message ?? (r.stdout + r.stderr).trim()}`);
    return 1;
  }
  io.out(`Restart policy set: sc.exe ${args.join(' ')}`);
  return 0;
}

/** The wrapper exe for an instance: inlet-service.exe, or a copy named after the service for other instances. */
export function wrapperPathFor(instanceName: string, baseDir: string): string {
  const id = serviceIdFor(instanceName);
  const name = id === 'inlet' ? WRAPPER_BASENAME : `${id}-service`;
  return path.join(baseDir, `${name}.exe`);
}

function runWrapper(verb: string, instance: string, winsw: WinswOptions, wrapperOpt: string | undefined, io: Out): number {
  const baseDir = path.dirname(process.execPath);
  const wrapper = wrapperOpt ? path.resolve(wrapperOpt) : wrapperPathFor(instance, baseDir);
  const template = path.join(baseDir, `${WRAPPER_BASENAME}.exe`);
  try {
    if (!fs.existsSync(wrapper)) {
      if (!fs.existsSync(template)) {
        io.err(`The service wrapper ${template} is missing. Repair the installation (Apps & features > Inlet > Modify, ` +
          'or run the MSI again).');
        return 1;
      }
      // WinSW reads <its own name>.xml, so each instance needs its own copy of the wrapper.
      fs.copyFileSync(template, wrapper);
      if (fs.existsSync(template + '.config')) fs.copyFileSync(template + '.config', wrapper + '.config');
    }
    if (verb === 'install') {
      const xmlPath = wrapper.replace(/\.exe$/i, '.xml');
      fs.writeFileSync(xmlPath, winswXml(winsw));
      io.out(`Wrote ${xmlPath}`);
    }
  } catch (err) {
    io.err(`Could not prepare the service wrapper in ${path.dirname(wrapper)}: ${(err as Error).message}. ` +
      'Run this from an elevated (Administrator) prompt.');
    return 1;
  }
  const r = spawnSync(wrapper, [verb], { stdio: 'inherit', windowsHide: true });
  if (r.error) { io.err(`Could not run ${wrapper}: ${r.error.message}`); return 1; }
  return r.status ?? 1;
}

// ---------- configure ----------

/** The paths the MSI uses (its custom action command line is limited to 255 characters). */
export function installerPaths(env: NodeJS.ProcessEnv = process.env, execPath = process.execPath, paths: path.PlatformPath = path.win32): ConfigureInput {
  const dataDir = paths.join(env.ProgramData ?? 'C:\\ProgramData', 'Inlet');
  return {
    'data-dir': dataDir,
    config: paths.join(dataDir, 'inlet.config.json'),
    template: paths.join(paths.dirname(execPath), 'inlet.config.default.json'),
    log: paths.join(dataDir, 'logs', 'install.log'),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined)) as Partial<T>;
}

type Json = Record<string, unknown>;

function obj(parent: Json, key: string): Json {
  const cur = parent[key];
  if (cur && typeof cur === 'object' && !Array.isArray(cur)) return cur as Json;
  const fresh: Json = {};
  parent[key] = fresh;
  return fresh;
}

function port(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${option} must be a TCP port 1-65535, not "${text}".`);
  return n;
}

/** Hide the password in a connection string for logs. */
export function maskConnectionString(s: string): string {
  return s.replace(/((?:password|pwd)\s*=\s*)("[^"]*"|'[^']*'|\{[^}]*\}|[^;]*)/gi, '$1***');
}

export interface ConfigureInput {
  instance?: string;
  'data-dir'?: string;
  config?: string;
  template?: string;
  'http-port'?: string;
  'https-port'?: string;
  'https-cert'?: string;
  'https-key'?: string;
  'mssql-connection'?: string;
  account?: string;
  log?: string;
  /** Undo what the last configure changed (the MSI's rollback action). */
  rollback?: boolean;
}

/**
 * Create the config file from the template if it does not exist, then apply the given settings. An existing
 * config (upgrade, repair) is kept and only the settings given here change. Empty values are ignored.
 */
export function configureFile(input: ConfigureInput): string[] {
  const file = input.config || process.env.INLET_CONFIG;
  if (!file) throw new Error('configure needs --config FILE (or INLET_CONFIG).');
  // What an earlier install left for its rollback is stale now.
  for (const f of rollbackFiles(file)) fs.rmSync(f, { force: true });
  const changes: string[] = [];
  let config: Json;
  if (fs.existsSync(file)) {
    try { config = JSON.parse(decodeConfigText(fs.readFileSync(file))); } catch (err) {
      throw new Error(`The config file ${file} is not valid JSON (${(err as Error).message}). Fix or delete it, then run the installer again.`);
    }
  } else {
    if (!input.template) throw new Error(`${file} does not exist and no --template was given to create it from.`);
    config = JSON.parse(decodeConfigText(fs.readFileSync(input.template)));
    changes.push(`created ${file} from ${input.template}`);
  }
  const set = (where: Json, key: string, value: unknown, label: string, shown = String(value)) => {
    if (where[key] !== value) { where[key] = value; changes.push(`${label} = ${shown}`); }
  };
  if (input['data-dir']) set(config, 'dataDir', input['data-dir'], 'dataDir');
  if (input.instance && input.instance !== 'default') set(config, 'instanceName', input.instance, 'instanceName');
  if (input['http-port']) set(obj(config, 'http'), 'port', port(input['http-port'], 'HTTP_PORT'), 'http.port');
  if (input['https-port']) set(obj(config, 'https'), 'port', port(input['https-port'], 'HTTPS_PORT'), 'https.port');
  if (input['https-cert']) set(obj(config, 'https'), 'certFile', input['https-cert'], 'https.certFile');
  if (input['https-key']) set(obj(config, 'https'), 'keyFile', input['https-key'], 'https.keyFile');
  // Certificate and key given together switch HTTPS on (the port alone does not: without them it cannot start).
  if (input['https-cert'] && input['https-key']) set(obj(config, 'https'), 'enabled', true, 'https.enabled');
  if (input['mssql-connection']) {
    const store = obj(config, 'store');
    set(store, 'kind', 'mssql', 'store.kind');
    set(obj(store, 'mssql'), 'connectionString', input['mssql-connection'], 'store.mssql.connectionString',
      maskConnectionString(input['mssql-connection']));
  }
  const creating = !fs.existsSync(file);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const dataDir = typeof config.dataDir === 'string' ? config.dataDir : path.dirname(path.resolve(file));
  fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  if (creating && process.platform === 'win32') changes.push(restrictToAdmins(dataDir));
  if (input.account && process.platform === 'win32') {
    const grant = grantModifyArgs(dataDir, input.account);
    if (grant) changes.push(runIcacls(grant, `${input.account} may modify ${dataDir}`));
  }
  // Written only if `inlet start` would accept it: a refused upgrade then changes nothing and rolls back.
  // CRLF, so that Notepad on older Windows Server shows it as lines.
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(config, null, 2).replace(/\n/g, '\r\n') + '\r\n');
  try {
    const loaded = loadConfig(tmp, {});
    const { checked } = preflight(loaded.config);
    changes.push(...checked.map((c) => `checked ${c}`));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`the configuration would not start, so nothing was changed: ${(err as Error).message}`);
  }
  // What the MSI's rollback (configure --rollback) puts back if a later step of this install fails.
  const [before, created] = rollbackFiles(file);
  if (fs.existsSync(file)) fs.copyFileSync(file, before);
  else fs.writeFileSync(created, `created by the installer at ${new Date().toISOString()}\r\n`);
  fs.renameSync(tmp, file);
  return changes;
}

/** [the config as it was before this install, a marker that this install created it] */
function rollbackFiles(file: string): [string, string] {
  return [`${file}.before-install`, `${file}.created-by-install`];
}

/**
 * The MSI's rollback of ConfigureInlet, when a later step of the same install fails (the service does not start,
 * for example): the configuration as it was, so that the previous version, which the rollback reinstalls, starts
 * on its own settings; a configuration this install created is removed.
 */
export function rollbackConfigureFile(file: string): string {
  const [before, created] = rollbackFiles(file);
  if (fs.existsSync(before)) { fs.renameSync(before, file); return `restored ${file} as it was before this install`; }
  if (fs.existsSync(created)) { fs.rmSync(file, { force: true }); fs.rmSync(created, { force: true }); return `removed ${file}, which this install had created`; }
  return `nothing to undo in ${file}`;
}

/**
 * On a first install the data folder would inherit %ProgramData%'s ACL, which lets every local user read it,
 * and the config holds the SQL Server connection string. Keep it to SYSTEM and Administrators; IT grants a
 * dedicated service account Modify on it when they switch the service to one (docs/it.md). Done only when the
 * config is created, so later changes IT made to the ACL are kept.
 */
function restrictToAdmins(dataDir: string): string {
  const args = [dataDir, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '/T', '/Q'];
  return runIcacls(args, `access to ${dataDir} limited to SYSTEM and Administrators`);
}

function runIcacls(args: string[], done: string): string {
  const icacls = path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'icacls.exe');
  const r = spawnSync(icacls, args, { encoding: 'utf8', windowsHide: true });
  if (r.error || r.status !== 0) {
    throw new Error(`Could not set access to ${args[0]} (icacls ${args.join(' ')}): ${r.error?.message ?? (r.stdout + r.stderr).trim()}`);
  }
  return done;
}

function configure(v: ConfigureInput, io: Out): number {
  // Under the MSI nobody sees stdout: the same lines go to the log file the MSI log names (INLET_INSTALL_LOG).
  const logged = (line: string) => {
    if (!v.log) return;
    try {
      fs.mkdirSync(path.dirname(v.log), { recursive: true });
      fs.appendFileSync(v.log, line.split('\n').map((l) => `${new Date().toISOString()} ${l}`).join('\r\n') + '\r\n');
    } catch { /* the message still goes to stderr */ }
  };
  try {
    if (v.rollback) {
      const file = v.config || process.env.INLET_CONFIG;
      if (!file) throw new Error('configure --rollback needs --config FILE (or --installer).');
      const text = `inlet service configure --rollback: ${rollbackConfigureFile(file)}`;
      io.out(text);
      logged(text);
      return 0;
    }
    const lines = configureFile(v);
    const changed = lines.some((l) => !l.startsWith('checked '));
    const text = `Config ${v.config} ${changed ? 'updated' : 'unchanged'}:\n  ${lines.join('\n  ')}`;
    io.out(text);
    logged(`inlet service configure: ${text}`);
    return 0;
  } catch (err) {
    const text = `inlet service configure: ${(err as Error).message}`;
    io.err(text);
    logged(`ERROR ${text}`);
    return 1;
  }
}

// ---------- firewall ----------

function firewall(v: { add?: boolean; remove?: boolean; remote?: string; config?: string }, io: Out): number {
  if (v.add === v.remove) { io.err('inlet service firewall: give --add [--remote LIST] or --remove'); return 2; }
  let commands: string[][];
  try {
    if (v.remove) commands = firewallCommands([], '', '');
    else {
      const { config } = loadConfig(resolveConfigFile(v.config) ?? undefined);
      const ports = [config.http.port, ...(config.https.enabled ? [config.https.port] : [])];
      commands = firewallCommands(ports, v.remote || 'LocalSubnet', process.execPath);
    }
  } catch (err) {
    io.err(`inlet service firewall: ${(err as Error).message}`);
    return 1;
  }
  if (process.platform !== 'win32') {
    for (const c of commands) io.out(`netsh ${c.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`);
    return 0;
  }
  const netsh = path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'netsh.exe');
  for (const [i, args] of commands.entries()) {
    const r = spawnSync(netsh, args, { encoding: 'utf8', windowsHide: true });
    // The first command deletes an earlier rule; "no rules match" is fine.
    if (i > 0 && (r.error || r.status !== 0)) { io.err(`netsh ${args.join(' ')} failed: ${r.error?.message ?? (r.stdout + r.stderr).trim()}`); return 1; }
  }
  io.out(v.remove ? 'Firewall rule removed.' : `Firewall rule "${commands[1]?.[4]?.slice(5)}" set: ${commands[1]?.slice(8, 10).join(' ')}`);
  return 0;
}
