// The offline sweep's reads, answered on the SQLite write thread's connection rather than by the
// reader worker. Under a fleet's load the write thread is running anyway (it applies the journal);
// the reader worker would be started each minute for the sweep alone and hold its own heap (about
// 20 MiB at 10,000 devices) for as long as it stays up. These reads are small (a few columns per
// device, the open offline alarms, the retirements, a changed device's row) and come after any
// apply already queued, as the thread takes its messages in order. Viewer reads, which can be large,
// stay with the reader worker: they would hold the apply back.
import type { Store } from '../store.ts';
import { routeMethods } from '../route-methods.ts';

/** Store methods the write thread answers. */
export const WRITE_THREAD_READS = new Set(['deviceLiveness', 'alarms', 'retirements', 'getDevice'] as const);
export type WriteThreadRead = typeof WRITE_THREAD_READS extends Set<infer M> ? M : never;

/** What a store with a write thread offers to read there. */
export interface WriteThreadReader {
  readOnWriteThread(method: WriteThreadRead, args: unknown[]): Promise<unknown>;
}

/**
 * `store` with the WRITE_THREAD_READS methods answered by `writeThread`; everything else as `store`
 * answers it (wrap the result in readAfterApply for reads that must see what devices were answered for).
 */
export function withReadsOnWriteThread(store: Store, writeThread: WriteThreadReader): Store {
  return routeMethods(store, WRITE_THREAD_READS, (method, args) => writeThread.readOnWriteThread(method as WriteThreadRead, args));
}
