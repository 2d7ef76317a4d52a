// Static checks of the T-SQL (no SQL Server runs here): every script splits into batches cleanly,
// never selects *, names every constraint and index, and the objects and table-type columns the
// adapter uses are the ones the migrations create.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { splitBatches } from '../../src/store/mssql/batches.ts';
import { SQL_ROOT, loadMigrations } from '../../src/store/migrations.ts';
import { serviceDenies } from '../support/mssql-denies.ts';

const dir = path.join(SQL_ROOT, 'mssql');
const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
const scripts = files.map((file) => ({ file, text: readFileSync(path.join(dir, file), 'utf8') }));
const adapterDir = new URL('../../src/store/mssql/', import.meta.url);
const adapterSource = readdirSync(adapterDir).filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(new URL(f, adapterDir), 'utf8')).join('\n');

/** Comments and string literals blanked out, so that checks see only code. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/N?'(?:[^']|'')*'/g, "''");
}

/** The parenthesised body that starts at `open` (an index of "("). */
function body(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced parentheses after offset ${open}`);
}

test('the mssql migrations are numbered in order, each number once, from 001; bootstrap.sql is not one of them', () => {
  // Numbers may skip (work developed side by side was given number ranges); they never repeat.
  const versions = loadMigrations('mssql').map((m) => m.version);
  assert.equal(versions[0], 1);
  assert.deepEqual(versions, [...new Set(versions)].sort((a, b) => a - b));
  assert.ok(files.every((f) => f === 'bootstrap.sql' || /^\d{3}_[a-z0-9_]+\.sql$/.test(f)), files.join(', '));
  assert.ok(files.includes('bootstrap.sql'));
});

test('every T-SQL file splits into batches cleanly, with no empty or repeated batch', () => {
  for (const { file, text } of scripts) {
    const batches = splitBatches(text);
    assert.ok(batches.length > 0, file);
    for (const b of batches) assert.equal(b.repeat, 1, `${file}:${b.line} repeats a batch`);
    // Statements that must open their batch.
    for (const b of batches) {
      const code = codeOnly(b.sql).trim();
      if (/\bCREATE\s+(TRIGGER|PROCEDURE|FUNCTION|VIEW)\b/i.test(code)) assert.match(code, /^CREATE\s+(TRIGGER|PROCEDURE|FUNCTION|VIEW)\b/i, `${file}:${b.line}`);
    }
  }
});

test('no SELECT * in the migrations or in the adapter', () => {
  for (const { file, text } of scripts) assert.doesNotMatch(codeOnly(text), /\bSELECT\s+(TOP\s*\(?[^)]*\)?\s+)?(\w+\.)?\*/i, file);
  assert.doesNotMatch(adapterSource, /SELECT\s+(TOP\s*\(?[^)]*\)?\s+)?(\w+\.)?\*/i);
});

test('every constraint is named, in tables and in ALTER TABLE; table types carry none', () => {
  for (const { file, text } of scripts) {
    const code = codeOnly(text);
    for (const m of code.matchAll(/\bCREATE\s+TABLE\s+([\w.]+)\s*\(/gi)) {
      const definition = body(code, m.index + m[0].length - 1);
      // Each constraint keyword must follow "CONSTRAINT <name>", or be the REFERENCES of a named FOREIGN KEY.
      for (const k of definition.matchAll(/\b(PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY|DEFAULT|REFERENCES)\b/gi)) {
        const before = definition.slice(0, k.index);
        const named = /\bCONSTRAINT\s+[a-z][a-z0-9_]*\s*$/i.test(before)
          || (/^REFERENCES$/i.test(k[1]) && /\bCONSTRAINT\s+fk_\w+\s+FOREIGN\s+KEY\s*\([^)]*\)\s*$/i.test(before))
          // a second constraint on one column follows the first one's closing parenthesis
          || /\bCONSTRAINT\s+[a-z][a-z0-9_]*\s+\w+\s*$/i.test(before) && /^DEFAULT$/i.test(k[1]);
        assert.ok(named, `${file}: ${m[1]} has an unnamed ${k[1]} near "${before.slice(-60).trim()}"`);
      }
      for (const c of definition.matchAll(/\bCONSTRAINT\s+(\w+)\s+(PRIMARY|UNIQUE|CHECK|FOREIGN|DEFAULT)/gi)) {
        const prefix = { PRIMARY: 'pk_', UNIQUE: 'uq_', CHECK: 'ck_', FOREIGN: 'fk_', DEFAULT: 'df_' }[c[2].toUpperCase()]!;
        assert.ok(c[1].startsWith(prefix), `${file}: constraint ${c[1]} should start with ${prefix}`);
      }
    }
    for (const m of code.matchAll(/\bALTER\s+TABLE\s+[\w.]+\s+ADD\b([^;]*)/gi)) {
      assert.doesNotMatch(m[1].replace(/\bCONSTRAINT\s+\w+\s+\w+/gi, ''), /\b(PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY|DEFAULT)\b/i, `${file}: unnamed constraint in ALTER TABLE`);
    }
    for (const m of code.matchAll(/\bCREATE\s+TYPE\s+([\w.]+)\s+AS\s+TABLE\s*\(/gi)) {
      const definition = body(code, m.index + m[0].length - 1);
      assert.doesNotMatch(definition, /\b(PRIMARY\s+KEY|UNIQUE|CHECK|DEFAULT|CONSTRAINT)\b/i, `${file}: table type ${m[1]} has a constraint SQL Server would name itself`);
      for (const idx of definition.matchAll(/\bINDEX\s+(\w+)/gi)) assert.match(idx[1], /^ix_/, `${file}: ${m[1]} index ${idx[1]}`);
    }
  }
});

test('every index is named ix_ (or ux_ when unique)', () => {
  for (const { file, text } of scripts) {
    for (const m of codeOnly(text).matchAll(/\bCREATE\s+(UNIQUE\s+)?(?:(?:NON)?CLUSTERED\s+)?INDEX\s+(\w+)\s+ON\b/gi)) {
      assert.match(m[2], m[1] ? /^ux_/ : /^ix_/, `${file}: index ${m[2]}`);
    }
  }
});

/** Objects the scripts create, by kind, and each table type's columns as last defined. */
function createdObjects() {
  const objects = new Map<string, string>();
  const typeColumns = new Map<string, string[]>();
  for (const { text } of scripts) {
    const code = codeOnly(text);
    for (const m of code.matchAll(/\bCREATE\s+(TABLE|TYPE|SEQUENCE|TRIGGER|PROCEDURE)\s+(inlet\.\w+)/gi)) objects.set(m[2].toLowerCase(), m[1].toUpperCase());
    // In script order: a later migration drops a type and creates it anew.
    for (const m of code.matchAll(/\b(?:DROP\s+TYPE\s+(inlet\.\w+)|CREATE\s+TYPE\s+(inlet\.\w+)\s+AS\s+TABLE\s*\()/gi)) {
      if (m[1]) { typeColumns.delete(m[1].toLowerCase()); continue; }
      const columns = body(code, m.index + m[0].length - 1).split(/,(?![^(]*\))/).map((c) => c.trim().split(/\s+/)[0])
        .filter((c) => c && !/^INDEX$/i.test(c));
      typeColumns.set(m[2].toLowerCase(), columns);
    }
  }
  return { objects, typeColumns };
}

test('every inlet.* object the adapter names is created by a migration', () => {
  const { objects } = createdObjects();
  const used = new Set([...adapterSource.matchAll(/\binlet\.(\w+)/g)].map((m) => `inlet.${m[1]}`.toLowerCase()));
  const missing = [...used].filter((name) => !objects.has(name) && !['inlet.migrate', 'inlet.upload_writer', 'inlet.event_chain'].includes(name));
  assert.deepEqual(missing, [], 'objects used by the adapter but created by no migration (app lock names aside)');
  for (const t of ['inlet.samples', 'inlet.uploads', 'inlet.devices', 'inlet.events', 'inlet.quarantine', 'inlet.users', 'inlet.channels', 'inlet.schema_migrations']) {
    assert.equal(objects.get(t), 'TABLE', t);
  }
  assert.equal(objects.get('inlet.upload_id'), 'SEQUENCE');
});

test('the table-valued parameters the adapter builds match the table types column for column', () => {
  const { typeColumns } = createdObjects();
  const declarations = [...adapterSource.matchAll(/const (\w+) = new sql\.Table\('(inlet\.\w+)'\)/g)];
  assert.ok(declarations.length >= 5);
  for (const [whole, variable, type] of declarations) {
    const start = adapterSource.indexOf(whole) + whole.length;
    const next = adapterSource.slice(start).search(/new sql\.Table\(|\n}\n/);
    const region = adapterSource.slice(start, start + next);
    const added = [...region.matchAll(new RegExp(`${variable}\\.columns\\.add\\('(\\w+)'`, 'g'))].map((m) => m[1]);
    const listed = [...(region.match(new RegExp(`for \\(const \\[name, type, nullable\\] of \\[([\\s\\S]*?)\\] as const\\) ${variable}\\.columns\\.add`))?.[1] ?? '')
      .matchAll(/\['(\w+)'/g)].map((m) => m[1]);
    assert.deepEqual([...added, ...listed], typeColumns.get(type.toLowerCase()), `columns of ${type}`);
  }
});

test('columns the adapter inserts into exist in their tables', () => {
  const columnsOf = new Map<string, Set<string>>();
  for (const { text } of scripts) {
    const code = codeOnly(text);
    for (const m of code.matchAll(/\bCREATE\s+TABLE\s+(inlet\.\w+)\s*\(/gi)) {
      columnsOf.set(m[1], new Set(body(code, m.index + m[0].length - 1).split(/,(?![^(]*\))/).map((c) => c.trim().split(/\s+/)[0])));
    }
    // ALTER TABLE ... ADD may add several columns at once, separated by commas outside parentheses.
    for (const m of code.matchAll(/\bALTER\s+TABLE\s+(inlet\.\w+)\s+ADD\s+([^;]*?)(?:;|\bGO\b|$)/gi)) {
      for (const part of m[2].split(/,(?![^(]*\))/)) {
        const column = part.trim().split(/\s+/)[0];
        if (column && !/^CONSTRAINT$/i.test(column)) columnsOf.get(m[1])?.add(column);
      }
    }
  }
  for (const m of adapterSource.matchAll(/INSERT INTO (inlet\.\w+) \(([^)]*)\)/g)) {
    const known = columnsOf.get(m[1]);
    assert.ok(known, `${m[1]} is created by a migration`);
    for (const column of m[2].split(',').map((c) => c.trim())) assert.ok(known.has(column), `${m[1]}.${column} exists`);
  }
});

test('procedures the adapter executes are created by a migration and take exactly the parameters it passes', () => {
  const declared = new Map<string, string[]>();
  for (const { text } of scripts) {
    for (const m of codeOnly(text).matchAll(/\bCREATE\s+PROCEDURE\s+(inlet\.\w+)([\s\S]*?)\bAS\b/gi)) {
      declared.set(m[1].toLowerCase(), [...m[2].matchAll(/@(\w+)/g)].map((p) => p[1]).sort());
    }
  }
  const calls = [...adapterSource.matchAll(/\bEXEC\s+(inlet\.\w+)([^;]*);/g)];
  assert.ok(calls.length >= 1);
  for (const [, name, args] of calls) {
    assert.ok(declared.has(name.toLowerCase()), `${name} is created by a migration`);
    assert.deepEqual([...args.matchAll(/@(\w+)\s*=/g)].map((p) => p[1]).sort(), declared.get(name.toLowerCase()), `parameters of ${name}`);
  }
});

/** The last definition of each procedure and trigger across the migrations, in order (DROP + CREATE replaces one). */
function lastDefinitions(): Map<string, string> {
  const defined = new Map<string, string>();
  for (const m of loadMigrations('mssql')) {
    for (const b of splitBatches(m.sql)) {
      const created = /^\s*CREATE\s+(?:OR\s+ALTER\s+)?(?:PROCEDURE|TRIGGER)\s+(inlet\.\w+)/i.exec(codeOnly(b.sql));
      if (created) defined.set(created[1].toLowerCase(), b.sql);
    }
  }
  return defined;
}

test('from migration 013 on, procedures and triggers are replaced by DROP + CREATE, never ALTER or CREATE OR ALTER', () => {
  for (const m of loadMigrations('mssql').filter((x) => x.version >= 13)) {
    assert.doesNotMatch(codeOnly(m.sql), /\bCREATE\s+OR\s+ALTER\b|\bALTER\s+(TRIGGER|PROCEDURE)\b/i, `${m.version}_${m.name}`);
  }
});

test('every wait for the upload writer lock is shorter than the 30 s default command timeout, so it ends as THROW 50011', () => {
  for (const [name, text] of lastDefinitions()) {
    for (const lock of codeOnly(text).matchAll(/sp_getapplock\s+@Resource\s*=\s*''[^@]*@LockMode\s*=\s*''\s*,\s*@LockOwner\s*=\s*''\s*,\s*@LockTimeout\s*=\s*(\d+)/gi)) {
      assert.ok(Number(lock[1]) <= 10_000, `${name} waits ${lock[1]} ms for an application lock`);
    }
  }
  assert.match(adapterSource, /WRITER_LOCK_TIMEOUT_MS = 10_000/);
});

test('retention is decided by the database: the floor is read from inlet.retention_policy against the server clock, who and when are the server\'s', () => {
  const defined = lastDefinitions();
  const horizons = codeOnly(defined.get('inlet.tr_retention_horizons_decided_by_database') ?? '');
  assert.match(horizons, /FROM inlet\.retention_policy/);
  assert.match(horizons, /SYSUTCDATETIME\(\)/);
  assert.match(horizons, /ORIGINAL_LOGIN\(\)/);
  assert.match(horizons, /INNER JOIN inlet\.uploads AS u ON u\.id >= previous\.below_upload_id AND u\.id < i\.below_upload_id/);
  assert.ok(defined.has('inlet.tr_chain_anchors_decided_by_database'));
  assert.ok(defined.has('inlet.tr_sample_rollup_hour_from_samples_only'));
  assert.ok(defined.has('inlet.tr_events_recorded_by_server'));
  assert.ok(!defined.has('inlet.tr_retention_horizons_forward_only') || /DROP\s+TRIGGER\s+inlet\.tr_retention_horizons_forward_only/i.test(loadMigrations('mssql').map((m) => m.sql).join('\n')));
  const migration = loadMigrations('mssql').find((m) => m.version === 13)!.sql;
  for (const table of ['retention_horizons', 'chain_anchors', 'retention_policy', 'sample_rollup_hour']) {
    assert.match(migration, new RegExp(`DENY INSERT, UPDATE ON OBJECT::inlet\\.${table} TO inlet_service`), table);
  }
  // The purge no longer writes the rollup itself: the samples trigger does, under the writer lock.
  assert.doesNotMatch(codeOnly(defined.get('inlet.purge_below_horizon') ?? ''), /inlet\.sample_rollup_hour/);
  assert.match(codeOnly(defined.get('inlet.tr_samples_delete_below_horizon') ?? ''), /APPLOCK_MODE\(''/);
});

test('physical design (014): bodies stored compressed and read back decompressed; the live view reads inlet.latest_samples; purge chunks stay below lock escalation', () => {
  // Uploads are written by inlet.write_upload_batch (migration 037) since the journal's apply in batches.
  assert.match(lastDefinitions().get('inlet.write_upload_batch')!, /COMPRESS\(raw\), 'gzip'/);
  assert.match(adapterSource, /CASE WHEN raw_encoding = 'gzip' THEN DECOMPRESS\(raw\) ELSE raw END AS raw/);
  assert.match(adapterSource, /INNER JOIN inlet\.latest_samples AS s/);
  assert.match(adapterSource, /PURGE_ROWS_BELOW_ESCALATION = 4000;/);
  const defined = lastDefinitions();
  for (const trigger of ['inlet.tr_samples_latest', 'inlet.tr_samples_latest_after_delete', 'inlet.tr_latest_samples_from_samples_only']) {
    assert.ok(defined.has(trigger), trigger);
  }
  const migration = loadMigrations('mssql').find((m) => m.version === 14)!.sql;
  assert.match(migration, /'large value types out of row', @OptionValue = 'ON'/);
  assert.match(migration, /DENY INSERT, UPDATE ON OBJECT::inlet\.latest_samples TO inlet_service/);
});

test('issue 19: bodies are purged and partitions switched only as the database decides; every partitioned index is aligned', () => {
  const defined = lastDefinitions();
  const bodies = codeOnly(defined.get('inlet.purge_upload_bodies') ?? '');
  assert.match(bodies, /FROM inlet\.body_retention_policy/, 'the DBA\'s floor');
  assert.match(bodies, /DATEADD\(day, -@days, SYSUTCDATETIME\(\)\)/, 'the server\'s clock, not the caller\'s');
  assert.match(bodies, /HASHBYTES\(''\s*,\s*b\.body\)/, 'the digest computed by the database');
  assert.doesNotMatch(bodies, /@before\s+datetime2\(3\)\s*,|@sha|@upload_id/i, 'no date, digest or row from the caller');
  // The uploads' update guard: only an empty body recorded with its own digest and length.
  const guard = codeOnly(defined.get('inlet.tr_uploads_append_only') ?? '');
  assert.match(guard, /HASHBYTES/);
  assert.match(guard, /DATALENGTH\(i\.raw\) <> 0/);
  for (const name of ['inlet.switch_out_below_horizon', 'inlet.add_upload_partitions']) {
    assert.match(codeOnly(defined.get(name) ?? ''), /WITH EXECUTE AS OWNER/, `${name}: DDL needs the owner's rights, which ownership chaining does not give`);
  }
  const switching = codeOnly(defined.get('inlet.switch_out_below_horizon') ?? '');
  assert.match(switching, /MAX\(h\.below_upload_id\) FROM inlet\.retention_horizons/, 'below the recorded horizon only');
  assert.match(switching, /b\.high <= @below/);
  assert.match(switching, /INSERT INTO inlet\.sample_rollup_hour/, 'the rollup follows: a SWITCH fires no trigger');
  assert.match(switching, /inlet\.latest_samples/);
  const partitions = loadMigrations('mssql').find((m) => m.version === 32)!.sql;
  for (const index of ['pk_uploads PRIMARY KEY CLUSTERED (id)', 'ix_uploads_device_id', 'ix_uploads_upload_key', 'pk_samples PRIMARY KEY CLUSTERED', 'ix_samples_upload_id']) {
    assert.match(partitions, new RegExp(`${index.replace(/[()]/g, '\\$&')}[^;]*ON ps_upload_id`), `${index} is aligned`);
  }
  assert.doesNotMatch(partitions, /CREATE UNIQUE NONCLUSTERED INDEX ux_uploads_upload_key/, 'a unique index without the upload id would not be aligned');
});

