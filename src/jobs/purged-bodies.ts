// Uploads whose raw body the raw-body retention emptied (migration 031) are verified against the
// body's SHA-256 recorded when it was purged: the chain covers that digest, not the bytes.
import type { Store, StoredUpload } from '../store/store.ts';

/** The page with rawSha256 set on each upload whose body was purged; one query only when a page holds an empty body. */
export async function withPurgedBodies(store: Pick<Store, 'uploadBodyPurges'>, page: StoredUpload[]): Promise<StoredUpload[]> {
  if (!page.some((u) => u.raw.length === 0)) return page;
  const purges = new Map((await store.uploadBodyPurges(page[0].id, page[page.length - 1].id)).map((p) => [p.uploadId, p.rawSha256]));
  return page.map((u) => (u.raw.length === 0 && purges.has(u.id) ? { ...u, rawSha256: purges.get(u.id) } : u));
}
