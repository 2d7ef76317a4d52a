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
  const missing = [...used].filter((name) => !objects.has(name) && !['inlet.migrate', 'inlet.upload_writer'].includes(name));
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
    for (const m of code.matchAll(/\bALTER\s+TABLE\s+(inlet\.\w+)\s+ADD\s+(\w+)/gi)) columnsOf.get(m[1])?.add(m[2]);
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
