// Two processes migrating one new SQLite file at once (two `inlet device add` on a new data folder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { loadMigrations } from '../../src/store/migrations.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('a migration another process applied while this one waited for the lock is skipped, not applied twice', async () => {
  const file = path.join(tempDir('inlet-migrate-race-'), 'inlet.sqlite');
  const first = new SqliteStore({ file, writeInWorker: false });
  const second = new SqliteStore({ file, writeInWorker: false });
  try {
    let other: Promise<string[]> | null = null;
    // `second` has read the applied list (none) and is about to apply migration 1 when `first` applies them all
    const applied = await second.migrate(() => { other ??= first.migrate(); });
    const appliedByFirst = await other!;
    assert.equal(appliedByFirst.length, loadMigrations('sqlite').length);
    assert.deepEqual(applied, [], 'nothing was left for the second process to apply');
    assert.deepEqual(await second.migrate(), []);
    assert.deepEqual(await second.listDevices(), []);
  } finally {
    await first.close();
    await second.close();
  }
});
