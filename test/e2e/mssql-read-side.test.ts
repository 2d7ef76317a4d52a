// SQL Server: the viewer's reads, CSV exports and the nightly verification run off the thread that
// answers devices (issue 15), on a connection pool of their own. Against the loopback TDS peer
// (fake-tds.ts), with the real mssql/tedious driver: the export's queries arrive on connections that
// logged in as "Inlet reader" (never the gateway's "Inlet" pool, nor its "Inlet writer"), the rows are
// formatted by the worker's store (the gateway's store formats none), and the verification worker
// queries on a reader pool of its own. What the queries return on a real server is the SQL Server
// contract's (test/contract/mssql.test.ts, with INLET_TEST_MSSQL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MssqlStore } from '../../src/store/mssql/mssql-store.ts';
import { MssqlReadSide } from '../../src/store/mssql/read-side.ts';
import { verifyInWorker } from '../../src/jobs/verify-in-worker.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { startFakeTds, type ResultSet } from './fake-tds.ts';

const T = Date.UTC(2026, 0, 15, 8, 0, 0);
const MINUTE = 60_000;

/** What the peer answers: the schema probe, and two samples of channel 1 for any samples query. */
function answers(text: string): ResultSet | undefined {
  if (/COL_LENGTH/.test(text)) return { columns: [{ name: 'clock_column_bytes', type: 'int' }], rows: [[null]] };
  if (/FROM inlet\.samples/.test(text)) {
    return {
      columns: [
        { name: 'device_id', type: 'int' }, { name: 'channel', type: 'int' }, { name: 'time', type: 'bigint' },
        { name: 'value', type: 'int' }, { name: 'error_code', type: 'int' }, { name: 'alarm', type: 'nvarchar' },
      ],
      rows: [[1, 1, T, 21, null, 'no'], [1, 1, T + MINUTE, 22, null, 'hi']],
    };
  }
  return undefined;
}

const connectionStringOf = (port: number) => `Server=127.0.0.1,${port};Database=inlet;User Id=inlet_svc;Password=not-a-secret;Encrypt=False`;

test('a CSV export on SQL Server is read on the reader worker\'s own pool and formatted there, never by the gateway\'s store', async () => {
  const server = await startFakeTds({ resultSetFor: answers });
  const connectionString = connectionStringOf(server.port);
  const gatewayStore = new MssqlStore({ connectionString });
  const readSide = new MssqlReadSide(gatewayStore, connectionString);
  try {
    const csv = await readSide.store.csvRows!([{ deviceId: 1, channel: 1, from: T, to: T + 2 * MINUTE }], T, T + 2 * MINUTE,
      { decimalComma: false, timeZone: 'UTC', maxRows: 1000 });
    assert.equal(csv.rows, 2);
    assert.equal(csv.text, '2026-01-15T08:00:00.000Z,2026-01-15 08:00:00,21,\r\n2026-01-15T08:01:00.000Z,2026-01-15 08:01:00,22,alarm hi\r\n');

    const sampleQueries = server.received.filter((r) => /FROM inlet\.samples/.test(r.text));
    assert.equal(sampleQueries.length, 1, 'the export\'s samples were read once');
    assert.deepEqual([...new Set(server.received.map((r) => r.appName))], ['Inlet reader'], 'every statement came from the reader\'s pool');
    assert.ok(!server.loginApps.includes('Inlet') && !server.loginApps.includes('Inlet writer'), `the gateway's pools never connected (logins: ${server.loginApps.join(', ')})`);

    assert.equal(gatewayStore.csvDaysFormatted, 0, 'the gateway\'s store (the thread that answers devices) formatted no CSV rows');
    assert.equal(gatewayStore.viewerReads, 0, 'nor read any samples');
    assert.equal(await readSide.csvDaysFormatted(), 1, 'the reader worker formatted the day');
    assert.equal(await readSide.viewerReads(), 1, 'and read its samples');
    assert.equal(readSide.running, true);
  } finally {
    await readSide.close();
    await gatewayStore.close();
    await server.close();
  }
});

test('what the reader worker does not answer goes to the gateway\'s own store, and a passing server error stays "unavailable" across the worker', async () => {
  const server = await startFakeTds({ resultSetFor: answers });
  const connectionString = connectionStringOf(server.port);
  const gatewayStore = new MssqlStore({ connectionString });
  const readSide = new MssqlReadSide(gatewayStore, connectionString);
  try {
    assert.equal(readSide.store.kind, 'mssql');
    assert.equal(readSide.store.health().detail, 'sql server ok', 'a method of the gateway\'s store, answered here');
    await readSide.store.samples(1, 1, T, T + 2 * MINUTE);
    assert.equal(gatewayStore.viewerReads, 0);
    server.dropConnections();
    await server.close();
    // The server is gone: the worker's store explains it as unavailable (503 for the viewer), and the reply keeps that.
    await assert.rejects(readSide.store.latestValues(), (err: Error) => err instanceof StoreUnavailableError);
  } finally {
    await readSide.close();
    await gatewayStore.close();
    await server.close().catch(() => undefined);
  }
});

test('the nightly verification of a SQL Server store runs in a worker on a reader pool of its own', async () => {
  // Every statement is refused: the verification stops at its first query, with the server's message.
  const server = await startFakeTds({ requestErrors: [{ number: 229, message: 'The SELECT permission was denied on the object \'uploads\'' }] });
  try {
    await assert.rejects(verifyInWorker({ kind: 'mssql', connectionString: connectionStringOf(server.port) }, { chainKey: null, rollup: 'skip' }),
      /SELECT permission was denied/);
    assert.ok(server.received.length >= 1, 'the worker queried the server');
    assert.deepEqual([...new Set(server.received.map((r) => r.appName))], ['Inlet reader']);
  } finally {
    await server.close();
  }
});
