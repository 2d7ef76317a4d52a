// Appends events to the audit chain on one SQLite connection (the store's or the write worker's).
// Must run inside a write transaction (BEGIN IMMEDIATE): SQLite has one writer at a time, so the
// chain's last hash read here is still the last one when the row goes in.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { GENESIS_HASH } from '../../domain/chain.ts';
import { eventHash } from '../../domain/audit-chain.ts';
import type { EventRow } from '../../domain/types.ts';

export class SqliteEventAppender {
  private readonly lastHash: StatementSync;
  private readonly insert: StatementSync;

  constructor(db: DatabaseSync) {
    // Events before migration 019 have no hash; the chain starts after the last of them.
    this.lastHash = db.prepare('SELECT hash FROM events WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1');
    this.insert = db.prepare(`INSERT INTO events (at, device_id, type, level, message, data, actor, source, recorded_at, prev_hash, hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  /** Inserts the event linked to the chain's last one; returns its id. */
  append(e: EventRow, dataText: string | null, key: Uint8Array | null, recordedAt = Date.now()): number {
    const prev = (this.lastHash.get() as { hash: Uint8Array } | undefined)?.hash ?? GENESIS_HASH;
    const actor = e.actor ?? null;
    const source = e.source ?? null;
    const hash = eventHash(prev, { at: e.at, recordedAt, deviceId: e.deviceId, type: e.type, level: e.level, message: e.message, dataText, actor, source }, key);
    const { lastInsertRowid } = this.insert.run(e.at, e.deviceId, e.type, e.level, e.message, dataText, actor, source, recordedAt, prev, hash);
    return Number(lastInsertRowid);
  }
}
