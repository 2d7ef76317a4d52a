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
import { MssqlReadSide } from '../../src/store/mssql/read-side.ts';
import { parseConnectionString } from '../../src/store/mssql/connection.ts';
import { storeContract } from './store-contract.ts';
import { SQL_ROOT, loadMigrations } from '../../src/store/migrations.ts';
import { splitBatches } from '../../src/store/mssql/batches.ts';
import { buildDeployScript } from '../../src/store/mssql/deploy-script.ts';
import type { Batch } from '../../src/domain/types.ts';
import { GENESIS_HASH } from '../../src/domain/chain.ts';
import { eventHash } from '../../src/domain/audit-chain.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { serviceDenies } from '../support/mssql-denies.ts';

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

// Least privilege, proven: the same contract as a login that is only in the inlet_service role, set
// up here exactly as docs/sqlserver.md tells the DBA (grants on the schema, REFERENCES for the table
// types, DENY DELETE), the schema migrated first by an owner login that is only db_owner of the test
// database (as the docs make inlet_owner), so the DENY rules of migrations 013, 014, 031 and 032 apply
// to the role. rawExec stays the INLET_TEST_MSSQL login's: the triggers bind it too. That login must
// be allowed to create databases and logins (e.g. sa on a disposable container).
const SERVICE_ROLE_SETUP = `CREATE ROLE inlet_service AUTHORIZATION dbo;
GRANT SELECT, INSERT, UPDATE ON SCHEMA::inlet TO inlet_service;
GRANT EXECUTE, REFERENCES ON SCHEMA::inlet TO inlet_service;
DENY DELETE ON SCHEMA::inlet TO inlet_service;`;

/** The connection string of `user` instead of the owner's (a later ADO key wins). */
function asLogin(text: string, user: string, password: string): string {
  if (/^(mssql|sqlserver):\/\//i.test(text.trim())) {
    const url = new URL(text.trim());
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    return url.toString();
  }
  return `${text.replace(/;\s*$/, '')};User Id=${user};Password={${password}}`;
}

async function serviceDatabase(): Promise<{ database: string; login: string; password: string; drop(): Promise<void> }> {
  // Constant prefixes and hex digits only, so they are safe in DDL; the passwords are random per run.
  const suffix = randomBytes(6).toString('hex');
  const database = `inlet_test_${suffix}`;
  const login = `inlet_svc_${suffix}`;
  const password = `Aa1!${randomBytes(12).toString('hex')}`;
  // The owner as docs/sqlserver.md section 2 makes it: a login whose only right is db_owner of the
  // Inlet database (nothing at server level), so that "the owner's rights, exactly" is what migrates.
  const ownerLogin = `inlet_own_${suffix}`;
  const ownerPassword = `Aa1!${randomBytes(12).toString('hex')}`;
  await onDatabase('master', (pool) => pool.request().batch(`CREATE DATABASE [${database}];
    CREATE LOGIN [${login}] WITH PASSWORD = N'${password}', CHECK_POLICY = OFF, DEFAULT_DATABASE = [${database}];
    CREATE LOGIN [${ownerLogin}] WITH PASSWORD = N'${ownerPassword}', CHECK_POLICY = OFF, DEFAULT_DATABASE = [${database}];`));
  await onDatabase(database, async (pool) => {
    await pool.request().batch(`CREATE USER [${ownerLogin}] FOR LOGIN [${ownerLogin}]; ALTER ROLE db_owner ADD MEMBER [${ownerLogin}];`);
    await pool.request().batch("IF SCHEMA_ID(N'inlet') IS NULL EXEC (N'CREATE SCHEMA inlet AUTHORIZATION dbo;');");
    await pool.request().batch(SERVICE_ROLE_SETUP);
    await pool.request().batch(`CREATE USER [${login}] FOR LOGIN [${login}]; ALTER ROLE inlet_service ADD MEMBER [${login}];`);
  });
  const owner = new MssqlStore({ connectionString: asLogin(withDatabase(connectionString!, database), ownerLogin, ownerPassword) });
  try { await owner.migrate(); } finally { await owner.close(); }
  return {
    database, login, password,
    async drop() {
      await onDatabase('master', (pool) => pool.request().batch(
        `ALTER DATABASE [${database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${database}]; DROP LOGIN [${login}]; DROP LOGIN [${ownerLogin}];`));
    },
  };
}

