import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseBytes } from '../../src/store/release-bytes.ts';

test('releaseBytes frees a buffer that owns its memory at once, and leaves pooled, partial and shared buffers alone', () => {
  const owned = Buffer.allocUnsafeSlow(8 << 20).fill(1);
  const before = process.memoryUsage().arrayBuffers;
  releaseBytes(owned);
  assert.equal(owned.byteLength, 0);
  assert.ok(before - process.memoryUsage().arrayBuffers >= 8 << 20, 'its 8 MiB no longer count, without a collection');
  releaseBytes(owned); // already freed: nothing happens

  const pooled = Buffer.from('small, from the shared pool');
  releaseBytes(pooled);
  assert.equal(pooled.toString(), 'small, from the shared pool', 'a pooled buffer shares its memory with others');

  const whole = Buffer.allocUnsafeSlow(64).fill(2);
  const part = whole.subarray(8);
  releaseBytes(part);
  assert.equal(whole.byteLength, 64, 'a view of part of a buffer does not free the rest');

  const shared = new Uint8Array(new SharedArrayBuffer(64));
  releaseBytes(shared);
  assert.equal(shared.byteLength, 64);
});
