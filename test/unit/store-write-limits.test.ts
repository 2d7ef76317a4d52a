// The write path's limits, without a database: groups capped by rows and bytes (a large backlog
// commits alone), replay chunks capped by bytes, the writer lock always shorter than the request
// timeout, and a pool that frees no connection counted as "store unavailable".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TimeoutError } from 'tarn';
import type { Batch } from '../../src/domain/types.ts';
import { GroupCommitter } from '../../src/store/group-commit.ts';
import { EVENT_CHAIN_LOCK_TIMEOUT_MS, GROUP_LIMITS, batchWeight, purposeTimeouts } from '../../src/store/mssql/mssql-store.ts';
import { explainMssqlError } from '../../src/store/mssql/errors.ts';
import { isTransientStoreError } from '../../src/store/errors.ts';
import { Journal } from '../../src/store/spool/journal.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function batch(samples: number, rawBytes = 100): Batch {
  return {
    upload: { deviceId: 1, family: 'soap', receivedAt: 0, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw: Buffer.alloc(rawBytes), verdict: 'accepted', reason: 'ok', serial: '1', counter: null },
    samples: Array.from({ length: samples }, (_, i) => ({ deviceId: 1, channel: 1, time: i, value: i, errorCode: null, alarm: 'no' as const })),
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
  };
}

/** Submits all items in one turn and records the sizes of the groups the writer is handed. */
async function groupsOf(items: Batch[], limits: { rows: number; bytes: number }): Promise<number[]> {
  const sizes: number[] = [];
  const committer = new GroupCommitter<Batch, number>((group) => { sizes.push(group.length); return group.map(() => 0); },
    { maxGroup: 500, limits: { ...limits, weigh: batchWeight } });
  await Promise.all(items.map((b) => committer.submit(b)));
  return sizes;
}

test('a group stops before the batch that would take it past the row cap; a batch over the cap commits alone', async () => {
  const sizes = await groupsOf([batch(10), batch(10), batch(10), batch(100_000), batch(10)], { rows: 25, bytes: Number.MAX_SAFE_INTEGER });
  assert.deepEqual(sizes, [2, 1, 1, 1]);
});

test('a group stops at the byte cap too: large raw bodies go a few at a time', async () => {
  const sizes = await groupsOf(Array.from({ length: 10 }, () => batch(1, 1_000_000)), { rows: Number.MAX_SAFE_INTEGER, bytes: 3_500_000 });
  assert.deepEqual(sizes, [3, 3, 3, 1]);
});

test('the default caps keep a few 100,000-sample backlogs out of one transaction', async () => {
  const sizes = await groupsOf([batch(100_000), batch(100_000), batch(100_000)], GROUP_LIMITS);
  assert.deepEqual(sizes, [1, 1, 1]);
});

test('the writer lock is always waited for less long than the request that waits for it', () => {
  for (const commandTimeoutMs of [1000, 5000, 15_000, 20_000, 30_000, 120_000]) {
    const t = purposeTimeouts(commandTimeoutMs);
    assert.ok(t.writerLockMs < t.writerRequestMs, `${commandTimeoutMs}: lock ${t.writerLockMs} < request ${t.writerRequestMs}`);
    // inlet.apply_upload_batch (migration 037) waits for the upload writer lock, then the event chain
    // lock, in one request, each up to writerLockMs: both waits together must end before the request.
    assert.ok(2 * t.writerLockMs < t.writerRequestMs, `${commandTimeoutMs}: two lock waits ${2 * t.writerLockMs} < request ${t.writerRequestMs}`);
    assert.ok(t.writerLockMs <= 10_000);
    assert.equal(t.adminMs, 0, 'migrations and admin jobs run without a timeout');
  }
});

test('a change (configuration, alarm, report) waits for the event chain lock less long than its request; the viewer keeps the Command Timeout', () => {
  for (const commandTimeoutMs of [1000, 5000, 15_000, 20_000, 30_000, 120_000]) {
    const t = purposeTimeouts(commandTimeoutMs);
    assert.ok(EVENT_CHAIN_LOCK_TIMEOUT_MS < t.changeMs, `${commandTimeoutMs}: event chain lock ${EVENT_CHAIN_LOCK_TIMEOUT_MS} < change request ${t.changeMs}`);
    assert.ok(t.changeMs >= commandTimeoutMs);
    assert.equal(t.readMs, commandTimeoutMs);
  }
});

test('a pool that frees no connection in time (tarn TimeoutError, as mssql passes it on) is "store unavailable"', () => {
  const err = new TimeoutError('Failed to acquire a connection from the pool: operation timed out for an unknown reason');
  const explained = explainMssqlError(err, { target: 'server sql01, database inlet, SQL login inlet_svc' });
  assert.ok(isTransientStoreError(explained), explained.message);
  assert.match(explained.message, /^no connection to SQL Server freed up in time/);
});

test('a replay chunk stops at its byte cap, and always holds the first record however large', async () => {
  const journal = new Journal(path.join(tempDir('inlet-journal-bytes-'), 'spool.journal'));
  await journal.open();
  try {
    for (const size of [5000, 100, 100, 100, 100]) await journal.append(Buffer.alloc(size), 0);
    assert.equal((await journal.peek(200, 1000)).length, 1, 'the first record, over the cap, comes alone');
    await journal.advance((await journal.peek(1))[0].end);
    assert.equal((await journal.peek(200, 250)).length, 2);
    assert.equal((await journal.peek(3, 10_000)).length, 3, 'the count still caps');
  } finally {
    await journal.close();
  }
});

test('upload keys grow at the end of each gateway\'s range: the journal\'s id, then the record\'s position in hex, so the index takes inserts on one page per instance', async () => {
  // The keys the journal gives each batch (spooling-sink.ts); a random key per upload would put each
  // insert on a random page of an index that grows with the archive.
  const { uploadKeyOf } = await import('../../src/store/spool/record-codec.ts');
  const journalId = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const positions = [0, 9, 10, 255, 4096, 2 ** 40];
  const keys = positions.map((p) => uploadKeyOf(journalId, p));
  assert.deepEqual([...keys].sort(), keys, 'keys sort as positions do');
  assert.ok(keys.every((k) => k.startsWith(`${journalId}:`) && k.length <= 64), 'fits inlet.uploads.upload_key varchar(64)');
});
