// Kill -9 while the journal is being applied (inside an apply, between an apply and its cursor,
// while a wholly applied segment is deleted), restart, and every journaled batch is stored exactly
// once, in journal order. Kill -9 during an append is covered by test/e2e/crash.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch, CommitResult } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SpoolingSink } from '../../src/store/spool/spooling-sink.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const CHILD = fileURLToPath(new URL('./fixtures/spool-drain-child.ts', import.meta.url));
const COUNT = 60;
/** Small enough that the journal spans many segments, deleted one after another during the apply. */
const SEGMENT_BYTES = 1024;
const quiet = { info() {}, warn() {}, error() {} };

function countRows(db: string, sql: string): number {
  // the child may hold the write lock or be recovering the WAL: the read waits for it (busy timeout), however long a busy machine takes
  const conn = new DatabaseSync(db, { readOnly: true, timeout: HANG_GUARD_MS });
  try { return (conn.prepare(sql).get() as { n: number }).n; } finally { conn.close(); }
}

function segments(dir: string): number { return readdirSync(dir).filter((n) => n.endsWith('.seg')).length; }

for (const mode of ['batches', 'commit'] as const) {
  test(`an apply (${mode === 'batches' ? "the store's applyBatches" : 'commit() per batch'}) killed with SIGKILL twice midway resumes after restart and stores every batch exactly once`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inlet-spool-crash-'));
    const db = path.join(dir, 'inlet.sqlite');
    try {
      const setup = new SqliteStore({ file: db });
      await setup.migrate();
      const device = await setup.addDevice({ family: 'soap', serial: '55500001', modelCode: null, model: 'T3311', name: 'crash test', entryToken: 'crash-token', channels: [] }, 0);
      await setup.close();

      // Journal every batch while "the database is away", so that the apply happens in the children.
      const away = { commit: async (): Promise<CommitResult> => { throw new StoreUnavailableError('away'); } } as unknown as Store;
      const filling = new SpoolingSink(away, { dir, log: quiet, retryMs: 60_000, segmentBytes: SEGMENT_BYTES });
      await filling.open();
      // One at a time: one append each, so that segments roll over (a group would share one).
      for (let n = 0; n < COUNT; n++) {
        const batch: Batch = {
          upload: { deviceId: device.id, family: 'soap', receivedAt: 1_700_000_000_000 + n, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw: Buffer.from([n, 0, 255]), verdict: 'accepted', reason: 'ok', serial: '55500001', counter: n },
          samples: [{ deviceId: device.id, channel: 1, time: 1_700_000_000_000 + n * 60_000, value: n, errorCode: null, alarm: 'no' }],
          channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
        };
        await filling.commit(batch);
      }
      await filling.close(0);
      const segmentsBefore = segments(dir);
      assert.ok(segmentsBefore >= 5, `the journal spans several segments (${segmentsBefore})`);

      // Two applies killed once part of the journal is in the database, at different points.
      for (const killAt of [10, 35]) {
        const child = spawn(process.execPath, [CHILD, dir, db, '10', String(SEGMENT_BYTES), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        const deadline = Date.now() + HANG_GUARD_MS;   // a give-up time: the loop waits for the count
        while (countRows(db, 'SELECT COUNT(*) AS n FROM uploads') < killAt) {
          assert.ok(Date.now() < deadline, 'the apply made progress');
          await new Promise((r) => setTimeout(r, 2));
        }
        child.kill('SIGKILL');
        assert.equal(await exited, 'SIGKILL');
        const afterKill = countRows(db, 'SELECT COUNT(*) AS n FROM uploads');
        assert.ok(afterKill > 0 && afterKill < COUNT, `killed midway (${afterKill} of ${COUNT} stored)`);
      }
      assert.ok(segments(dir) < segmentsBefore, 'applied segments were deleted on the way');

      // Restart: it applies from its last recorded cursor; what had landed is a no-op by upload key.
      const last = spawn(process.execPath, [CHILD, dir, db, '0', String(SEGMENT_BYTES), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      last.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      const code = await new Promise<number | null>((resolve) => last.on('exit', (c) => resolve(c)));
      assert.equal(code, 0);
      assert.match(output, /drained, 0 rejected/, 'no batch was refused as a second copy of one already stored');

      assert.equal(countRows(db, 'SELECT COUNT(*) AS n FROM uploads'), COUNT);
      assert.equal(countRows(db, 'SELECT COUNT(DISTINCT upload_key) AS n FROM uploads'), COUNT);
      assert.equal(countRows(db, 'SELECT COUNT(*) AS n FROM samples'), COUNT);
      assert.equal(countRows(db, "SELECT COUNT(*) AS n FROM uploads WHERE verdict = 'accepted'"), COUNT);
      const conn = new DatabaseSync(db, { readOnly: true, timeout: 10_000 }); // the child may hold the write lock or be recovering the WAL
      const counters = (conn.prepare('SELECT counter FROM uploads ORDER BY id').all() as { counter: number }[]).map((r) => r.counter);
      conn.close();
      assert.deepEqual(counters, Array.from({ length: COUNT }, (_, n) => n), 'stored once each, in the order journaled');
      assert.equal(segments(dir), 1, 'only the open segment is left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
