// Temporary folders for tests and benchmarks, removed when the process exits: a test run or a
// benchmark otherwise leaves its databases behind in the system temp folder, run after run.
// INLET_KEEP_TEST_DIRS=1 keeps them, to look into a failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const created: string[] = [];

function removeCreated(): void {
  if (process.env.INLET_KEEP_TEST_DIRS === '1') return;
  for (const dir of created) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

export function tempDir(prefix = 'inlet-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (created.push(dir) === 1) process.once('exit', removeCreated);
  return dir;
}
