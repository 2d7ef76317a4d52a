// Durable SOAP uploads per second and latency, side by side with a bare node:http server that
// reads the same body and answers 200, the `soap` package, our parser alone, and the gateway with
// a store that writes nothing (uploads journaled and answered, never applied: the ceiling of any
// store), and InfluxDB 1.x taking the same readings as single-point writes; one run, so the ratios
// hold on a noisy machine. Inlet answers once an upload is in its journal and applies the journal to
// the store in the background, so for Inlet both rates are printed: acknowledged (what devices see)
// and applied (what reached the database), with the apply lag. By default the apply yields to ingest
// while answering uploads keeps the gateway busy, within ingest.applyYieldMaxLagS of apply lag (10 s):
// a saturation phase shorter than that is a burst, acknowledged faster than it is applied. The
// inlet-sustained phase runs the same gateway with the apply never yielding: the rate at which both
// the answers and the store keep pace, whatever the load's length.
// usage: npm run bench:ingest  (BENCH_SECONDS, BENCH_RATE, BENCH_MODES)
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { buildSoapMessage } from '../src/sim/soap.ts';
import { countInfluxPoints, startInflux } from './influx.ts';
import { HAVE_WRK, diskBytesWritten, percentile, readDevicesFile, saturateWithWrk, startServer, threadCpuMicros, type Saturation } from './tools.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
// A 2-core VM's speed drifts within a run, by half in a minute or less (one run's bare phases:
// 16,986 and 29,013/s). The three servers the targets compare (bare node:http, Inlet durable,
// InfluxDB) run in ROUNDS rounds, each round the three back to back; a ratio is taken within each
// round, and a target is judged on the median of the rounds' ratios: a slow spell that falls on
// one server's phase moves one round, not the verdict. Every round's ratio is printed, and the
// ratio of each server's fastest phase. The other phases run once, after the first round.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COMPARED = 'bare,inlet,influxdb';
const MODES = (process.env.BENCH_MODES ?? [COMPARED, 'soap-package,parse-only,inlet-no-store,inlet-sustained', ...Array(Math.max(0, ROUNDS - 1)).fill(COMPARED)].join(',')).split(',');
const INFLUX_DB = 'bench';

interface Target { url: string; serial: string }

function targetsOf(mode: string, urls: string[]): Target[] {
  return urls.map((s) => {
    const [url, serial] = s.split('|');
    return { url: mode === 'soap-package' ? url.replace(/\/ingest\/soap\/.*/, '/ingest/soap') : url, serial };
  });
}

function postOnce(agent: http.Agent, target: Target, i: number): Promise<{ status: number; ms: number }> {
  const body = Buffer.from(buildSoapMessage({ serial: target.serial, modelCode: 4145, temp: 20 + (i % 50) / 10, relHum: 45 }));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(target.url, {
      method: 'POST', agent, headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length, SOAPAction: 'InsertTx5xxSample' },
    }, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started })); });
    req.on('error', reject);
    req.end(body);
  });
}

function wrkRequests(targets: Target[]) {
  return targets.map((t, i) => ({
    path: new URL(t.url).pathname,
    body: buildSoapMessage({ serial: t.serial, modelCode: 4145, temp: 20 + (i % 50) / 10, relHum: 45 }),
    contentType: 'text/xml; charset=utf-8',
  }));
}

/** As fast as possible: CONNECTIONS keep-alive clients, each posting back to back. */
async function saturate(targets: Target[]): Promise<Saturation> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < deadline) {
      const i = n++;
      const r = await postOnce(agent, targets[i % targets.length], i).catch(() => ({ status: 0, ms: 0 }));
      if (r.status === 200) latencies.push(r.ms); else errors++;
    }
  }));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / SECONDS, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), errors };
}

