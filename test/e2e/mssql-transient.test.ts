// Errors that pass - a writer-lock timeout, a pool that frees no connection, memory grants, a deadlock,
// an availability group changing roles, a request timeout - through the real mssql/tedious driver,
// answered by the loopback TDS peer (fake-tds.ts). Each must reach the caller as "store unavailable",
// so the upload goes to the local journal and is replayed later: never a 503 to the device, never
// the spool's rejected file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import sql from 'mssql';
import type { Batch } from '../../src/domain/types.ts';
import { MssqlStore } from '../../src/store/mssql/mssql-store.ts';
import { parseConnectionString } from '../../src/store/mssql/connection.ts';
import { explainMssqlError } from '../../src/store/mssql/errors.ts';
import { StoreUnavailableError, isTransientStoreError } from '../../src/store/errors.ts';
import { SpoolingSink } from '../../src/store/spool/spooling-sink.ts';
import { startFakeTds, type TdsError } from './fake-tds.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const quiet = { info() {}, warn() {}, error() {} };
const connection = (port: number, extra = '') =>
  `Server=127.0.0.1,${port};Database=inlet;User Id=inlet_svc;Password=not-a-secret;Encrypt=False;Connect Timeout=30${extra}`;

function batch(n: number): Batch {
  return {
    upload: { deviceId: 1, family: 'soap', receivedAt: 1_700_000_000_000 + n, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw: Buffer.from(`raw ${n}`), verdict: 'accepted', reason: 'ok', serial: '1', counter: n },
    samples: [{ deviceId: 1, channel: 1, time: 1_700_000_000_000 + n, value: n, errorCode: null, alarm: 'no' }],
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
  };
}

