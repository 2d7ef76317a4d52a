import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { tempDir as scratchDir } from '../helpers/temp-dir.ts';
import { listenForStopRequests, sendStopRequest, stopEndpoint } from '../../src/service/control.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const tempDir = (): string => scratchDir('inlet-ctl-');

function exchange(endpoint: string, line: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buf = '';
    const s = net.connect(endpoint, () => s.write(line + '\n'));
    s.setEncoding('utf8');
    s.on('data', (d: string) => { buf += d; if (buf.endsWith('\n')) { s.destroy(); resolve(buf.split('\n').filter(Boolean)); } });
    s.on('end', () => { lines.push(...buf.split('\n').filter(Boolean)); resolve(lines); });
    // the answer is one line, or the server closes: no clock (a busy machine answers late, not never)
    s.on('error', reject);
  });
}

test('endpoint: named pipe on Windows, socket in the data folder elsewhere', () => {
  assert.equal(stopEndpoint('default', 'C:\\ProgramData\\Inlet', 'win32'), '\\\\.\\pipe\\inlet-default');
  assert.equal(stopEndpoint('site-2', '/var/lib/inlet', 'linux'), '/var/lib/inlet/inlet-site-2.sock');
  const deep = '/x/' + 'd'.repeat(200);
  const p = stopEndpoint('default', deep, 'linux');
  assert.ok(Buffer.byteLength(p) <= 100 && p.startsWith(os.tmpdir()), p);
  assert.equal(p, stopEndpoint('default', deep, 'linux'), 'deterministic for the client');
  assert.throws(() => stopEndpoint('a b', '/tmp', 'linux'), /Instance name "a b" is not valid/);
});

test('stop over the unix socket runs onStop once and answers stopping/stopped', async () => {
  const dataDir = tempDir();
  let calls = 0;
  const close = await listenForStopRequests(async () => { calls++; await new Promise((r) => setTimeout(r, 50)); },
    { instanceName: 't1', dataDir });
  const endpoint = stopEndpoint('t1', dataDir);
  assert.equal(fs.statSync(endpoint).mode & 0o777, 0o600);
  assert.deepEqual(await exchange(endpoint, 'status'), [`running ${process.pid}`]);
  const [a, b] = await Promise.all([
    sendStopRequest({ instanceName: 't1', dataDir }),
    sendStopRequest({ instanceName: 't1', dataDir }),
  ]);
  for (const r of [a, b]) assert.deepEqual(r, { delivered: true, pid: process.pid, stopped: true });
  assert.equal(calls, 1);
  await close();
  assert.equal(fs.existsSync(endpoint), false, 'socket file removed on close');
  await close(); // idempotent
});

test('status and unknown requests', async () => {
  const dataDir = tempDir();
  const close = await listenForStopRequests(async () => {}, { instanceName: 't2', dataDir });
  const endpoint = stopEndpoint('t2', dataDir);
  const s = net.connect(endpoint);
  s.setEncoding('utf8');
  const got: string[] = [];
  let buf = '';
  s.on('data', (d: string) => { buf += d; });
  const twoLines = new Promise<void>((resolve) => s.on('data', () => { if (buf.split('\n').filter(Boolean).length >= 2) resolve(); }));
  s.write('status\nreboot\n');
  await twoLines; // both answers, however long a busy machine takes
  got.push(...buf.split('\n').filter(Boolean));
  s.destroy();
  assert.equal(got[0], `running ${process.pid}`);
  assert.match(got[1], /^error unknown request "reboot"; send "stop" or "status"$/);
  await close();
});

test('an error in onStop is reported to the client', async () => {
  const dataDir = tempDir();
  const close = await listenForStopRequests(async () => { throw new Error('flush failed:\ndisk full'); }, { instanceName: 't3', dataDir });
  const r = await sendStopRequest({ instanceName: 't3', dataDir });
  assert.equal(r.delivered, true);
  assert.equal(r.stopped, false);
  assert.match(r.error ?? '', /flush failed: disk full/);
  await close();
});

test('a second listener with the same instance name is refused; a stale socket file is replaced', async () => {
  const dataDir = tempDir();
  const close = await listenForStopRequests(async () => {}, { instanceName: 't4', dataDir });
  await assert.rejects(listenForStopRequests(async () => {}, { instanceName: 't4', dataDir }),
    (err: Error) => {
      // The running gateway's PID, how to stop it, and no advice to start a second gateway on the same data.
      assert.match(err.message, new RegExp(`Another Inlet gateway \\(PID ${process.pid}\\) is already running`));
      assert.match(err.message, new RegExp(`kill ${process.pid}|taskkill /PID ${process.pid}`));
      assert.doesNotMatch(err.message, /another "?instanceName/i);
      return true;
    });
  await close();
  // Simulate a crash: a socket file with nobody behind it.
  const endpoint = stopEndpoint('t4', dataDir);
  fs.writeFileSync(endpoint, '');
  const close2 = await listenForStopRequests(async () => {}, { instanceName: 't4', dataDir });
  assert.equal((await sendStopRequest({ instanceName: 't4', dataDir })).stopped, true);
  await close2();
});

test('the client reports clearly when nothing listens', async () => {
  const dataDir = tempDir();
  const r = await sendStopRequest({ instanceName: 'nobody', dataDir, connectWithinMs: 300 });
  assert.equal(r.delivered, false);
  assert.match(r.error ?? '', /No Inlet process answers on .*inlet-nobody\.sock .*Is it running\?/);
});

test('a line "stop" on stdin is a stop request; EOF is not', async () => {
  const input = new PassThrough();
  let calls = 0;
  const close = await listenForStopRequests(async () => { calls++; }, { instanceName: 'x', dataDir: tempDir(), socket: false, stdin: true, input });
  input.write('hello\n');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 0);
  input.write('  STOP \r\n');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 1);
  input.write('stop\n');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 1, 'onStop runs once');
  await close();

  const input2 = new PassThrough();
  let calls2 = 0;
  const close2 = await listenForStopRequests(async () => { calls2++; }, { instanceName: 'x', dataDir: tempDir(), socket: false, stdin: true, input: input2 });
  input2.end();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls2, 0, 'EOF on stdin (WinSW closes it at start) must not stop the gateway');
  await close2();
});

test('stdin and socket share one stop', async () => {
  const dataDir = tempDir();
  const input = new PassThrough();
  let calls = 0;
  const close = await listenForStopRequests(async () => { calls++; }, { instanceName: 'both', dataDir, stdin: true, input });
  input.write('stop\n');
  const r = await sendStopRequest({ instanceName: 'both', dataDir });
  assert.equal(r.stopped, true);
  assert.equal(calls, 1);
  await close();
});

test('the channel does not keep the process alive by itself', async () => {
  // A child that listens and then has nothing else to do must exit on its own.
  const dataDir = tempDir();
  const script = `import { listenForStopRequests } from ${JSON.stringify(path.resolve('src/service/control.ts'))};
await listenForStopRequests(async () => {}, { instanceName: 'unref', dataDir: ${JSON.stringify(dataDir)} });`;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: HANG_GUARD_MS, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
