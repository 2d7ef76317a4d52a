// Errors that say whether retrying later can help. The spool stores a batch aside only for a
// StoreUnavailableError (the database is away, full, failing over, or the commit's outcome is
// unknown); any other error is about the batch itself and goes back to the caller.

export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
