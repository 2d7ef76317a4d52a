// Kill -9 in the middle of a drain, restart, and every spooled batch is stored exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch, CommitResult } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SpoolingSink } from '../../src/store/spool/spooling-sink.ts';

const CHILD = fileURLToPath(new URL('./fixtures/spool-drain-child.ts', import.meta.url));
const COUNT = 60;
const quiet = { info() {}, warn() {}, error() {} };

function countRows(db: string, sql: string): number {
  const conn = new DatabaseSync(db, { readOnly: true });
  try { return (conn.prepare(sql).get() as { n: number }).n; } finally { conn.close(); }
}

test('a drain killed with SIGKILL midway resumes after restart and stores every batch exactly once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-spool-crash-'));
  const db = path.join(dir, 'inlet.sqlite');
  try {
    const setup = new SqliteStore({ file: db });
    await setup.migrate();
    const device = await setup.addDevice({ family: 'soap', serial: '55500001', modelCode: null, model: 'T3311', name: 'crash test', entryToken: 'crash-token', channels: [] }, 0);
    await setup.close();

    // Fill the spool while "the database is away".
    const away = { commit: async (): Promise<CommitResult> => { throw new StoreUnavailableError('away'); } } as unknown as Store;
    const filling = new SpoolingSink(away, { dir, log: quiet, retryMs: 60_000 });
    await filling.open();
    for (let n = 0; n < COUNT; n++) {
      const batch: Batch = {
        upload: { deviceId: device.id, family: 'soap', receivedAt: 1_700_000_000_000 + n, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw: Buffer.from([n, 0, 255]), verdict: 'accepted', reason: 'ok', serial: '55500001', counter: n },
        samples: [{ deviceId: device.id, channel: 1, time: 1_700_000_000_000 + n * 60_000, value: n, errorCode: null, alarm: 'no' }],
        channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
      };
      assert.equal((await filling.commit(batch)).spooled, true);
    }
    await filling.close();

    // First drain: killed once part of the spool is in the database.
    const first = spawn(process.execPath, [CHILD, dir, db, '15'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => first.on('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 20_000;
    while (countRows(db, 'SELECT COUNT(*) AS n FROM uploads') < 10) {
      assert.ok(Date.now() < deadline, 'the first drain made progress');
      await new Promise((r) => setTimeout(r, 5));
    }
    first.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const afterKill = countRows(db, 'SELECT COUNT(*) AS n FROM uploads');
    assert.ok(afterKill > 0 && afterKill < COUNT, `killed midway (${afterKill} of ${COUNT} stored)`);

    // Restart: it replays from its last recorded position; what had landed is a no-op by upload key.
    const second = spawn(process.execPath, [CHILD, dir, db, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    second.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => second.on('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    assert.match(output, /drained/);

    assert.equal(countRows(db, 'SELECT COUNT(*) AS n FROM uploads'), COUNT);
    assert.equal(countRows(db, 'SELECT COUNT(DISTINCT upload_key) AS n FROM uploads'), COUNT);
    assert.equal(countRows(db, 'SELECT COUNT(*) AS n FROM samples'), COUNT);
    assert.equal(countRows(db, "SELECT COUNT(*) AS n FROM uploads WHERE verdict = 'accepted'"), COUNT);
    const conn = new DatabaseSync(db, { readOnly: true });
    const counters = (conn.prepare('SELECT counter FROM uploads ORDER BY id').all() as { counter: number }[]).map((r) => r.counter);
    conn.close();
    assert.deepEqual(counters, Array.from({ length: COUNT }, (_, n) => n), 'stored once each, in the order spooled');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
