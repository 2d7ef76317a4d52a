#!/usr/bin/env node
// The `inlet` command: start, migrate, config check, device, user, verify, simulate.
// Commands load what they use when they run (the gateway, a store adapter, express, the SQL Server
// driver): a short command such as `inlet device add` must not pay for loading the whole gateway.
import { enableCompileCache } from 'node:module';
import path from 'node:path';
import type { InletConfig } from '../config/schema.ts';
import type { LogSink } from '../domain/log-sink.ts';
import type { Gateway } from '../main.ts';
import type { EventLogWriter } from '../service/event-log.ts';
import type { Store } from '../store/store.ts';
import { VERSION } from '../version.ts';
import { UsageError, parse } from './args.ts';

// The compile cache keeps the type-stripped and compiled modules on disk (under the system's temp
// folder; NODE_COMPILE_CACHE moves it, NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a command
// run again does not strip and compile its TypeScript again, which was most of a short command's
// time. It applies only to modules loaded after it is enabled: the static imports above are the
// few small ones every command needs; the rest is imported here and by each command when it runs.
enableCompileCache();
const [{ ConfigError, loadConfig }, { openConfiguredStore }, { CHAIN_KEY_FILE, resolveChainKey, useExistingChainKey }] = await Promise.all([
  import('../config/load.ts'), import('../store/open.ts'), import('../store/chain-key.ts'),
]);

const chainKeyFile = (config: InletConfig) => path.join(config.dataDir, CHAIN_KEY_FILE);

/** What a command has to say beside its output (warnings), on stderr. */
const stderrLog: LogSink = {
  info: () => {},
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
  error: (message) => process.stderr.write(`error: ${message}\n`),
};

const USAGE = `Inlet ${VERSION}: on-premises gateway for COMET sensors
usage: inlet <command> [--config <file>] ...
  start              run the gateway (HTTP ingest, viewer API)
  migrate            create or upgrade the database schema
  migrate --check    check the SQL Server (version, edition, compatibility level, snapshot isolation,
                     recovery model, collation, free space) without changing anything; exit 1 if unusable
  migrate --script [--out <file>]
                     write the SQL Server schema as one sqlcmd script for a DBA to review and run
  config check       validate the configuration file and print the effective settings
  device ...         register and manage devices (inlet device help)
  user ...           viewer accounts; the first administrator is made here (inlet user help)
  limits ...         alarm limits per channel: show, set (one set on many channels), copy; changes are signed (inlet limits help)
  zone ...           the zone tree (site/building/room), devices in zones, users' roles on zones (inlet zone help)
  verify             check the hash chains of all stored data; exit code 1 if anything was altered
                     (--full, the default; --incremental: what the nightly job does, new uploads and a rolling share)
  backup --out <file>
                     consistent copy of the embedded (SQLite) database while the gateway runs, verified
  retention ...      status, run --dry-run (what would be purged), run --reason <text>, sign --reason <text>
                     (sign the policy the nightly purge acts on) (inlet retention help)
  report ...         make a PDF report (--devices --from --to --out), or check one: report verify <file.pdf> (inlet report help)
  simulate ...       play simulated Web Sensors against a running gateway (inlet simulate --help)
  notify test        send a test mail through the configured SMTP server
  service ...        Windows service: install, uninstall, start, stop, status, stop-signal, configure, print-xml
The configuration file is --config, else $INLET_CONFIG, else ./inlet.config.json, else built-in defaults.`;

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Takes --config out of argv wherever it stands. */
function splitConfigOption(argv: string[]): { file?: string; rest: string[] } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') file = argv[++i];
    else if (argv[i].startsWith('--config=')) file = argv[i].slice('--config='.length);
    else rest.push(argv[i]);
  }
  return { file, rest };
}

/** Needs no database: the DBA runs the result. Written to a file or to stdout. */
async function writeDeployScript(file: string | undefined): Promise<number> {
  const [{ readFileSync, writeFileSync }, { SQL_ROOT, loadMigrations }, { buildDeployScript }] = await Promise.all([
    import('node:fs'), import('../store/migrations.ts'), import('../store/mssql/deploy-script.ts'),
  ]);
  const script = buildDeployScript({
    bootstrap: readFileSync(path.join(SQL_ROOT, 'mssql', 'bootstrap.sql'), 'utf8'),
    migrations: loadMigrations('mssql'), version: VERSION, generatedAt: new Date(),
  });
  if (!file) { process.stdout.write(script); return 0; }
  try {
    writeFileSync(file, script);
  } catch (err) {
    throw new UsageError(`cannot write the script to ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'its folder does not exist' : (err as Error).message}`);
  }
  out(`wrote ${file}: run it with  sqlcmd -S <server> -d <database> -E -b -I -i ${path.basename(file)}`);
  return 0;
}

