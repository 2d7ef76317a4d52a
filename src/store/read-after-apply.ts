// Reads that must see what devices were answered for. Uploads are acknowledged once they are in the
// local journal and applied to the store a moment later (spool/spooling-sink.ts); a person who
// opens a device's page, exports or verifies right after an upload must find it there. So the
// viewer, the jobs and the CLI read through this wrapper: each read first waits until everything
// journaled before it was applied, for at most `timeoutMs` (the store still answers after that:
// /health and /metrics show the apply lag). Writes and the ingest side's own lookups go straight to
// the store.
import type { Store } from './store.ts';

/** Store methods that read data uploads write (directly or through a device's row). */
const READS_OF_UPLOADED_DATA = new Set<string>([
  'getDevice', 'listDevices', 'deviceLiveness', 'listChannels', 'latestValues', 'series', 'samples', 'channelSamples', 'events', 'uploads', 'uploadStats', 'uploadSamples',
  'chainCheckpoints', 'alarms', 'previewRetention', 'advanceRetentionHorizon', 'quarantined', 'releaseQuarantine', 'csvRows',
]);

export interface AppliedWaiter {
  /** Resolves true once what was journaled before the call is applied, false after timeoutMs. */
  waitApplied(timeoutMs: number): Promise<boolean>;
}

export function readAfterApply(store: Store, journal: AppliedWaiter, timeoutMs: number): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof property === 'string' && READS_OF_UPLOADED_DATA.has(property)) {
        return async (...args: unknown[]) => {
          await journal.waitApplied(timeoutMs);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
