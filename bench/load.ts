// Load at fleet scale: LOAD_DEVICES registered devices (SOAP, WiFi, TAx6xx and loggers in equal
// parts, test/e2e/fleet.ts), each posting every LOAD_INTERVAL_S seconds at its own phase (device
// intervals compressed in time: 10,000 devices every 10 s offer 1,000 uploads/s), then a saturation
// phase per protocol with wrk; every figure beside a bare node:http server measured in the same run.
// The gateway's memory is that of the built gateway (`npm run build` first: dist/cli/inlet.js start, as
// the service runs it), idle with no devices and under the fleet's load.
// usage: npm run bench:load   (LOAD_DEVICES=10000 LOAD_INTERVAL_S=10 LOAD_SECONDS=20 LOAD_SAT_SECONDS=8
//                              LOAD_IDLE_SETTLED_S=30 LOAD_IDLE_S=65)
import http from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../test/helpers/temp-dir.ts';
import { fleetMessage, fleetUrl, isAcknowledged, type FleetDevice } from '../test/e2e/fleet.ts';
import { HAVE_WRK, percentile, readDevicesFile, rssMiB, saturateWithWrk, startServer, type Saturation, type ServerUnderTest } from './tools.ts';

const DEVICES = Number(process.env.LOAD_DEVICES ?? 10_000);
const INTERVAL_S = Number(process.env.LOAD_INTERVAL_S ?? 10);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const SAT_SECONDS = Number(process.env.LOAD_SAT_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 50);
/** How long the idle gateway is watched: past a minute, so that the scheduled jobs have run. */
const IDLE_LONG_S = Number(process.env.LOAD_IDLE_S ?? 65);
/** Sockets the simulated fleet shares (devices reuse keep-alive connections through one agent). */
const FLEET_SOCKETS = Number(process.env.LOAD_FLEET_SOCKETS ?? 256);

type Protocol = 'SOAP' | 'JSON';
const protocolOf = (d: FleetDevice): Protocol => (d.family === 'soap' ? 'SOAP' : 'JSON');

interface FleetPhase { offered: Record<Protocol, number>; achieved: Record<Protocol, number>; p50: Record<Protocol, number>; p99: Record<Protocol, number>; errors: number; rssMiB: number }

/**
 * Open loop: device i posts at i/N of the interval and every interval after, whatever the server
 * does; message numbers grow per device, so the JSON families' sample times stay distinct. The
 * first round (every device's first upload, which also fills the gateway's device cache) is
 * warm-up: latencies and rates count from the second round on.
 */
async function fleetPhase(server: ServerUnderTest, origin: string, fleet: FleetDevice[], gatewayAcknowledges: boolean): Promise<FleetPhase> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: FLEET_SOCKETS });
  const latencies: Record<Protocol, number[]> = { SOAP: [], JSON: [] };
  const counter = new Map<FleetDevice, number>();
  let errors = 0;
  const started = performance.now();
  const measuredFrom = started + INTERVAL_S * 1000;
  const end = measuredFrom + SECONDS * 1000;
  const pending: Promise<void>[] = [];
  // phases spread by a fixed permutation (7919 is prime), so that no family is bunched in one part of the interval
  const slots = fleet.map((d, i) => ({ d, due: started + (((i * 7919) % fleet.length) / fleet.length) * INTERVAL_S * 1000 }))
    .sort((a, b) => a.due - b.due);
  // steady state: the largest RSS seen in the second half of the phase
  let rss = NaN;
  const sampler = setInterval(() => {
    if (performance.now() > measuredFrom + (SECONDS * 1000) / 2) rss = Math.max(Number.isNaN(rss) ? 0 : rss, rssMiB(server.child.pid));
  }, 500);
  for (let round = 0; ; round++) {
    for (const slot of slots) {
      const due = slot.due + round * INTERVAL_S * 1000;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const k = (counter.get(slot.d) ?? 0) + 1;
      counter.set(slot.d, k);
      const m = fleetMessage(slot.d, k);
      pending.push(postTimed(agent, fleetUrl(origin, slot.d), m.body, m.contentType).then((r) => {
        const ok = gatewayAcknowledges ? isAcknowledged(slot.d, r.status, r.body) : r.status === 200;
        if (due < measuredFrom) return;
        if (ok) latencies[protocolOf(slot.d)].push(r.ms); else errors++;
      }, () => { errors++; }));
    }
    if (slots[0].due + (round + 1) * INTERVAL_S * 1000 >= end) break;
  }
  await Promise.all(pending);
  clearInterval(sampler);
  agent.destroy();
  const stat = (pick: (sorted: number[]) => number) => ({ SOAP: pick(latencies.SOAP.sort((a, b) => a - b)), JSON: pick(latencies.JSON.sort((a, b) => a - b)) });
  return {
    offered: { SOAP: fleet.filter((d) => protocolOf(d) === 'SOAP').length / INTERVAL_S, JSON: fleet.filter((d) => protocolOf(d) === 'JSON').length / INTERVAL_S },
    // acknowledged uploads that were due in the measured window, per second of that window
    achieved: { SOAP: latencies.SOAP.length / SECONDS, JSON: latencies.JSON.length / SECONDS },
    p50: stat((s) => percentile(s, 0.5)), p99: stat((s) => percentile(s, 0.99)), errors, rssMiB: rss,
  };
}

