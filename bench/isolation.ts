// Ingest isolated from a hostile LAN, measured: SOAP devices upload at a steady rate (open loop) while,
// in turn, nothing else happens (the quiet baseline), 100 people sign in at once, again and again, two
// CSV exports of 16 channels x 400 days run on a store of 10 million samples, and a flood of 16 MiB
// bodies goes to unknown entry points. Prints device upload p50/p99/max and losses per phase, and the
// database growth during the flood. Three processes, so that each measures what it should: the gateway
// (bench/isolation-server.ts), the side load (bench/isolation-side.ts: sign-ins, exports, flood) and this
// one, the device client, whose event loop does nothing but send device uploads and time their answers.
// usage: npm run bench:isolation   (ISOLATION_PHASE_S=30 ISOLATION_SAMPLES=10000000 ISOLATION_DEVICES=20 ISOLATION_RATE=100
// ISOLATION_PHASES=quiet,sign-ins,exports,flood)
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fleetMessage, fleetUrl, isAcknowledged, type FleetDevice } from '../test/e2e/fleet.ts';
import { percentile, rssMiB } from './tools.ts';
import { timedRequest, type IsolationInfo } from './isolation-http.ts';
import type { SidePhase } from './isolation-side.ts';

const PHASE_S = Number(process.env.ISOLATION_PHASE_S ?? 30);
/** Device uploads per second, spread over the devices. */
const RATE = Number(process.env.ISOLATION_RATE ?? 100);
/** A device gives up on an answer after this long: the reading is lost (Web Sensors keep no cache). */
const DEVICE_TIMEOUT_MS = 10_000;

const infoFile = path.join(tmpdir(), `inlet-bench-isolation-${process.pid}.json`);
console.log(`building the store (${process.env.ISOLATION_SAMPLES ?? 10_000_000} samples) and starting the gateway...`);
// ISOLATION_NODE_ARGS: options for the gateway's process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see what its thread ran
const nodeArgs = (process.env.ISOLATION_NODE_ARGS ?? '').split(' ').filter(Boolean);
const child = spawn(process.execPath, [...nodeArgs, new URL('./isolation-server.ts', import.meta.url).pathname, infoFile], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: process.env });

interface ThreadLoad { loopP50: number; loopP99: number; loopMax: number; mainCpu: number; processCpu: number }
/** The gateway's main thread during a phase: event-loop delay and CPU (isolation-server.ts). */
function phaseStart(): void { child.send('phase-start'); }
function phaseEnd(): Promise<ThreadLoad> {
  return new Promise((resolve) => { child.once('message', (m) => resolve(m as ThreadLoad)); child.send('phase-end'); });
}
const describeLoad = (l: ThreadLoad) => `main thread: event-loop delay p50 ${l.loopP50.toFixed(1)} / p99 ${l.loopP99.toFixed(1)} / max ${l.loopMax.toFixed(0)} ms, ` +
  `CPU ${(l.mainCpu * 100).toFixed(0)} % (whole process ${(l.processCpu * 100).toFixed(0)} %)`;
await new Promise<void>((resolve, reject) => {
  child.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('READY')) resolve(); });
  child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
});
const info = JSON.parse(readFileSync(infoFile, 'utf8')) as IsolationInfo;
// The side load's process reads the same description, then the file goes.
const side = spawn(process.execPath, [new URL('./isolation-side.ts', import.meta.url).pathname, infoFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: process.env });
await new Promise<void>((resolve, reject) => {
  side.once('message', () => resolve());
  side.once('exit', (code) => reject(new Error(`the side load's process exited with ${code}`)));
});
rmSync(infoFile, { force: true });
console.log(`store: ${info.samples.toLocaleString('en')} samples built in ${info.buildS.toFixed(1)} s; ${info.fleet.length} SOAP devices at ${RATE} uploads/s; phases of ${PHASE_S} s`);

