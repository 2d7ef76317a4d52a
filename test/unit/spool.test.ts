import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Batch, CommitResult } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { SpoolingSink, decodeBatch, encodeBatch } from '../../src/store/spool/spooling-sink.ts';
import { Journal } from '../../src/store/spool/journal.ts';

const quiet = { info() {}, warn() {}, error() {} };

function batch(n: number, raw = Buffer.from(`raw ${n}`)): Batch {
  return {
    upload: { deviceId: 1, family: 'soap', receivedAt: 1_700_000_000_000 + n, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw, verdict: 'accepted', reason: 'ok', serial: '1', counter: n },
    samples: [{ deviceId: 1, channel: 1, time: 1_700_000_000_000 + n, value: n, errorCode: null, alarm: 'no' }],
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
  };
}

/** A store whose commit() fails while `down` is set; records what it accepted, in order. */
class FakeStore {
  down: Error | null = null;
  received: Batch[] = [];
  async commit(b: Batch): Promise<CommitResult> {
    await new Promise((r) => setImmediate(r));
    if (this.down) throw this.down;
    this.received.push(b);
    return { uploadId: this.received.length, verdict: b.upload.verdict, samplesStored: b.samples.length, samplesDuplicate: 0 };
  }
}

async function withSink(body: (sink: SpoolingSink, store: FakeStore, dir: string) => Promise<void>, store = new FakeStore()) {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-spool-'));
  const sink = new SpoolingSink(store as unknown as Store, { dir, log: quiet, retryMs: 5, maxRetryMs: 20 });
  await sink.open();
  try { await body(sink, store, dir); } finally { await sink.close(); rmSync(dir, { recursive: true, force: true }); }
}

async function until(condition: () => boolean, what: string) {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('with the store up, batches pass straight through with an upload key and nothing is journaled', async () => {
  await withSink(async (sink, store, dir) => {
    const r = await sink.commit(batch(1));
    assert.equal(r.spooled, undefined);
    assert.equal(r.uploadId, 1);
    assert.match(store.received[0].upload.uploadKey ?? '', /^[0-9a-f]{12}-[0-9a-f-]{36}$/);
    assert.equal(statSync(path.join(dir, 'spool.journal')).size, 0);
    assert.equal(sink.gauge().depth, 0);
  });
});

test('store unavailable: batches are journaled durably, answered, then replayed in order once it is back', async () => {
  let now = 1_000;
  const store = new FakeStore();
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-spool-'));
  const sink = new SpoolingSink(store as unknown as Store, { dir, log: quiet, retryMs: 5, maxRetryMs: 20, now: () => now });
  await sink.open();
  try {
    store.down = new StoreUnavailableError('database away');
    const results = await Promise.all([1, 2, 3].map((n) => sink.commit(batch(n))));
    assert.ok(results.every((r) => r.spooled === true && r.uploadId === 0));
    assert.ok(statSync(path.join(dir, 'spool.journal')).size > 0, 'on disk before the caller was answered');
    now += 2_500;
    assert.deepEqual({ ...sink.gauge(), rejectedFile: '' }, { depth: 3, oldestAgeMs: 2_500, draining: true, lastError: 'database away', rejected: 0, rejectedFile: '' });
    store.down = null;
    // Back up, but the journal still holds batches: a new one queues behind them to keep order.
    const fourth = await sink.commit(batch(4));
    await until(() => sink.gauge().depth === 0 && !sink.gauge().draining, 'the drain');
    assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3, 4]);
    assert.ok(fourth.spooled);
    assert.equal(sink.gauge().oldestAgeMs, null);
    assert.equal(sink.gauge().lastError, null);
    assert.equal(statSync(path.join(dir, 'spool.journal')).size, 0, 'emptied once drained');
    assert.equal((await sink.commit(batch(5))).spooled, undefined, 'then straight through again');
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only batches an earlier run journaled are handed to onEarlierRunReplayed, each once, even after the journal restarts', async () => {
  const store = new FakeStore();
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-spool-'));
  try {
    store.down = new StoreUnavailableError('database away');
    const earlier = new SpoolingSink(store as unknown as Store, { dir, log: quiet, retryMs: 60_000 });
    await earlier.open();
    await Promise.all([1, 2].map((n) => earlier.commit(batch(n))));
    await earlier.close();

    const replayed: number[] = [];
    const sink = new SpoolingSink(store as unknown as Store, {
      dir, log: quiet, retryMs: 5, maxRetryMs: 20, onEarlierRunReplayed: (b, r) => { replayed.push(b.upload.counter!); assert.equal(r.samplesStored, 1); },
    });
    await sink.open();
    try {
      assert.equal((await sink.commit(batch(3))).spooled, true, 'this run\'s batch queues behind the earlier ones');
      store.down = null;
      await until(() => sink.gauge().depth === 0 && !sink.gauge().draining, 'the drain');
      // The journal is emptied and restarts at offset 0: later spooled batches are this run's own.
      store.down = new StoreUnavailableError('database away again');
      await sink.commit(batch(4));
      store.down = null;
      await until(() => sink.gauge().depth === 0 && !sink.gauge().draining, 'the second drain');
      assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3, 4]);
      assert.deepEqual(replayed, [1, 2]);
    } finally {
      await sink.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an error about the batch itself is not spooled: it goes back to the caller', async () => {
  await withSink(async (sink, store) => {
    store.down = new Error('CHECK constraint ck_samples_alarm');
    await assert.rejects(sink.commit(batch(1)), /ck_samples_alarm/);
    assert.equal(sink.gauge().depth, 0);
  });
});

