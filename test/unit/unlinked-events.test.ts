// Unlinked events in the audit chain (src/store/event-links.ts): on SQLite every one after the
// `audit.events.linked` marker is reported; where the database writes events for the gateway to link
// at its next write (SQL Server, migration 038/039), one that a linked event follows is reported and
// one after the chain's last link is not (it waits for its link). The second test runs the real
// verification on an embedded store that says it is SQL Server, which is what its events look like
// there: the walk and the marker are the same code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { UnlinkedEventWatch, ensureEveryEventLinkedMarker } from '../../src/store/event-links.ts';
import { resolveChainKey } from '../../src/store/chain-key.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { verifyIntegrity } from '../../src/jobs/verify.ts';

const quiet = { info() {}, warn() {}, error() {} };
const ev = (id: number) => ({ id, type: 'dba.note', message: `#${id}` });

test('the watch: before the marker nothing, on SQLite at once, where links follow later only what a link follows', () => {
  const sqlite = new UnlinkedEventWatch(10, false);
  assert.deepEqual(sqlite.unlinked(ev(9)), []);
  assert.deepEqual(sqlite.unlinked(ev(11)), [ev(11)]);

  const none = new UnlinkedEventWatch(null, true);
  assert.deepEqual(none.unlinked(ev(11)), []);
  assert.deepEqual(none.linked(), []);

  const mssql = new UnlinkedEventWatch(10, true);
  assert.deepEqual(mssql.unlinked(ev(9)), [], 'before the marker: an older version wrote it');
  assert.deepEqual(mssql.unlinked(ev(12)), []);
  assert.deepEqual(mssql.unlinked(ev(13)), []);
  assert.deepEqual(mssql.linked(), [ev(12), ev(13)], 'the linking passed over them');
  assert.deepEqual(mssql.linked(), []);
  assert.deepEqual(mssql.unlinked(ev(15)), []);
  assert.equal(mssql.stillWaiting, 1, 'after the last link: waiting for the gateway');
});

test('the watch keeps a bounded list and counts the rest', () => {
  const watch = new UnlinkedEventWatch(0, true);
  for (let id = 1; id <= 1500; id++) watch.unlinked(ev(id));
  assert.equal(watch.stillWaiting, 1500);
  const reported = watch.linked();
  assert.equal(reported.length, 1001);
  assert.match(reported[1000].message, /and 500 more unlinked events after #1000/);
});

test('verification where links follow later (SQL Server): an unlinked event before a linked one is found, one at the end is not', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-unlinked-'));
  const file = path.join(dir, 'inlet.sqlite');
  const store = new SqliteStore({ file });
  try {
    await store.migrate();
    const key = await resolveChainKey(store, path.join(dir, 'chain.key'), quiet);
    store.useChainKey(key.key);
    // What SQL Server's store is for the walk: its kind. Its events are linked by the same chain.
    Object.defineProperty(store, 'kind', { value: 'mssql' });
    await ensureEveryEventLinkedMarker(store);
    const [marker] = await store.events({ type: 'audit.events.linked', limit: 1 });
    assert.ok(marker, 'the marker is written on SQL Server too');
    await store.addEvent({ at: Date.now(), deviceId: null, type: 'test.linked', level: 'info', actor: 'test', source: null, message: 'linked', data: {} });
    const insert = (message: string) => {
      const db = new DatabaseSync(file);
      try {
        for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%append_only%'").all() as { name: string }[]) db.exec(`DROP TRIGGER ${name}`);
        db.prepare("INSERT INTO events (at, device_id, type, level, message, data) VALUES (?, NULL, 'user.added', 'info', ?, NULL)").run(Date.now(), message);
      } finally {
        db.close();
      }
    };
    insert('waiting for the gateway');
    const waiting = await verifyIntegrity(store, { chainKey: key, rollup: 'skip' });
    assert.equal(waiting.ok, true, `an event after the last link waits for it: ${JSON.stringify(waiting.problems)}`);

    // The gateway's next write would link it; an event written after it instead, linked, passes it over.
    await store.addEvent({ at: Date.now(), deviceId: null, type: 'test.linked', level: 'info', actor: 'test', source: null, message: 'linked after', data: {} });
    const found = await verifyIntegrity(store, { chainKey: key, rollup: 'skip' });
    assert.equal(found.ok, false);
    assert.deepEqual(found.problems.map((p) => p.kind), ['event-unchained']);
    assert.match(found.problems[0].detail, new RegExp(`event #\\d+ \\(user\\.added: "waiting for the gateway"\\) has no link although every event after #${marker.id} is linked: inserted outside Inlet`));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
