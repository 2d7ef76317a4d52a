// The disk under the data folder: how long an fsync of a small append takes, which bounds how often
// a durable commit can answer. usage: npm run bench:fsync  (BENCH_DIR, default the system temp folder)
import { openSync, writeSync, fsyncSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'fsync-'));
const fd = openSync(path.join(dir, 'f'), 'w');
const buf = Buffer.alloc(4096, 1);
const times: number[] = [];
for (let i = 0; i < 300; i++) { writeSync(fd, buf); const t = performance.now(); fsyncSync(fd); times.push(performance.now() - t); }
closeSync(fd); rmSync(dir, { recursive: true });
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.floor(p * (times.length - 1))].toFixed(2);
console.log(`fsync of a 4 KiB append in ${path.dirname(dir)}: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms (300 calls)`);