function postTimed(agent: http.Agent, url: string, body: Buffer, contentType: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': contentType, 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Saturation per protocol; one message per device, so JSON repeats become duplicates after the first pass. */
function saturation(server: ServerUnderTest, origin: string, fleet: FleetDevice[], protocol: Protocol): Saturation & { rssMiB: number } {
  const devices = fleet.filter((d) => protocolOf(d) === protocol);
  if (!HAVE_WRK) return { rate: NaN, p50: NaN, p99: NaN, errors: NaN, rssMiB: NaN };
  const result = saturateWithWrk(origin, devices.map((d) => {
    const m = fleetMessage(d, 1_000_000);
    return { path: new URL(fleetUrl(origin, d)).pathname, body: m.body.toString(), contentType: m.contentType };
  }), SAT_SECONDS, CONNECTIONS);
  // wrk runs synchronously: the server's RSS is read right after, before it can shrink much
  return { ...result, rssMiB: rssMiB(server.child.pid) };
}

console.log(`Load: ${DEVICES} devices (SOAP, WiFi, TAx6xx, logger in equal parts) each every ${INTERVAL_S} s = ${DEVICES / INTERVAL_S} uploads/s offered ` +
  `for ${SECONDS} s after one interval of warm-up, over ${FLEET_SOCKETS} keep-alive sockets; saturation ${SAT_SECONDS} s per protocol with ` +
  `${HAVE_WRK ? `wrk (1 thread, ${CONNECTIONS} connections)` : 'no wrk installed: saturation skipped (apt-get install wrk)'}; Node ${process.version}, ${(await import('node:os')).cpus().length} cores, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);

/** The built `inlet` command (npm run build): what the service runs. */
const BUILT_CLI = new URL('../dist/cli/inlet.js', import.meta.url).pathname;
/**
 * A quiet gateway gives its start-up memory back (src/memory.ts: QUIET_MS, 10 s; the write worker
 * stops 10 s after its last write, WRITER_IDLE_MS): the idle figure is read once both have passed
 * (the start-up's last writes come a few seconds after it listens).
 */
const IDLE_SETTLED_S = Number(process.env.LOAD_IDLE_SETTLED_S ?? 30);

/** Starts the built gateway on dataDir (`inlet start`, configured by environment) and resolves with its origin once it listens. */
async function startBuilt(dataDir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; origin: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BUILT_CLI, 'start'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, INLET_DATA_DIR: dataDir, INLET_HTTP_PORT: '0', INLET_HTTP_HOST: '127.0.0.1', INLET_CONFIG: '', INLET_LOG_LEVEL: 'warn', ...env },
  });
  const origin = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (c: Buffer) => { text += c.toString(); const m = /listening on (http:\/\/[^\s)]+)/.exec(text); if (m) resolve(m[1]); });
    child.once('exit', (code) => reject(new Error(`the built gateway exited with ${code}`)));
  });
  return { child, origin, stop: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); }) };
}

/**
 * RSS of a gateway started with no device: as `inlet start` runs it (built, when dist/ exists) a few
 * seconds after start, then the least and the most of each second from IDLE_SETTLED_S (quiet) to
 * IDLE_LONG_S, past a minute so that the scheduled jobs have run once (the offline sweep each minute
 * starts the reader worker, which stops 10 s later); and from the TypeScript sources after 5 s.
 */
async function idleRss(): Promise<{ built: number; settledLeast: number; settledMost: number; sources: number }> {
  const fromSources = await startServer('inlet', { BENCH_DEVICES: '0' });
  await new Promise((r) => setTimeout(r, 5000));
  const sources = rssMiB(fromSources.child.pid);
  await fromSources.stop();
  if (!existsSync(BUILT_CLI)) return { built: NaN, settledLeast: NaN, settledMost: NaN, sources };
  const gateway = await startBuilt(tempDir('inlet-bench-idle-'));
  const startedAt = performance.now();
  const at = async (s: number) => {
    await new Promise((r) => setTimeout(r, Math.max(0, startedAt + s * 1000 - performance.now())));
    return rssMiB(gateway.child.pid);
  };
  const built = await at(5);
  // every second from IDLE_SETTLED_S on: the offline sweep each minute starts the reader worker for about 10 s
  const settled: number[] = [];
  for (let s = IDLE_SETTLED_S; s <= Math.max(IDLE_LONG_S, IDLE_SETTLED_S); s++) settled.push(await at(s));
  await gateway.stop();
  return { built, settledLeast: Math.min(...settled), settledMost: Math.max(...settled), sources };
}

const idle = await idleRss();
console.log(`  idle gateway with no devices: RSS ${idle.built.toFixed(0)} MiB as built 5 s after start (npm run build; ${Number.isNaN(idle.built) ? 'dist/ missing, run npm run build' : 'what the service runs'}), ` +
  `${idle.settledLeast.toFixed(0)} MiB least / ${idle.settledMost.toFixed(0)} MiB most from ${IDLE_SETTLED_S} to ${IDLE_LONG_S} s (most: while the offline sweep's reader worker runs), ` +
  `${idle.sources.toFixed(0)} MiB from the TypeScript sources (type stripping)`);

/**
 * The gateway under fleet load as the service runs it: the fleet registered by bench/servers.ts
 * (register-fleet), then the built `inlet start` on that data folder, throttling off (device
 * intervals are compressed in time). Without dist/, the gateway from the TypeScript sources.
 */
async function startFleetGateway(): Promise<{ server: ServerUnderTest; origin: string; fleet: FleetDevice[]; built: boolean }> {
  if (!existsSync(BUILT_CLI)) {
    const server = await startServer('inlet-fleet', { BENCH_DEVICES: String(DEVICES) });
    const { url, fleet } = readDevicesFile<{ url: string; fleet: FleetDevice[] }>(server);
    return { server, origin: url, fleet, built: false };
  }
  const dataDir = tempDir('inlet-bench-fleet-');
  const devicesFile = path.join(dataDir, 'fleet.json');
  const registered = spawnSync(process.execPath, [new URL('./servers.ts', import.meta.url).pathname, 'register-fleet', devicesFile], {
    env: { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_DEVICES: String(DEVICES) }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (registered.status !== 0) throw new Error(`registering the fleet failed (exit code ${registered.status})`);
  const fleet = JSON.parse(readFileSync(devicesFile, 'utf8')) as FleetDevice[];
  const gateway = await startBuilt(dataDir, { INLET_THROTTLE_ENABLED: 'false', INLET_QUARANTINE_BACKFILL: 'false' });
  return { server: { child: gateway.child, devicesFile, stop: gateway.stop }, origin: gateway.origin, fleet, built: true };
}

const { server: inlet, origin: inletOrigin, fleet, built: fleetBuilt } = await startFleetGateway();
const inletIdleRss = rssMiB(inlet.child.pid);
process.stdout.write(`  inlet (${fleetBuilt ? 'built, inlet start' : 'from the TypeScript sources: dist/ missing'}): ${fleet.length} devices registered; fleet phase... `);
const inletFleet = await fleetPhase(inlet, inletOrigin, fleet, true);
process.stdout.write('saturation... ');
const inletSat = { SOAP: saturation(inlet, inletOrigin, fleet, 'SOAP'), JSON: saturation(inlet, inletOrigin, fleet, 'JSON') };
await inlet.stop();
console.log('done');

const bare = await startServer('bare', { BENCH_DEVICES: '1' });
const bareOrigin = new URL(readDevicesFile<string[]>(bare)[0].split('|')[0]).origin;
const bareIdleRss = rssMiB(bare.child.pid);
process.stdout.write('  bare node:http: fleet phase... ');
const bareFleet = await fleetPhase(bare, bareOrigin, fleet, false);
process.stdout.write('saturation... ');
const bareSat = { SOAP: saturation(bare, bareOrigin, fleet, 'SOAP'), JSON: saturation(bare, bareOrigin, fleet, 'JSON') };
await bare.stop();
console.log('done\n');

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const rows: [string, string, string][] = [];
for (const p of ['SOAP', 'JSON'] as Protocol[]) {
  rows.push([`${p} uploads/s at ${f(inletFleet.offered[p])}/s offered (${f(inletFleet.offered[p] * INTERVAL_S)} devices)`, f(inletFleet.achieved[p]), f(bareFleet.achieved[p])]);
  rows.push([`${p} p50 / p99 latency at that rate, ms`, `${f(inletFleet.p50[p], 2)} / ${f(inletFleet.p99[p], 2)}`, `${f(bareFleet.p50[p], 2)} / ${f(bareFleet.p99[p], 2)}`]);
}
rows.push(['errors in the fleet phase', f(inletFleet.errors), f(bareFleet.errors)]);
rows.push([`RSS idle / at steady fleet load, MiB (${DEVICES} devices, ${fleetBuilt ? 'built' : 'from sources'}; target < 200 at 10,000)`, `${f(inletIdleRss)} / ${f(inletFleet.rssMiB)}`, `${f(bareIdleRss)} / ${f(bareFleet.rssMiB)}`]);
for (const p of ['SOAP', 'JSON'] as Protocol[]) {
  rows.push([`${p} saturation uploads/s (wrk)`, f(inletSat[p].rate), f(bareSat[p].rate)]);
  rows.push([`${p} saturation p50 / p99, ms`, `${f(inletSat[p].p50, 2)} / ${f(inletSat[p].p99, 2)}`, `${f(bareSat[p].p50, 2)} / ${f(bareSat[p].p99, 2)}`]);
}
rows.push([`RSS idle with no devices, MiB (built after 5 s / least and most from ${IDLE_SETTLED_S} to ${IDLE_LONG_S} s / from sources after 5 s; target < 100 once settled)`, `${f(idle.built)} / ${f(idle.settledLeast)}–${f(idle.settledMost)} / ${f(idle.sources)}`, '']);
rows.push(['RSS after saturation, MiB', `${f(Math.max(inletSat.SOAP.rssMiB, inletSat.JSON.rssMiB))}`, `${f(Math.max(bareSat.SOAP.rssMiB, bareSat.JSON.rssMiB))}`]);
console.log('| figure | Inlet (durable: WAL, synchronous=FULL) | bare node:http |\n|---|---|---|');
for (const [name, a, b] of rows) console.log(`| ${name} | ${a} | ${b} |`);
console.log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on this machine shows in every figure but memory)`);
