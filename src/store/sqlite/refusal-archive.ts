// The refusal archive's SQL for SQLite (migration 011), on whichever connection is given: the
// store's own, or a worker's so that archiving never waits on the ingest thread.
import type { DatabaseSync } from 'node:sqlite';
import type { NewEvent, RefusalArchiveLimits, RefusalRecord, StoredRefusal } from '../store.ts';
import { SqliteEventAppender } from './event-chain.ts';

/**
 * Archives refusals and writes their events (and sign-in events) linked into the audit chain under
 * `chainKey`, the gateway's key: an unlinked event is one inserted outside Inlet (src/store/event-links.ts).
 */
export function archiveRefusalsOn(db: DatabaseSync, refusals: RefusalRecord[], events: NewEvent[], limits: RefusalArchiveLimits, chainKey: Uint8Array | null = null): void {
  const insert = db.prepare(`INSERT INTO refusals (received_at, device_id, family, remote_address, content_type, status, reason_code,
    reason, serial, body_length, body_sha256, body_prefix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const appender = events.length ? new SqliteEventAppender(db) : null;
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const r of refusals) {
      insert.run(r.receivedAt, r.deviceId, r.family, r.remoteAddress, r.contentType, r.status, r.reasonCode, r.reason, r.serial,
        r.bodyLength, r.bodySha256, r.bodyPrefix);
    }
    // In this write transaction the chain's last link read by the appender is still the last one.
    for (const e of events) appender!.append({ ...e, actor: e.actor ?? 'system' }, e.data ? JSON.stringify(e.data) : null, chainKey);
    // Ids only grow, so "beyond the newest maxRows" is one range delete on the primary key.
    db.prepare('DELETE FROM refusals WHERE id <= (SELECT MAX(id) FROM refusals) - ?').run(limits.maxRows);
    db.prepare('DELETE FROM refusals WHERE received_at < ?').run(limits.keepSince);
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

export function refusalsOn(db: DatabaseSync, query: { afterId?: number; limit?: number }): StoredRefusal[] {
  const rows = db.prepare(`SELECT id, received_at, device_id, family, remote_address, content_type, status, reason_code, reason, serial,
    body_length, body_sha256, body_prefix FROM refusals WHERE id > ? ORDER BY id LIMIT ?`)
    .all(query.afterId ?? 0, Math.min(query.limit ?? 1000, 100_000)) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: Number(r.id), receivedAt: Number(r.received_at), deviceId: r.device_id === null ? null : Number(r.device_id), family: String(r.family),
    remoteAddress: String(r.remote_address), contentType: String(r.content_type), status: Number(r.status), reasonCode: String(r.reason_code),
    reason: String(r.reason), serial: r.serial === null ? null : String(r.serial), bodyLength: Number(r.body_length),
    bodySha256: Buffer.from(r.body_sha256 as Uint8Array), bodyPrefix: Buffer.from(r.body_prefix as Uint8Array),
  }));
}
