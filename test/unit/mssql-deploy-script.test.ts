// The DBA's sqlcmd script (`inlet migrate --script`): the same bootstrap, migrations and checksums as
// `inlet migrate`, each migration guarded so a second run skips it, and batches cut where sqlcmd cuts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SQL_ROOT, loadMigrations, type Migration } from '../../src/store/migrations.ts';
import { splitBatches } from '../../src/store/mssql/batches.ts';
import { buildDeployScript } from '../../src/store/mssql/deploy-script.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const bootstrap = readFileSync(path.join(SQL_ROOT, 'mssql', 'bootstrap.sql'), 'utf8');
const migrations = loadMigrations('mssql');
const generatedAt = new Date('2026-11-23T12:00:00Z');

/** sqlcmd directives (":on error exit") are lines for sqlcmd, not T-SQL. */
const tsqlBatches = (script: string) => splitBatches(script.replace(/^:.*$/gm, '')).map((b) => b.sql.trim());

test('the script holds the bootstrap and every migration in order, each recorded with the checksum inlet migrate records', () => {
  const script = buildDeployScript({ bootstrap, migrations: [...migrations].reverse(), version: '9.9.9', generatedAt });
  assert.match(script, /^-- Inlet 9\.9\.9: SQL Server schema/);
  assert.match(script, /^:on error exit$/m);
  const records = [...script.matchAll(/INSERT INTO inlet\.schema_migrations \(version, name, checksum\) VALUES \((\d+), N'([a-z0-9_]+)', '([0-9a-f]{64})'\)/g)]
    .map((m) => ({ version: Number(m[1]), name: m[2], checksum: m[3] }));
  assert.deepEqual(records, migrations.map(({ version, name, checksum }) => ({ version, name, checksum })));
  assert.ok(script.indexOf('inlet.schema_migrations (') < script.indexOf('migration 001_initial'), 'bootstrap comes first');
});

test('each migration runs between its guard and its record, batch for batch as inlet migrate sends them', () => {
  const script = buildDeployScript({ bootstrap, migrations, version: '1', generatedAt });
  const batches = tsqlBatches(script);
  let at = 1 + splitBatches(bootstrap).length; // the SET options batch, then the bootstrap
  for (const m of migrations) {
    assert.match(batches[at], new RegExp(`WHERE version = ${m.version}\\)[\\s\\S]*SET NOEXEC ON;`), `guard of ${m.version}`);
    assert.match(batches[at], /sp_getapplock @Resource = N'inlet\.migrate'/);
    at++;
    for (const b of splitBatches(m.sql)) {
      for (let n = 0; n < b.repeat; n++) assert.equal(batches[at++], b.sql.trim(), `batch of migration ${m.version} at line ${b.line}`);
    }
    assert.match(batches[at++], new RegExp(`VALUES \\(${m.version}, [\\s\\S]*COMMIT TRANSACTION;$`));
    assert.equal(batches[at++], 'SET NOEXEC OFF;');
  }
  assert.match(batches[at++], /^PRINT N'Inlet 1 schema is up to date';$/);
  assert.equal(at, batches.length);
});

test('GO n is written out as n batches, and quotes in names and messages are doubled', () => {
  const migration: Migration = { version: 7, name: "o'brien", sql: 'PRINT 1;\nGO 3\nPRINT 2;\nGO', checksum: 'a'.repeat(64) };
  const batches = tsqlBatches(buildDeployScript({ bootstrap: '', migrations: [migration], version: "x'y", generatedAt }));
  assert.deepEqual(batches.filter((b) => b === 'PRINT 1;').length, 3);
  assert.ok(batches.some((b) => b.includes("VALUES (7, N'o''brien', 'aaaa")));
  assert.ok(batches.some((b) => b === "PRINT N'Inlet x''y schema is up to date';"));
  assert.ok(!batches.some((b) => /^GO\b/im.test(b)), 'no separator is left inside a batch');
});

test('`inlet migrate --script --out` writes the script without connecting to any database', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inlet-script-'));
  try {
    const file = path.join(dir, 'inlet-schema.sql');
    const cli = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
    const printed = execFileSync(process.execPath, [cli, 'migrate', '--script', '--out', file], {
      // An unreachable server: the command must not try it.
      env: { ...process.env, INLET_CONFIG: '', INLET_STORE: 'mssql', INLET_MSSQL_CONNECTION: 'Server=192.0.2.1,1;Database=x;User Id=u;Password=p' },
      encoding: 'utf8', timeout: HANG_GUARD_MS,
    });
    assert.match(printed, /wrote .*inlet-schema\.sql: run it with {2}sqlcmd /);
    const written = readFileSync(file, 'utf8');
    assert.equal(tsqlBatches(written).length, tsqlBatches(buildDeployScript({ bootstrap, migrations, version: '1', generatedAt })).length);
    assert.doesNotMatch(written, /Password=p/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
