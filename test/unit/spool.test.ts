import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Batch, CommitResult } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { SpoolingSink, decodeBatch, encodeBatch } from '../../src/store/spool/spooling-sink.ts';
import { Journal, splitRecords, unappliedJournalBytes } from '../../src/store/spool/journal.ts';
import { BatchRecord } from '../../src/store/spool/record-codec.ts';
import { WAIT_GIVE_UP_MS } from '../support/hang-guard.ts';

const quiet = { info() {}, warn() {}, error() {} };

function batch(n: number, raw = Buffer.from(`raw ${n}`)): Batch {
  return {
    upload: { deviceId: 1, family: 'soap', receivedAt: 1_700_000_000_000 + n, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw, verdict: 'accepted', reason: 'ok', serial: '1', counter: n },
    samples: [{ deviceId: 1, channel: 1, time: 1_700_000_000_000 + n, value: n, errorCode: null, alarm: 'no' }],
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
  };
}

/**
 * A store with the journal's applyBatches(): fails while `down` is set; records what it applied, in
 * order, with the maybeStored flags it was given, and stores an upload key once.
 */
class FakeStore {
  down: Error | null = null;
  refuse: ((b: Batch) => Error | null) | null = null;
  received: Batch[] = [];
  chunks: { counters: (number | null)[]; maybeStored: boolean[] }[] = [];
  private readonly keys = new Map<string, number>();
  async applyBatches(batches: Batch[], maybeStored: boolean[]): Promise<(CommitResult | Error)[]> {
    await new Promise((r) => setImmediate(r));
    if (this.down) throw this.down;
    this.chunks.push({ counters: batches.map((b) => b.upload.counter), maybeStored });
    return batches.map((b) => {
      const refused = this.refuse?.(b);
      if (refused) return refused;
      const key = b.upload.uploadKey!;
      if (!this.keys.has(key)) { this.received.push(b); this.keys.set(key, this.received.length); }
      return { uploadId: this.keys.get(key)!, verdict: b.upload.verdict, samplesStored: b.samples.length, samplesDuplicate: 0 };
    });
  }
  async commit(): Promise<CommitResult> { throw new Error('the journal applies through applyBatches'); }
}

function newDir(): string { return mkdtempSync(path.join(tmpdir(), 'inlet-spool-')); }

async function withSink(body: (sink: SpoolingSink, store: FakeStore, dir: string) => Promise<void>, store = new FakeStore(), options = {}) {
  const dir = newDir();
  const sink = new SpoolingSink(store as unknown as Store, { dir, log: quiet, retryMs: 5, maxRetryMs: 20, ...options });
  await sink.open();
  try { await body(sink, store, dir); } finally { await sink.close(); rmSync(dir, { recursive: true, force: true }); }
}

async function until(condition: () => boolean, what: string) {
  const deadline = Date.now() + WAIT_GIVE_UP_MS;   // a give-up time, not a speed requirement
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function segmentBytes(dir: string): number {
  return readdirSync(dir).filter((n) => n.endsWith('.seg')).reduce((n, f) => n + readFileSync(path.join(dir, f)).length, 0);
}

test('every batch is journaled (one write and fsync per turn) before its caller is answered, then applied in order with a positional upload key', async () => {
  await withSink(async (sink, store, dir) => {
    const journal = (sink as unknown as { journal: Journal }).journal;
    const writeGroup = journal.writeGroup.bind(journal);
    const syncGroup = journal.syncGroup.bind(journal);
    const appends: number[] = [];
    const synced: number[] = [];
    journal.writeGroup = async (payloads, at) => { appends.push(payloads.length); return writeGroup(payloads, at); };
    journal.syncGroup = async (group) => { await syncGroup(group); synced.push(segmentBytes(dir)); };
    const results = await Promise.all([1, 2, 3].map((n) => sink.commit(batch(n))));
    assert.deepEqual(appends, [3], 'three batches of one turn share one write');
    assert.ok(synced[0] > 0, 'written and synced before the callers were answered');
    assert.ok(results.every((r) => r.spooled === true && r.uploadId === 0 && r.samplesStored === 1));
    assert.ok(await sink.waitApplied(5000), 'applied');
    assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3]);
    assert.deepEqual(store.chunks.flatMap((c) => c.maybeStored), [false, false, false], 'a first apply looks up no key');
    const keys = store.received.map((b) => b.upload.uploadKey!);
    assert.ok(keys.every((k) => /^[0-9a-f-]{36}:[0-9a-f]{12}$/.test(k)), keys.join());
    assert.deepEqual([...keys].sort(), keys, 'keys sort in journal order');
    assert.deepEqual({ depth: sink.gauge().depth, journaled: sink.gauge().journaled, applied: sink.gauge().applied, oldest: sink.gauge().oldestAgeMs }, { depth: 0, journaled: 3, applied: 3, oldest: null });
  });
});

