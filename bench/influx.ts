// InfluxDB 1.x (Debian's influxd) as a comparison for bench:ingest: started on loopback ports with
// a temporary folder and a generated config (no reporting, no internal monitor database, WAL
// fsync'd on every write as Inlet's journal is), and stopped again. Nothing is installed or
// downloaded: when influxd is not on the PATH, startInflux() says so and returns null.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from '../test/helpers/temp-dir.ts';

export interface InfluxServer { origin: string; pid: number | undefined; version: string; stop(): Promise<void> }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

export async function startInflux(database: string): Promise<InfluxServer | { skipped: string }> {
  const probe = spawnSync('influxd', ['version'], { encoding: 'utf8' });
  if (probe.error) return { skipped: 'influxd is not installed (Debian: apt-get install influxdb)' };
  const version = probe.stdout.trim();
  const dir = tempDir('inlet-bench-influx-');
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const config = path.join(dir, 'influxdb.conf');
  writeFileSync(config, `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
  logging-enabled = false
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  wal-fsync-delay = "0s"
  query-log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[logging]
  level = "error"
  suppress-logo = true
`);
  const child = spawn('influxd', ['-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`${origin}/ping`).then((r) => r.status === 204, () => false);
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      return { skipped: `influxd did not start within 30 s (exit code ${child.exitCode})` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const created = await fetch(`${origin}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE ${database}` }) });
  if (!created.ok) throw new Error(`influxd refused CREATE DATABASE: ${created.status} ${await created.text()}`);
  return {
    origin, pid: child.pid, version,
    stop: async () => { child.kill('SIGTERM'); await exited; },
  };
}

/** Counts the points stored in a measurement (to check that every acknowledged write is there). */
export async function countInfluxPoints(origin: string, database: string, measurement: string, field: string): Promise<number> {
  const r = await fetch(`${origin}/query?${new URLSearchParams({ db: database, q: `SELECT COUNT(${field}) FROM ${measurement}` })}`);
  const body = await r.json() as { results: { series?: { values: [string, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}
