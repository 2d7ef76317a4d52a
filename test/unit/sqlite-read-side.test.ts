// The viewer's reader worker (SqliteReadSide) beyond the store contract: it gives its memory back
// when nobody reads, and comes back for the next read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteReadSide } from '../../src/store/sqlite/read-side.ts';
import { WAIT_GIVE_UP_MS } from '../support/hang-guard.ts';

async function until(condition: () => boolean, what: string): Promise<void> {
  // a give-up time, not a speed requirement
  const deadline = Date.now() + WAIT_GIVE_UP_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${WAIT_GIVE_UP_MS / 60_000} minutes`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the reader worker stops after its idle time without a request, and a later read starts it again with its count kept', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-read-side-'));
  const file = path.join(dir, 'inlet.sqlite');
  const store = new SqliteStore({ file });
  const readSide = new SqliteReadSide(store, file, 50);
  try {
    await store.migrate();
    const d = await store.addDevice({ family: 'logger', serial: '19990002', modelCode: 1, model: 'U3631M', name: 'L', entryToken: 'tok-read-side', channels: [] }, 1);
    assert.equal(readSide.running, false, 'no worker before the first read');
    assert.equal((await readSide.store.listDevices()).length, 1);
    await readSide.store.latestValues(d.id);
    const readsBefore = await readSide.viewerReads();
    assert.ok(readsBefore >= 1, 'the worker counted the measured-data read');
    await until(() => !readSide.running, 'the idle worker stopped');
    // the next read starts a new worker, which answers as the first did
    assert.equal((await readSide.store.getDevice(d.id))?.serial, '19990002');
    assert.equal(readSide.running, true);
    await readSide.store.latestValues(d.id);
    assert.equal(await readSide.viewerReads(), readsBefore + 1, 'the reads of the stopped worker still count');
  } finally {
    await readSide.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closing an idle reader worker is the last thing a process may do: the close completes and the process exits 0', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-read-side-'));
  try {
    // In a process of its own: the event loop holds nothing but the close (as at the end of the gateway's stop()).
    const script = [
      `import { SqliteStore } from ${JSON.stringify(new URL('../../src/store/sqlite/sqlite-store.ts', import.meta.url).href)};`,
      `import { SqliteReadSide } from ${JSON.stringify(new URL('../../src/store/sqlite/read-side.ts', import.meta.url).href)};`,
      `const file = ${JSON.stringify(path.join(dir, 'inlet.sqlite'))};`,
      'const store = new SqliteStore({ file });',
      'await store.migrate();',
      'const readSide = new SqliteReadSide(store, file, 60_000);',
      'await readSide.store.listDevices();',
      'await readSide.close();',
      "process.stdout.write('closed');",
    ].join('\n');
    const scriptFile = path.join(dir, 'close-last.mjs');
    writeFileSync(scriptFile, script);
    const run = spawnSync(process.execPath, [scriptFile], { encoding: 'utf8' });
    assert.equal(run.stdout, 'closed', `the close did not complete: ${run.stderr}`);
    assert.equal(run.status, 0, run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