/**
 * Opens and migrates the store. `keyed`: the command writes events (every change is one) or stores
 * uploads (a quarantine import), so it links them under the chain key as the gateway does (making
 * the key on a first run), and records the audit baseline if the gateway has not yet.
 * `migrateFirst` false: the command migrates itself (`inlet migrate`, which lists what it applies).
 */
async function withStore<T>(config: InletConfig, fn: (store: Store) => Promise<T>, keyed: 'make' | 'existing' | false = false, migrateFirst = true): Promise<T> {
  const store = await openConfiguredStore(config, { forCommand: true });
  try {
    if (migrateFirst) await store.migrate();
    if (keyed === 'make') {
      store.useChainKey((await resolveChainKey(store, chainKeyFile(config), stderrLog)).key);
      await (await import('../store/audit-baseline.ts')).ensureAuditBaseline(store);
    } else if (keyed === 'existing' && await useExistingChainKey(store, chainKeyFile(config))) {
      await (await import('../store/audit-baseline.ts')).ensureAuditBaseline(store);
    }
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `inlet migrate --check`: what the database server is, judged; changes nothing. Exit 1 when Inlet cannot use it. */
async function preflightCommand(config: InletConfig, store: Store): Promise<number> {
  if (!store.preflight) {
    out(`the preflight checks a SQL Server database; this configuration uses the embedded SQLite store (${config.store.sqlite.file} in ${config.dataDir}): nothing to check`);
    return 0;
  }
  const [report, { formatPreflight }, { parseConnectionString }] = await Promise.all([
    store.preflight(), import('../store/mssql/preflight.ts'), import('../store/mssql/connection.ts'),
  ]);
  for (const line of formatPreflight(report, parseConnectionString(config.store.mssql.connectionString).describe)) out(line);
  return report.level === 'fail' ? 1 : 0;
}

async function start(config: InletConfig, asService: boolean, configFile: string | null = null): Promise<number> {
  const [{ createLogger }, { startGateway }, { listenForStopRequests }, { preflight }, { startBanner }] = await Promise.all([
    import('../log.ts'), import('../main.ts'), import('../service/control.ts'), import('../config/preflight.ts'), import('./banner.ts'),
  ]);
  // The Windows service also reports start, stop and errors in the Application event log (source "Inlet");
  // a write's arguments are evaluated only when there is an event log (eventLog?.write).
  const eventLogModule = asService && process.platform === 'win32' ? await import('../service/event-log.ts') : null;
  const eventLog: EventLogWriter | null = eventLogModule ? eventLogModule.windowsEventLog() : null;
  try {
    // the same checks as `inlet config check`, before anything is opened
    preflight(config);
  } catch (err) {
    eventLog?.write('ERROR', eventLogModule!.EVENT_IDS.error, `Inlet cannot start: ${(err as Error).message}`);
    throw err;
  }
  const log = createLogger(config);
  if (eventLog && eventLogModule) log.add(eventLogModule.eventLogTransport(eventLog));
  let gateway: Gateway | null = null;
  let stopRequested: ((why: string) => void) | null = null;
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    stopRequested = (why: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`stop requested (${why})`);
      // a stop during start-up waits for the start to finish, then drains as usual
      void (async () => {
        while (!gateway) await new Promise((r) => setTimeout(r, 50));
        await gateway.stop();
      })().then(() => resolve(0), (err: Error) => { log.error('unclean stop', { error: err.message }); resolve(1); });
    };
  });
  const requestStop = (why: string) => stopRequested!(why);
  process.once('SIGINT', () => requestStop('SIGINT'));
  process.once('SIGTERM', () => requestStop('SIGTERM'));
  // Windows services get no signals: `inlet service stop-signal` writes "stop" to this pipe (a unix socket elsewhere).
  // Opened before the store, so a second instance on the same data is refused early.
  const closeStopChannel = await listenForStopRequests(async () => { requestStop('service stop request'); await stopped; }, {
    instanceName: config.instanceName, dataDir: config.dataDir, stdin: false, log: (m) => log.info(m),
  });
  try {
    gateway = await startGateway(config, log, { configFile });
  } catch (err) {
    await closeStopChannel();
    eventLog?.write('ERROR', eventLogModule!.EVENT_IDS.error, `Inlet cannot start: ${(err as Error).message}`);
    throw err;
  }
  out(startBanner(config, gateway, asService));
  eventLog?.write('INFORMATION', eventLogModule!.EVENT_IDS.started, `Inlet ${VERSION} started: ${gateway.url}, store ${gateway.store.kind}, data in ${config.dataDir}`);
  const code = await stopped;
  eventLog?.write(code === 0 ? 'INFORMATION' : 'ERROR', eventLogModule!.EVENT_IDS.stopped, code === 0 ? 'Inlet stopped cleanly' : 'Inlet stopped after an error: see logs\\inlet.log');
  // let the stop channel answer "stopped" (queued as microtasks) before it closes
  await new Promise((r) => setImmediate(r));
  await closeStopChannel();
  return code;
}