/** A fixed offered load (uploads per second, open loop), to read latency at a realistic rate. */
async function fixedRate(targets: Target[], rate: number): Promise<{ achieved: number; p50: number; p99: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const total = rate * SECONDS;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(postOnce(agent, targets[i % targets.length], i).then(
      (r) => { if (r.status === 200) latencies.push(r.ms); else errors++; }, () => { errors++; }));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { achieved: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), errors };
}

/**
 * Where an upload's cost goes, from the server's threads' CPU (Linux): µs per upload on each busy
 * thread (system time in brackets) and the disk bytes the machine wrote per upload meanwhile.
 */
function costPerUpload(before: Map<string, { total: number; system: number }>, after: Map<string, { total: number; system: number }>,
  diskBytes: number, uploads: number, loadGeneratorMicros = NaN): { text: string; serverMicros: number; loadGeneratorMicros: number } | null {
  if (!after.size || !uploads) return null;
  const byName = new Map<string, { total: number; system: number }>();
  for (const [thread, t] of after) {
    const b = before.get(thread) ?? { total: 0, system: 0 };
    const name = thread.slice(0, thread.indexOf('#'));
    const sum = byName.get(name) ?? { total: 0, system: 0 };
    byName.set(name, { total: sum.total + t.total - b.total, system: sum.system + t.system - b.system });
  }
  const busy = [...byName].filter(([, t]) => t.total / uploads >= 1).sort((a, b) => b[1].total - a[1].total);
  const threads = busy.map(([name, t]) => `${name} ${(t.total / uploads).toFixed(0)} µs (${(t.system / uploads).toFixed(0)} system)`).join(', ');
  const disk = Number.isFinite(diskBytes) ? `; disk written ${(diskBytes / uploads / 1024).toFixed(1)} KiB` : '';
  const serverMicros = busy.reduce((sum, [, t]) => sum + t.total, 0) / uploads;
  const loadGenerator = Number.isFinite(loadGeneratorMicros) ? `; wrk ${(loadGeneratorMicros / uploads).toFixed(0)} µs` : '';
  return { text: `${threads} (server ${serverMicros.toFixed(0)} µs)${loadGenerator}${disk}`, serverMicros, loadGeneratorMicros: loadGeneratorMicros / uploads };
}

const costs: Record<string, ReturnType<typeof costPerUpload>> = {};
const costWithApply: Record<string, ReturnType<typeof costPerUpload>> = {};
const results: Record<string, { rate: number; p50: number; p99: number; errors: number; fixed?: Awaited<ReturnType<typeof fixedRate>> }> = {};
type ApplyFigures = { appliedRate?: number; lagAtEndMs?: number | null; catchUpMs?: number; lagP99Ms?: number; lagMaxMs?: number; yieldedRounds?: number };
const applyFiguresOf: Record<string, ApplyFigures> = {};
/** Every saturation rate of each server, in the order its phases ran (first half, second half). */
const ratesOf: Record<string, number[]> = {};

interface JournalGauge { depth: number; oldestAgeMs: number | null; journaled: number; applied: number; yieldedRounds?: number }
async function journalGauge(origin: string): Promise<JournalGauge> {
  return (await (await fetch(`${origin}/health`)).json() as { spool: JournalGauge }).spool;
}

