// The refusal recorder: what a refused upload costs (a capped prefix, a hash), how many a source may
// have archived, and how refusal events are folded into one per source, family and kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RefusalRecorder, type Refusal } from '../../src/pipeline/refusals.ts';
import type { NewEvent, RefusalRecord } from '../../src/store/store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { DiskSpaceWatch } from '../../src/jobs/disk-space.ts';

const quiet = { warn: () => undefined, error: () => undefined };
const SETTINGS = { prefixBytes: 16, maxRows: 1000, keepDays: 30, perSourcePerMinute: 60, burst: 3 };

function recorder(settings = SETTINGS) {
  const written: { refusals: RefusalRecord[]; events: NewEvent[] } = { refusals: [], events: [] };
  const sink = { archiveRefusals: async (r: RefusalRecord[], e: NewEvent[]) => { written.refusals.push(...r); written.events.push(...e); } };
  return { rec: new RefusalRecorder(sink, settings, quiet), written };
}

function refusal(patch: Partial<Refusal> = {}): Refusal {
  return {
    deviceId: 7, family: 'logger', receivedAt: 1_000_000, remoteAddress: '192.0.2.9', contentType: 'application/json',
    raw: Buffer.from('x'.repeat(1000)), status: 400, code: 'malformed', reason: 'malformed JSON', serial: null, ...patch,
  };
}

test('a refused body is archived as its first bytes, its length and its SHA-256', async () => {
  const { rec, written } = recorder();
  const body = Buffer.from(`{"JsonType":${'9'.repeat(5000)}`);
  assert.equal(rec.record(refusal({ raw: body })), true);
  await rec.flush();
  const [r] = written.refusals;
  assert.ok(r.bodyPrefix.equals(body.subarray(0, 16)));
  assert.equal(r.bodyLength, body.length);
  assert.ok(r.bodySha256.equals(createHash('sha256').update(body).digest()));
});

test('refusals are archived at most `burst` at once per source address, then at the per-minute rate; other sources are not affected', async () => {
  const { rec, written } = recorder();
  const results = Array.from({ length: 10 }, (_, i) => rec.record(refusal({ receivedAt: 1_000_000 + i })));
  assert.deepEqual(results, [true, true, true, false, false, false, false, false, false, false]);
  assert.equal(rec.record(refusal({ remoteAddress: '192.0.2.10', receivedAt: 1_000_010 })), true, 'another address has its own budget');
  assert.equal(rec.record(refusal({ receivedAt: 1_000_000 + 1_100 })), true, 'a second later (60 a minute) the source may have one more archived');
  assert.equal(rec.record(refusal({ receivedAt: 1_000_000 + 1_101 })), false);
  await rec.flush();
  assert.equal(written.refusals.length, 5);
  assert.equal(rec.counters.overRate, 8);
});

test('one event per source, family and reason code, whatever the text; the next one counts those folded in', async () => {
  const { rec, written } = recorder({ ...SETTINGS, burst: 1000 });
  // attacker-chosen text in the reason must not make each refusal a new event
  for (let i = 0; i < 500; i++) rec.record(refusal({ reason: `JsonType "${i}" is not a logger message`, receivedAt: 1_000_000 + i }));
  rec.record(refusal({ family: 'wifi', receivedAt: 1_000_600 }));
  rec.record(refusal({ code: 'too-large', status: 413, receivedAt: 1_000_700 }));
  rec.record(refusal({ raw: null, code: 'unknown-entry-point', status: 404, deviceId: null, receivedAt: 1_000_800 }));
  await rec.flush();
  assert.equal(written.events.length, 4);
  assert.deepEqual(written.events.map((e) => e.data?.code), ['malformed', 'malformed', 'too-large', 'unknown-entry-point']);
  assert.equal(written.refusals.length, 502, 'an unknown entry point has no body to archive');
  // after the window, the next event of the kind says how many came meanwhile
  rec.record(refusal({ receivedAt: 1_000_000 + 11 * 60_000 }));
  await rec.flush();
  const last = written.events.at(-1)!;
  assert.equal(last.data?.count, 500, '499 folded + this one');
  assert.match(last.message, /499 more malformed refusals from this address/);
});

test('a failing archive write drops the refusals, counts the failure and does not reject', async () => {
  const rec = new RefusalRecorder({ archiveRefusals: async () => { throw new Error('disk full'); } }, SETTINGS, quiet);
  rec.record(refusal());
  await rec.flush();
  assert.equal(rec.counters.writeFailures, 1);
});

test('free disk below the watermark raises one system alarm and a warning; back above, the alarm clears', async () => {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  let freeMiB = 500;
  const watch = new DiskSpaceWatch('/unused', 1024, store, async () => freeMiB * 1_048_576);
  assert.equal((await watch.check(1000)).low, true);
  await watch.check(2000);
  const raised = await store.alarms({ uncleared: true });
  assert.equal(raised.length, 1, 'raised once, not at every check');
  assert.match(raised[0].message, /Low disk space: 500 MiB free/);
  assert.match(watch.warning() ?? '', /below the 1024 MiB watermark/);
  freeMiB = 5000;
  await watch.check(3000);
  assert.equal((await store.alarms({ uncleared: true })).length, 0);
  assert.equal(watch.warning(), null);
  assert.deepEqual((await store.events({})).map((e) => e.type).filter((t) => t.startsWith('disk.')), ['disk.ok', 'disk.low']);
  await store.close();
});
