// The store contract on SQL Server. Runs only when INLET_TEST_MSSQL holds a connection string (ADO
// or mssql:// form) for a login allowed to create databases, e.g. sa on a disposable container:
//   INLET_TEST_MSSQL='Server=localhost,1433;Database=master;User Id=sa;Password=...;TrustServerCertificate=True'
// Each case gets a database of its own (inlet_test_<random>), dropped afterwards: uploads and
// samples are append-only, so a shared database could not be emptied between cases.
// Without the variable every case is reported as skipped with that reason.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import { MssqlStore } from '../../src/store/mssql/mssql-store.ts';
import { parseConnectionString } from '../../src/store/mssql/connection.ts';
import { storeContract } from './store-contract.ts';
import { SQL_ROOT, loadMigrations } from '../../src/store/migrations.ts';
import { splitBatches } from '../../src/store/mssql/batches.ts';
import { buildDeployScript } from '../../src/store/mssql/deploy-script.ts';

const connectionString = process.env.INLET_TEST_MSSQL;

/** The same connection string pointed at another database (a later ADO key wins; a URL's path is the database). */
function withDatabase(text: string, database: string): string {
  if (/^(mssql|sqlserver):\/\//i.test(text.trim())) {
    const url = new URL(text.trim());
    url.pathname = `/${database}`;
    return url.toString();
  }
  return `${text.replace(/;\s*$/, '')};Database=${database}`;
}

async function onDatabase<T>(database: string, work: (pool: sql.ConnectionPool) => Promise<T>): Promise<T> {
  const pool = await new sql.ConnectionPool({ ...parseConnectionString(withDatabase(connectionString!, database)).config }).connect();
  try { return await work(pool); } finally { await pool.close(); }
}

storeContract('mssql', async () => {
  // Made of a constant prefix and hex digits only, so it is safe to place in DDL.
  const database = `inlet_test_${randomBytes(6).toString('hex')}`;
  await onDatabase('master', (pool) => pool.request().batch(`CREATE DATABASE [${database}];`));
  const store = new MssqlStore({ connectionString: withDatabase(connectionString!, database) });
  const raw = await new sql.ConnectionPool(parseConnectionString(withDatabase(connectionString!, database)).config).connect();
  return {
    store,
    async rawExec(statement: string) { await raw.request().batch(statement); },
    table: (name) => `inlet.${name}`,
    async dispose() {
      await store.close();
      await raw.close();
      await onDatabase('master', (pool) => pool.request().batch(
        `ALTER DATABASE [${database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${database}];`));
    },
  };
}, { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set' });

// The DBA's script (`inlet migrate --script`), run the way sqlcmd runs it: batch after batch on one
// session, so SET NOEXEC and the open transaction carry across batches.
test('a database built by `inlet migrate --script` is up to date for `inlet migrate`, and a second run of the script changes nothing',
  { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set' }, async () => {
    const database = `inlet_test_${randomBytes(6).toString('hex')}`;
    await onDatabase('master', (pool) => pool.request().batch(`CREATE DATABASE [${database}];`));
    try {
      const script = buildDeployScript({
        bootstrap: readFileSync(path.join(SQL_ROOT, 'mssql', 'bootstrap.sql'), 'utf8'),
        migrations: loadMigrations('mssql'), version: 'test', generatedAt: new Date(),
      });
      const batches = splitBatches(script.replace(/^:.*$/gm, ''));
      const runScript = async () => {
        const config = parseConnectionString(withDatabase(connectionString!, database)).config;
        const session = await new sql.ConnectionPool({ ...config, pool: { min: 1, max: 1 } }).connect();
        try { for (const b of batches) await session.request().batch(b.sql); } finally { await session.close(); }
      };
      await runScript();
      const recorded = () => onDatabase(database, async (pool) =>
        (await pool.request().query('SELECT version, checksum FROM inlet.schema_migrations ORDER BY version')).recordset);
      const first = await recorded();
      assert.deepEqual(first.map((r) => r.version), loadMigrations('mssql').map((m) => m.version));
      await runScript();
      assert.deepEqual(await recorded(), first);
      const store = new MssqlStore({ connectionString: withDatabase(connectionString!, database) });
      try { assert.deepEqual(await store.migrate(), []); } finally { await store.close(); }
    } finally {
      await onDatabase('master', (pool) => pool.request().batch(
        `ALTER DATABASE [${database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${database}];`));
    }
  });
