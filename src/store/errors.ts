// Errors that say whether retrying later can help. The spool stores a batch aside only for a
// StoreUnavailableError (the database is away, full, failing over, or the commit's outcome is
// unknown); any other error is about the batch itself and goes back to the caller.

export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * True when the same write can succeed later without anyone changing Inlet: the batch belongs in the
 * local journal (spool), never in a 503 to the device nor in the rejected file. Both the direct
 * path and the journal's replay ask this one question; each adapter turns its driver's errors into
 * StoreUnavailableError first (mssql/errors.ts, the SQLite writer).
 */
export function isTransientStoreError(err: unknown): err is StoreUnavailableError {
  return err instanceof StoreUnavailableError;
}
