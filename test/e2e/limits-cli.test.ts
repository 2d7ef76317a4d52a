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
import type { SignerInput } from '../../src/cli/signature.ts';
import { hashPassword } from '../../src/api/passwords.ts';
import type { Store } from '../../src/store/store.ts';
import { REPO } from './api-helpers.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const PASSWORD = 'Quiet-Harbor-Lantern-51';
/** No terminal: the password comes on standard input (--password-stdin), as a script pipes it. */
const pipedPassword = (password: string): SignerInput => ({
  isTerminal: false, prompt: async () => assert.fail('no terminal'), ask: async () => assert.fail('no terminal'), readAll: async () => `${password}\n`,
});

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
    await store.addUser({ username: 'qa.manager', role: 'operator', passwordHash: await hashPassword(PASSWORD) }, Date.now());
    const opened = store;
    /** A signed change: the signer's name and meaning as options, the password piped in. */
    const SIGNED = ['--signer', 'qa.manager', '--meaning', 'approved', '--password-stdin'];
    async function inlet(...args: string[]) {
      let stdout = '';
      try {
        const status = await limitsCommand(args.slice(1), opened, (line) => { stdout += `${line}\n`; }, { input: pipedPassword(PASSWORD) });
        return { status, stdout, stderr: '' };
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        return { status: 2, stdout, stderr: err.message };
      }
    }
    const one = await inlet('limits', 'set', '--channels', '20280001:1', '--low', '2', '--high', '8', '--delay', '600', '--hysteresis', '0.3', '--reason', 'SOP 12: vaccine range', ...SIGNED);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /^alarm limits signed by qa\.manager \(approved\) at \S+\n/);
    assert.equal(one.stdout.split('\n').slice(1).join('\n'), 'Fridge 1 (serial 20280001) channel 1 temperature [°C]: alarm: low 2, high 8, delay 600 s, hysteresis 0.3\n');

    const template = path.join(dataDir, 'fridge.json');
    writeFileSync(template, JSON.stringify([{ level: 'alarm', low: 2, high: 8 }, { level: 'warning', low: 3, high: 7, delayS: 300 }]));
    const many = await inlet('limits', 'set', '--channels', '20280002:1,20280003:1', '--template', template, '--reason', 'template for the fridges', ...SIGNED);
    assert.equal(many.status, 0, many.stderr);
    assert.equal(many.stdout.trim().split('\n').length, 3);

    const copied = await inlet('limits', 'copy', '--from', '20280001:1', '--to', '20280003:1', '--reason', 'same product', ...SIGNED);
    assert.equal(copied.status, 0, copied.stderr);
    assert.match(copied.stdout, /Fridge 3 .*: alarm: low 2, high 8, delay 600 s, hysteresis 0.3\n$/);

    const shown = await inlet('limits', 'show');
    assert.equal(shown.status, 0, shown.stderr);
    assert.deepEqual(shown.stdout.trim().split('\n'), [
      '20280001:1  Fridge 1  temperature [°C]  alarm: low 2, high 8, delay 600 s, hysteresis 0.3',
      '20280002:1  Fridge 2  temperature [°C]  alarm: low 2, high 8; warning: low 3, high 7, delay 300 s',
      '20280003:1  Fridge 3  temperature [°C]  alarm: low 2, high 8, delay 600 s, hysteresis 0.3',
    ]);

    const cleared = await inlet('limits', 'set', '--channels', '20280002:1', '--level', 'warning', '--clear', '--reason', 'warnings not wanted', ...SIGNED);
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.match(cleared.stdout, /Fridge 2 .*: alarm: low 2, high 8\n$/);

    const wrong = await inlet('limits', 'set', '--channels', '20280001:7', '--high', '8', '--reason', 'x', ...SIGNED);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /Fridge 1 \(serial 20280001\) has no channel 7; it has 1, 2/);
    const inverted = await inlet('limits', 'set', '--channels', '20280001:1', '--low', '9', '--high', '8', '--reason', 'x', ...SIGNED);
    assert.equal(inverted.status, 2);
    assert.match(inverted.stderr, /low limit must be below its high limit/);
    const changes = await opened.events({ type: 'alarm.limits.changed' });
    assert.equal(changes.length, 5);
    for (const e of changes) {
      assert.equal(e.actor, 'qa.manager', 'the actor is the verified signer');
      assert.match(e.source ?? '', /^cli@/);
      assert.match(JSON.stringify(e.data), /"approved"/, 'the signature\'s meaning is bound to the event');
    }
  } finally {
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('`inlet limits set` and `copy` are signed: no free --by, no change without a signature, a wrong password or a signer without the operator role', { timeout: HANG_GUARD_MS }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-limits-signed-'));
  const config: InletConfig = { ...structuredClone(DEFAULT_CONFIG), dataDir };
  const store = await openStore(config);
  try {
    await store.migrate();
    await registerDevice(store, { serial: '20280011', model: 'T3510', name: 'Fridge 11' }, 'test', Date.now());
    await store.addUser({ username: 'qa.manager', role: 'operator', passwordHash: await hashPassword(PASSWORD) }, Date.now());
    await store.addUser({ username: 'vera.viewer', role: 'viewer', passwordHash: await hashPassword(PASSWORD) }, Date.now());
    const run = async (input: SignerInput, ...args: string[]) => {
      const lines: string[] = [];
      try {
        return { status: await limitsCommand(args, store, (line) => lines.push(line), { config, input }), text: lines.join('\n') };
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        return { status: 2, text: err.message };
      }
    };
    const change = ['set', '--channels', '20280011:1', '--high', '8', '--reason', 'SOP 12'];
    const before = (await store.events({ limit: 1 }))[0].id;

    const named = await run(pipedPassword(PASSWORD), ...change, '--by', 'qa.manager');
    assert.equal(named.status, 2, 'a free actor name is not an option any more');
    assert.match(named.text, /Unknown option '--by'/);
    const unsigned = await run(pipedPassword(PASSWORD), ...change);
    assert.equal(unsigned.status, 2);
    assert.match(unsigned.text, /alarm limits is signed: no terminal to ask for the password, so give --signer <user> --meaning <meaning> and pipe the password in with --password-stdin; no limits were changed/);
    const wrong = await run(pipedPassword('not-the-password'), ...change, '--signer', 'qa.manager', '--meaning', 'approved', '--password-stdin');
    assert.equal(wrong.status, 1);
    assert.match(wrong.text, /^refused: signature refused: the password is not yours .*; no limits were changed$/);
    const viewer = await run(pipedPassword(PASSWORD), 'copy', '--from', '20280011:1', '--to', '20280011:2', '--reason', 'same', '--signer', 'vera.viewer', '--meaning', 'approved', '--password-stdin');
    assert.equal(viewer.status, 2, 'nothing to copy yet');
    const viewerSet = await run(pipedPassword(PASSWORD), ...change, '--signer', 'vera.viewer', '--meaning', 'approved', '--password-stdin');
    assert.equal(viewerSet.status, 1);
    assert.match(viewerSet.text, /vera\.viewer does not hold the operator role on Fridge 11: only an operator or administrator there may sign its alarm limits; no limits were changed/);
    assert.deepEqual(await store.alarmLimits(), [], 'nothing was changed');
    const after = await store.events({ limit: 20 });
    assert.deepEqual(after.filter((e) => e.id > before).map((e) => e.type), ['signature.refused'], 'only the wrong password is recorded');
    const [refused] = after;
    assert.equal(refused.actor, 'qa.manager');
    assert.match(refused.source ?? '', /^cli@/);
  } finally {
    await store.close();
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
