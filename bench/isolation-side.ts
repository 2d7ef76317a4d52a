// The side load of bench/isolation.ts in a process of its own: 100 concurrent sign-ins again and
// again, two CSV exports of 16 channels x 400 days, or a flood of 16 MiB bodies to unknown entry
// points. The flood pumps 16 MiB bodies and the exports receive megabytes of CSV a second: run in the
// device client's process, that work delayed the client's own event loop, and so the device timings,
// which must measure the gateway only.
// Driven over IPC by isolation.ts: { run: phase } starts a load, 'stop' ends it (the load answers
// { summary } once what it started has finished), 'exit' ends the process.
// usage: started by bench/isolation.ts with the gateway's info file as its argument
import http from 'node:http';
import net from 'node:net';
import { readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { newEntryToken } from '../src/ingest/families.ts';
import { timedRequest, type IsolationInfo } from './isolation-http.ts';

const FLOOD_BODY = 16 * 1024 * 1024;
const FLOOD_SENDERS = 4;

const info = JSON.parse(readFileSync(process.argv[2], 'utf8')) as IsolationInfo;
const databaseBytes = () => ['inlet.sqlite', 'inlet.sqlite-wal'].map((f) => path.join(info.dataDir, f)).filter(existsSync).reduce((n, f) => n + statSync(f).size, 0);

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

export type SidePhase = 'sign-ins' | 'exports' | 'flood';
const LOADS: Record<SidePhase, (stop: () => boolean) => Promise<string>> = { 'sign-ins': signInStorm, exports, flood };

let stopped = false;
process.on('message', (message: { run: SidePhase } | 'stop' | 'exit') => {
  if (message === 'exit') process.exit(0);
  if (message === 'stop') { stopped = true; return; }
  stopped = false;
  LOADS[message.run](() => stopped).then(
    (summary) => process.send!({ summary }),
    (err: unknown) => process.send!({ summary: `the side load failed: ${(err as Error).message}` }),
  );
});
// A benchmark that ended (or crashed) takes its side load with it.
process.on('disconnect', () => process.exit(0));
process.send!('ready');
