// Upload keys make a replayed batch a no-op (migration 003). They are indexed for as long as the
// upload is kept, so they are time-ordered: the creation time in ms as 12 hex digits, then a random
// UUID. New keys then land at the end of the unique index, one hot page, instead of on a random page
// of an index that grows with the archive (with random UUIDs, a page read and split per insert once
// the index outgrows memory). 49 characters; the column holds 64.
import { randomUUID } from 'node:crypto';

export function timeOrderedUploadKey(now = Date.now()): string {
  return `${Math.max(0, Math.floor(now)).toString(16).padStart(12, '0')}-${randomUUID()}`;
}
