// The store contract on SQL Server. Runs only when INLET_TEST_MSSQL holds a connection string (ADO
// or mssql:// form) for a login allowed to create databases, e.g. sa on a disposable container:
//   INLET_TEST_MSSQL='Server=localhost,1433;Database=master;User Id=sa;Password=...;TrustServerCertificate=True'
// Each case gets a database of its own (inlet_test_<random>), dropped afterwards: uploads and
// samples are append-only, so a shared database could not be emptied between cases.
// Without the variable every case is reported as skipped with that reason.
import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import { MssqlStore } from '../../src/store/mssql/mssql-store.ts';
import { parseConnectionString } from '../../src/store/mssql/connection.ts';
import { storeContract } from './store-contract.ts';

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
