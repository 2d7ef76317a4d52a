// `inlet start` on Linux runs the gateway with two glibc malloc arenas (src/memory.ts,
// relaunchWithFewerMallocArenas): it replaces itself, keeping its process id, with MALLOC_ARENA_MAX set,
// unless the environment sets a value of its own, and glibc's mmap threshold fixed. Stop by SIGTERM still exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startChildGateway, tempDir } from './harness.ts';
import { MALLOC_ARENAS, MALLOC_MMAP_THRESHOLD } from '../../src/memory.ts';

const onLinux = { skip: process.platform !== 'linux' ? 'glibc arenas: Linux only' : false };

function environmentOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((e) => {
    const at = e.indexOf('=');
    return [e.slice(0, at), e.slice(at + 1)] as [string, string];
  });
  return new Map(entries);
}

async function mallocSettingsOfGateway(env: Record<string, string>): Promise<{ arenas?: string; mmapThreshold?: string }> {
  const gateway = await startChildGateway(tempDir('inlet-arenas-'), env);
  try {
    // the process spawned is the one that answers: execve kept its id
    assert.equal((await fetch(`${gateway.url}/health`)).status, 200);
    const environment = environmentOf(gateway.child.pid!);
    return { arenas: environment.get('MALLOC_ARENA_MAX'), mmapThreshold: environment.get('MALLOC_MMAP_THRESHOLD_') };
  } finally {
    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0, 'the relaunched gateway stops cleanly on SIGTERM');
  }
}

test('inlet start runs the gateway with two malloc arenas and a fixed mmap threshold, in the process that was started', onLinux, async () => {
  // this test file has a process of its own: the variables are unset for the gateways it starts
  delete process.env.MALLOC_ARENA_MAX;
  delete process.env.MALLOC_MMAP_THRESHOLD_;
  assert.deepEqual(await mallocSettingsOfGateway({}), { arenas: String(MALLOC_ARENAS), mmapThreshold: String(MALLOC_MMAP_THRESHOLD) });
});

test('an administrator\'s own MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_ are kept', onLinux, async () => {
  delete process.env.MALLOC_ARENA_MAX;
  delete process.env.MALLOC_MMAP_THRESHOLD_;
  assert.deepEqual(await mallocSettingsOfGateway({ MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '65536' }), { arenas: '4', mmapThreshold: '65536' });
});
