// What a newcomer meets on a first run of the `inlet` command: its messages, its output, its speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import type { Device } from '../../src/domain/types.ts';
import { deviceTable } from '../../src/cli/device.ts';
import { parseCsv } from '../../src/cli/csv.ts';
import { startBanner } from '../../src/cli/banner.ts';
import { progress } from '../../src/jobs/verify.ts';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
const LAUNCHER = new URL('../../bin/inlet.mjs', import.meta.url).pathname;

function inlet(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, INLET_CONFIG: '', ...env } });
}

test('a --config file that does not exist is named with the option, not with INLET_CONFIG', () => {
  const run = inlet(['device', 'list', '--config', '/nonexistent-inlet/inlet.config.json']);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /\/nonexistent-inlet\/inlet\.config\.json \(given with --config\) does not exist: check the path/);
  assert.doesNotMatch(run.stderr, /unset INLET_CONFIG/);
});

test('an INLET_CONFIG file that does not exist says to unset INLET_CONFIG', () => {
  const run = inlet(['device', 'list'], { INLET_CONFIG: '/nonexistent-inlet/from-env.json' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /named by the environment variable INLET_CONFIG\) does not exist: create it, or unset INLET_CONFIG/);
});

test('bin/inlet.mjs runs the sources of a checkout, never a dist/ left from an earlier build', () => {
  const root = tempDir('inlet-launcher-');
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'src', 'cli'), { recursive: true });
  mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true });
  copyFileSync(LAUNCHER, path.join(root, 'bin', 'inlet.mjs'));
  writeFileSync(path.join(root, 'src', 'cli', 'inlet.ts'), "console.log('sources');\n");
  writeFileSync(path.join(root, 'dist', 'cli', 'inlet.js'), "console.log('stale dist');\n");
  writeFileSync(path.join(root, 'package.json'), '{"type":"module"}\n');
  const run = spawnSync(process.execPath, [path.join(root, 'bin', 'inlet.mjs')], { encoding: 'utf8' });
  assert.equal(run.stdout, 'sources\n', run.stderr);
});

function device(over: Partial<Device>): Device {
  return {
    id: 1, family: 'soap', serial: '12345678', modelCode: 4145, model: 'T3510', name: 'Fridge', location: '', entryTokenSha256: '0'.repeat(64),
    allowedIntervalS: null, declaredIntervalS: null, customerUid: null, state: 'active', suspendedReason: null, suspendedAt: null,
    lastSeenAt: null, createdAt: 0, updatedAt: 0, zoneId: null, ...over,
  };
}

test('device list: a header and every column starting at the same position on every row', () => {
  const lines = deviceTable([
    device({ serial: '1', model: 'T7613D', family: 'websensor-json', name: 'Cold room with a long name', location: 'Ward 4' }),
    device({ serial: '12345678', model: 'H3531R', family: 'soap', name: 'A', lastSeenAt: Date.UTC(2026, 0, 2, 3, 4, 5) }),
  ]);
  assert.equal(lines.length, 3);
  const starts = (line: string) => [...line.matchAll(/(?<=^| {2})\S/g)].map((m) => m.index);
  const header = starts(lines[0]);
  assert.equal(header.length, 8);
  for (const line of lines.slice(1)) {
    for (const [column, at] of header.entries()) {
      if (column === 4 && line.includes('Ward') === false) continue; // an empty location has no text to start
      assert.ok(starts(line).includes(at), `column ${column} of "${line}" does not start at ${at}:\n${lines.join('\n')}`);
    }
  }
  assert.match(lines[2], /2026-01-02T03:04:05Z/);
});

test('verify progress: uploads arriving during the walk raise the total, never "237/235"', () => {
  const p = progress(237, 235, 0, 1000);
  assert.equal(p.total, 237);
  assert.equal(p.percent, 100);
  assert.ok(progress(100, 235, 0, 1000).percent < 100);
});

test('the start banner names the address devices use, not 127.0.0.1, when listening on all interfaces', () => {
  const config: InletConfig = { ...structuredClone(DEFAULT_CONFIG), publicUrl: 'http://gateway.lab.example:8080', http: { ...DEFAULT_CONFIG.http, host: '0.0.0.0', port: 8080 } };
  const banner = startBanner(config, { port: 8080, httpsUrl: null, store: { kind: 'sqlite' } }, false);
  assert.match(banner, /devices and browsers use http:\/\/gateway\.lab\.example:8080\//);
  assert.match(banner, /all interfaces, port 8080/);
  assert.doesNotMatch(banner, /127\.0\.0\.1/);
});

test('CSV: header, quoted commas and quotes, semicolons, blank lines and line numbers', () => {
  assert.deepEqual(parseCsv('serial,name\r\n1,"Fridge, ""B"""\n\n2,X\n'), [
    { line: 1, cells: ['serial', 'name'] }, { line: 2, cells: ['1', 'Fridge, "B"'] }, { line: 4, cells: ['2', 'X'] },
  ]);
  assert.deepEqual(parseCsv('\ufeffserial;name\n1;A,B\n').map((r) => r.cells), [['serial', 'name'], ['1', 'A,B']]);
});

test('device add --from registers 100 devices in one run; a bad line is named and the rest still registered', () => {
  const dir = tempDir('inlet-bulk-');
  const lines = ['serial,model,name,location'];
  for (let i = 1; i <= 100; i++) lines.push(`${20000000 + i},T3510,"Fridge ${i}, ward B",Lab`);
  lines.push('3000000x,T3510,Typo,Lab');
  writeFileSync(path.join(dir, 'devices.csv'), `${lines.join('\n')}\n`);
  const run = inlet(['device', 'add', '--from', path.join(dir, 'devices.csv')], { INLET_DATA_DIR: dir });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stdout, /line 102: not registered: the serial must be/);
  assert.match(run.stdout, /100 of 101 device\(s\) registered/);
  const list = inlet(['device', 'list'], { INLET_DATA_DIR: dir });
  assert.equal(list.stdout.trim().split('\n').length, 101); // header + 100
  assert.match(list.stdout, /Fridge 42, ward B/);
});

test('two `inlet device add` at once on a new data folder both succeed (no "database is locked")', async () => {
  const dir = tempDir('inlet-concurrent-');
  const add = (serial: string) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'device', 'add', '--serial', serial, '--model', 'T3510', '--name', serial],
      { env: { ...process.env, INLET_CONFIG: '', INLET_DATA_DIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  const results = await Promise.all(['10000001', '10000002', '10000003', '10000004'].map(add));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(inlet(['device', 'list'], { INLET_DATA_DIR: dir }).stdout.trim().split('\n').length, 5);
});
