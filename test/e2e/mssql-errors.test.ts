// What an administrator reads when the SQL Server store cannot be used, through the real mssql/tedious
// driver: against a closed port, an unknown host, and a loopback server speaking enough TDS to refuse
// a login or a statement the way SQL Server does (fake-tds.ts). Transient failures must come back as
// StoreUnavailableError (the spool takes the data); configuration problems as plain errors naming the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { MssqlStore } from '../../src/store/mssql/mssql-store.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { startFakeTds, type FakeTdsBehaviour } from './fake-tds.ts';

const PASSWORD = 'S3cret-never-printed';
const connection = (server: string) =>
  `Server=${server};Database=inlet;User Id=inlet_svc;Password=${PASSWORD};Encrypt=False;Connect Timeout=5`;

async function failureOf(store: MssqlStore, work: (s: MssqlStore) => Promise<unknown>): Promise<Error> {
  try {
    await work(store);
  } catch (err) {
    return err as Error;
  } finally {
    await store.close().catch(() => undefined);
  }
  assert.fail('expected the store to fail');
}

async function withFakeServer(behaviour: FakeTdsBehaviour, work: (store: MssqlStore) => Promise<unknown>): Promise<Error> {
  const server = await startFakeTds(behaviour);
  try {
    return await failureOf(new MssqlStore({ connectionString: connection(`127.0.0.1,${server.port}`) }), work);
  } finally {
    await server.close();
  }
}

function assertNoSecret(err: Error): void {
  assert.doesNotMatch(`${err.message} ${err.stack}`, new RegExp(PASSWORD));
}

test('a closed port: "not reachable", transient, so uploads are spooled', async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const err = await failureOf(new MssqlStore({ connectionString: connection(`127.0.0.1,${port}`) }), (s) => s.listDevices());
  assert.ok(err instanceof StoreUnavailableError, `${err.name}: ${err.message}`);
  assert.match(err.message, /^SQL Server is not reachable \(server 127\.0\.0\.1,\d+, database inlet, SQL login inlet_svc/);
  assert.match(err.message, /TCP\/IP is enabled/);
  assertNoSecret(err);
});

test('an unknown host name: "host not found", naming the setting', async () => {
  const err = await failureOf(new MssqlStore({ connectionString: connection('no-such-sql-server.invalid') }), (s) => s.listDevices());
  assert.ok(err instanceof StoreUnavailableError, `${err.name}: ${err.message}`);
  assert.match(err.message, /^SQL Server host not found \(server no-such-sql-server\.invalid.*check the server name in store\.mssql\.connectionString/);
  assertNoSecret(err);
});

test('a wrong password (18456): "login failed", not transient, pointing at the credentials and the error log', async () => {
  const err = await withFakeServer({ loginErrors: [{ number: 18456, message: "Login failed for user 'inlet_svc'." }] }, (s) => s.listDevices());
  assert.ok(!(err instanceof StoreUnavailableError), err.message);
  assert.match(err.message, /^SQL Server login failed \(server 127\.0\.0\.1.*check User Id and Password/);
  assertNoSecret(err);
});

test('a missing database (4060, then 18456 as SQL Server sends them): "refused to open the database", not "login failed"', async () => {
  const err = await withFakeServer({
    loginErrors: [
      { number: 4060, severity: 11, message: 'Cannot open database "inlet" requested by the login. The login failed.' },
      { number: 18456, message: "Login failed for user 'inlet_svc'." },
    ],
  }, (s) => s.listDevices());
  assert.ok(!(err instanceof StoreUnavailableError), err.message);
  assert.match(err.message, /^SQL Server refused to open the database \(.*database inlet.*Create the database and a user for the login/);
  assertNoSecret(err);
});

test('a missing right (229): names the role to grant and the owner login for migrations', async () => {
  const err = await withFakeServer({
    requestErrors: [{ number: 229, message: "The SELECT permission was denied on the object 'devices', database 'inlet', schema 'inlet'." }],
  }, (s) => s.listDevices());
  assert.ok(!(err instanceof StoreUnavailableError), err.message);
  assert.match(err.message, /^the SQL Server login lacks a right Inlet needs .*SELECT permission was denied.*inlet_service role/);
});

test('a deadlock (1205) or a full log (9002) on a statement is transient: the spool keeps the data', async () => {
  for (const number of [1205, 9002]) {
    const err = await withFakeServer({ requestErrors: [{ number, severity: 13, message: `error ${number} from the server` }] }, (s) => s.listDevices());
    assert.ok(err instanceof StoreUnavailableError, `${number}: ${err.name}: ${err.message}`);
    assert.match(err.message, new RegExp(`^SQL Server cannot take the write now \\(error ${number}\\)`));
  }
});