/** Waits for a condition, however busy the machine: the test runner's own timeout is the only clock. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}

const TRANSIENT: TdsError[] = [
  { number: 50011, severity: 16, message: 'timed out waiting for the upload writer lock (another Inlet instance holds it)' },
  { number: 50051, severity: 16, message: 'timed out waiting for the event chain lock (another Inlet instance is writing events)' },
  { number: 1222, severity: 16, message: 'Lock request time out period exceeded.' },
  { number: 1205, severity: 13, message: 'Transaction (Process ID 61) was deadlocked on lock resources with another process and has been chosen as the deadlock victim.' },
  { number: 8645, severity: 17, message: 'A timeout occurred while waiting for memory resources to execute the query in resource pool \'default\'.' },
  { number: 701, severity: 17, message: 'There is insufficient system memory in resource pool \'default\' to run this query.' },
  { number: 4060, severity: 11, message: 'Cannot open database "inlet" requested by the login. The login failed.' },
  { number: 976, severity: 14, message: 'The target database, \'inlet\', is participating in an availability group and is currently not accessible for queries.' },
  { number: 983, severity: 14, message: 'Unable to access availability database \'inlet\' because the database replica is not in the PRIMARY or SECONDARY role.' },
  { number: 35250, severity: 16, message: 'The connection to the primary replica is not active. The command cannot be processed.' },
  { number: 3948, severity: 16, message: 'The transaction was terminated because of the availability replica config/state change.' },
  { number: 9002, severity: 17, message: 'The transaction log for database \'inlet\' is full due to \'LOG_BACKUP\'.' },
];

for (const error of TRANSIENT) {
  test(`error ${error.number} on a group commit: store unavailable; the upload is journaled, retried, never rejected`, async () => {
    const server = await startFakeTds({ requestErrors: [error] });
    const dir = tempDir('inlet-mssql-transient-');
    const store = new MssqlStore({ connectionString: connection(server.port) });
    const sink = new SpoolingSink(store, { dir, log: quiet, retryMs: 5, maxRetryMs: 20 });
    try {
      await assert.rejects(store.commit(batch(0)), (err: Error) => {
        assert.ok(isTransientStoreError(err), `${err.name}: ${err.message}`);
        assert.match(err.message, new RegExp(`error ${error.number}`));
        return true;
      });
      await sink.open();
      const answer = await sink.commit(batch(1));
      assert.equal(answer.spooled, true, 'the device is answered from the journal');
      // The replay meets the same error at least twice more: it keeps the batch and waits.
      const seen = server.requests;
      await until(() => server.requests >= seen + 2);
      const gauge = sink.gauge();
      assert.equal(gauge.rejected, 0);
      assert.equal(gauge.depth, 1);
      assert.equal(existsSync(path.join(dir, 'spool.rejected.jsonl')), false);
    } finally {
      await sink.close();
      await store.close();
      await server.close();
    }
  });
}

test('a server that does not answer in time (ETIMEOUT) on a group commit: store unavailable, journaled', async () => {
  const server = await startFakeTds({ silentRequests: true });
  const store = new MssqlStore({ connectionString: connection(server.port, ';Command Timeout=1') });
  try {
    await assert.rejects(store.commit(batch(0)), (err: Error) => {
      assert.ok(isTransientStoreError(err), `${err.name}: ${err.message}`);
      assert.match(err.message, /^SQL Server did not answer within the command timeout .*replayed under its upload key/);
      return true;
    });
  } finally {
    await store.close();
    await server.close();
  }
});

test('a refusal to open the database (4060) at login: a configuration error at first, a failover once the database had opened', async () => {
  const behaviour: { loginErrors?: TdsError[]; requestErrors?: TdsError[] } = {
    loginErrors: [
      { number: 4060, severity: 11, message: 'Cannot open database "inlet" requested by the login. The login failed.' },
      { number: 18456, message: "Login failed for user 'inlet_svc'." },
    ],
  };
  const server = await startFakeTds(behaviour);
  try {
    const fresh = new MssqlStore({ connectionString: connection(server.port) });
    const first = await fresh.listChannels().then(() => null, (err: Error) => err);
    await fresh.close();
    assert.ok(first && !(first instanceof StoreUnavailableError), `never opened: ${first?.message}`);
    assert.match(first.message, /refused to open the database/);

    const loginErrors = behaviour.loginErrors;
    behaviour.loginErrors = undefined;
    behaviour.requestErrors = [{ number: 208, severity: 16, message: "Invalid object name 'inlet.channels'." }];
    const store = new MssqlStore({ connectionString: connection(server.port) });
    try {
      // The login succeeds (the statement's own error does not matter here): the database has opened.
      await store.listChannels().catch(() => undefined);
      behaviour.loginErrors = loginErrors;
      server.dropConnections();
      const err = await store.listChannels().then(() => null, (e: Error) => e);
      assert.ok(err instanceof StoreUnavailableError, `after a failover: ${err?.name}: ${err?.message}`);
      assert.match(err.message, /failing over, restarting or recovering/);
    } finally {
      await store.close();
    }
  } finally {
    await server.close();
  }
});

test('a data error rolls a group back; when its first batch alone then meets a transient error, the rest are not tried one by one: the whole group goes to the journal', async () => {
  // The first request (the group's apply) is refused for its data, every later one with the writer lock timeout.
  const dataError: TdsError = { number: 547, severity: 16, message: 'The INSERT statement conflicted with the FOREIGN KEY constraint "fk_uploads_devices".' };
  const lockTimeout: TdsError = { number: 50011, severity: 16, message: 'timed out waiting for the upload writer lock (another Inlet instance holds it)' };
  let requestsAtStart = 0;
  let server: Awaited<ReturnType<typeof startFakeTds>> | undefined;
  server = await startFakeTds({ get requestErrors() { return server!.requests - requestsAtStart <= 1 ? [dataError] : [lockTimeout]; } });
  const store = new MssqlStore({ connectionString: connection(server.port) });
  try {
    requestsAtStart = server.requests;
    // Submitted in one turn: one group of five.
    const outcomes = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => store.commit(batch(n))));
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as Error;
      assert.ok(isTransientStoreError(err), `${err.name}: ${err.message}`);
      assert.match(err.message, /error 50011/);
    }
    // The group's apply, then the first batch alone; each waiting up to the lock timeout had the rest been tried too.
    assert.equal(server.requests - requestsAtStart, 2);
  } finally {
    await store.close();
    await server.close();
  }
});

test('a pool that frees no connection in time, through the real driver: tarn\'s TimeoutError as mssql passes it on is "store unavailable"', async () => {
  const server = await startFakeTds({ silentRequests: true });
  const { config } = parseConnectionString(connection(server.port, ';Command Timeout=60'));
  // One connection, held by a request the server never answers; the next request cannot get one.
  const pool = new sql.ConnectionPool({ ...config, pool: { min: 0, max: 1, acquireTimeoutMillis: 200 } } as sql.config);
  try {
    await pool.connect();
    const held = pool.request();
    const holding = held.query('SELECT 1 AS held').catch((err: unknown) => err);
    const waiting = await pool.request().query('SELECT 2 AS waiting').then(() => null, (err: unknown) => err);
    assert.ok(waiting, 'the second request fails');
    const explained = explainMssqlError(waiting, { target: 'server 127.0.0.1, database inlet, SQL login inlet_svc' });
    assert.ok(explained instanceof StoreUnavailableError, `${(explained as Error).name}: ${(explained as Error).message}`);
    assert.match(explained.message, /^no connection to SQL Server freed up in time/);
    // The held request ends when cancelled (an attention, which the peer acknowledges).
    held.cancel();
    await holding;
  } finally {
    await pool.close().catch(() => undefined);
    await server.close();
  }
});
