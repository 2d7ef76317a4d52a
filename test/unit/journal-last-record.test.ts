// `inlet backup` waits for the journal's last unapplied record (src/cli/backup.ts): found from the
// segment files alone, while a gateway owns the journal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Batch, CommitResult } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { SpoolingSink } from '../../src/store/spool/spooling-sink.ts';
import { lastUnappliedRecord } from '../../src/store/spool/journal.ts';

const quiet = { info() {}, warn() {}, error() {} };

function batch(n: number): Batch {
  return {
    upload: { deviceId: 1, family: 'soap', receivedAt: 1_700_000_000_000 + n, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw: Buffer.from([n]), verdict: 'accepted', reason: 'ok', serial: '55500001', counter: n },
    samples: [{ deviceId: 1, channel: 1, time: 1_700_000_000_000 + n * 60_000, value: n, errorCode: null, alarm: 'no' }],
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
  };
}

test('the last unapplied journal record is found from the files: the newest complete one, none once the cursor is past it, a torn tail ignored', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-journal-last-'));
  try {
    assert.equal(lastUnappliedRecord(dir), null, 'no journal yet');
    const away = { commit: async (): Promise<CommitResult> => { throw new StoreUnavailableError('away'); } } as unknown as Store;
    const sink = new SpoolingSink(away, { dir, log: quiet, retryMs: 60_000, segmentBytes: 400 });
    await sink.open();
    for (let n = 0; n < 5; n++) await sink.commit(batch(n));
    await sink.close(0);

    const segments = readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
    assert.ok(segments.length >= 2, `the records span segments (${segments.length})`);
    const journalId = readFileSync(path.join(dir, 'journal.id'), 'utf8').trim();
    const last = lastUnappliedRecord(dir);
    assert.equal(last?.journalId, journalId);
    const newest = segments.at(-1)!;
    const newestStart = Number(newest.slice(0, 20));
    assert.ok(last!.position >= newestStart, `the newest record is in the newest segment (${last!.position} >= ${newestStart})`);

    // A record still being written (its header says more bytes than the file holds) is not waited for.
    appendFileSync(path.join(dir, newest), Buffer.concat([readFileSync(path.join(dir, newest)).subarray(0, 20), Buffer.from([1, 2])]));
    assert.deepEqual(lastUnappliedRecord(dir), last);

    // Everything applied: the cursor past the end.
    writeFileSync(path.join(dir, 'spool.journal.cursor'), JSON.stringify({ offset: newestStart + 1_000_000 }));
    assert.equal(lastUnappliedRecord(dir), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