/** The devices' steady load for `seconds`, in the open loop: every upload leaves when due, answered or not. */
async function deviceLoad(seconds: number): Promise<{ sent: number; lost: number; p50: number; p99: number; max: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: info.fleet.length });
  const latencies: number[] = [];
  let lost = 0;
  let sent = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const counters = new Map<FleetDevice, number>();
  for (let i = 0; ; i++) {
    const due = started + (i * 1000) / RATE;
    if (due - started >= seconds * 1000) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const d = info.fleet[i % info.fleet.length];
    const k = (counters.get(d) ?? 0) + 1;
    counters.set(d, k);
    const m = fleetMessage(d, k);
    sent++;
    pending.push(timedRequest(agent, fleetUrl(info.url, d), 'POST', m.body, { 'content-type': m.contentType }, DEVICE_TIMEOUT_MS).then(
      (r) => { if (isAcknowledged(d, r.status, r.body)) latencies.push(r.ms); else lost++; },
      () => { lost++; },
    ));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { sent, lost, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? NaN };
}

/** The side load's process repeats `phase` until the device load ends (and at least once); returns what it reported. */
async function whileLoaded(seconds: number, phase: SidePhase): Promise<{ device: Awaited<ReturnType<typeof deviceLoad>>; side: string }> {
  const summary = new Promise<string>((resolve) => side.once('message', (m: { summary: string }) => resolve(m.summary)));
  side.send({ run: phase });
  const device = await deviceLoad(seconds);
  side.send('stop');
  return { device, side: await summary };
}

const rows: { phase: string; device: Awaited<ReturnType<typeof deviceLoad>>; note: string }[] = [];
const report = (phase: string, device: Awaited<ReturnType<typeof deviceLoad>>, note: string) => {
  rows.push({ phase, device, note });
  console.log(`${phase.padEnd(10)} device p50 ${device.p50.toFixed(1)} ms  p99 ${device.p99.toFixed(1)} ms  max ${device.max.toFixed(1)} ms  lost ${device.lost}/${device.sent}  RSS ${rssMiB(child.pid).toFixed(0)} MiB  ${note}`);
};

await deviceLoad(Math.min(5, PHASE_S));   // warm-up: connections, caches, the reader worker
// The viewer's API is loaded on its first request (an idle gateway does without it): loaded here, in
// the warm-up, so that the sign-in phase measures sign-ins, not one module load.
await timedRequest(undefined, `${info.url}/api/session`, 'GET', '', {});
const loads: string[] = [];
const measured = async <T>(run: () => Promise<T>): Promise<T> => {
  phaseStart();
  const result = await run();
  loads.push(describeLoad(await phaseEnd()));
  console.log(`           ${loads.at(-1)}`);
  return result;
};
const PHASES = (process.env.ISOLATION_PHASES ?? 'quiet,sign-ins,exports,flood').split(',');
if (PHASES.includes('quiet')) report('quiet', await measured(() => deviceLoad(PHASE_S)), 'nothing else happening');
if (PHASES.includes('sign-ins')) { const r = await measured(() => whileLoaded(PHASE_S, 'sign-ins')); report('sign-ins', r.device, r.side); }
if (PHASES.includes('exports')) { const r = await measured(() => whileLoaded(PHASE_S, 'exports')); report('exports', r.device, r.side); }
if (PHASES.includes('flood')) { const r = await measured(() => whileLoaded(PHASE_S, 'flood')); report('flood', r.device, r.side); }

console.log('\n| phase | device p50 | device p99 | max | lost | what ran |\n|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.phase} | ${r.device.p50.toFixed(1)} ms | ${r.device.p99.toFixed(1)} ms | ${r.device.max.toFixed(1)} ms | ${r.device.lost}/${r.device.sent} | ${r.note} |`);
await new Promise<void>((resolve) => { side.once('exit', () => resolve()); side.send('exit'); });
await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); });
rmSync(info.dataDir, { recursive: true, force: true });
