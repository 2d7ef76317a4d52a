// The test and benchmark temp folders are removed when their process exits, unless asked to keep them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

const helper = new URL('../helpers/temp-dir.ts', import.meta.url).href;

/** Runs a child that makes two folders with a file in each, prints their paths, and exits as `exit` says. */
function makeFoldersInChild(exit: string, env: Record<string, string> = {}): string[] {
  const script = `import { writeFileSync } from 'node:fs';
    import { tempDir } from ${JSON.stringify(helper)};
    const dirs = [tempDir('inlet-tempdir-test-'), tempDir('inlet-tempdir-test-')];
    for (const d of dirs) writeFileSync(d + '/data.sqlite', 'x');
    console.log(JSON.stringify(dirs));
    ${exit}`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as string[];
}

test('the folders are removed when the process ends, normally or through process.exit', () => {
  for (const exit of ['', 'process.exit(0);']) {
    const dirs = makeFoldersInChild(exit);
    assert.equal(dirs.length, 2);
    for (const d of dirs) assert.equal(existsSync(d), false, `${d} is left after "${exit || 'normal end'}"`);
  }
});

test('INLET_KEEP_TEST_DIRS=1 keeps them, to look into a failure', () => {
  const dirs = makeFoldersInChild('', { INLET_KEEP_TEST_DIRS: '1' });
  try {
    for (const d of dirs) assert.equal(existsSync(`${d}/data.sqlite`), true);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