/** Refusals of a right: on the object (229, 230), the database (262), or "not found or no permission" for DDL. */
const PERMISSION_REFUSALS = [229, 230, 262, 297, 300, 1088, 4902, 15151, 15247];

storeContract('mssql as the inlet_service role', async () => {
  const db = await serviceDatabase();
  const store = new MssqlStore({ connectionString: asLogin(withDatabase(connectionString!, db.database), db.login, db.password) });
  const raw = await new sql.ConnectionPool(parseConnectionString(withDatabase(connectionString!, db.database)).config).connect();
  return {
    store,
    async rawExec(statement: string) { await raw.request().batch(statement); },
    table: (name) => `inlet.${name}`,
    async dispose() {
      await store.close();
      await raw.close();
      await db.drop();
    },
  };
}, { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set', schemaOwnedElsewhere: true });

test('the service role may not write horizons, anchors, the policies, the rollup, body purges or staging (every DENY of the migrations), nor delete, nor change the schema or partitions, nor forge an event\'s time or login',
  { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set' }, async () => {
    const db = await serviceDatabase();
    try {
      const config = parseConnectionString(asLogin(withDatabase(connectionString!, db.database), db.login, db.password)).config;
      const service = await new sql.ConnectionPool(config).connect();
      try {
        const refused = async (statement: string, numbers: number[] = PERMISSION_REFUSALS) => {
          await assert.rejects(service.request().batch(statement), (err: { number?: number; originalError?: { info?: { number?: number } } }) => {
            const number = err.number ?? err.originalError?.info?.number;
            assert.ok(number !== undefined && numbers.includes(number), `${statement}: error ${number}`);
            return true;
          });
        };
        await refused(`INSERT INTO inlet.retention_horizons (set_at, data_before, below_upload_id, audit_before, set_by, reason)
          VALUES (SYSUTCDATETIME(), SYSUTCDATETIME(), 1000000, NULL, N'intruder', N'purge everything')`);
        await refused('INSERT INTO inlet.chain_anchors (horizon_id, chain, upload_id, hash) VALUES (1, 0, 1, 0x00)');
        await refused('UPDATE inlet.retention_policy SET min_keep_days = 1');
        await refused('UPDATE inlet.sample_rollup_hour SET value_max = 0');
        await refused('DELETE FROM inlet.samples');
        await refused('DELETE FROM inlet.uploads');
        await refused('CREATE TABLE inlet.intruder (id int NOT NULL CONSTRAINT pk_intruder PRIMARY KEY)');
        // Every DENY a migration applies, attempted right by right (the rights are checked before any
        // constraint or trigger, so an empty statement is enough to be refused).
        const denies = serviceDenies();
        assert.ok(denies.size >= 10, `${denies.size} tables with DENY rules`);
        // The columns are read as the INLET_TEST_MSSQL login, which sees every table.
        const catalog = await new sql.ConnectionPool(parseConnectionString(withDatabase(connectionString!, db.database)).config).connect();
        try {
          for (const [table, rights] of denies) {
            const [column] = (await catalog.request().input('table', sql.NVarChar(256), table).query<{ name: string }>(
              `SELECT TOP (1) c.name FROM sys.columns AS c
               WHERE c.object_id = OBJECT_ID(@table) AND c.is_identity = 0 AND c.is_computed = 0 ORDER BY c.column_id`)).recordset;
            assert.ok(column, `${table} exists`);
            // Names from the migrations and sys.columns, not from input: safe to place in the statement.
            for (const right of rights) {
              const attempt = {
                SELECT: `SELECT COUNT(*) AS n FROM ${table}`,
                INSERT: `INSERT INTO ${table} DEFAULT VALUES`,
                UPDATE: `UPDATE ${table} SET [${column.name}] = [${column.name}] WHERE 1 = 0`,
                DELETE: `DELETE FROM ${table} WHERE 1 = 0`,
              }[right];
              assert.ok(attempt, `${table}: a DENY of ${right}`);
              await refused(attempt);
            }
          }
        } finally {
          await catalog.close();
        }
        // The session flag the partition switch sets for its own rebuild opens nothing to the service.
        await refused(`EXEC sys.sp_set_session_context @key = N'inlet.partition_switch', @value = 1;
          INSERT INTO inlet.sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
          VALUES (1, 1, SYSUTCDATETIME(), 0, 0, 0, 0, 0, 0);`);
        // No partition DDL of its own: switching, truncating and splitting are the procedures' (EXECUTE AS OWNER).
        await refused('ALTER TABLE inlet.samples SWITCH PARTITION 1 TO inlet.samples_switch_out;');
        await refused('TRUNCATE TABLE inlet.samples;');
        await refused('ALTER PARTITION FUNCTION pf_upload_id () SPLIT RANGE (1);');
        // Events carry the server's time and login, not the caller's (migration 013's trigger: 50016).
        await refused(`INSERT INTO inlet.events (occurred_at, device_id, type, level, message, recorded_by)
          VALUES (SYSUTCDATETIME(), NULL, 'test.forged', 'info', N'forged login', N'someone_else');`, [50016]);
        await refused(`INSERT INTO inlet.events (occurred_at, device_id, type, level, message, recorded_at)
          VALUES (SYSUTCDATETIME(), NULL, 'test.forged', 'info', N'backdated', DATEADD(day, -1, SYSUTCDATETIME()));`, [50016]);
        // What it is for still works: the procedures, by ownership chaining (and EXECUTE AS OWNER for DDL).
        await service.request().batch('EXEC inlet.purge_below_horizon @batch_size = 10, @upload_batch_size = 10;');
        await service.request().batch("EXEC inlet.purge_upload_bodies @keep_days = 3650, @batch_size = 10, @reason = N'contract';");
        await service.request().batch('EXEC inlet.add_upload_partitions;');
        await service.request().batch('EXEC inlet.switch_out_below_horizon @max_partitions = 1;');
      } finally {
        await service.close();
      }
    } finally {
      await db.drop();
    }
  });

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

// ---- The journal's apply in batches, and every event in the audit chain (migrations 037, 038) ----

const CHAIN_KEY = new Uint8Array(32).fill(5);
const T1 = Date.UTC(2025, 0, 15, 8, 0, 0, 123);

async function freshStore(): Promise<{ store: MssqlStore; raw: sql.ConnectionPool; drop(): Promise<void> }> {
  const database = `inlet_test_${randomBytes(6).toString('hex')}`;
  await onDatabase('master', (pool) => pool.request().batch(`CREATE DATABASE [${database}];`));
  const store = new MssqlStore({ connectionString: withDatabase(connectionString!, database) });
  await store.migrate();
  store.useChainKey(CHAIN_KEY);
  const raw = await new sql.ConnectionPool(parseConnectionString(withDatabase(connectionString!, database)).config).connect();
  return {
    store, raw,
    async drop() {
      await store.close();
      await raw.close();
      await onDatabase('master', (pool) => pool.request().batch(
        `ALTER DATABASE [${database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${database}];`));
    },
  };
}

function journalBatch(deviceId: number | null, n: number, samples: { channel: number; time: number; value: number }[], extra: Partial<Batch> = {}): Batch {
  return {
    upload: {
      deviceId, family: 'soap', receivedAt: T1 + n, remoteAddress: '192.0.2.10', contentType: 'text/xml', raw: Buffer.from(`<u n="${n}"/>`),
      verdict: deviceId === null ? 'refused' : 'accepted', reason: deviceId === null ? 'unknown entry point' : 'ok',
      serial: deviceId === null ? null : '1', counter: n, uploadKey: `journal-test:${n}`,
    },
    samples: samples.map((s) => ({ deviceId: deviceId!, channel: s.channel, time: s.time, value: s.value, errorCode: null, alarm: 'no' as const })),
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null, ...extra,
  };
}

/** Walks the audit chain as `inlet verify` does: every event linked, each on the one before it. */
async function assertEveryEventLinked(store: MssqlStore): Promise<number> {
  const events = await store.chainedEvents(0, 10_000);
  let prev: Uint8Array = GENESIS_HASH;
  for (const e of events) {
    assert.ok(e.hash && e.prevHash, `event #${e.id} (${e.type}) is linked`);
    assert.deepEqual(Buffer.from(e.prevHash), Buffer.from(prev), `event #${e.id} (${e.type}) links to the one before`);
    assert.deepEqual(Buffer.from(e.hash), eventHash(e.prevHash, { ...e, recordedAt: e.recordedAt ?? 0 }, CHAIN_KEY), `event #${e.id} (${e.type})`);
    prev = e.hash;
  }
  return events.length;
}

const device = (serial: string) => ({
  family: 'soap' as const, serial, modelCode: 1, model: 'T3311', name: serial, entryToken: `Tok-${serial}-aBcDeF`,
  channels: [{ channel: 1, quantity: 'temperature', unit: '°C' }, { channel: 2, quantity: 'relative_humidity', unit: '%RH' }],
});

test('the journal applied in one batch: samples once per key, duplicates, replays exactly once, chains linked, the rollup equal to its samples',
  { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set' }, async () => {
    const { store, drop } = await freshStore();
    try {
      const a = await store.addDevice(device('11'), T1);
      const b = await store.addDevice(device('22'), T1);
      const batches = [
        journalBatch(a.id, 1, [{ channel: 1, time: T1, value: 1 }, { channel: 1, time: T1 + 60_000, value: 2 }]),
        journalBatch(b.id, 2, [{ channel: 2, time: T1, value: 40 }]),
        journalBatch(a.id, 3, [{ channel: 1, time: T1 + 60_000, value: 2 }, { channel: 1, time: T1 + 3_600_000, value: 5 }], {
          channels: [{ deviceId: a.id, channel: 3, quantity: 'pressure', unit: 'hPa' }],
          events: [{ at: T1 + 3, deviceId: a.id, type: 'device.interval', level: 'warning', message: 'too fast' }],
          deviceSeen: { deviceId: a.id, at: T1 + 3, declaredIntervalS: 60 },
        }),
        journalBatch(null, 4, []),
        journalBatch(a.id, 1, [{ channel: 1, time: T1, value: 1 }, { channel: 1, time: T1 + 60_000, value: 2 }]), // the same record twice
      ];
      const first = await store.applyBatches(batches, batches.map(() => false));
      assert.deepEqual(first.map((r) => (r instanceof Error ? r.message : [r.verdict, r.samplesStored])),
        [['accepted', 2], ['accepted', 1], ['accepted', 1], ['refused', 0], ['accepted', 2]]);
      const ids = first.map((r) => (r as { uploadId: number }).uploadId);
      assert.equal(ids[4], ids[0], 'a record repeated in the batch is one upload');
      // A replay after a crash: looked up by upload key, nothing stored twice.
      const again = await store.applyBatches(batches, batches.map(() => true));
      assert.deepEqual(again.map((r) => (r as { uploadId: number }).uploadId), ids);
      assert.equal((await store.uploads({})).length, 4);
      assert.equal((await store.uploadSamples(0, null)).length, 4);
      assert.deepEqual(await store.rollupMismatches(null, 10), []);
      // The hourly rollup the batch's trigger merged equals the embedded store's for the same batches.
      const embedded = new SqliteStore({ file: path.join(tempDir('inlet-mssql-rollup-'), 'inlet.sqlite') });
      try {
        await embedded.migrate();
        const ea = await embedded.addDevice(device('11'), T1);
        const eb = await embedded.addDevice(device('22'), T1);
        assert.deepEqual([ea.id, eb.id], [a.id, b.id]);
        await embedded.applyBatches!(batches, batches.map(() => false));
        for (const [id, channel] of [[a.id, 1], [b.id, 2]]) {
          const q = { deviceId: id, channel, from: T1 - 3_600_000, to: T1 + 3 * 3_600_000, bucketMs: 3_600_000 };
          assert.deepEqual(await store.series(q), await embedded.series(q), `hourly rollup of device ${id} channel ${channel}`);
        }
      } finally {
        await embedded.close();
      }
      assert.deepEqual((await store.listChannels(a.id)).map((c) => c.channel), [1, 2, 3]);
      assert.equal((await store.getDevice(a.id))!.declaredIntervalS, 60);
      assert.ok(await assertEveryEventLinked(store) >= 4, 'registrations, the channel recorded and the upload event');
    } finally {
      await drop();
    }
  });

test('events written by procedures (limits, zones), by the refusal archive and by a DBA are linked into the audit chain',
  { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set' }, async () => {
    const { store, raw, drop } = await freshStore();
    try {
      const d = await store.addDevice(device('33'), T1);
      await store.setAlarmLimits(d.id, 1, [{ deviceId: d.id, channel: 1, level: 'alarm', high: 8, low: null, delayS: 0, hysteresis: 0 }], 'admin', T1);
      const actor = { by: 'admin', at: T1, source: '192.0.2.1' };
      const zone = await store.addZone({ parentId: null, name: 'Site' }, actor);
      const user = await store.addUser({ username: 'op', role: 'operator', passwordHash: 'x' }, T1);
      await store.setUserZoneRoles(user.id, [{ zoneId: zone.id, role: 'operator' }], actor);
      await store.setUserZoneRoles(user.id, [], actor);
      await store.removeZone(zone.id, actor);
      await store.archiveRefusals([], [{ at: T1, deviceId: null, type: 'upload.refused', level: 'warning', message: 'refused' }], { maxRows: 100, keepSince: 0 });
      // A DBA's own insert is linked by the next write of the gateway.
      await raw.request().batch(`INSERT INTO inlet.events (occurred_at, device_id, type, level, message) VALUES (SYSUTCDATETIME(), NULL, 'dba.note', 'info', N'by hand');`);
      await store.applyBatches([journalBatch(d.id, 9, [{ channel: 1, time: T1, value: 1 }])], [false]);
      const linked = await assertEveryEventLinked(store);
      assert.ok(linked >= 8, `${linked} events`);
      // Linking is the one change an event may see, once, under the event chain lock.
      await assert.rejects(raw.request().batch("UPDATE inlet.events SET message = N'rewritten' WHERE type = 'dba.note';"), /append-only/);
      await assert.rejects(raw.request().batch("UPDATE inlet.events SET hash = 0x00 WHERE type = 'dba.note';"), /append-only/);
      await raw.request().batch(`INSERT INTO inlet.events (occurred_at, device_id, type, level, message) VALUES (SYSUTCDATETIME(), NULL, 'dba.note', 'info', N'again');`);
      await assert.rejects(raw.request().batch("UPDATE inlet.events SET prev_hash = 0x00, hash = 0x00 WHERE hash IS NULL;"), /event chain lock/);
    } finally {
      await drop();
    }
  });

// Unlinked events on SQL Server (src/store/event-links.ts, migration 039): the gateway links every
// event waiting above the chain's head at its next write, so one left unlinked below a linked event
// was inserted outside Inlet (here with IDENTITY_INSERT into an id a rolled-back insert left free).
test('inlet verify reports an unlinked event that a linked one follows, not one still waiting for its link',
  { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set' }, async () => {
    const { store, raw, drop } = await freshStore();
    try {
      const { ensureEveryEventLinkedMarker } = await import('../../src/store/event-links.ts');
      const { verifyIntegrity } = await import('../../src/jobs/verify.ts');
      const chainKey = { key: CHAIN_KEY, keyedFromUploadId: 1 };
      await ensureEveryEventLinkedMarker(store, T1);
      const [marker] = await store.events({ type: 'audit.events.linked', limit: 1 });
      assert.ok(marker, 'the marker is written on SQL Server');
      // The DBA's change of a floor writes an event without a link (under the event chain lock, 039): it waits.
      await raw.request().batch('UPDATE inlet.retention_policy SET min_keep_days = 400 WHERE id = 1;');
      const unchained = (report: { problems: { kind: string }[] }) => report.problems.filter((p) => p.kind === 'event-unchained');
      const waiting = await verifyIntegrity(store, { chainKey, rollup: 'skip' });
      assert.deepEqual(unchained(waiting), [], 'waiting for its link');
      const gap = (await raw.request().query<{ id: number }>(`SET NOCOUNT ON;
        DECLARE @taken TABLE (id bigint NOT NULL);
        BEGIN TRANSACTION;
        INSERT INTO inlet.events (occurred_at, device_id, type, level, message) OUTPUT inserted.id INTO @taken (id)
        VALUES (SYSUTCDATETIME(), NULL, 'dba.note', 'info', N'rolled back');
        ROLLBACK TRANSACTION;
        SELECT id FROM @taken;`)).recordset[0].id;
      await store.addEvent({ at: T1, deviceId: null, type: 'test.linked', level: 'info', actor: 'test', source: null, message: 'links what waited', data: {} });
      const linked = await verifyIntegrity(store, { chainKey, rollup: 'skip' });
      assert.deepEqual(unchained(linked), [], 'the floor\'s event is linked now');
      await raw.request().batch(`SET IDENTITY_INSERT inlet.events ON;
        INSERT INTO inlet.events (id, occurred_at, device_id, type, level, message, data)
        VALUES (${Number(gap)}, SYSUTCDATETIME(), NULL, 'user.added', 'info', N'backdoor added by admin', N'{"username":"backdoor"}');
        SET IDENTITY_INSERT inlet.events OFF;`);
      const found = await verifyIntegrity(store, { chainKey, rollup: 'skip' });
      assert.equal(found.ok, false);
      assert.ok(found.problems.some((p) => p.kind === 'event-unchained' && p.uploadId === Number(gap)), JSON.stringify(found.problems));
    } finally {
      await drop();
    }
  });

test('the viewer\'s reader worker (its own pool) answers as the gateway\'s store: devices, channels, latest values, series, samples, events, CSV rows',
  { skip: connectionString ? undefined : 'INLET_TEST_MSSQL not set' }, async () => {
    const database = `inlet_test_${randomBytes(6).toString('hex')}`;
    await onDatabase('master', (pool) => pool.request().batch(`CREATE DATABASE [${database}];`));
    const databaseConnection = withDatabase(connectionString!, database);
    const store = new MssqlStore({ connectionString: databaseConnection });
    const readSide = new MssqlReadSide(store, databaseConnection);
    try {
      await store.migrate();
      store.useChainKey(CHAIN_KEY);
      const a = await store.addDevice(device('11'), T1);
      await store.applyBatches([journalBatch(a.id, 1, [{ channel: 1, time: T1, value: 1.5 }, { channel: 1, time: T1 + 60_000, value: 2 }])], [false]);
      const viewer = readSide.store;
      assert.deepEqual(await viewer.getDevice(a.id), await store.getDevice(a.id));
      assert.deepEqual(await viewer.listDevices(), await store.listDevices());
      assert.deepEqual(await viewer.listChannels(a.id), await store.listChannels(a.id));
      assert.deepEqual(await viewer.latestValues(a.id), await store.latestValues(a.id));
      const q = { deviceId: a.id, channel: 1, from: T1 - 3_600_000, to: T1 + 3_600_000, bucketMs: 3_600_000 };
      assert.deepEqual(await viewer.series(q), await store.series(q));
      assert.deepEqual(await viewer.samples(a.id, 1, T1, T1 + 120_000), await store.samples(a.id, 1, T1, T1 + 120_000));
      assert.deepEqual(await viewer.events({ limit: 50 }), await store.events({ limit: 50 }));
      const options = { decimalComma: true, timeZone: 'Europe/Prague', maxRows: 100 };
      const channels = [{ deviceId: a.id, channel: 1, from: T1, to: T1 + 120_000 }];
      assert.deepEqual(await viewer.csvRows!(channels, T1, T1 + 120_000, options), await store.csvRows(channels, T1, T1 + 120_000, options));
      assert.equal(await readSide.csvDaysFormatted(), 1, 'the worker formatted the viewer\'s rows');
    } finally {
      await readSide.close();
      await store.close();
      await onDatabase('master', (pool) => pool.request().batch(
        `ALTER DATABASE [${database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${database}];`));
    }
  });
