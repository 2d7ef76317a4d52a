// `inlet limits` on a data folder: set one channel, a template on many, copy, show, clear. The
// command's own code runs in this process (one spawned `inlet` checks the wiring and exit code):
// a process per step costs seconds each on a busy machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { openStore } from '../../src/main.ts';
import { registerDevice } from '../../src/admin/devices.ts';
import { limitsCommand } from '../../src/cli/limits.ts';
import { UsageError } from '../../src/cli/args.ts';
import type { Store } from '../../src/store/store.ts';
import { REPO } from './api-helpers.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

test('inlet limits set, set --template on many channels, copy, show and clear', { timeout: HANG_GUARD_MS }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-limits-'));
  const config: InletConfig = { ...structuredClone(DEFAULT_CONFIG), dataDir };
  let store: Store | null = null;
  try {
    store = await openStore(config);
    await store.migrate();
    for (const [serial, name] of [['20280001', 'Fridge 1'], ['20280002', 'Fridge 2'], ['20280003', 'Fridge 3']]) {
      await registerDevice(store, { serial, model: 'T3510', name }, 'test', Date.now());
    }
    const opened = store;
    async function inlet(...args: string[]) {
      let stdout = '';
      try {
        const status = await limitsCommand(args.slice(1), opened, (line) => { stdout += `${line}\n`; });
        return { status, stdout, stderr: '' };
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        return { status: 2, stdout, stderr: err.message };
      }
    }
    const one = await inlet('limits', 'set', '--channels', '20280001:1', '--low', '2', '--high', '8', '--delay', '600', '--hysteresis', '0.3', '--by', 'qa.manager', '--reason', 'SOP 12: vaccine range');
    assert.equal(one.status, 0, one.stderr);
    assert.equal(one.stdout, 'Fridge 1 (serial 20280001) channel 1 temperature [°C]: alarm: low 2, high 8, delay 600 s, hysteresis 0.3\n');

    const template = path.join(dataDir, 'fridge.json');
    writeFileSync(template, JSON.stringify([{ level: 'alarm', low: 2, high: 8 }, { level: 'warning', low: 3, high: 7, delayS: 300 }]));
    const many = await inlet('limits', 'set', '--channels', '20280002:1,20280003:1', '--template', template, '--reason', 'template for the fridges');
    assert.equal(many.status, 0, many.stderr);
    assert.equal(many.stdout.trim().split('\n').length, 2);

    const copied = await inlet('limits', 'copy', '--from', '20280001:1', '--to', '20280003:1', '--reason', 'same product');
    assert.equal(copied.status, 0, copied.stderr);
    assert.match(copied.stdout, /Fridge 3 .*: alarm: low 2, high 8, delay 600 s, hysteresis 0.3\n$/);

    const shown = await inlet('limits', 'show');
    assert.equal(shown.status, 0, shown.stderr);
    assert.deepEqual(shown.stdout.trim().split('\n'), [
      '20280001:1  Fridge 1  temperature [°C]  alarm: low 2, high 8, delay 600 s, hysteresis 0.3',
      '20280002:1  Fridge 2  temperature [°C]  alarm: low 2, high 8; warning: low 3, high 7, delay 300 s',
      '20280003:1  Fridge 3  temperature [°C]  alarm: low 2, high 8, delay 600 s, hysteresis 0.3',
    ]);

    const cleared = await inlet('limits', 'set', '--channels', '20280002:1', '--level', 'warning', '--clear', '--reason', 'warnings not wanted');
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.match(cleared.stdout, /Fridge 2 .*: alarm: low 2, high 8\n$/);

    const wrong = await inlet('limits', 'set', '--channels', '20280001:7', '--high', '8', '--reason', 'x');
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /Fridge 1 \(serial 20280001\) has no channel 7; it has 1, 2/);
    const inverted = await inlet('limits', 'set', '--channels', '20280001:1', '--low', '9', '--high', '8', '--reason', 'x');
    assert.equal(inverted.status, 2);
    assert.match(inverted.stderr, /low limit must be below its high limit/);
    const byAudit = (await opened.events({ type: 'alarm.limits.changed' })).map((e) => e.message);
    assert.ok(byAudit.some((m) => m.includes('qa.manager')), 'the change names who made it');
  } finally {
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('`inlet limits` is a command: usage and exit code 2 for a mistake', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-limits-'));
  try {
    const run = spawnSync(process.execPath, ['src/cli/inlet.ts', 'limits', 'set', '--high', '8', '--reason', 'x'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dataDir, INLET_CONFIG: '' } });
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'inlet: --channels is required\n');
    const unreasoned = spawnSync(process.execPath, ['src/cli/inlet.ts', 'limits', 'set', '--channels', '20280001:1', '--high', '8'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dataDir, INLET_CONFIG: '' } });
    assert.equal(unreasoned.status, 2);
    assert.match(unreasoned.stderr, /^inlet: --reason is required: say why this change is made .*nothing was changed\n$/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
