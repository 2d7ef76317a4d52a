// Ingest isolated from a hostile LAN, measured: SOAP devices upload at a steady rate (open loop) while,
// in turn, nothing else happens (the quiet baseline), 100 people sign in at once, again and again, two
// CSV exports of 16 channels x 400 days run on a store of 10 million samples, and a flood of 16 MiB
// bodies goes to unknown entry points. Prints device upload p50/p99/max and losses per phase, and the
// database growth during the flood. The gateway runs in its own process (bench/isolation-server.ts).
// usage: npm run bench:isolation   (ISOLATION_PHASE_S=30 ISOLATION_SAMPLES=10000000 ISOLATION_DEVICES=20 ISOLATION_RATE=100
// ISOLATION_PHASES=quiet,sign-ins,exports,flood)
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fleetMessage, fleetUrl, isAcknowledged, type FleetDevice } from '../test/e2e/fleet.ts';
import { newEntryToken } from '../src/ingest/families.ts';
import { percentile, rssMiB } from './tools.ts';

const PHASE_S = Number(process.env.ISOLATION_PHASE_S ?? 30);
/** Device uploads per second, spread over the devices. */
const RATE = Number(process.env.ISOLATION_RATE ?? 100);
/** A device gives up on an answer after this long: the reading is lost (Web Sensors keep no cache). */
const DEVICE_TIMEOUT_MS = 10_000;
const FLOOD_BODY = 16 * 1024 * 1024;
const FLOOD_SENDERS = 4;

interface Info {
  url: string; port: number; dataDir: string; buildS: number; samples: number; exportDeviceId: number; exportFrom: number; exportTo: number;
  users: number; userPassword: string; fleet: FleetDevice[];
}

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
const info = JSON.parse(readFileSync(infoFile, 'utf8')) as Info;
rmSync(infoFile, { force: true });
console.log(`store: ${info.samples.toLocaleString('en')} samples built in ${info.buildS.toFixed(1)} s; ${info.fleet.length} SOAP devices at ${RATE} uploads/s; phases of ${PHASE_S} s`);

const databaseBytes = () => ['inlet.sqlite', 'inlet.sqlite-wal'].map((f) => path.join(info.dataDir, f)).filter(existsSync).reduce((n, f) => n + statSync(f).size, 0);

function timedRequest(agent: http.Agent | undefined, url: string, method: string, body: Buffer | string, headers: Record<string, string>, timeoutMs = 60_000): Promise<{ status: number; ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method, agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

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

/** Repeats `work` until the phase ends (and at least once); returns what it reported. */
async function whileLoaded<T>(seconds: number, work: (stop: () => boolean) => Promise<T>): Promise<{ device: Awaited<ReturnType<typeof deviceLoad>>; side: T }> {
  let over = false;
  const device = deviceLoad(seconds).finally(() => { over = true; });
  const side = work(() => over);
  return { device: await device, side: await side };
}

async function signInStorm(stop: () => boolean): Promise<string> {
  const statuses = new Map<number, number>();
  let rounds = 0;
  do {
    rounds++;
    const answers = await Promise.all(Array.from({ length: info.users }, (_, u) => timedRequest(undefined, `${info.url}/api/session`, 'POST',
      JSON.stringify({ username: `user${u}`, password: info.userPassword }), { 'content-type': 'application/json', 'x-inlet-request': '1' }).catch(() => ({ status: 0 }))));
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  } while (!stop());
  return `${rounds} rounds of ${info.users} concurrent sign-ins; answers ${[...statuses].map(([s, n]) => `${s}: ${n}`).join(', ')}`;
}

async function exports(stop: () => boolean): Promise<string> {
  // a session: the storm before may have left this address slowed for some names, so try others
  let cookie = '';
  for (let i = 0; i < 60 && !cookie; i++) {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${info.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-inlet-request': '1' } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ username: `user${i % info.users}`, password: info.userPassword }));
    });
    res.resume();
    if (res.statusCode === 200) cookie = String(res.headers['set-cookie']).split(';')[0];
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const channels = Array.from({ length: 16 }, (_, i) => `${info.exportDeviceId}:${i + 1}`).join(',');
  const exportUrl = `${info.url}/api/export.csv?channels=${channels}&from=${info.exportFrom}&to=${info.exportTo}`;
  const done: { ms: number; bytes: number; status: number }[] = [];
  const one = () => new Promise<void>((resolve) => {
    const started = performance.now();
    let bytes = 0;
    // an export still running when the phase ends is cut off there: what it streamed until then counts
    const watch = setInterval(() => { if (stop()) req.destroy(new Error('phase over')); }, 100);
    const finish = (status: number) => { clearInterval(watch); done.push({ ms: performance.now() - started, bytes, status }); resolve(); };
    const req = http.get(exportUrl, { headers: { cookie } }, (res) => {
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => finish(res.statusCode ?? 0));
      res.on('error', () => finish(0));
    });
    req.on('error', () => finish(0));
  });
  const exporter = async () => { do await one(); while (!stop()); };
  await Promise.all([exporter(), exporter()]);
  const ok = done.filter((d) => d.status === 200);
  return `${done.length} exports of 16 channels x 400 days, 2 at a time (${ok.length} complete within the phase; ` +
    `${(done.reduce((n, d) => n + d.bytes, 0) / 1_048_576).toFixed(0)} MiB of CSV streamed)`;
}

