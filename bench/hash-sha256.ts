// Why the hash chain uses node:crypto and not @noble/hashes (which stays for scrypt passwords):
// the same SHA-256 digests, measured in one run on an upload-sized and a backlog-sized input.
// usage: npm run bench:hash
import { createHash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
for (const size of [700, 10_000_000]) {
  const data = new Uint8Array(size).fill(7);
  const n = size > 1e6 ? 5 : 50_000;
  let t = performance.now(); for (let i = 0; i < n; i++) sha256(data); const noble = (performance.now() - t) / n;
  t = performance.now(); for (let i = 0; i < n; i++) createHash('sha256').update(data).digest(); const node = (performance.now() - t) / n;
  console.log(`${size} B: noble ${(noble * 1000).toFixed(1)} us, node:crypto ${(node * 1000).toFixed(1)} us, ratio ${(noble / node).toFixed(1)}x; equal ${Buffer.from(sha256(data)).equals(createHash('sha256').update(data).digest())}`);
}
