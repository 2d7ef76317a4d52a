// Every configuration example in the docs is a configuration Inlet accepts, and every key IT is told about
// exists: docs/it.md once listed "spool.dir" and "log.dir" (refused as unknown keys) and an
// Integrated Security connection string that start refuses while the MSI reported success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { preflight } from '../../src/config/preflight.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { parseConnectionString } from '../../src/store/mssql/connection.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOCS = [...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'README.md'];

function jsonBlocks(text: string): string[] {
  return [...text.matchAll(/```jsonc?\r?\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const examples = DOCS.flatMap((doc) => jsonBlocks(readFileSync(path.join(ROOT, doc), 'utf8')).map((block, i) => ({ doc, i, block })));

test('the docs have config examples to check', () => {
  assert.ok(examples.length >= 4, `${examples.length} examples`);
  assert.ok(examples.some((e) => e.doc === 'docs/it.md'), 'docs/it.md shows the installed configuration');
});

for (const { doc, i, block } of examples) {
  test(`${doc}: config example ${i + 1} is accepted by the loader and by start's checks`, () => {
    // A fragment ("https": {...}) is a part of the top-level object.
    const text = block.trim().startsWith('{') ? block : `{${block}}`;
    const file = path.join(tempDir('inlet-doc-'), 'inlet.config.json');
    writeFileSync(file, text);
    const { config } = loadConfig(file, {});
    // Certificate files named in an example do not exist here; everything else start checks does run.
    preflight({ ...config, https: { ...config.https, enabled: false } });
  });
}

test('every connection string in an install command of the docs parses (msiexec ... MSSQL_CONNECTION="...")', () => {
  let seen = 0;
  for (const doc of DOCS) {
    // Install commands shown to be copied: lines of fenced blocks. (Prose may quote a refused one on purpose.)
    const fenced = [...readFileSync(path.join(ROOT, doc), 'utf8').matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
    for (const m of fenced.matchAll(/^.*msiexec .*MSSQL_CONNECTION="([^"]+)".*$/gm)) {
      if (m[1].includes('…') || m[1] === '...') continue;
      assert.doesNotThrow(() => parseConnectionString(m[1]), `${doc}: ${m[1]}`);
      seen++;
    }
  }
  assert.ok(seen >= 1, 'docs/it.md shows a silent install with SQL Server');
});

test('every key in the configuration table of docs/it.md exists', () => {
  const text = readFileSync(path.join(ROOT, 'docs/it.md'), 'utf8');
  const section = /## Configuration\r?\n([\s\S]*?)\r?\n## /.exec(text)?.[1] ?? '';
  const keys = [...section.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([a-zA-Z.]+)`/g)].map((k) => k[1]));
  assert.ok(keys.length >= 6, `keys found: ${keys.join(', ')}`);
  for (const key of keys) {
    let node: unknown = DEFAULT_CONFIG;
    for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
    assert.notEqual(node, undefined, `docs/it.md names the config key "${key}", which Inlet does not have`);
  }
});
