// The configuration's validator kept as code (src/config/validator.ts) judges as ajv's compiled one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configValidator, keptValidatorFile } from '../../src/config/validator.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';

const variants: [string, unknown][] = [
  ['defaults', structuredClone(DEFAULT_CONFIG)],
  ['unknown key', { ...structuredClone(DEFAULT_CONFIG), colour: 'blue' }],
  ['wrong type', { ...structuredClone(DEFAULT_CONFIG), http: { ...DEFAULT_CONFIG.http, port: 'eighty' } }],
  ['not a cron expression', { ...structuredClone(DEFAULT_CONFIG), notifications: { ...DEFAULT_CONFIG.notifications, schedule: 'every night' } }],
  ['not a mail address', { ...structuredClone(DEFAULT_CONFIG), notifications: { ...DEFAULT_CONFIG.notifications, routes: [{ location: 'Cold store', to: ['nobody'] }] } }],
];

function judge(validate: ReturnType<typeof configValidator>, value: unknown) {
  const ok = validate(structuredClone(value));
  return { ok, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${e.message}`).sort() };
}

test('the kept validator judges every configuration as the freshly compiled one; a damaged file is replaced', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'inlet-validator-'));
  try {
    const compiled = configValidator(dir);
    const file = keptValidatorFile(dir)!;
    assert.ok(existsSync(file), 'the compiled validator was kept');
    const kept = configValidator(dir);
    assert.notEqual(kept, compiled, 'the second one came from the file');
    for (const [what, value] of variants) assert.deepEqual(judge(kept, value), judge(compiled, value), what);
    assert.equal(judge(kept, variants[0][1]).ok, true);
    assert.ok(variants.slice(1).every(([, v]) => !judge(kept, v).ok), 'every broken variant is refused');

    writeFileSync(file, 'this is not JavaScript');
    const again = configValidator(dir);
    assert.deepEqual(judge(again, variants[2][1]), judge(compiled, variants[2][1]));
    assert.deepEqual(judge(configValidator(dir), variants[2][1]), judge(compiled, variants[2][1]), 'the damaged file was written anew');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
