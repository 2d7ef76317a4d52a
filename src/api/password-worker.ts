// A password-hash thread (started by passwords.ts). scrypt is deliberately expensive (32 MiB and a
// quarter of a second of CPU per hash); on libuv's thread pool it competed at full priority with the
// thread that answers devices for a server's two cores, and took pool threads the journal's file
// writes wait for. Here it runs on a thread of its own at a lower priority (Linux: per-thread nice),
// so a sign-in storm yields the CPU to device uploads instead.
import os from 'node:os';
import { scryptSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export interface HashRequest { id: number; password: string; salt: Uint8Array; keyBytes: number; N: number; r: number; p: number }
export type HashReply = { id: number; ok: true; key: Uint8Array } | { id: number; ok: false; error: string };

try { os.setPriority(10); } catch { /* not permitted or not per thread here */ }

parentPort!.on('message', (q: HashRequest) => {
  try {
    const key = scryptSync(q.password, q.salt, q.keyBytes, { N: q.N, r: q.r, p: q.p, maxmem: 2 ** 27 });
    parentPort!.postMessage({ id: q.id, ok: true, key } satisfies HashReply);
  } catch (err) {
    parentPort!.postMessage({ id: q.id, ok: false, error: (err as Error).message } satisfies HashReply);
  }
});
