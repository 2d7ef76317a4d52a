// The store contract on the embedded SQLite adapter, each case on a fresh database file.
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { storeContract } from './store-contract.ts';

storeContract('sqlite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-contract-'));
  const file = path.join(dir, 'inlet.sqlite');
  const store = new SqliteStore({ file });
  return {
    store,
    // A second connection: raw SQL reaches the same database without a back door on the store.
    async rawExec(sql: string) {
      const db = new DatabaseSync(file);
      try { db.exec(sql); } finally { db.close(); }
    },
    table: (name) => name,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