export async function main(argv: string[]): Promise<number> {
  // The service commands run before any config exists (installer), take their own --config and read it themselves.
  if (argv[0] === 'service') return (await import('./service.ts')).runServiceCommand(argv.slice(1));
  const { file, rest } = splitConfigOption(argv);
  const [command, ...args] = rest;
  // Linux: the gateway runs with two malloc arenas (memory.ts); returns only where it does not apply.
  if (command === 'start') (await import('../memory.ts')).relaunchWithFewerMallocArenas();
  if (!command || command === 'help' || command === '--help') { out(USAGE); return 0; }
  if (command === '--version' || command === 'version') { out(VERSION); return 0; }
  const { config, file: configFile } = loadConfig(file);
  switch (command) {
    case 'start': {
      const { values } = parse(args, { service: { type: 'boolean' } });
      return start(config, values.service === true, configFile ?? null);
    }
    case 'migrate': {
      const { values } = parse(args, { script: { type: 'boolean' }, out: { type: 'string' }, check: { type: 'boolean' } });
      if (values.script) return writeDeployScript(values.out);
      if (values.out) throw new UsageError('--out goes with --script');
      if (values.check) return withStore(config, (store) => preflightCommand(config, store), false, false);
      return withStore(config, async (store) => {
        const applied = await store.migrate((m) => out(m));
        out(applied.length ? `applied ${applied.join(', ')}` : 'database schema is up to date');
        return 0;
      }, false, false);
    }
    case 'config': {
      if (args[0] !== 'check') { out('usage: inlet config check [--config <file>]'); return 2; }
      const [{ preflight }, { redactSecrets }] = await Promise.all([import('../config/preflight.ts'), import('../config/redact.ts')]);
      try {
        for (const line of preflight(config).checked) out(`checked ${line}`);
      } catch (err) {
        throw new ConfigError(`configuration ${configFile ?? '(built-in defaults)'} would not start: ${(err as Error).message}`);
      }
      out(`configuration ${configFile ?? '(built-in defaults)'} is valid. Effective settings:`);
      // every secret (SQL Server connection string, SMTP password, ...) shown only as set or not
      out(JSON.stringify(redactSecrets(config), null, 2));
      return 0;
    }
    case 'device': {
      const { deviceCommand } = await import('./device.ts');
      // A quarantine import stores uploads: the chain key is needed (or made). Every other change
      // is an event, linked under the key when the gateway has made one (never made here).
      return withStore(config, (store) => deviceCommand(args, config, store, out), args[0] === 'resume' ? 'make' : 'existing');
    }
    case 'user': {
      const { userCommand } = await import('./user.ts');
      return withStore(config, (store) => userCommand(args, config, store, out), 'existing');
    }
    case 'limits': {
      const { limitsCommand } = await import('./limits.ts');
      return withStore(config, (store) => limitsCommand(args, store, out, { config }));
    }
    case 'zone': {
      const { zoneCommand } = await import('./zone.ts');
      return withStore(config, (store) => zoneCommand(args, store, out), 'existing');
    }
    case 'verify': {
      const [{ verifyCommand }, { unappliedJournalBytes }] = await Promise.all([import('./verify.ts'), import('../store/spool/journal.ts')]);
      // Uploads are acknowledged once journaled: say so when some are not in the database yet.
      const unapplied = unappliedJournalBytes(path.join(config.dataDir, 'spool'));
      if (unapplied > 0) {
        process.stderr.write(`note: ${unapplied} bytes of acknowledged uploads in ${path.join(config.dataDir, 'spool')} are not applied to the database yet ` +
          '(a running gateway applies them within moments, a stopped one at its next start); this verification covers what the database holds now\n');
      }
      return withStore(config, (store) => verifyCommand(args, store, chainKeyFile(config), out, (text) => process.stderr.write(text), config.audit.syslog));
    }
    case 'retention': {
      const { retentionCommand } = await import('./retention.ts');
      return withStore(config, (store) => retentionCommand(args, config, store, out), 'existing');
    }
    case 'report': {
      const { reportCommand } = await import('./report.ts');
      if (!args.length || args[0] === 'help' || args[0] === '--help') return reportCommand(args, config, VERSION, () => Promise.reject(new Error('no store needed')), out);
      return withStore(config, (store) => reportCommand(args, config, VERSION, async () => store, out));
    }
    case 'backup':
      return (await import('./backup.ts')).backupCommand(args, config, chainKeyFile(config), out);
    case 'notify':
      return (await import('./notify.ts')).notifyCommand(args, config, out);
    case 'simulate': {
      const { simulateCommand } = await import('./simulate.ts');
      return simulateCommand(args, config, async () => { const s = await openConfiguredStore(config, { forCommand: true }); await s.migrate(); return s; }, out);
    }
    default:
      process.stderr.write(`inlet: unknown command "${command}"\n`);
      out(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: Error) => {
    if (err instanceof ConfigError || err instanceof UsageError) process.stderr.write(`inlet: ${err.message}\n`);
    else process.stderr.write(`inlet: ${err.message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
