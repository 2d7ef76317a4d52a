// The SQLite write worker gives its memory back when there is nothing to write (WRITER_IDLE_MS), and the
// next write starts a new one that links on from the chains the stopped one wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { verifyIntegrity } from '../../src/jobs/verify.ts';
import type { Batch } from '../../src/domain/types.ts';
import { WAIT_GIVE_UP_MS } from '../support/hang-guard.ts';

async function until(condition: () => boolean, what: string): Promise<void> {
  // a give-up time, not a speed requirement
  const deadline = Date.now() + WAIT_GIVE_UP_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${WAIT_GIVE_UP_MS / 60_000} minutes`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function batchOf(deviceId: number, counter: number): Batch {
  return {
    upload: { deviceId, family: 'logger', receivedAt: counter * 1000, remoteAddress: '', contentType: 'application/json', raw: Buffer.from(`upload ${counter}`), verdict: 'accepted', reason: 'ok', serial: '19990003', counter },
    samples: [{ deviceId, channel: 1, time: counter * 60_000, value: counter / 10, errorCode: null, alarm: 'no' as const }],
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
  };
}

test('the write worker stops after its idle time without a write, and the next write starts one that chains on', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-write-idle-'));
  const file = path.join(dir, 'inlet.sqlite');
  const store = new SqliteStore({ file, writerIdleMs: 50 });
  try {
    await store.migrate();
    const d = await store.addDevice({ family: 'logger', serial: '19990003', modelCode: 1, model: 'U3631M', name: 'L', entryToken: 'tok-write-idle', channels: [] }, 1);
    assert.deepEqual(store.writeWorker, { running: false, started: 0 }, 'no worker before the first write');
    assert.equal((await store.commit(batchOf(d.id, 1))).samplesStored, 1);
    assert.equal(store.writeWorker?.started, 1);
    await until(() => store.writeWorker?.running === false, 'the idle write worker stopped');
    // the next write starts a new worker, whose chain head comes from the database
    assert.equal((await store.commit(batchOf(d.id, 2))).samplesStored, 1);
    assert.equal(store.writeWorker?.started, 2);
    assert.equal((await store.uploads({ deviceId: d.id })).length, 2);
    const report = await verifyIntegrity(store, { chainKey: null });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.uploadsChecked, 2);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
