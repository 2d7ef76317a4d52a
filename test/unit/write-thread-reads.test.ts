// The offline sweep reads on the SQLite write thread's connection (write-thread-reads.ts): under a
// fleet's load that thread runs anyway, and the reader worker is not started each minute for the sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteReadSide } from '../../src/store/sqlite/read-side.ts';
import { withReadsOnWriteThread } from '../../src/store/sqlite/write-thread-reads.ts';
import { OfflineDetector } from '../../src/jobs/offline.ts';

test('the offline sweep reads on the write thread: the same answers as the store\'s own, and no reader worker started', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-write-thread-reads-'));
  const file = path.join(dir, 'inlet.sqlite');
  const store = new SqliteStore({ file });
  const readSide = new SqliteReadSide(store, file);
  try {
    await store.migrate();
    const t0 = Date.UTC(2026, 0, 1);
    const quiet = await store.addDevice({ family: 'soap', serial: '40000007', modelCode: 4159, model: 'T3510', name: 'Cold room 2', entryToken: 'tok-write-thread-reads', allowedIntervalS: 60, channels: [] }, t0);
    const routed = withReadsOnWriteThread(readSide.store, store);
    assert.equal(store.writeWorker?.running, false, 'no write thread before the sweep');

    const summary = await new OfflineDetector(routed, { missedIntervals: 3 }, () => t0 + 10 * 60_000).sweep();
    assert.match(summary, new RegExp(`^1 devices, 1 offline; went offline: ${quiet.id};`));
    assert.equal(readSide.running, false, 'the reader worker was not started');
    assert.equal(store.writeWorker?.running, true, 'the write thread answered the reads');

    // each routed read answers as the store does on its own connection
    assert.deepEqual(await routed.deviceLiveness(), await store.deviceLiveness());
    assert.deepEqual(await routed.getDevice(quiet.id), await store.getDevice(quiet.id));
    assert.deepEqual(await routed.retirements(), await store.retirements());
    const open = await routed.alarms({ kind: 'offline', uncleared: true, limit: 10 });
    assert.deepEqual(open, await store.alarms({ kind: 'offline', uncleared: true, limit: 10 }));
    assert.equal(open.length, 1);
    assert.match(open[0].message, /^Cold room 2 \(serial 40000007\) is offline/);
    assert.equal(readSide.running, false);
  } finally {
    await readSide.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
