// Viewer figures: how long the API takes to serve one channel's year at 1-minute resolution
// (525,600 samples) as a chart series, and how many KB the viewer's first load weighs.
// Prints figures; not a test. Run: npm run bench:viewer (after npm run build:viewer).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG, type InletConfig } from '../src/config/schema.ts';
import { createLogger } from '../src/log.ts';
import { startGateway } from '../src/main.ts';
import { hashPassword } from '../src/api/passwords.ts';
import { VIEWER_BUILD_DIR } from '../src/api/viewer-static.ts';
import type { SampleRow } from '../src/domain/types.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const YEAR_SAMPLES = 525_600;
const RUNS = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs: number[]) => Math.max(...xs);

async function seriesBenchmark(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-bench-viewer-'));
  const config: InletConfig = structuredClone(DEFAULT_CONFIG);
  config.dataDir = dataDir;
  config.http = { ...config.http, host: '127.0.0.1', port: 0 };
  config.log = { ...config.log, console: false, file: false };
  const gateway = await startGateway(config, createLogger(config, { quiet: true }));
  try {
    const { store } = gateway;
    const device = await store.addDevice({
      family: 'soap', serial: '30000001', modelCode: 4144, model: 'T0510', name: 'Bench', entryToken: 'bench-token-not-used',
      channels: [{ channel: 1, quantity: 'temperature', unit: 'C' }],
    }, Date.now());
    const start = Date.UTC(2025, 0, 1);
    const insertStarted = performance.now();
    for (let day = 0; day * 1440 < YEAR_SAMPLES; day++) {
      const samples: SampleRow[] = [];
      for (let m = 0; m < 1440 && day * 1440 + m < YEAR_SAMPLES; m++) {
        const i = day * 1440 + m;
        samples.push({ deviceId: device.id, channel: 1, time: start + i * MINUTE, value: Math.round((4 + 3 * Math.sin(i / 720)) * 10) / 10, errorCode: null, alarm: 'no' });
      }
      await store.commit({
        upload: { deviceId: device.id, family: 'soap', receivedAt: start + day * DAY, remoteAddress: 'bench', contentType: '', raw: Buffer.alloc(0), verdict: 'accepted', reason: 'bench', serial: '30000001', counter: null },
        samples, channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
      });
    }
    const insertS = (performance.now() - insertStarted) / 1000;
    console.log(`inserted ${YEAR_SAMPLES.toLocaleString('en')} samples (one year at 1 min) through store.commit in ${insertS.toFixed(1)} s, ${Math.round(YEAR_SAMPLES / insertS).toLocaleString('en')} samples/s (rollup trigger included)`);

    await store.addUser({ username: 'bench', role: 'viewer', passwordHash: await hashPassword('Bench-Marker-2025') }, Date.now());
    const login = await fetch(`${gateway.url}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-inlet-request': '1' }, body: JSON.stringify({ username: 'bench', password: 'Bench-Marker-2025' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const url = `${gateway.url}/api/series?channels=${device.id}:1&from=${start}&to=${start + 365 * DAY}`;
    const times: number[] = [];
    let body = { series: [{ time: [] as number[], bucketMs: 0 }] };
    let bytes = 0;
    for (let run = 0; run <= RUNS; run++) {
      const began = performance.now();
      const res = await fetch(url, { headers: { cookie } });
      const text = await res.text();
      if (run > 0) times.push(performance.now() - began);   // run 0 warms caches and JIT
      body = JSON.parse(text);
      bytes = text.length;
    }
    const s = body.series[0];
    console.log(`API GET /api/series, one channel, one year: median ${median(times).toFixed(1)} ms, worst ${max(times).toFixed(1)} ms over ${RUNS} runs ` +
      `(${s.time.length} points, min/avg/max per ${s.bucketMs / 3_600_000} h, ${(bytes / 1024).toFixed(0)} KB JSON); target < 100 ms`);

    // the same buckets straight from samples, to show what the hourly rollup saves
    const plain: number[] = [];
    for (let run = 0; run < 5; run++) {
      const began = performance.now();
      await store.series({ deviceId: device.id, channel: 1, from: start, to: start + 365 * DAY, bucketMs: s.bucketMs + 1 });
      plain.push(performance.now() - began);
    }
    console.log(`  for comparison, GROUP BY over the 525,600 samples without the rollup: median ${median(plain).toFixed(1)} ms`);
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** index.html, its stylesheet and script, and every chunk that script imports statically. */
function firstLoadFiles(dir: string): { first: string[]; lazy: string[] } {
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  const first = new Set<string>(['index.html']);
  const queue = [...html.matchAll(/(?:href|src)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
  while (queue.length) {
    const file = queue.shift()!;
    if (first.has(file)) continue;
    first.add(file);
    if (!file.endsWith('.js')) continue;
    const code = readFileSync(path.join(dir, file), 'utf8');
    // static imports only: `import"./x.js"` or `from"./x.js"`; `import("./x.js")` loads later
    for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*"\.\/([^"]+\.js)"/g)) queue.push(`assets/${m[1]}`);
  }
  const lazy = readdirSync(path.join(dir, 'assets')).map((f) => `assets/${f}`).filter((f) => !f.endsWith('.gz') && !first.has(f));
  return { first: [...first], lazy };
}

function sizeReport(dir: string): void {
  if (!existsSync(path.join(dir, 'index.html'))) {
    console.log(`viewer not built (${dir}): run npm run build:viewer for the first-load figures`);
    return;
  }
  const { first, lazy } = firstLoadFiles(dir);
  const kb = (files: string[], gz: boolean) => files.reduce((n, f) => n + statSync(path.join(dir, gz ? `${f}.gz` : f)).size, 0) / 1024;
  console.log(`viewer first load (${first.join(', ')}): ${kb(first, false).toFixed(1)} KB raw, ${kb(first, true).toFixed(1)} KB gzip`);
  console.log(`  loaded on demand by chart/report pages (uPlot and the chart code): ${kb(lazy, false).toFixed(1)} KB raw, ${kb(lazy, true).toFixed(1)} KB gzip`);
}

await seriesBenchmark();
sizeReport(VIEWER_BUILD_DIR);
