// The WinSW service definition for Inlet.
//
// The wrapper is WinSW 1.17 (winsw.exe from the npm package node-windows, shipped renamed to
// inlet-service.exe with its .exe.config). WinSW reads <exe name>.xml from its own folder, sets %BASE% to that
// folder and expands environment variables in executable, arguments, env values and logpath, so one
// definition works wherever IT installs the program (INSTALLDIR) as long as the layout below is kept:
//   %BASE%\inlet-service.exe(.config/.xml)   %BASE%\node.exe   %BASE%\app\dist\cli\inlet.js
//
// How "stop" reaches the gateway (the choice, and why):
//   WinSW has two ways. Without <stopargument>, it sends Ctrl+C by attaching to the child's console
//   (AttachConsole + GenerateConsoleCtrlEvent), waits <stoptimeout>, then TerminateProcess. In a service
//   that is fragile: it stops the child's children first (conhost.exe among them) and any failure to
//   attach falls straight through to a kill, with no trace in our logs, losing the write-behind batch.
//   With <stopexecutable>/<stopargument>, WinSW runs a second process and then waits for the main one to
//   exit. We use that: `node.exe dist\service\stop-signal.js` (the same as `inlet service stop-signal`, bundled
//   alone so that it starts in milliseconds) writes "stop" to \\.\pipe\inlet-<instance>,
//   the gateway answers "stopping <pid>", runs the same stop() as on SIGTERM (stop accepting, drain, flush),
//   answers "stopped" and exits 0. It is explicit, acknowledged, logged on both sides, the same channel an
//   admin can use by hand, and tested on Linux over a unix socket with the same code.
//   The one risk of this mode is that WinSW waits without limit for the main process; so stop-signal
//   enforces the deadline itself: if the gateway has not exited <stopTimeoutSeconds> after "stopping <pid>",
//   stop-signal terminates that pid (and if the pipe never answers, the wrapper's other node.exe child).
//   WinSW appends the service <argument>s to the stop command line; the trailing "--" makes stop-signal
//   ignore them.
//
// Exit codes matter: when the gateway exits 0 on its own, WinSW reports a clean stop (no restart); any
// other exit code makes WinSW exit with it, and the SCM failure actions (<onfailure>) restart the service.

export interface WinswOptions {
  /** Instance name from the config ("default" unless several gateways share a host). */
  instanceName: string;
  /** Windows service name (the WinSW id). Default: "inlet", or "inlet-<instance>" for other instances. */
  serviceId?: string;
  displayName?: string;
  description?: string;
  /** The bundled, untouched node.exe. */
  nodeExe?: string;
  /** The compiled app entry. */
  appEntry?: string;
  /** The stop helper, bundled on its own so that it starts in milliseconds (src/service/stop-signal-main.ts). */
  stopEntry?: string;
  workingDirectory?: string;
  /** The data folder (config, database, spool, logs). */
  dataDir?: string;
  /** The config file the gateway reads (INLET_CONFIG). */
  configFile?: string;
  /** Graceful stop budget; stop-signal kills the gateway after this. */
  stopTimeoutSeconds?: number;
  /** Delays of the successive automatic restarts after a crash; the last one repeats. */
  restartDelaysSeconds?: number[];
  /** Failure count resets after this many seconds without a failure. */
  resetFailureAfterSeconds?: number;
  /** Roll the stdout/stderr logs at this size (KiB), keeping this many files. */
  logSizeKiB?: number;
  logKeepFiles?: number;
}

export const WRAPPER_BASENAME = 'inlet-service';
export const DEFAULT_DATA_DIR = '%ProgramData%\\Inlet';

export function serviceIdFor(instanceName: string): string {
  return instanceName === 'default' ? 'inlet' : `inlet-${instanceName}`;
}

