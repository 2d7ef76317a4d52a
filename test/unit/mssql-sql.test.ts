// Static checks of the T-SQL (no SQL Server runs here): every script splits into batches cleanly,
// never selects *, names every constraint and index, and the objects and table-type columns the
// adapter uses are the ones the migrations create.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { splitBatches } from '../../src/store/mssql/batches.ts';
import { SQL_ROOT, loadMigrations } from '../../src/store/migrations.ts';

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