test('store unavailable: batches are still acknowledged, the apply retries from the journal, and each lands once in order', async () => {
  let now = 1_000;
  const store = new FakeStore();
  store.down = new StoreUnavailableError('database away');
  await withSink(async (sink) => {
    const results = await Promise.all([1, 2, 3].map((n) => sink.commit(batch(n))));
    assert.ok(results.every((r) => r.spooled === true));
    await until(() => sink.gauge().lastError === 'database away', 'the failed apply');
    now += 2_500;
    assert.deepEqual({ depth: sink.gauge().depth, oldestAgeMs: sink.gauge().oldestAgeMs }, { depth: 3, oldestAgeMs: 2_500 });
    assert.equal(await sink.waitApplied(20), false, 'a read waiting for the apply is told it is pending');
    await sink.commit(batch(4));
    store.down = null;
    assert.ok(await sink.waitApplied(5000));
    assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3, 4]);
    assert.equal(store.chunks[0].maybeStored[0], true, 'a chunk retried after a failure may have landed: keys are looked up');
    assert.equal(sink.gauge().lastError, null);
  }, store, { now: () => now });
});

test('under load the apply is paced: what is journaled within applyEveryMs of a round waits for the next one, unless a read waits for it or a full chunk is there', async () => {
  await withSink(async (sink, store) => {
    await sink.commit(batch(1));
    await until(() => store.received.length === 1, 'the first batch, applied at once (no round ran before it)');
    await Promise.all([2, 3].map((n) => sink.commit(batch(n))));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual({ applied: store.received.length, depth: sink.gauge().depth }, { applied: 1, depth: 2 }, 'the next round waits for its time');
    assert.ok(await sink.waitApplied(5000), 'a read that waits starts the round now');
    assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3]);
    await Promise.all([4, 5, 6, 7].map((n) => sink.commit(batch(n))));
    await until(() => store.received.length === 7, 'a full chunk (replayChunk batches), applied without waiting');
    assert.deepEqual(store.chunks.map((c) => c.counters), [[1], [2, 3], [4, 5, 6, 7]]);
  }, new FakeStore(), { applyEveryMs: 600_000, replayChunk: 4 });
});

test('a store without applyBatches gets each batch through commit()', async () => {
  const received: (number | null)[] = [];
  const store = { async commit(b: Batch): Promise<CommitResult> { received.push(b.upload.counter); return { uploadId: received.length, verdict: 'accepted', samplesStored: 1, samplesDuplicate: 0 }; } };
  const dir = newDir();
  const sink = new SpoolingSink(store as unknown as Store, { dir, log: quiet });
  await sink.open();
  try {
    await Promise.all([1, 2, 3].map((n) => sink.commit(batch(n))));
    assert.ok(await sink.waitApplied(5000));
    assert.deepEqual(received, [1, 2, 3]);
  } finally { await sink.close(); rmSync(dir, { recursive: true, force: true }); }
});

