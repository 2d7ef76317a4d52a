// `inlet backup` while the gateway runs and devices keep uploading: every copy is consistent (it opens, its hash
// chains verify with `inlet verify`) and holds at least every upload acknowledged before the copy began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { startChildGateway, tempDir } from './harness.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
const FIXTURE = fs.readFileSync(new URL('../fixtures/soap/t3510-bom.xml', import.meta.url));
const execFileAsync = promisify(execFile);

function inlet(dataDir: string, ...args: string[]) {
  return execFileAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dataDir, INLET_CONFIG: '' } });
}

function uploadsIn(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try { return (db.prepare('SELECT COUNT(*) AS n FROM uploads').get() as { n: number }).n; } finally { db.close(); }
}

test('inlet backup copies the live SQLite store while uploads flow; each copy passes inlet verify', { timeout: HANG_GUARD_MS }, async () => {
  const dataDir = tempDir('inlet-backup-');
  const gw = await startChildGateway(dataDir, { INLET_THROTTLE_ENABLED: 'false' });
  let flowing = true;
  let acknowledged = 0;
  try {
    const added = await inlet(dataDir, 'device', 'add', '--serial', '20960050', '--model', 'T3510', '--name', 'Cold room 1', '--reason', 'commissioning');
    const token = /\/ingest\/soap\/(\S+)/.exec(added.stdout)?.[1];
    assert.ok(token, added.stdout);
    const url = `${gw.url}/ingest/soap/${token}`;
    // The gateway learns of the device from the database within its registry refresh.
    while ((await fetch(url, { method: 'POST', body: FIXTURE })).status !== 200) await new Promise((r) => setTimeout(r, 100));
    acknowledged = 1;
    const uploading = (async () => {
      while (flowing) {
        const res = await fetch(url, { method: 'POST', body: FIXTURE });
        assert.equal(res.status, 200, await res.text());
        acknowledged++;
      }
    })();

    const backups = tempDir('inlet-backup-out-');
    for (let i = 1; i <= 2; i++) {
      // Wait for uploads to be flowing into this copy, not only between copies.
      const target = acknowledged + 5;
      while (acknowledged < target) await new Promise((r) => setTimeout(r, 10));
      const before = acknowledged;
      const copyDir = path.join(backups, `copy-${i}`);
      fs.mkdirSync(copyDir);
      const out = await inlet(dataDir, 'backup', '--out', path.join(copyDir, 'inlet.sqlite'));
      const after = acknowledged;
      assert.match(out.stdout, /backed up .* chains verified/);
      const inCopy = uploadsIn(path.join(copyDir, 'inlet.sqlite'));
      assert.ok(inCopy >= before, `copy ${i} holds ${inCopy} uploads; ${before} were acknowledged before it began`);
      assert.ok(inCopy <= after, `copy ${i} holds ${inCopy} uploads; only ${after} were acknowledged when it ended`);
      assert.ok(!fs.existsSync(path.join(copyDir, 'inlet.sqlite-wal')) || fs.statSync(path.join(copyDir, 'inlet.sqlite-wal')).size === 0, 'the copy is one file');
      // The copy, as IT would check it: in a folder with chain.key and a config naming it.
      fs.copyFileSync(path.join(dataDir, 'chain.key'), path.join(copyDir, 'chain.key'));
      fs.writeFileSync(path.join(copyDir, 'inlet.config.json'), '{ "dataDir": "." }');
      const verified = await execFileAsync(process.execPath, [CLI, 'verify', '--config', path.join(copyDir, 'inlet.config.json')],
        { encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: '', INLET_CONFIG: '' } });
      assert.match(verified.stdout, new RegExp(`integrity OK: ${inCopy} uploads`));
    }
    flowing = false;
    await uploading;

    await assert.rejects(inlet(dataDir, 'backup', '--out', path.join(backups, 'copy-1', 'inlet.sqlite')), /exists: choose a new name, or add --force/);
    await assert.rejects(inlet(dataDir, 'backup'), /--out <file> is required/);
  } finally {
    flowing = false;
    gw.child.kill('SIGTERM');
    await gw.exited;
  }
});