export function resolveWinswOptions(o: WinswOptions): Required<WinswOptions> {
  const dataDir = o.dataDir ?? DEFAULT_DATA_DIR;
  const serviceId = o.serviceId ?? serviceIdFor(o.instanceName);
  return {
    instanceName: o.instanceName,
    serviceId,
    displayName: o.displayName ?? (o.instanceName === 'default' ? 'Inlet measurement gateway' : `Inlet measurement gateway (${o.instanceName})`),
    description: o.description ?? 'Receives measurements from COMET sensors and data loggers over HTTP and stores them in SQL Server or SQLite.',
    nodeExe: o.nodeExe ?? '%BASE%\\node.exe',
    appEntry: o.appEntry ?? '%BASE%\\app\\dist\\cli\\inlet.js',
    stopEntry: o.stopEntry ?? '%BASE%\\app\\dist\\service\\stop-signal.js',
    workingDirectory: o.workingDirectory ?? '%BASE%',
    dataDir,
    configFile: o.configFile ?? `${dataDir}\\inlet.config.json`,
    stopTimeoutSeconds: o.stopTimeoutSeconds ?? 15,
    restartDelaysSeconds: o.restartDelaysSeconds ?? [10, 30, 60],
    resetFailureAfterSeconds: o.resetFailureAfterSeconds ?? 3600,
    logSizeKiB: o.logSizeKiB ?? 10240,
    logKeepFiles: o.logKeepFiles ?? 8,
  };
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function el(name: string, text: string | number): string {
  return `  <${name}>${esc(String(text))}</${name}>`;
}

/** The WinSW XML. Pure: same options, same text. */
export function winswXml(options: WinswOptions): string {
  const o = resolveWinswOptions(options);
  if (o.restartDelaysSeconds.length === 0) throw new Error('restartDelaysSeconds needs at least one delay');
  if (!(o.stopTimeoutSeconds > 0)) throw new Error('stopTimeoutSeconds must be positive');
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Generated by `inlet service` (src/service/winsw.ts). Edit the generator, not this file:',
    '     `inlet service install` writes it again, and the installer ships a copy. -->',
    '<service>',
    el('id', o.serviceId),
    el('name', o.displayName),
    el('description', o.description),
    el('executable', o.nodeExe),
    el('argument', o.appEntry),
    el('argument', 'start'),
    el('argument', '--service'),
    el('workingdirectory', o.workingDirectory),
    el('startmode', 'Automatic'),
    // Graceful stop through the named pipe; see the comment at the top of this file.
    el('stopexecutable', o.nodeExe),
    el('stopargument', o.stopEntry),
    el('stopargument', '--instance'),
    el('stopargument', o.instanceName),
    el('stopargument', '--timeout'),
    el('stopargument', String(o.stopTimeoutSeconds)),
    el('stopargument', '--'),
    // Used by WinSW only on its Ctrl+C path (not taken with a stop executable); kept equal to our budget.
    el('stoptimeout', `${o.stopTimeoutSeconds} sec`),
    ...o.restartDelaysSeconds.map((d) => `  <onfailure action="restart" delay="${d} sec"/>`),
    el('resetfailure', `${o.resetFailureAfterSeconds} sec`),
    `  <env name="INLET_CONFIG" value="${esc(o.configFile)}"/>`,
    // No INLET_DATA_DIR: the config's dataDir is the one source of truth, for the service and the `inlet` command alike.
    '  <env name="NODE_ENV" value="production"/>',
    el('logpath', `${o.dataDir}\\logs`),
    '  <log mode="roll-by-size">',
    `    <sizeThreshold>${o.logSizeKiB}</sizeThreshold>`,
    `    <keepFiles>${o.logKeepFiles}</keepFiles>`,
    '  </log>',
    '</service>',
    '',
  ];
  return lines.join('\r\n');
}

/**
 * The same recovery policy as <onfailure>/<resetfailure>, as `sc.exe failure` arguments. The MSI registers the
 * service itself (ServiceInstall table), so WinSW never applies <onfailure>; `inlet service set-recovery` runs this.
 */
export function scFailureArgs(options: WinswOptions): string[] {
  const o = resolveWinswOptions(options);
  const actions = o.restartDelaysSeconds.map((d) => `restart/${Math.round(d * 1000)}`).join('/');
  return ['failure', o.serviceId, 'reset=', String(o.resetFailureAfterSeconds), 'actions=', actions];
}
