// Raw-body retention and verification progress on SQLite (migrations 031 and 033): kept out of
// sqlite-store.ts, which calls these inside its own write transaction.
import { createHash } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { BodyPurgeChunk, BodyPurgeRequest, NewEvent, UploadBodyPurge, VerifyProgressRecord } from '../store.ts';
import { bodiesPurgedEvent } from '../retention-events.ts';

type Row = Record<string, unknown>;

/**
 * One chunk of the body purge; the caller holds a write transaction. Bodies are purged in id order
 * from the last purged one up to the first upload received at or after `before` (as the data horizon
 * is found), so a run never rescans what earlier runs emptied.
 */
export function purgeUploadBodiesOn(db: DatabaseSync, r: BodyPurgeRequest, insertEvent: (e: NewEvent) => void): BodyPurgeChunk {
  const after = (db.prepare('SELECT COALESCE(MAX(upload_id), 0) AS id FROM upload_body_purges').get() as { id: number }).id;
  const firstKept = db.prepare('SELECT id FROM uploads WHERE id > ? AND received_at >= ? ORDER BY id LIMIT 1').get(after, r.before) as { id: number } | undefined;
  const rows = db.prepare(`SELECT id, raw FROM uploads WHERE id > ? AND id < ? AND length(raw) > 0 ORDER BY id LIMIT ?`)
    .all(after, firstKept?.id ?? Number.MAX_SAFE_INTEGER, r.limit) as { id: number; raw: Uint8Array }[];
  if (!rows.length) return { bodies: 0, bytes: 0, firstUploadId: null, lastUploadId: null };
  const record = db.prepare('INSERT INTO upload_body_purges (upload_id, raw_sha256, raw_length, purged_at) VALUES (?, ?, ?, ?)');
  const empty = db.prepare("UPDATE uploads SET raw = X'' WHERE id = ?");
  let bytes = 0;
  for (const row of rows) {
    record.run(row.id, createHash('sha256').update(row.raw).digest(), row.raw.length, r.at);
    empty.run(row.id);
    bytes += row.raw.length;
  }
  const chunk = { bodies: rows.length, bytes, firstUploadId: rows[0].id, lastUploadId: rows[rows.length - 1].id };
  insertEvent(bodiesPurgedEvent(r, chunk));
  return chunk;
}

export function uploadBodyPurgesOn(db: DatabaseSync, fromUploadId: number, toUploadId: number): UploadBodyPurge[] {
  return (db.prepare(`SELECT upload_id, raw_sha256, raw_length, purged_at FROM upload_body_purges
    WHERE upload_id >= ? AND upload_id <= ? ORDER BY upload_id`).all(fromUploadId, toUploadId) as Row[]).map((p) => ({
    uploadId: Number(p.upload_id), rawSha256: Buffer.from(p.raw_sha256 as Uint8Array), rawLength: Number(p.raw_length), purgedAt: Number(p.purged_at),
  }));
}

/**
 * Per chain, the last upload below `beforeId`: one backward seek per device on ix_uploads_device_id
 * (device_id, id), and one on the primary key's rowid order for uploads of no device (chain 0).
 */
export function lastUploadsBeforeOn(db: DatabaseSync, beforeId: number): { chain: number; uploadId: number; hash: Buffer }[] {
  return (db.prepare(`SELECT l.chain, u.id, u.hash
    FROM (SELECT d.id AS chain, (SELECT MAX(x.id) FROM uploads AS x WHERE x.device_id = d.id AND x.id < ?1) AS last_id FROM devices AS d
          UNION ALL
          SELECT 0, (SELECT MAX(x.id) FROM uploads AS x WHERE x.device_id IS NULL AND x.id < ?1)) AS l
    JOIN uploads AS u ON u.id = l.last_id ORDER BY l.chain`).all(beforeId) as Row[])
    .map((r) => ({ chain: Number(r.chain), uploadId: Number(r.id), hash: Buffer.from(r.hash as Uint8Array) }));
}

const PROGRESS_COLUMNS = 'id, at, mode, verified_through, rolling_cursor, rolling_end, rolling_nights, prev_mac, mac';

export function toVerifyProgress(r: Row): VerifyProgressRecord {
  return {
    id: Number(r.id), at: r.at instanceof Date ? r.at.getTime() : Number(r.at), mode: r.mode as VerifyProgressRecord['mode'],
    verifiedThrough: Number(r.verified_through), rollingCursor: Number(r.rolling_cursor), rollingEnd: Number(r.rolling_end),
    rollingNights: Number(r.rolling_nights), prevMac: Buffer.from(r.prev_mac as Uint8Array), mac: Buffer.from(r.mac as Uint8Array),
  };
}

export function verifyProgressOn(db: DatabaseSync): VerifyProgressRecord | undefined {
  const r = db.prepare(`SELECT ${PROGRESS_COLUMNS} FROM verify_progress ORDER BY id DESC LIMIT 1`).get() as Row | undefined;
  return r && toVerifyProgress(r);
}

export function addVerifyProgressOn(db: DatabaseSync, p: Omit<VerifyProgressRecord, 'id'>): void {
  db.prepare(`INSERT INTO verify_progress (at, mode, verified_through, rolling_cursor, rolling_end, rolling_nights, prev_mac, mac)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(p.at, p.mode, p.verifiedThrough, p.rollingCursor, p.rollingEnd, p.rollingNights, p.prevMac, p.mac);
}
