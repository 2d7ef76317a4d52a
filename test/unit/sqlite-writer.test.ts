// The SQLite write thread beyond the store contract: what it does around commits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Batch } from '../../src/domain/types.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

test('after a large group the write thread checkpoints the WAL into the database file itself, after answering', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-writer-'));
  const file = path.join(dir, 'inlet.sqlite');
  const store = new SqliteStore({ file });
  try {
    await store.migrate();
    const d = await store.addDevice({ family: 'logger', serial: '19990001', modelCode: 1, model: 'U3631M', name: 'L', entryToken: 'tok-writer-test', channels: [] }, 1);
    const sizeBefore = statSync(file).size;
    const raw = Buffer.alloc(6 * 1024 * 1024, 0x5b);
    const batch: Batch = {
      upload: { deviceId: d.id, family: 'logger', receivedAt: 2, remoteAddress: '', contentType: 'application/json', raw, verdict: 'accepted', reason: 'ok', serial: '19990001', counter: 1 },
      samples: Array.from({ length: 1000 }, (_, i) => ({ deviceId: d.id, channel: 1, time: i * 60_000, value: i / 10, errorCode: null, alarm: 'no' as const })),
      channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    };
    const r = await store.commit(batch);
    assert.equal(r.samplesStored, 1000);
    // Automatic checkpoints are off on the write connection, so only the thread's own one moves the pages.
    const deadline = Date.now() + HANG_GUARD_MS;   // a give-up time: the loop waits for the checkpoint
    while (statSync(file).size < sizeBefore + raw.length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    assert.ok(statSync(file).size >= sizeBefore + raw.length, `database file ${statSync(file).size} bytes: not checkpointed`);
    assert.deepEqual((await store.uploads({ deviceId: d.id }))[0].raw.length, raw.length);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