test('batches an earlier run journaled are applied at open (keys looked up), and only they go to onEarlierRunReplayed', async () => {
  const store = new FakeStore();
  store.down = new StoreUnavailableError('database away');
  const dir = newDir();
  try {
    const earlier = new SpoolingSink(store as unknown as Store, { dir, log: quiet, retryMs: 60_000 });
    await earlier.open();
    await Promise.all([1, 2].map((n) => earlier.commit(batch(n))));
    await earlier.close(0);

    store.down = null;
    const replayed: number[] = [];
    const sink = new SpoolingSink(store as unknown as Store, {
      dir, log: quiet, retryMs: 5, maxRetryMs: 20, onEarlierRunReplayed: (b, r) => { replayed.push(b.upload.counter!); assert.equal(r.samplesStored, 1); },
    });
    await sink.open();
    try {
      await sink.commit(batch(3));
      assert.ok(await sink.waitApplied(5000));
      await sink.commit(batch(4));
      assert.ok(await sink.waitApplied(5000));
      assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3, 4]);
      assert.deepEqual(replayed, [1, 2]);
      const flags = new Map(store.chunks.flatMap((c) => c.counters.map((n, i) => [n, c.maybeStored[i]] as const)));
      assert.deepEqual([...flags], [[1, true], [2, true], [3, false], [4, false]]);
    } finally {
      await sink.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a crash (no close) leaves the cursor behind: the next run applies those records again and the store keeps each once', async () => {
  const store = new FakeStore();
  const dir = newDir();
  try {
    const first = new SpoolingSink(store as unknown as Store, { dir, log: quiet, cursorEveryMs: 60_000 });
    await first.open();
    await Promise.all([1, 2, 3].map((n) => first.commit(batch(n))));
    assert.ok(await first.waitApplied(5000));
    // "kill -9": the first sink is simply abandoned, its cursor file never rewritten.
    const second = new SpoolingSink(store as unknown as Store, { dir, log: quiet });
    await second.open();
    try {
      assert.ok(await second.waitApplied(5000));
      assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3], 'stored once each');
      assert.deepEqual(store.chunks.at(-1), { counters: [1, 2, 3], maybeStored: [true, true, true] });
    } finally { await second.close(); }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a journaled batch the store refuses on apply is set aside and the rest are applied', async () => {
  const store = new FakeStore();
  store.refuse = (b) => (b.upload.counter === 1 ? new Error('FOREIGN KEY constraint fk_uploads_devices') : null);
  await withSink(async (sink, s, dir) => {
    await Promise.all([1, 2].map((n) => sink.commit(batch(n))));
    assert.ok(await sink.waitApplied(5000));
    assert.deepEqual(s.received.map((b) => b.upload.counter), [2]);
    assert.equal(sink.gauge().rejected, 1);
    const rejected = readFileSync(path.join(dir, 'spool.rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rejected.length, 1);
    assert.match(rejected[0].error, /fk_uploads_devices/);
    assert.equal(decodeBatch(Buffer.from(rejected[0].batch, 'base64')).upload.counter, 1);
  }, store);
});

test('batches over the memory allowance are read back from disk, in order, exactly as journaled', async () => {
  const store = new FakeStore();
  store.down = new StoreUnavailableError('away');
  const every = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
  await withSink(async (sink, s) => {
    await Promise.all(Array.from({ length: 20 }, (_, n) => sink.commit(batch(n, every))));
    s.down = null;
    assert.ok(await sink.waitApplied(5000));
    assert.deepEqual(s.received.map((b) => b.upload.counter), Array.from({ length: 20 }, (_, n) => n));
    assert.ok(s.received.every((b) => b.upload.raw.equals(every)));
  }, store, { memoryBytes: 2000 });
});

test('records round-trip exactly, and a JSON record of the earlier journal format still decodes', () => {
  const every = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
  const b: Batch = {
    ...batch(1, every),
    // Text of more bytes than characters (a device name, a reason): the record's lengths are in bytes.
    upload: { ...batch(1, every).upload, reason: 'Kühlraum 2 ✓ 温度 🧊' },
    samples: [
      { deviceId: 7, channel: 2, time: 1_700_000_000_123, value: -12.5, errorCode: null, alarm: 'hi' },
      { deviceId: 7, channel: 3, time: 1_700_000_000_123, value: null, errorCode: 9999, alarm: 'lo' },
    ],
    events: [{ at: 5, deviceId: 7, type: 'device.alarm', level: 'alarm', message: 'Fühler über Grenze', data: { a: 1 } }],
    quarantine: null, deviceSeen: { deviceId: 7, at: 9, declaredIntervalS: 60 },
  };
  const decoded = decodeBatch(encodeBatch(b));
  assert.ok(decoded.upload.raw.equals(every));
  assert.deepEqual({ ...decoded, upload: { ...decoded.upload, raw: null } }, { ...b, upload: { ...b.upload, raw: null } });
  const legacy = Buffer.from(JSON.stringify({ ...b, upload: { ...b.upload, uploadKey: 'k', raw: every.toString('base64') } }));
  const fromLegacy = decodeBatch(legacy);
  assert.ok(fromLegacy.upload.raw.equals(every));
  assert.equal(fromLegacy.upload.uploadKey, 'k');
});

test('a group mixing batch records (written in place) and plain buffers reads back record by record, checksums intact', async () => {
  const dir = newDir();
  try {
    const j = new Journal(dir);
    await j.open();
    const first = batch(1, Buffer.from('Kühlraum ✓ '.repeat(40)));
    const second = { ...batch(2), samples: [{ deviceId: 7, channel: 1, time: 5, value: 21.5, errorCode: null, alarm: 'hi' as const }] };
    const records = [new BatchRecord(first), Buffer.from('plain'), new BatchRecord(second)];
    assert.deepEqual(records.map((r) => r.length), [encodeBatch(first).length, 5, encodeBatch(second).length]);
    const group = await j.appendGroup(records, 42);
    // The bytes on disk are those kept for the apply, and each record is what encodeBatch gives alone.
    const onDisk = splitRecords(readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!)), 0);
    assert.deepEqual(splitRecords(group.bytes, group.start).map((r) => r.payload), onDisk.map((r) => r.payload));
    assert.deepEqual(onDisk.map((r) => r.offset), group.positions);
    assert.ok(onDisk[0].payload.equals(encodeBatch(first)));
    assert.equal(onDisk[1].payload.toString(), 'plain');
    assert.ok(onDisk[2].payload.equals(encodeBatch(second)));
    assert.deepEqual(decodeBatch(onDisk[2].payload).samples, second.samples);
    await j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal: a group written in part (disk full) is cut off again; the next group and a reopen find only whole records', async () => {
  const dir = newDir();
  const realWriteSync = fs.writeSync;
  try {
    const j = new Journal(dir);
    await j.open();
    const [one] = await j.appendMany([Buffer.from('one')], 1);
    // The disk fills up halfway through the next group's write: write() writes what fits, then fails.
    let calls = 0;
    fs.writeSync = ((fd: number, buffer: Uint8Array, offset: number, length: number, position: null) => {
      if (calls++ === 0) return realWriteSync(fd, buffer, offset, Math.ceil(length / 2), position);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as unknown as typeof fs.writeSync;
    syncBuiltinESMExports();
    await assert.rejects(j.appendMany([Buffer.from('two '.repeat(50))], 2), /ENOSPC/);
    assert.equal(calls, 2);
    fs.writeSync = realWriteSync;
    syncBuiltinESMExports();
    const [three] = await j.appendMany([Buffer.from('three')], 3);
    assert.ok(three > one);
    await j.close();

    const again = new Journal(dir);
    const report = await again.open();
    assert.deepEqual({ pending: report.pending, droppedTailBytes: report.droppedTailBytes, damagedCopy: report.damagedCopy }, { pending: 2, droppedTailBytes: 0, damagedCopy: null });
    const read = await again.readPending(10, Number.POSITIVE_INFINITY);
    assert.deepEqual(splitRecords(read!.bytes, read!.start).map((r) => [r.offset, r.payload.toString()]), [[one, 'one'], [three, 'three']]);
    await again.close();
  } finally {
    fs.writeSync = realWriteSync;
    syncBuiltinESMExports();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal: a record torn by a crash is dropped at open; a damaged one is moved aside', async () => {
  const dir = newDir();
  try {
    const j = new Journal(dir);
    await j.open();
    await j.append(Buffer.from('one'), 1);
    await j.append(Buffer.from('two'), 2);
    await j.close();
    const [segment] = readdirSync(dir).filter((n) => n.endsWith('.seg')).map((n) => path.join(dir, n));
    appendFileSync(segment, Buffer.from([0x49, 0x4e, 0x4c, 0x31, 0xff, 0, 0])); // a header cut short
    const reopened = new Journal(dir);
    const report = await reopened.open();
    assert.deepEqual({ ...report }, { pending: 2, droppedTailBytes: 7, damagedCopy: null, staleSegmentsDeleted: 0 });
    assert.deepEqual((await reopened.peek(10)).map((r) => r.payload.toString()), ['one', 'two']);
    await reopened.advance((await reopened.peek(1))[0].end, true);
    assert.deepEqual((await reopened.peek(10)).map((r) => [r.payload.toString(), r.appendedAt]), [['two', 2]]);
    await reopened.close();

    // Flip a byte inside the first pending record: it and everything after it go to a side file.
    const bytes = readFileSync(segment);
    const cursor = JSON.parse(readFileSync(path.join(dir, 'spool.journal.cursor'), 'utf8')).offset as number;
    bytes[cursor + 21] ^= 0xff;
    writeFileSync(segment, Buffer.concat([bytes, bytes.subarray(cursor)]));
    const damaged = new Journal(dir);
    const damagedReport = await damaged.open();
    assert.equal(damagedReport.pending, 0);
    assert.ok(damagedReport.damagedCopy && existsSync(damagedReport.damagedCopy));
    await damaged.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal: segments roll over, are deleted once wholly applied (cursor first), and one a crash left behind is deleted at open', async () => {
  const dir = newDir();
  try {
    const j = new Journal(dir, { segmentBytes: 50 });
    await j.open();
    const positions: number[] = [];
    for (let n = 0; n < 6; n++) positions.push(await j.append(Buffer.alloc(40, n), n));
    const segments = readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
    assert.equal(segments.length, 6, `a segment closes at 50 bytes: one record each: ${segments.join()}`);
    const records = await j.peek(10);
    assert.deepEqual(records.map((r) => r.offset), positions);
    const keep = path.join(dir, 'kept');
    copyFileSync(path.join(dir, segments[0]), keep);
    await j.advance(records[2].end);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.seg')).sort(), segments.slice(3), 'the applied segments are gone');
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'spool.journal.cursor'), 'utf8')).offset, records[2].end, 'the cursor was written before');
    await j.close();
    // As if a crash had come between writing the cursor and deleting this segment:
    copyFileSync(keep, path.join(dir, segments[0]));
    const reopened = new Journal(dir, { segmentBytes: 50 });
    const report = await reopened.open();
    assert.equal(report.staleSegmentsDeleted, 1);
    assert.equal(report.pending, 3);
    assert.deepEqual((await reopened.peek(10)).map((r) => r.payload[0]), [3, 4, 5]);
    assert.ok(!existsSync(path.join(dir, segments[0])));
    await reopened.advance(reopened.end);
    await reopened.close();
    const emptied = new Journal(dir, { segmentBytes: 50 });
    assert.equal((await emptied.open()).pending, 0);
    assert.equal(emptied.end, records[5].end, 'positions keep growing: a stale key is never reused');
    await emptied.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal: the single journal file of an earlier version is taken over with its cursor', async () => {
  const dir = newDir();
  try {
    // The earlier format: the same records in <dir>/spool.journal, the cursor in spool.journal.cursor.
    const j = new Journal(dir);
    await j.open();
    await j.append(Buffer.from('one'), 1);
    const second = await j.append(Buffer.from('two'), 2);
    await j.close();
    const [segment] = readdirSync(dir).filter((n) => n.endsWith('.seg'));
    assert.equal(segment, `${'0'.repeat(20)}.seg`);
    copyFileSync(path.join(dir, segment), path.join(dir, 'spool.journal'));
    rmSync(path.join(dir, segment));
    writeFileSync(path.join(dir, 'spool.journal.cursor'), JSON.stringify({ offset: second }));
    const taken = new Journal(dir);
    assert.equal((await taken.open()).pending, 1);
    assert.deepEqual((await taken.peek(10)).map((r) => r.payload.toString()), ['two']);
    assert.ok(!existsSync(path.join(dir, 'spool.journal')));
    await taken.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the cursor moves only past what the store reports durable: records applied without a sync are applied again after a restart', async () => {
  const dir = newDir();
  let now = 1_000_000;
  const chunks: { sync: boolean; position: number }[] = [];
  const store = {
    async applyJournal(chunk: { bytes: Uint8Array; position: number; sync: boolean }) {
      chunks.push({ sync: chunk.sync, position: chunk.position });
      return { applied: 1, durable: chunk.sync, refused: [] };
    },
    async commit(): Promise<CommitResult> { throw new Error('not used'); },
  } as unknown as Store;
  try {
    const sink = new SpoolingSink(store, { dir, log: quiet, cursorEveryMs: 60_000, now: () => now });
    await sink.open();
    await sink.commit(batch(1));
    assert.ok(await sink.waitApplied(5000));
    now += 1000; // well within cursorEveryMs: the next apply is not synced
    await sink.commit(batch(2));
    assert.ok(await sink.waitApplied(5000));
    assert.deepEqual(chunks.map((c) => c.sync), [true, false]);
    await sink.close();
    const cursor = JSON.parse(readFileSync(path.join(dir, 'spool.journal.cursor'), 'utf8')).offset as number;
    assert.equal(cursor, chunks[1].position, 'the cursor stops where the unsynced apply began');
    const reopened = new Journal(dir);
    assert.equal((await reopened.open()).pending, 1, 'the unsynced record is applied again at the next start');
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unappliedJournalBytes tells a tool beside the gateway how much is not in the database yet, without opening the journal', async () => {
  const dir = newDir();
  try {
    assert.equal(unappliedJournalBytes(path.join(dir, 'none')), 0);
    const j = new Journal(dir);
    await j.open();
    await j.append(Buffer.from('one'), 1);
    const second = await j.append(Buffer.from('two'), 2);
    assert.equal(unappliedJournalBytes(dir), j.end, 'nothing applied');
    await j.advance(second, true);
    assert.equal(unappliedJournalBytes(dir), j.end - second);
    await j.advance(j.end, true);
    assert.equal(unappliedJournalBytes(dir), 0);
    await j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('while ingest keeps the gateway busy the apply waits, within its lag bound; a reader waiting for the apply, the bound or a quiet moment start it', async () => {
  let busy = true;
  let clock = 1_700_000_000_000;
  await withSink(async (sink, store) => {
    // Acknowledged (journaled) while busy, and not applied: the CPU answers devices first.
    await Promise.all([1, 2, 3].map((n) => sink.commit(batch(n))));
    await until(() => sink.gauge().yieldingToIngest, 'the apply to yield to ingest');
    assert.equal(store.received.length, 0, 'nothing applied while ingest is busy and the lag is under its bound');
    assert.equal(sink.gauge().depth, 3);
    // A reader that must see the uploads does not wait for the load to pass.
    assert.equal(await sink.waitApplied(WAIT_GIVE_UP_MS), true);
    assert.deepEqual(store.received.map((b) => b.upload.counter), [1, 2, 3]);

    // Still busy, but the apply lag reaches the bound: sustained overload applies anyway.
    await sink.commit(batch(4));
    await until(() => sink.gauge().yieldingToIngest, 'the apply to yield again');
    assert.equal(store.received.length, 3);
    clock += 60_000;
    await until(() => store.received.length === 4, 'the apply past its lag bound');
    assert.equal(sink.gauge().yieldingToIngest, false);

    // Busy again with a fresh upload, then the load passes: applied without a reader asking.
    await sink.commit(batch(5));
    await until(() => sink.gauge().yieldingToIngest, 'the apply to yield a third time');
    busy = false;
    await until(() => store.received.length === 5, 'the apply once ingest is quiet');
    assert.ok(sink.gauge().yieldedRounds >= 3);
  }, new FakeStore(), { applyEveryMs: 0, yieldMaxLagMs: 60_000, ingestBusy: () => busy, now: () => clock });
});

test('the apply never waits for ingest when its lag bound is 0', async () => {
  await withSink(async (sink, store) => {
    await Promise.all([1, 2].map((n) => sink.commit(batch(n))));
    await until(() => store.received.length === 2, 'the apply');
    assert.equal(sink.gauge().yieldedRounds, 0);
  }, new FakeStore(), { applyEveryMs: 0, yieldMaxLagMs: 0, ingestBusy: () => true });
});

test('a journaled group\'s bytes, kept in memory for the apply, are freed once applied rather than left for a full collection', async () => {
  await withSink(async (sink) => {
    const journal = (sink as unknown as { journal: Journal }).journal;
    const writeGroup = journal.writeGroup.bind(journal);
    const written: Buffer[] = [];
    journal.writeGroup = async (payloads, at) => { const group = await writeGroup(payloads, at); written.push(group.bytes); return group; };
    await Promise.all([1, 2, 3].map((n) => sink.commit(batch(n))));
    assert.equal(written.length, 1);
    assert.ok(written[0].byteLength > 0, 'held until applied');
    assert.ok(await sink.waitApplied(5000), 'applied');
    await until(() => written[0].byteLength === 0, 'the applied group\'s bytes to be freed');
    assert.equal((written[0].buffer as ArrayBuffer).detached, true);
  });
});
