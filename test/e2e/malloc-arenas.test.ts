// `inlet start` on Linux runs the gateway with two glibc malloc arenas (src/memory.ts,
// relaunchWithFewerMallocArenas): it replaces itself, keeping its process id, with MALLOC_ARENA_MAX set,
// unless the environment sets a value of its own. Stop by SIGTERM still exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startChildGateway, tempDir } from './harness.ts';
import { MALLOC_ARENAS } from '../../src/memory.ts';

const onLinux = { skip: process.platform !== 'linux' ? 'glibc arenas: Linux only' : false };

function environmentOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((e) => {
    const at = e.indexOf('=');
    return [e.slice(0, at), e.slice(at + 1)] as [string, string];
  });
  return new Map(entries);
}

async function arenasOfGateway(env: Record<string, string>): Promise<string | undefined> {
  const gateway = await startChildGateway(tempDir('inlet-arenas-'), env);
  try {
    // the process spawned is the one that answers: execve kept its id
    assert.equal((await fetch(`${gateway.url}/health`)).status, 200);
    return environmentOf(gateway.child.pid!).get('MALLOC_ARENA_MAX');
  } finally {
    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0, 'the relaunched gateway stops cleanly on SIGTERM');
  }
}

test('inlet start runs the gateway with two malloc arenas, in the process that was started', onLinux, async () => {
  // this test file has a process of its own: the variable is unset for the gateways it starts
  delete process.env.MALLOC_ARENA_MAX;
  assert.equal(await arenasOfGateway({}), String(MALLOC_ARENAS));
});

test('an administrator\'s own MALLOC_ARENA_MAX is kept', onLinux, async () => {
  delete process.env.MALLOC_ARENA_MAX;
  assert.equal(await arenasOfGateway({ MALLOC_ARENA_MAX: '4' }), '4');
});
