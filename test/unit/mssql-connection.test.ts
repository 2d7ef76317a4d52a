import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionStringError, parseConnectionString } from '../../src/store/mssql/connection.ts';

test('ADO form: server, port, database, SQL login, TLS verified by default', () => {
  const { config, describe } = parseConnectionString('Server=tcp:sql01.corp.local,1444;Database=inlet;User Id=inlet_svc;Password=s3cr');
  assert.equal(config.server, 'sql01.corp.local');
  assert.equal(config.port, 1444);
  assert.equal(config.database, 'inlet');
  assert.equal(config.user, 'inlet_svc');
  assert.equal(config.password, 's3cr');
  assert.equal(config.options?.encrypt, true);
  assert.equal(config.options?.trustServerCertificate, false);
  assert.equal(config.options?.useUTC, true);
  assert.match(describe, /server sql01\.corp\.local,1444, database inlet, SQL login inlet_svc, TLS$/);
  assert.doesNotMatch(describe, /s3cr/);
});

test('ADO form: quoted values keep ";" and doubled quotes; synonyms and spacing in keys', () => {
  const { config } = parseConnectionString(`Data Source = sql01\\SQLEXPRESS; Initial Catalog=inlet ; UID=svc; PWD="pa;ss""word"; Application Name={Inlet {gw}} 1}`);
  assert.equal(config.server, 'sql01');
  assert.equal(config.options?.instanceName, 'SQLEXPRESS');
  assert.equal(config.port, undefined);
  assert.equal(config.database, 'inlet');
  assert.equal(config.password, 'pa;ss"word');
  assert.equal(config.options?.appName, 'Inlet {gw} 1');
});

test('Windows login as DOMAIN\\user (or Domain=) becomes NTLM authentication', () => {
  const { config, describe } = parseConnectionString('Server=sql01;Database=inlet;User Id=CORP\\svc-inlet;Password=pw');
  assert.deepEqual(config.authentication, { type: 'ntlm', options: { userName: 'svc-inlet', password: 'pw', domain: 'CORP' } });
  assert.equal(config.user, undefined);
  assert.match(describe, /Windows login CORP\\svc-inlet \(NTLM\)/);
  const viaKey = parseConnectionString('Server=sql01;Database=inlet;User Id=svc-inlet;Domain=CORP;Password=pw').config;
  assert.deepEqual(viaKey.authentication, config.authentication);
});

test('Integrated Security is refused with what to write instead', () => {
  assert.throws(() => parseConnectionString('Server=sql01;Database=inlet;Integrated Security=SSPI'), /User Id=DOMAIN\\user;Password=/);
  assert.throws(() => parseConnectionString('Server=sql01;Database=inlet;Trusted_Connection=yes'), ConnectionStringError);
});

test('TLS options: Encrypt=Strict, TrustServerCertificate, HostNameInCertificate; MultiSubnetFailover and read-only intent', () => {
  const { config, describe } = parseConnectionString('Server=ag-listener,1433;Database=inlet;User Id=svc;Password=pw;Encrypt=Strict;' +
    'TrustServerCertificate=False;HostNameInCertificate=sql.corp.local;MultiSubnetFailover=True;ApplicationIntent=ReadOnly;Connect Timeout=30');
  assert.equal(config.options?.encrypt, 'strict' as unknown as boolean);
  assert.equal(config.options?.serverName, 'sql.corp.local');
  assert.equal(config.options?.multiSubnetFailover, true);
  assert.equal(config.options?.readOnlyIntent, true);
  assert.equal(config.connectionTimeout, 30_000);
  assert.match(describe, /TLS strict \(TDS 8\), MultiSubnetFailover/);
  const trusting = parseConnectionString('Server=s;Database=d;User Id=u;Password=p;Encrypt=yes;TrustServerCertificate=true');
  assert.equal(trusting.config.options?.trustServerCertificate, true);
  assert.match(trusting.describe, /server certificate NOT verified/);
  assert.equal(parseConnectionString('Server=s;Database=d;User Id=u;Password=p;Encrypt=False').config.options?.encrypt, false);
});

test('URL form: mssql:// and sqlserver://, percent-encoded secrets, query options', () => {
  const { config } = parseConnectionString('mssql://inlet_svc:p%40ss%3Bw@sql01.corp.local:1500/inlet?encrypt=true&trustServerCertificate=true&multiSubnetFailover=true');
  assert.equal(config.server, 'sql01.corp.local');
  assert.equal(config.port, 1500);
  assert.equal(config.database, 'inlet');
  assert.equal(config.user, 'inlet_svc');
  assert.equal(config.password, 'p@ss;w');
  assert.equal(config.options?.trustServerCertificate, true);
  assert.equal(config.options?.multiSubnetFailover, true);
  const windows = parseConnectionString('sqlserver://CORP%5Csvc:pw@sql01/inlet?instanceName=SQLEXPRESS').config;
  assert.deepEqual(windows.authentication, { type: 'ntlm', options: { userName: 'svc', password: 'pw', domain: 'CORP' } });
  assert.equal(windows.options?.instanceName, 'SQLEXPRESS');
});

test('"." and (local) mean this machine', () => {
  assert.equal(parseConnectionString('Server=.\\SQLEXPRESS;Database=d;User Id=u;Password=p').config.server, 'localhost');
  assert.equal(parseConnectionString('Server=(local);Database=d;User Id=u;Password=p').config.server, 'localhost');
});

test('mistakes are named, and the password never appears in a message', () => {
  const cases: [string, RegExp][] = [
    ['', /is empty/],
    ['Server=s;Database=d;User Id=u;Password=hun;ter2', /part without "="/],
    ['Database=inlet;User Id=u;Password=hunter2', /no Server/],
    ['Server=s;User Id=u;Password=hunter2', /no Database/],
    ['Server=s;Database=d;Password=hunter2', /no User Id/],
    ['Server=s;Database=d;User Id=u;Password=hunter2;Colour=blue', /key "Colour" is not supported/],
    ['Server=s;Database=d;User Id=u;Password=hunter2;Encrypt=maybe', /Encrypt=maybe is not understood/],
    ['Server=s,abc;Database=d;User Id=u;Password=hunter2', /Server port=abc must be a whole number/],
    ["Server=s;Database=d;User Id=u;Password='hunter2", /Password is missing its closing '/],
    ['Server=np:\\\\s\\pipe\\sql\\query;Database=d;User Id=u;Password=hunter2', /named pipes/],
    ['mssql://u:hunter2@s:notaport/d', /URL is malformed/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseConnectionString(text), (err: Error) => {
      assert.ok(err instanceof ConnectionStringError, text);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /hunter2|ter2/);
      return true;
    });
  }
});