test('a spooled batch the store refuses on replay is set aside and the rest are replayed', async () => {
  await withSink(async (sink, store, dir) => {
    store.down = new StoreUnavailableError('away');
    await sink.commit(batch(1));
    await sink.commit(batch(2));
    let calls = 0;
    const original = store.commit.bind(store);
    store.commit = async (b: Batch) => {
      calls++;
      if (b.upload.counter === 1) throw new Error('FOREIGN KEY constraint fk_uploads_devices');
      return original(b);
    };
    store.down = null;
    await until(() => sink.gauge().depth === 0 && !sink.gauge().draining, 'the drain');
    assert.deepEqual(store.received.map((b) => b.upload.counter), [2]);
    assert.equal(sink.gauge().rejected, 1);
    const rejected = readFileSync(path.join(dir, 'spool.rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rejected.length, 1);
    assert.match(rejected[0].error, /fk_uploads_devices/);
    assert.equal(decodeBatch(Buffer.from(rejected[0].batch)).upload.counter, 1);
    assert.ok(calls >= 2);
  });
});

test('raw bytes survive the journal round trip exactly', async () => {
  const every = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
  const b = batch(1, every);
  assert.ok(decodeBatch(encodeBatch(b)).upload.raw.equals(every));
  assert.deepEqual({ ...decodeBatch(encodeBatch(b)), upload: { ...decodeBatch(encodeBatch(b)).upload, raw: null } }, { ...b, upload: { ...b.upload, raw: null } });
  await withSink(async (sink, store) => {
    store.down = new StoreUnavailableError('away');
    await sink.commit(b);
    store.down = null;
    await until(() => store.received.length === 1, 'the replay');
    assert.ok(store.received[0].upload.raw.equals(every));
  });
});

test('journal: a record torn by a crash is dropped at open; a damaged one is moved aside', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-'));
  try {
    const file = path.join(dir, 'j');
    const j = new Journal(file);
    await j.open();
    await j.append(Buffer.from('one'), 1);
    await j.append(Buffer.from('two'), 2);
    await j.close();
    appendFileSync(file, Buffer.from([0x49, 0x4e, 0x4c, 0x31, 0xff, 0, 0])); // a header cut short
    const reopened = new Journal(file);
    const report = await reopened.open();
    assert.deepEqual({ ...report }, { pending: 2, droppedTailBytes: 7, damagedCopy: null });
    assert.deepEqual((await reopened.peek(10)).map((r) => r.payload.toString()), ['one', 'two']);
    await reopened.advance((await reopened.peek(1))[0].end);
    assert.deepEqual((await reopened.peek(10)).map((r) => [r.payload.toString(), r.appendedAt]), [['two', 2]]);
    await reopened.close();

    // Flip a byte inside the first pending record: it and everything after it go to a side file.
    const bytes = readFileSync(file);
    const cursor = JSON.parse(readFileSync(`${file}.cursor`, 'utf8')).offset as number;
    bytes[cursor + 21] ^= 0xff;
    writeFileSync(file, Buffer.concat([bytes, bytes.subarray(cursor)]));
    const damaged = new Journal(file);
    const damagedReport = await damaged.open();
    assert.equal(damagedReport.pending, 0);
    assert.ok(damagedReport.damagedCopy && existsSync(damagedReport.damagedCopy));
    await damaged.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