/** One 16 MiB POST to an unknown entry point; resolves with the bytes the socket managed to write. */
function floodOne(): Promise<{ written: number; status: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(info.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c: Buffer) => { if (answer.length < 100) answer += c.toString(); });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ written: socket.bytesWritten, status: answer.slice(9, 12) || 'closed' }));
    socket.write(`POST /ingest/logger/${newEntryToken()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${FLOOD_BODY}\r\n\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    let sent = 0;
    const pump = () => {
      while (sent < FLOOD_BODY && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) { socket.once('drain', pump); return; }
      }
      socket.end();
    };
    pump();
  });
}

async function flood(stop: () => boolean): Promise<string> {
  const before = databaseBytes();
  let requests = 0;
  let offered = 0;
  let written = 0;
  const statuses = new Map<string, number>();
  const sender = async () => {
    do {
      const r = await floodOne();
      requests++;
      offered += FLOOD_BODY;
      written += r.written;
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    } while (!stop());
  };
  await Promise.all(Array.from({ length: FLOOD_SENDERS }, sender));
  const growth = databaseBytes() - before;
  const gib = offered / 2 ** 30;
  return `${requests} POSTs of 16 MiB to unknown entry points from ${FLOOD_SENDERS} clients (${gib.toFixed(2)} GiB offered, ` +
    `${(written / 2 ** 20).toFixed(0)} MiB actually written before the gateway closed); answers ${[...statuses].map(([s, n]) => `${s}: ${n}`).join(', ')}; ` +
    `database growth ${(growth / 1024).toFixed(0)} KiB = ${(growth / 2 ** 20 / Math.max(gib, 1e-9)).toFixed(3)} MiB per GiB offered`;
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
if (PHASES.includes('sign-ins')) { const r = await measured(() => whileLoaded(PHASE_S, signInStorm)); report('sign-ins', r.device, r.side); }
if (PHASES.includes('exports')) { const r = await measured(() => whileLoaded(PHASE_S, exports)); report('exports', r.device, r.side); }
if (PHASES.includes('flood')) { const r = await measured(() => whileLoaded(PHASE_S, flood)); report('flood', r.device, r.side); }

console.log('\n| phase | device p50 | device p99 | max | lost | what ran |\n|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.phase} | ${r.device.p50.toFixed(1)} ms | ${r.device.p99.toFixed(1)} ms | ${r.device.max.toFixed(1)} ms | ${r.device.lost}/${r.device.sent} | ${r.note} |`);
await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); });
rmSync(info.dataDir, { recursive: true, force: true });
