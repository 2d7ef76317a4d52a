// `inlet service stop-signal`: ask the running gateway to stop gracefully, and make sure it does.
//
// WinSW runs this as the service's stop executable (see winsw.ts), so it is bundled on its own
// (dist/service/stop-signal.js, from stop-signal-main.ts) with nothing but node built-ins and control.ts:
// loading the whole application to send one line took 0.7 s and 128 MB.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { sendStopRequest } from './control.ts';

export interface StopSignalOutput { out: (s: string) => void; err: (s: string) => void }

export async function stopSignal(instance: string, dataDirOpt: string | undefined, timeoutText: string, io: StopSignalOutput): Promise<number> {
  const timeoutS = Number(timeoutText);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) { io.err(`--timeout must be a positive number of seconds, not "${timeoutText}".`); return 2; }
  const dataDir = dataDirOpt ?? process.env.INLET_DATA_DIR ??
    (process.platform === 'win32' ? path.join(process.env.ProgramData ?? 'C:\\ProgramData', 'Inlet') : path.resolve('data'));
  const started = Date.now();
  const r = await sendStopRequest({ instanceName: instance, dataDir, connectWithinMs: 5000, stopWithinMs: timeoutS * 1000 });
  if (r.stopped) {
    // The gateway exits right after "stopped"; give it a moment so the wrapper sees a clean exit.
    if (r.pid !== undefined) await waitForExit(r.pid, 5000);
    io.out(`Inlet (${instance}) stopped gracefully in ${Date.now() - started} ms.`);
    return 0;
  }
  if (r.delivered && r.pid !== undefined) {
    const remaining = Math.max(0, timeoutS * 1000 - (Date.now() - started));
    if (await waitForExit(r.pid, remaining)) { io.out(`Inlet (${instance}) stopped.`); return 0; }
    io.err(`Inlet (${instance}, pid ${r.pid}) did not stop within ${timeoutS} s (${r.error ?? 'no reason given'}); ending it.`);
    killPid(r.pid);
    return 1;
  }
  io.err(r.error ?? 'The stop request was not delivered.');
  // Under WinSW the wrapper waits without limit for the gateway to exit; end it so the service can stop.
  const sibling = process.platform === 'win32' ? gatewayUnderSameWrapper() : [];
  for (const pid of sibling) {
    io.err(`Ending the gateway process ${pid} started by the same service wrapper.`);
    killPid(pid);
  }
  return 1;
}

function killPid(pid: number): void {
  try { process.kill(pid); } catch { /* already gone */ }
}

async function waitForExit(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try { process.kill(pid, 0); } catch { return true; }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Windows only, last resort when the pipe does not answer: the other node.exe children of our parent, if our
 * parent is an Inlet service wrapper. Identified by parentage at this moment, never by a stored pid.
 */
function gatewayUnderSameWrapper(): number[] {
  const script = `$p = Get-CimInstance Win32_Process -Filter "ProcessId=${process.ppid}"; ` +
    `if (-not $p -or $p.Name -notlike 'inlet*-service.exe') { exit 0 }; ` +
    `Get-CimInstance Win32_Process -Filter "ParentProcessId=${process.ppid}" | ` +
    `Where-Object { $_.ProcessId -ne ${process.pid} -and $_.Name -eq 'node.exe' } | ForEach-Object { $_.ProcessId }`;
  const r = spawnSync('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script], { encoding: 'utf8', timeout: 15000, windowsHide: true });
  if (r.status !== 0 || !r.stdout) return [];
  return r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}
