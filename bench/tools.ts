// What the benchmarks share: servers under test in child processes (bench/servers.ts), wrk as
// the load generator when Debian's wrk is installed, percentiles, and a process's RSS.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const HAVE_WRK = spawnSync('wrk', ['--version']).error === undefined;

export interface ServerUnderTest { child: ChildProcess; devicesFile: string; stop(): Promise<void> }

/** Starts `bench/servers.ts <mode>` and resolves when it is ready; its devices file is read by the caller. */
export async function startServer(mode: string, env: Record<string, string> = {}): Promise<ServerUnderTest> {
  const devicesFile = path.join(tmpdir(), `inlet-bench-${process.pid}-${mode}.json`);
  const child = spawn(process.execPath, [new URL('./servers.ts', import.meta.url).pathname, mode, devicesFile], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env },
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('READY')) resolve(); });
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return {
    child, devicesFile,
    stop: () => new Promise((resolve) => { rmSync(devicesFile, { force: true }); child.once('exit', () => resolve()); child.kill('SIGTERM'); }),
  };
}

export function readDevicesFile<T>(server: ServerUnderTest): T {
  return JSON.parse(readFileSync(server.devicesFile, 'utf8')) as T;
}

/** Resident set size of a process in MiB (Linux /proc), NaN where unavailable. */
export function rssMiB(pid: number | undefined): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system, and system alone) per thread of a process, in µs, by thread name and id (Linux /proc; empty elsewhere). */
export function threadCpuMicros(pid: number | undefined): Map<string, { total: number; system: number }> {
  const threads = new Map<string, { total: number; system: number }>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
      const [user, system] = [Number(fields[11]) * 10_000, Number(fields[12]) * 10_000];
      threads.set(`${name}#${tid}`, { total: user + system, system });
    }
  } catch {
    // not Linux, or the process is gone
  }
  return threads;
}

/** Bytes written to block devices so far, machine-wide (Linux /proc/diskstats; NaN elsewhere). */
export function diskBytesWritten(): number {
  try {
    let sectors = 0;
    for (const line of readFileSync('/proc/diskstats', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      // whole disks only (vda, sda, nvme0n1), not their partitions
      if (f.length > 9 && /^(?:[sv]d[a-z]+|nvme\d+n\d+|xvd[a-z]+)$/.test(f[2])) sectors += Number(f[9]);
    }
    return sectors * 512;
  } catch {
    return NaN;
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
}

function parseMs(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

export interface WrkRequest { path: string; body: string; contentType: string }
export interface Saturation {
  rate: number; p50: number; p99: number; errors: number;
  /** CPU (user + system) the load generator used, µs; NaN when unknown. */
  loadGeneratorCpuMicros?: number;
}

/**
 * As fast as possible with wrk (C, one thread, so the server keeps the other core): a Node load
 * generator on a 2-core machine saturates before a bare server does. Requests are sent in turn.
 */
export function saturateWithWrk(origin: string, requests: WrkRequest[], seconds: number, connections: number): Saturation {
  const script = path.join(tmpdir(), `inlet-bench-${process.pid}.lua`);
  const entries = requests.map((r) => `{${JSON.stringify(r.path)}, ${JSON.stringify(r.body)}, ${JSON.stringify(r.contentType)}}`);
  writeFileSync(script, `local reqs = {${entries.join(',\n')}}
local i = 0
request = function()
  i = i % #reqs + 1
  return wrk.format("POST", reqs[i][1], { ["Content-Type"] = reqs[i][3] }, reqs[i][2])
end
`);
  // Under bash, `times` then prints the CPU wrk itself used (its own cost is part of the machine's budget).
  const out = spawnSync('bash', ['-c', 'wrk "$@"; times', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, origin], { encoding: 'utf8' });
  rmSync(script, { force: true });
  const text = out.stdout;
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: (.*)/.exec(text)?.[1];
  const total = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const childTimes = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(text);
  return {
    loadGeneratorCpuMicros: childTimes
      ? ((Number(childTimes[1]) + Number(childTimes[3])) * 60 + Number(childTimes[2]) + Number(childTimes[4])) * 1e6 : NaN,
    rate: total ? rate * (1 - non2xx / total) : rate,
    // anchored: the thread-stats line above has columns like "87.50%" too
    p50: parseMs(/^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    p99: parseMs(/^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    errors: non2xx + (socketErrors ? 1 : 0),
  };
}