test('the DBA\'s retention-floor triggers take the event chain lock before they change a row or write their event (039), so their event is never left below the chain\'s head', () => {
  const defined = lastDefinitions();
  for (const name of ['inlet.tr_retention_policy_change', 'inlet.tr_body_retention_policy_change']) {
    const body = codeOnly(defined.get(name) ?? '');
    const lock = body.search(/sp_getapplock\s+@Resource\s*=\s*N?''/i);
    const lockedResource = /sp_getapplock\s+@Resource\s*=\s*N'inlet\.event_chain'/i.test(defined.get(name) ?? '');
    assert.ok(lockedResource, `${name} takes inlet.event_chain`);
    assert.ok(lock > 0 && lock < body.search(/\bUPDATE\s+p\b/i) && lock < body.search(/INSERT\s+INTO\s+inlet\.events/i), `${name}: the lock comes first`);
  }
});

// ---- Round 3 of issue 19: what a DBA on the minimum version checks by reading ----

/** Every T-SQL file Inlet sends: the bootstrap and each migration, comments and strings blanked. */
const everyScript = () => scripts.map(({ file, text }) => ({ file, code: codeOnly(text) }));

test('nothing newer than SQL Server 2016 SP1 (the minimum bootstrap.sql enforces) and no Enterprise-only option', () => {
  // Each with the version that brought it; Inlet promises 2016 SP1 in every edition, Express included.
  const newer: [RegExp, string][] = [
    [/\bSTRING_AGG\s*\(/i, 'STRING_AGG (2017)'],
    [/\bTRIM\s*\(/i, 'TRIM (2017): use LTRIM(RTRIM(...))'],
    [/\bCONCAT_WS\s*\(/i, 'CONCAT_WS (2017)'],
    [/\bTRANSLATE\s*\(/i, 'TRANSLATE (2017)'],
    [/\b(GREATEST|LEAST)\s*\(/i, 'GREATEST/LEAST (2022): use CASE'],
    [/\bGENERATE_SERIES\s*\(/i, 'GENERATE_SERIES (2022)'],
    [/\b(DATETRUNC|DATE_BUCKET)\s*\(/i, 'DATETRUNC/DATE_BUCKET (2022)'],
    [/\bAPPROX_(COUNT_DISTINCT|PERCENTILE)/i, 'APPROX_* (2019)'],
    [/\bJSON_(OBJECT|ARRAY)\s*\(/i, 'JSON_OBJECT/JSON_ARRAY (2022)'],
    [/\bIS\s+(NOT\s+)?DISTINCT\s+FROM\b/i, 'IS [NOT] DISTINCT FROM (2022)'],
    [/\bWINDOW\s+\w+\s+AS\s*\(/i, 'the WINDOW clause (2022)'],
    [/_UTF8\b/i, 'UTF-8 collations (2019)'],
    [/\bOPTIMIZE_FOR_SEQUENTIAL_KEY\b/i, 'OPTIMIZE_FOR_SEQUENTIAL_KEY (2019)'],
    [/\bRESUMABLE\s*=/i, 'resumable index operations (2017)'],
    [/\bONLINE\s*=\s*ON\b/i, 'ONLINE = ON (Enterprise only: refused on Standard and Express)'],
    [/\bCREATE\s+(OR\s+ALTER\s+)?(TABLE|PROCEDURE|TRIGGER)\b[\s\S]{0,400}\bWITH\s*\(\s*(MEMORY_OPTIMIZED|NATIVE_COMPILATION)/i, 'In-Memory OLTP (not in a gateway\'s database)'],
    [/\bLEDGER\s*=/i, 'ledger tables (2022)'],
  ];
  for (const { file, code } of everyScript()) {
    for (const [pattern, what] of newer) assert.doesNotMatch(code, pattern, `${file} uses ${what}`);
  }
  // DROP ... IF EXISTS is 2016 RTM and fine; CREATE OR ALTER needs SP1, the minimum: only 009 has it, from before 013's rule.
  const createOrAlter = everyScript().filter(({ code }) => /\bCREATE\s+OR\s+ALTER\b/i.test(code)).map(({ file }) => file);
  assert.deepEqual(createOrAlter, ['009_retention_horizon_once.sql']);
});

test('the bootstrap refuses a server below 2016 SP1 and a database below compatibility level 130 (OPENJSON, STRING_ESCAPE)', () => {
  const bootstrap = codeOnly(scripts.find((s) => s.file === 'bootstrap.sql')!.text);
  assert.match(bootstrap, /@major < 13 OR \(@major = 13 AND @build < 4001\)/);
  assert.match(bootstrap, /@compatibility_level < 130/);
  const usesLevel130 = everyScript().filter(({ code }) => /\b(OPENJSON|STRING_ESCAPE)\s*\(/i.test(code)).map(({ file }) => file);
  assert.ok(usesLevel130.length > 0, 'the check below means something only while a migration needs level 130');
});

test('every event a procedure or trigger writes takes the server\'s time and login: none supplies recorded_by, only the apply supplies recorded_at (the server\'s clock it returned)', () => {
  const defined = lastDefinitions();
  const writers = [...defined].filter(([, text]) => /INSERT\s+INTO\s+inlet\.events\b/i.test(codeOnly(text)));
  assert.ok(writers.length >= 8, `${writers.length} procedures and triggers write events`);
  for (const [name, text] of writers) {
    for (const insert of codeOnly(text).matchAll(/INSERT\s+INTO\s+inlet\.events\s*\(([^)]*)\)/gi)) {
      const columns = insert[1].split(',').map((c) => c.trim().toLowerCase());
      assert.ok(!columns.includes('recorded_by'), `${name} supplies recorded_by: leave it to its default, ORIGINAL_LOGIN()`);
      if (columns.includes('recorded_at')) assert.equal(name, 'inlet.write_upload_batch', `${name} supplies recorded_at`);
    }
  }
  // The apply's recorded_at is the clock apply_upload_batch read from the server, and the events
  // trigger binds every insert, whoever writes it, to the server's clock and login.
  assert.match(codeOnly(defined.get('inlet.apply_upload_batch')!), /CAST\(SYSUTCDATETIME\(\) AS datetime2\(3\)\) AS server_now/);
  const guard = codeOnly(defined.get('inlet.tr_events_recorded_by_server')!);
  assert.match(guard, /i\.recorded_by <> ORIGINAL_LOGIN\(\)/);
  assert.match(guard, /i\.recorded_at > @now OR i\.recorded_at < DATEADD\(minute, -5, @now\)/);
  assert.match(guard, /DECLARE @now datetime2\(3\) = SYSUTCDATETIME\(\)/);
  // The column defaults that leave it to the server.
  const all = everyScript().map(({ code }) => code).join('\n');
  assert.match(all, /ALTER TABLE inlet\.events ADD recorded_at datetime2\(3\) NULL CONSTRAINT df_events_recorded_at DEFAULT \(SYSUTCDATETIME\(\)\)/);
  assert.match(all, /ALTER TABLE inlet\.events ADD recorded_by nvarchar\(128\) NULL CONSTRAINT df_events_recorded_by DEFAULT \(ORIGINAL_LOGIN\(\)\)/);
});

test('the apply waits for two application locks in one request, each for @lock_timeout_ms (purposeTimeouts gives each a third of the request)', () => {
  const apply = codeOnly(lastDefinitions().get('inlet.apply_upload_batch')!);
  const waits = [...apply.matchAll(/sp_getapplock\s+@Resource\s*=\s*''\s*,\s*@LockMode\s*=\s*''\s*,\s*@LockOwner\s*=\s*''\s*,\s*@LockTimeout\s*=\s*(@?\w+)/gi)].map((m) => m[1]);
  assert.deepEqual(waits, ['@lock_timeout_ms', '@lock_timeout_ms']);
  assert.match(adapterSource, /const APPLICATION_LOCKS_PER_APPLY = 2;/);
});

test('the tables the database decides are denied to the service role: the DBA\'s policies, horizons, anchors, the rollup, latest values, body purges, staging', () => {
  const denies = serviceDenies();
  const created = createdObjects().objects;
  const policies = [...created].filter(([name, kind]) => kind === 'TABLE' && /_policy$/.test(name)).map(([name]) => name);
  assert.ok(policies.length >= 3, policies.join(', '));
  for (const table of [...policies, 'inlet.retention_horizons', 'inlet.chain_anchors', 'inlet.sample_rollup_hour', 'inlet.latest_samples',
    'inlet.upload_body_purges', 'inlet.uploads_switch_out', 'inlet.samples_switch_out']) {
    const rights = denies.get(table);
    assert.ok(rights?.has('INSERT') && rights.has('UPDATE'), `${table}: DENY INSERT, UPDATE to inlet_service (has ${[...rights ?? []].join(', ') || 'none'})`);
  }
});

test('docs/sqlserver.md lists every DENY the migrations apply to inlet_service, for a site that created the role later', () => {
  const docs = readFileSync(new URL('../../docs/sqlserver.md', import.meta.url), 'utf8');
  for (const [table, rights] of serviceDenies()) {
    const line = docs.split('\n').find((l) => new RegExp(`DENY [A-Z, ]+ ON OBJECT::${table.replace('.', '\\.')} TO inlet_service`).test(l));
    assert.ok(line, `docs/sqlserver.md section 2 lists the DENY on ${table}`);
    for (const r of rights) assert.match(line, new RegExp(`DENY [A-Z, ]*\\b${r}\\b`), `${table}: ${r}`);
  }
});

/** A table's columns as the migrations leave it, in order: name and declaration (type, collation, nullability), defaults and constraints left out. */
function tableColumns(table: string): [string, string][] {
  const columns: [string, string][] = [];
  const declaration = (part: string): [string, string] => {
    const [name, ...rest] = part.trim().split(/\s+/);
    const text = rest.join(' ').replace(/\s+CONSTRAINT\s[\s\S]*$/i, '').trim();
    return [name.toLowerCase(), text.toLowerCase()];
  };
  for (const m of loadMigrations('mssql')) {
    const code = codeOnly(m.sql);
    const created = new RegExp(`\\bCREATE\\s+TABLE\\s+${table.replace('.', '\\.')}\\s*\\(`, 'i').exec(code);
    if (created) {
      columns.length = 0;
      for (const part of body(code, created.index + created[0].length - 1).split(/,(?![^(]*\))/)) {
        if (!/^\s*CONSTRAINT\b/i.test(part)) columns.push(declaration(part));
      }
    }
    for (const a of code.matchAll(new RegExp(`\\bALTER\\s+TABLE\\s+${table.replace('.', '\\.')}\\s+(ADD|DROP\\s+COLUMN|ALTER\\s+COLUMN)\\s+(?!CONSTRAINT\\b)([^;]*?)(?:;|\\bGO\\b|$)`, 'gi'))) {
      const [name, text] = declaration(a[2].split(/,(?![^(]*\))/)[0]);
      const at = columns.findIndex(([n]) => n === name);
      if (/^ADD$/i.test(a[1])) columns.push([name, text]);
      else if (/^DROP/i.test(a[1])) columns.splice(at, 1);
      else columns[at] = [name, text];
    }
  }
  return columns;
}

test('the partition switch\'s staging tables match their sources column for column (order, type, collation, nullability), as SWITCH requires', () => {
  // A column added to inlet.uploads or inlet.samples must be added to its staging table too, or every
  // switch fails with error 4943/4944 the first time retention reaches a whole partition.
  for (const [source, staging] of [['inlet.uploads', 'inlet.uploads_switch_out'], ['inlet.samples', 'inlet.samples_switch_out']]) {
    const expected = tableColumns(source);
    assert.ok(expected.length >= 7, `${source}: ${expected.length} columns`);
    assert.deepEqual(tableColumns(staging), expected, `${staging} against ${source}`);
  }
  // The same clustered keys and the same nonclustered indexes, with the same filter (read with the
  // strings: the samples' keys are built in EXEC (N'...') to carry their compression).
  const partitions = loadMigrations('mssql').find((m) => m.version === 32)!.sql;
  assert.match(partitions, /pk_samples PRIMARY KEY CLUSTERED \(device_id, channel, sample_time, upload_id\)[\s\S]*pk_samples_switch_out PRIMARY KEY CLUSTERED \(device_id, channel, sample_time, upload_id\)/);
  assert.match(partitions, /ix_uploads_upload_key ON inlet\.uploads \(upload_key\) WHERE upload_key IS NOT NULL/);
  assert.match(partitions, /ix_uploads_switch_out_upload_key ON inlet\.uploads_switch_out \(upload_key\) WHERE upload_key IS NOT NULL/);
  assert.match(partitions, /ix_uploads_switch_out_device_id ON inlet\.uploads_switch_out \(device_id, id\) INCLUDE \(hash\)/);
  assert.match(partitions, /@TableNamePattern = N'inlet\.uploads_switch_out', @OptionName = 'large value types out of row', @OptionValue = 'ON'/,
    'large value types out of row on the staging table as on uploads (014)');
  assert.match(partitions, /ix_samples_switch_out_upload_id ON inlet\.samples_switch_out \(upload_id\) WITH \(DATA_COMPRESSION = ' \+ @compression/,
    'the staging indexes compressed as the samples\' are');
});

test('the reads that scan whole tables for retention and verification run as admin work (no request timeout), not with the viewer\'s Command Timeout', () => {
  // At 10^9 samples these take minutes; with a timeout they would end as "store unavailable" every night and never finish.
  const store = readFileSync(new URL('mssql-store.ts', adapterDir), 'utf8');
  const methods = ['rollupMismatches', 'uploadSamples', 'uploadStats', 'lastUploadsBefore', 'previewRetention', 'advanceRetentionHorizon',
    'purgeBelowHorizon', 'switchOutBelowHorizon', 'purgeUploadBodies', 'addUploadPartitions', 'maintain'];
  for (const name of methods) {
    const start = store.indexOf(`  async ${name}(`);
    assert.ok(start >= 0, name);
    const end = store.indexOf('\n  }\n', start);
    assert.match(store.slice(start, end), /'admin'\)/, `${name} runs as 'admin'`);
  }
});

test('the partition DDL (SWITCH, MERGE, SPLIT) waits for its schema lock less long than a group commit waits for the writer lock', () => {
  // A schema-modification lock request queues every later query behind it: unbounded, one long
  // export would stall the viewer and ingest for as long as it runs.
  for (const name of ['inlet.switch_out_below_horizon', 'inlet.add_upload_partitions']) {
    const code = codeOnly(lastDefinitions().get(name)!);
    const timeout = /\bSET\s+LOCK_TIMEOUT\s+(\d+)\s*;/i.exec(code);
    assert.ok(timeout, `${name} sets LOCK_TIMEOUT`);
    assert.ok(Number(timeout[1]) > 0 && Number(timeout[1]) < 10_000, `${name}: LOCK_TIMEOUT ${timeout[1]} ms`);
    const firstDdl = code.search(/\bALTER\s+(TABLE\s+inlet\.\w+\s+SWITCH|PARTITION\s+FUNCTION)\b/i);
    assert.ok(firstDdl > timeout.index, `${name}: LOCK_TIMEOUT before the first partition DDL`);
  }
});

test('replayed in order, the migrations never add a column, constraint, index or object that exists, nor drop one that does not (SQL Server would refuse the migration)', () => {
  // Migrations written side by side can each add the same thing (013 and 019 both added
  // inlet.events.recorded_at: error 2705 on every real server). Only executing them, or this replay, shows it.
  const problems: string[] = [];
  const columns = new Map<string, Set<string>>();
  const objects = new Map<string, number>();
  const indexes = new Set<string>();
  for (const m of loadMigrations('mssql')) {
    for (const b of splitBatches(m.sql)) {
      const code = codeOnly(b.sql);
      const steps: { at: number; run: () => void }[] = [];
      const add = (name: string, what: string) => { if (objects.has(name)) problems.push(`${m.version}: ${what} ${name} exists (migration ${objects.get(name)})`); objects.set(name, m.version); };
      const drop = (name: string, what: string) => { if (!objects.delete(name)) problems.push(`${m.version}: ${what} ${name} dropped but absent`); };
      for (const c of code.matchAll(/\bCREATE\s+TABLE\s+(inlet\.\w+)\s*\(/gi)) {
        steps.push({ at: c.index, run: () => {
          add(c[1].toLowerCase(), 'table');
          columns.set(c[1].toLowerCase(), new Set(body(code, c.index + c[0].length - 1).split(/,(?![^(]*\))/)
            .map((p) => p.trim().split(/\s+/)[0].toLowerCase()).filter((n) => n && n !== 'constraint' && n !== 'index')));
        } });
      }
      for (const c of code.matchAll(/\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(inlet\.\w+)/gi)) steps.push({ at: c.index, run: () => { drop(c[1].toLowerCase(), 'table'); columns.delete(c[1].toLowerCase()); } });
      for (const c of code.matchAll(/\bALTER\s+TABLE\s+(inlet\.\w+)\s+(ADD|DROP\s+COLUMN)\s+([\s\S]*?)(?=;|$|\bALTER\s+TABLE\b|\bGO\b)/gi)) {
        steps.push({ at: c.index, run: () => {
          const known = columns.get(c[1].toLowerCase());
          if (!known) { problems.push(`${m.version}: ALTER TABLE of absent ${c[1]}`); return; }
          for (const part of c[3].split(/,(?![^(]*\))/)) {
            if (/^\s*CONSTRAINT\b/i.test(part)) continue;
            const name = part.trim().split(/\s+/)[0]?.toLowerCase();
            if (!name) continue;
            if (/^ADD$/i.test(c[2])) { if (known.has(name)) problems.push(`${m.version}: column ${c[1]}.${name} exists`); known.add(name); }
            else if (!known.delete(name)) problems.push(`${m.version}: column ${c[1]}.${name} dropped but absent`);
          }
        } });
      }
      // Constraint names are objects of the schema: unique across every table.
      for (const c of code.matchAll(/\bCONSTRAINT\s+(\w+)\s+(PRIMARY|UNIQUE|CHECK|FOREIGN|DEFAULT)/gi)) steps.push({ at: c.index, run: () => add(`inlet.${c[1].toLowerCase()}`, 'constraint') });
      for (const c of code.matchAll(/\bDROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?(\w+)/gi)) steps.push({ at: c.index, run: () => drop(`inlet.${c[1].toLowerCase()}`, 'constraint') });
      for (const c of code.matchAll(/\bCREATE\s+(OR\s+ALTER\s+)?(TYPE|SEQUENCE|TRIGGER|PROCEDURE|FUNCTION|VIEW)\s+(inlet\.\w+)/gi)) {
        steps.push({ at: c.index, run: () => (c[1] ? objects.set(c[3].toLowerCase(), m.version) : add(c[3].toLowerCase(), c[2].toLowerCase())) });
      }
      for (const c of code.matchAll(/\bDROP\s+(TYPE|SEQUENCE|TRIGGER|PROCEDURE|FUNCTION|VIEW)\s+(?:IF\s+EXISTS\s+)?(inlet\.\w+)/gi)) steps.push({ at: c.index, run: () => drop(c[2].toLowerCase(), c[1].toLowerCase()) });
      for (const c of code.matchAll(/\bCREATE\s+(?:UNIQUE\s+)?(?:(?:NON)?CLUSTERED\s+)?INDEX\s+(\w+)\s+ON\s+(inlet\.\w+)/gi)) {
        steps.push({ at: c.index, run: () => { const key = `${c[2]}.${c[1]}`.toLowerCase(); if (indexes.has(key)) problems.push(`${m.version}: index ${key} exists`); indexes.add(key); } });
      }
      for (const c of code.matchAll(/\bDROP\s+INDEX\s+(?:IF\s+EXISTS\s+)?(\w+)\s+ON\s+(inlet\.\w+)/gi)) {
        steps.push({ at: c.index, run: () => { if (!indexes.delete(`${c[2]}.${c[1]}`.toLowerCase())) problems.push(`${m.version}: index ${c[2]}.${c[1]} dropped but absent`); } });
      }
      for (const s of steps.sort((a, b) => a.at - b.at)) s.run();
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(columns.get('inlet.events')?.has('recorded_at') && objects.size > 50 && indexes.size > 20, 'the replay saw the schema');
});

/** Applies one batch's CREATE TABLE and ALTER TABLE ADD / DROP COLUMN to `columns` (table → column names). */
function trackTableColumns(code: string, columns: Map<string, Set<string>>): void {
  for (const c of code.matchAll(/\bCREATE\s+TABLE\s+(inlet\.\w+)\s*\(/gi)) {
    columns.set(c[1].toLowerCase(), new Set(body(code, c.index + c[0].length - 1).split(/,(?![^(]*\))/)
      .map((p) => p.trim().split(/\s+/)[0].toLowerCase()).filter((n) => n && n !== 'constraint' && n !== 'index')));
  }
  for (const c of code.matchAll(/\bALTER\s+TABLE\s+(inlet\.\w+)\s+(ADD|DROP\s+COLUMN)\s+([\s\S]*?)(?=;|$|\bALTER\s+TABLE\b|\bGO\b)/gi)) {
    const known = columns.get(c[1].toLowerCase());
    for (const part of c[3].split(/,(?![^(]*\))/)) {
      const name = part.trim().split(/\s+/)[0]?.toLowerCase();
      if (!known || !name || /^\s*CONSTRAINT\b/i.test(part)) continue;
      if (/^ADD$/i.test(c[2])) known.add(name); else known.delete(name);
    }
  }
}

test('every column a procedure or trigger names through a table alias, or inserts into, exists in that table when the migration creates it (SQL Server checks them at CREATE: error 207)', () => {
  // Deferred name resolution covers missing tables only, not missing columns of existing ones. Columns
  // named without an alias are not checked here; an alias bound to anything other than one inlet
  // table in the batch (a table variable, a catalog view, a derived table) is skipped as ambiguous.
  const columns = new Map<string, Set<string>>();
  const problems: string[] = [];
  let checked = 0;
  for (const m of loadMigrations('mssql')) {
    for (const b of splitBatches(m.sql)) {
      const code = codeOnly(b.sql);
      trackTableColumns(code, columns);
      const head = /^\s*(?:CREATE(?:\s+OR\s+ALTER)?|ALTER)\s+(?:PROCEDURE|TRIGGER)\s+(inlet\.\w+)(?:\s+ON\s+(inlet\.\w+))?/i.exec(code);
      if (!head) continue;
      const aliases = new Map<string, string>();
      for (const a of code.matchAll(/(@\w+|\bsys\.\w+|\)|\binlet\.\w+)\s+AS\s+(\w+)\b/gi)) {
        const [alias, bound] = [a[2].toLowerCase(), a[1].toLowerCase()];
        aliases.set(alias, bound.startsWith('inlet.') && columns.has(bound) && (aliases.get(alias) ?? bound) === bound ? bound : '?');
      }
      if (head[2]) { aliases.set('inserted', head[2].toLowerCase()); aliases.set('deleted', head[2].toLowerCase()); }
      for (const r of code.matchAll(/\b(\w+)\.(\w+)\b/g)) {
        const table = aliases.get(r[1].toLowerCase());
        if (!table || table === '?') continue;
        checked++;
        if (!columns.get(table)!.has(r[2].toLowerCase())) problems.push(`${m.version} ${head[1]}: ${r[0]} (${table} has no ${r[2]})`);
      }
      for (const r of code.matchAll(/\bINSERT\s+INTO\s+(inlet\.\w+)\s*\(([^)]*)\)/gi)) {
        for (const column of r[2].split(',').map((x) => x.trim().toLowerCase())) {
          checked++;
          if (!columns.get(r[1].toLowerCase())?.has(column)) problems.push(`${m.version} ${head[1]}: INSERT INTO ${r[1]} (${column})`);
        }
      }
    }
  }
  assert.deepEqual([...new Set(problems)], []);
  assert.ok(checked > 300, `${checked} column references checked`);
});

test('a table has at most one INSTEAD OF trigger per action at any point of the migrations (SQL Server refuses a second: error 2111)', () => {
  const live = new Map<string, { table: string; actions: string[] }>();
  const problems: string[] = [];
  let seen = 0;
  for (const m of loadMigrations('mssql')) {
    for (const b of splitBatches(m.sql)) {
      const code = codeOnly(b.sql);
      for (const d of code.matchAll(/\bDROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?(inlet\.\w+)/gi)) live.delete(d[1].toLowerCase());
      const c = /^\s*(?:CREATE(?:\s+OR\s+ALTER)?|ALTER)\s+TRIGGER\s+(inlet\.\w+)\s+ON\s+(inlet\.\w+)\s+INSTEAD\s+OF\s+([\w\s,]+?)\s+AS\b/i.exec(code);
      if (!c) continue;
      seen++;
      const [name, table, actions] = [c[1].toLowerCase(), c[2].toLowerCase(), c[3].split(',').map((x) => x.trim().toUpperCase())];
      live.delete(name);
      for (const [other, t] of live) {
        for (const a of actions) if (t.table === table && t.actions.includes(a)) problems.push(`${m.version}: ${name} INSTEAD OF ${a} on ${table}, as ${other} already is`);
      }
      live.set(name, { table, actions });
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(seen > 10, `${seen} INSTEAD OF triggers`);
});

/** Every inlet table's columns once all migrations have run. */
function schemaColumns(): Map<string, Set<string>> {
  const columns = new Map<string, Set<string>>();
  for (const m of loadMigrations('mssql')) {
    for (const b of splitBatches(m.sql)) trackTableColumns(codeOnly(b.sql), columns);
  }
  return columns;
}

test('the adapter\'s statements and shared column lists name only columns their SQL Server tables have', async () => {
  const columns = schemaColumns();
  const problems: string[] = [];
  let checked = 0;
  const has = (table: string, column: string, where: string) => {
    checked++;
    if (!columns.get(table)?.has(column.toLowerCase())) problems.push(`${where}: ${table} has no ${column}`);
  };
  for (const file of readdirSync(adapterDir).filter((f) => f.endsWith('.ts'))) {
    for (const literal of readFileSync(new URL(file, adapterDir), 'utf8').matchAll(/`([^`]*)`/g)) {
      if (!/\binlet\.\w+/.test(literal[1])) continue;
      const code = codeOnly(literal[1].replace(/\$\{[^}]*\}/g, ' '));
      const aliases = new Map<string, string>();
      for (const a of code.matchAll(/(@\w+|\bsys\.\w+|\)|\binlet\.\w+)\s+AS\s+(\w+)\b/gi)) {
        const [alias, bound] = [a[2].toLowerCase(), a[1].toLowerCase()];
        aliases.set(alias, bound.startsWith('inlet.') && columns.has(bound) && (aliases.get(alias) ?? bound) === bound ? bound : '?');
      }
      for (const r of code.matchAll(/\b(\w+)\.(\w+)\b/g)) {
        const table = aliases.get(r[1].toLowerCase());
        if (table && table !== '?') has(table, r[2], `${file} ${r[0]}`);
      }
      const single = /^\s*SELECT\s+(?:TOP\s*\(@?\w+\)\s+)?([\w\s,]+?)\s+FROM\s+(inlet\.\w+)(?:\s+WHERE\b|\s+ORDER\b|\s*;?\s*$)/i.exec(code);
      if (single && !/\bJOIN\b/i.test(code)) {
        for (const c of single[1].split(',').map((x) => x.trim().split(/\s+/)[0])) if (c && !/^(COUNT_BIG|COUNT|MAX|MIN|SUM)$/i.test(c)) has(single[2].toLowerCase(), c, `${file} SELECT`);
      }
      for (const u of code.matchAll(/\bUPDATE\s+(inlet\.\w+)\s+SET\s+([\s\S]*?)\s+WHERE\b/gi)) {
        for (const assignment of u[2].split(/,(?![^(]*\))/)) {
          const c = assignment.split('=')[0].trim();
          if (/^\w+$/.test(c)) has(u[1].toLowerCase(), c, `${file} UPDATE`);
        }
      }
    }
  }
  // The column lists shared with the SQLite store, and the adapter's own.
  const rows = await import('../../src/store/row-mapping.ts');
  const reports = await import('../../src/store/report-records.ts');
  const store = readFileSync(new URL('mssql-store.ts', adapterDir), 'utf8');
  const own = (name: string) => new RegExp(`const ${name} = ['\`]([^'\`]*)['\`]`).exec(store)![1];
  for (const [list, table] of [[rows.DEVICE_COLUMNS_WITH_CLOCK, 'inlet.devices'], [rows.ALARM_COLUMNS, 'inlet.alarms'], [rows.ALARM_LIMIT_COLUMNS, 'inlet.alarm_limits'],
    [reports.REPORT_SCHEDULE_COLUMNS, 'inlet.report_schedules'], [reports.ISSUED_REPORT_COLUMNS, 'inlet.issued_reports'], [own('USER_COLUMNS'), 'inlet.users'],
    [own('MSSQL_HORIZON_COLUMNS'), 'inlet.retention_horizons'], [own('SAMPLE_COLUMNS'), 'inlet.samples']]) {
    for (const c of list.split(',').map((x) => x.trim().split(/\s+/)[0])) has(table, c, `column list for ${table}`);
  }
  assert.deepEqual([...new Set(problems)], []);
  assert.ok(checked > 250, `${checked} column references checked`);
});

test('no procedure or trigger runs dynamic SQL: ownership chaining, which lets the service role reach what it is denied through them, stops at EXEC (...) and sp_executesql', () => {
  const defined = lastDefinitions();
  assert.ok(defined.size > 30, `${defined.size} procedures and triggers`);
  for (const [name, text] of defined) {
    assert.doesNotMatch(codeOnly(text), /\bEXEC(UTE)?\s*\(|\bsp_executesql\b/i, `${name} runs dynamic SQL`);
  }
});

test('the adapter returns rows with OUTPUT (without INTO) only from tables that have no trigger (SQL Server refuses it otherwise: error 334)', () => {
  const triggered = new Set<string>();
  for (const m of loadMigrations('mssql')) {
    for (const b of splitBatches(m.sql)) {
      for (const t of codeOnly(b.sql).matchAll(/\b(?:CREATE|ALTER)\s+TRIGGER\s+inlet\.\w+\s+ON\s+(inlet\.\w+)/gi)) triggered.add(t[1].toLowerCase());
    }
  }
  assert.ok(triggered.has('inlet.alarms') && triggered.has('inlet.events'));
  let outputs = 0;
  // The OUTPUT clause runs up to INTO, or to the VALUES, SELECT, FROM or WHERE of its statement.
  for (const s of adapterSource.matchAll(/\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(inlet\.\w+)\b[^;`]*?\bOUTPUT\s+(?:inserted|deleted)\.[^;`]*?\b(INTO|VALUES|SELECT|FROM|WHERE)\b/gi)) {
    outputs++;
    if (s[2].toUpperCase() !== 'INTO') assert.ok(!triggered.has(s[1].toLowerCase()), `OUTPUT without INTO on ${s[1]}, which has a trigger`);
  }
  assert.ok(outputs >= 3, `${outputs} OUTPUT clauses`);
});

test('SCOPE_IDENTITY() follows only inserts into tables without an INSTEAD OF INSERT trigger (there it would be NULL: the row is inserted in the trigger\'s scope)', () => {
  const insteadOfInsert = new Set<string>();
  for (const m of loadMigrations('mssql')) {
    for (const b of splitBatches(m.sql)) {
      for (const t of codeOnly(b.sql).matchAll(/\b(?:CREATE|ALTER)\s+TRIGGER\s+inlet\.\w+\s+ON\s+(inlet\.\w+)\s+INSTEAD\s+OF\s+([\w\s,]+?)\s+AS\b/gi)) {
        if (/\bINSERT\b/i.test(t[2])) insteadOfInsert.add(t[1].toLowerCase());
      }
    }
  }
  assert.ok(insteadOfInsert.has('inlet.body_retention_policy'), 'the check sees INSTEAD OF INSERT triggers');
  let uses = 0;
  for (const s of adapterSource.matchAll(/\bINSERT\s+INTO\s+(inlet\.\w+)\b[^`]*?\bSCOPE_IDENTITY\(\)/gi)) {
    uses++;
    assert.ok(!insteadOfInsert.has(s[1].toLowerCase()), `SCOPE_IDENTITY() after an insert into ${s[1]}, which has an INSTEAD OF INSERT trigger`);
  }
  assert.ok(uses >= 3, `${uses} uses of SCOPE_IDENTITY()`);
});

test('the table-valued parameters the adapter builds declare each column with the table type\'s data type and nullability', () => {
  // The last definition of each table type: column -> "type null|not null" (collation left out).
  const types = new Map<string, Map<string, string>>();
  for (const { text } of scripts) {
    const code = codeOnly(text);
    for (const m of code.matchAll(/\b(?:DROP\s+TYPE\s+(inlet\.\w+)|CREATE\s+TYPE\s+(inlet\.\w+)\s+AS\s+TABLE\s*\()/gi)) {
      if (m[1]) { types.delete(m[1].toLowerCase()); continue; }
      const columns = new Map<string, string>();
      for (const part of body(code, m.index + m[0].length - 1).split(/,(?![^(]*\))/)) {
        const c = /^\s*(\w+)\s+(\w+(?:\s*\([^)]*\))?)(?:\s+COLLATE\s+\w+)?\s+(NOT\s+NULL|NULL)\b/i.exec(part);
        if (c && !/^INDEX$/i.test(c[1])) columns.set(c[1].toLowerCase(), `${c[2].replace(/\s+/g, '').toLowerCase()} ${c[3].replace(/\s+/g, ' ').toLowerCase()}`);
      }
      types.set(m[2].toLowerCase(), columns);
    }
  }
  /** The T-SQL type an mssql type expression in the adapter declares. */
  const tsql = (expr: string): string => {
    const e = expr.replace(/\s+/g, '');
    if (e === 'BINARY_32') return 'binary(32)';
    const m = /^sql\.(\w+)(?:\(([^)]*)\))?$/.exec(e);
    assert.ok(m, `an mssql type: ${expr}`);
    const name = { Int: 'int', BigInt: 'bigint', Bit: 'bit', Float: 'float(53)', VarChar: 'varchar', NVarChar: 'nvarchar', Char: 'char', NChar: 'nchar',
      VarBinary: 'varbinary', DateTime2: 'datetime2', Binary: 'binary' }[m[1]];
    assert.ok(name, `known mssql type ${m[1]}`);
    if (m[2] === undefined || name === 'float(53)') return name;
    return `${name}(${m[2] === 'sql.MAX' ? 'max' : m[2]})`;
  };
  let compared = 0;
  for (const [whole, variable, type] of adapterSource.matchAll(/const (\w+) = new sql\.Table\('(inlet\.\w+)'\)/g)) {
    const start = adapterSource.indexOf(whole) + whole.length;
    const region = adapterSource.slice(start, start + adapterSource.slice(start).search(/new sql\.Table\(|\n}\n/));
    const declared: [string, string, boolean][] = [
      ...[...region.matchAll(new RegExp(`${variable}\\.columns\\.add\\('(\\w+)', ([^,]+), \\{ nullable: (true|false) \\}\\)`, 'g'))].map((m) => [m[1], m[2], m[3] === 'true'] as [string, string, boolean]),
      ...[...(region.match(new RegExp(`for \\(const \\[name, type, nullable\\] of \\[([\\s\\S]*?)\\] as const\\) ${variable}\\.columns\\.add`))?.[1] ?? '')
        .matchAll(/\['(\w+)', ((?:[^,()[\]]|\([^)]*\))+), (true|false)\]/g)].map((m) => [m[1], m[2], m[3] === 'true'] as [string, string, boolean]),
    ];
    const columns = types.get(type.toLowerCase());
    assert.ok(columns, `${type} is a table type`);
    for (const [name, expr, nullable] of declared) {
      compared++;
      assert.equal(`${tsql(expr)} ${nullable ? 'null' : 'not null'}`, columns.get(name), `${type}.${name}`);
    }
  }
  assert.ok(compared >= 40, `${compared} columns compared`);
});