/** Samples the apply lag (age of the oldest acknowledged upload not yet applied) every 100 ms while `work` runs. */
async function sampleLag<T>(origin: string, work: Promise<T>): Promise<{ result: T; lags: number[] }> {
  const lags: number[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      lags.push((await journalGauge(origin)).oldestAgeMs ?? 0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await work;
  done = true;
  await sampler;
  return { result, lags: lags.sort((a, b) => a - b) };
}

/** InfluxDB 1.x, the same readings as one single-point write per upload (its line protocol over HTTP). */
async function runInflux(): Promise<void> {
  const influx = await startInflux(INFLUX_DB);
  if ('skipped' in influx) { console.log(`  ${'influxdb'.padEnd(13)} skipped: ${influx.skipped}`); return; }
  const lines = Array.from({ length: 500 }, (_, i) => `reading,serial=${30_000_000 + i} temperature=${(20 + (i % 50) / 10).toFixed(1)},humidity=45.0,dew_point=9.2`);
  const requests = lines.map((body) => ({ path: `/write?db=${INFLUX_DB}&precision=ms`, body, contentType: 'text/plain' }));
  process.stdout.write(`  ${'influxdb'.padEnd(13)} (${influx.version}) `);
  const cpuBefore = threadCpuMicros(influx.pid);
  const diskBefore = diskBytesWritten();
  if (!HAVE_WRK) { console.log('skipped: needs wrk'); await influx.stop(); return; }
  const sat = saturateWithWrk(influx.origin, requests, SECONDS, CONNECTIONS);
  const cost = costPerUpload(cpuBefore, threadCpuMicros(influx.pid), diskBytesWritten() - diskBefore, sat.rate * SECONDS, sat.loadGeneratorCpuMicros);
  const stored = await countInfluxPoints(influx.origin, INFLUX_DB, 'reading', 'temperature').catch(() => NaN);
  (ratesOf.influxdb ??= []).push(sat.rate);
  const earlier = results.influxdb;
  if (!earlier || sat.rate > earlier.rate) { results.influxdb = sat; costs.influxdb = cost; }
  console.log(`${sat.rate.toFixed(0)} writes/s, p50 ${sat.p50.toFixed(2)} ms, p99 ${sat.p99.toFixed(2)} ms, errors ${sat.errors}; ${stored} points stored`);
  if (earlier) console.log(`  ${''.padEnd(13)} (influxdb phases so far: ${ratesOf.influxdb.map((r) => r.toFixed(0)).join(', ')} writes/s; the fastest is used for the figures below)`);
  if (cost) console.log(`  ${''.padEnd(13)} per write at saturation: ${cost.text}`);
  await influx.stop();
}

console.log(`SOAP ingest benchmark: ${CONNECTIONS} keep-alive connections, ${SECONDS} s per phase, fixed-rate phase at ${RATE}/s; Node ${process.version}; ` +
  `load from ${HAVE_WRK ? 'wrk (1 thread)' : 'Node clients (install wrk for a lighter load generator)'}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const mode of MODES) {
  if (mode === 'influxdb') { await runInflux(); continue; }
  const server = await startServer(mode);
  const targets = targetsOf(mode, readDevicesFile<string[]>(server));
  const origin = new URL(targets[0].url).origin;
  process.stdout.write(`  ${mode.padEnd(13)} warming up... `);
  await saturate(targets.slice(0, 10)).catch(() => undefined);
  const journaled = mode === 'inlet' || mode === 'inlet-sustained';
  if (journaled) while ((await journalGauge(origin)).depth > 0) await new Promise((r) => setTimeout(r, 50));
  const gaugeBefore = journaled ? await journalGauge(origin) : null;
  const cpuBefore = threadCpuMicros(server.child.pid);
  const diskBefore = diskBytesWritten();
  const sat = HAVE_WRK ? saturateWithWrk(origin, wrkRequests(targets), SECONDS, CONNECTIONS) : await saturate(targets);
  const cost = costPerUpload(cpuBefore, threadCpuMicros(server.child.pid), diskBytesWritten() - diskBefore, sat.rate * SECONDS,
    sat.loadGeneratorCpuMicros);
  let applyLine = '';
  // A server's second phase measures its saturation rate only: the fixed-rate and apply figures are the first's.
  const again = results[mode] !== undefined;
  const applyFigures: ApplyFigures = again ? {} : (applyFiguresOf[mode] = {});
  if (journaled && gaugeBefore) {
    const after = await journalGauge(origin);
    applyFigures.appliedRate = (after.applied - gaugeBefore.applied) / SECONDS;
    applyFigures.yieldedRounds = (after.yieldedRounds ?? 0) - (gaugeBefore.yieldedRounds ?? 0);
    applyFigures.lagAtEndMs = after.oldestAgeMs;
    const catchUpStarted = performance.now();
    while ((await journalGauge(origin)).depth > 0) await new Promise((r) => setTimeout(r, 50));
    applyFigures.catchUpMs = performance.now() - catchUpStarted;
    // The CPU of the phase's uploads includes their apply, which a yielding apply does after the phase.
    const withApply = costPerUpload(cpuBefore, threadCpuMicros(server.child.pid), NaN, sat.rate * SECONDS, sat.loadGeneratorCpuMicros);
    if (!again || sat.rate > results[mode].rate) costWithApply[mode] = withApply;
    applyLine = `  ${''.padEnd(13)} acknowledged ${sat.rate.toFixed(0)}/s, applied to the store ${applyFigures.appliedRate.toFixed(0)}/s during the phase; ` +
      `apply lag at its end ${((after.oldestAgeMs ?? 0) / 1000).toFixed(2)} s (${after.depth} uploads), all applied ${(applyFigures.catchUpMs / 1000).toFixed(2)} s later` +
      (mode === 'inlet' ? `; the apply yielded to ingest ${applyFigures.yieldedRounds} time(s)` : '; the apply never yields (applyYieldMaxLagS 0)');
  }
  let fixed: Awaited<ReturnType<typeof fixedRate>> | undefined;
  if (mode === 'inlet' && !again) {
    const sampled = await sampleLag(origin, fixedRate(targets, RATE));
    fixed = sampled.result;
    applyFigures.lagP99Ms = percentile(sampled.lags, 0.99);
    applyFigures.lagMaxMs = sampled.lags.at(-1) ?? NaN;
  } else if (mode === 'bare' && !results.bare) {
    fixed = await fixedRate(targets, RATE);
  }
  (ratesOf[mode] ??= []).push(sat.rate);
  const earlier = results[mode];
  if (earlier) console.log(`  ${''.padEnd(13)} (${mode} phases so far: ${ratesOf[mode].map((r) => r.toFixed(0)).join(', ')} uploads/s; the fastest is used for the figures below)`);
  if (!earlier || sat.rate > earlier.rate) results[mode] = { ...sat, fixed: fixed ?? earlier?.fixed };
  if (!earlier || sat.rate > earlier.rate) costs[mode] = cost;
  console.log(`${sat.rate.toFixed(0)} uploads/s, p50 ${sat.p50.toFixed(2)} ms, p99 ${sat.p99.toFixed(2)} ms, errors ${sat.errors}` +
    (fixed ? `; at ${RATE}/s offered: ${fixed.achieved.toFixed(0)}/s, p50 ${fixed.p50.toFixed(2)} ms, p99 ${fixed.p99.toFixed(2)} ms, errors ${fixed.errors}` : ''));
  if (applyLine) console.log(applyLine);
  if (mode === 'inlet' && !again) console.log(`  ${''.padEnd(13)} apply lag at ${RATE}/s (sampled every 100 ms): p99 ${applyFigures.lagP99Ms?.toFixed(0)} ms, max ${applyFigures.lagMaxMs?.toFixed(0)} ms`);
  if (cost) console.log(`  ${''.padEnd(13)} per upload at saturation: ${cost.text}`);
  if (applyLine && costWithApply[mode]) console.log(`  ${''.padEnd(13)} per upload with its apply (until all applied): ${costWithApply[mode]!.text}`);
  await server.stop();
}
const bare = results.bare?.rate;
if (bare) {
  console.log('\nratio to the bare node:http server (same run, each server\'s fastest phase):');
  for (const [mode, r] of Object.entries(results)) console.log(`  ${mode.padEnd(13)} ${(r.rate / bare).toFixed(2)}`);
}
const applyFigures = applyFiguresOf.inlet ?? {};
if (results.inlet && bare) {
  // Per round (the k-th phase of each), then the median: what the targets are judged on.
  const rounds = (a: string, b: string) => Array.from({ length: Math.min(ratesOf[a]?.length ?? 0, ratesOf[b]?.length ?? 0) }, (_, k) => ratesOf[a][k] / ratesOf[b][k]);
  const median = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); const m = Math.floor(s.length / 2); return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const verdict = (xs: number[], best: number) => (xs.length > 1
    ? { ratio: median(xs), text: `median of ${xs.length} rounds ${median(xs).toFixed(2)}; rounds ${xs.map((x) => x.toFixed(2)).join(', ')}; fastest phases ${best.toFixed(2)}` }
    : { ratio: best, text: best.toFixed(2) });
  const durable = verdict(rounds('inlet', 'bare'), results.inlet.rate / bare);
  const p99 = results.inlet.fixed?.p99 ?? NaN;
  const influx = results.influxdb?.rate;
  const overInflux = influx ? verdict(rounds('inlet', 'influxdb'), results.inlet.rate / influx) : null;
  const lagP99 = applyFigures.lagP99Ms ?? NaN;
  console.log(`\ntargets: durable (acknowledged) rate >= 0.5 x bare: ${durable.ratio >= 0.5 ? 'MET' : 'NOT MET'} (${durable.text}); ` +
    `p99 < 20 ms at ${RATE}/s: ${p99 < 20 ? 'MET' : 'NOT MET'} (${p99.toFixed(2)} ms); ` +
    `apply lag p99 < 1 s at ${RATE}/s: ${lagP99 < 1000 ? 'MET' : 'NOT MET'} (${lagP99.toFixed(0)} ms)` +
    (overInflux ? `; >= 1.0 x InfluxDB: ${overInflux.ratio >= 1 ? 'MET' : 'NOT MET'} (${overInflux.text})` : ''));
  console.log(`rates by round (bare, inlet, influxdb): ${(ratesOf.bare ?? []).map((b, k) => `${b.toFixed(0)}, ${ratesOf.inlet?.[k]?.toFixed(0) ?? '-'}, ${ratesOf.influxdb?.[k]?.toFixed(0) ?? '-'}`).join('; ')}`);
  const sustained = results['inlet-sustained']?.rate;
  if (sustained) {
    console.log(`sustained (the apply never yielding, acknowledged = applied over time): ${sustained.toFixed(0)}/s = ${(sustained / bare).toFixed(2)} x bare` +
      (influx ? `, ${(sustained / influx).toFixed(2)} x InfluxDB` : '') +
      `; the durable rate above holds for loads up to the yield bound (ingest.applyYieldMaxLagS), this one beyond it`);
  }
  if (applyFigures.appliedRate !== undefined) {
    console.log(`applied to the store during saturation: ${applyFigures.appliedRate.toFixed(0)}/s (${(applyFigures.appliedRate / bare).toFixed(2)} x bare)` +
      (influx ? `, ${(applyFigures.appliedRate / influx).toFixed(2)} x InfluxDB` : ''));
  }
  // The machine's CPU at half the bare rate, less what wrk needs per request, is what a durable upload may cost.
  const wrkMicros = costs.bare?.loadGeneratorMicros ?? NaN;
  const inletCost = costWithApply.inlet ?? costs.inlet;
  if (Number.isFinite(wrkMicros) && inletCost) {
    const cores = availableParallelism();
    const budget = (cores * 1e6) / (bare * 0.5) - wrkMicros;
    console.log(`CPU budget at ${(bare * 0.5).toFixed(0)} uploads/s on ${cores} cores: ${budget.toFixed(0)} µs per upload for the server ` +
      `(after wrk's ${wrkMicros.toFixed(0)} µs); Inlet used ${inletCost.serverMicros.toFixed(0)} µs with the apply` +
      (costs['inlet-no-store'] ? `, of which ${costs['inlet-no-store'].serverMicros.toFixed(0)} µs without any store` : ''));
  }
}
