// The audit chain: every event is linked to the one before it (all events form one chain, in id
// order), like uploads are linked per device (chain.ts): hash = HMAC-SHA256(chain key, prev_hash ||
// the event's fields), or SHA-256 without a key. Rewriting an event's text, deleting or inserting
// one, breaks the chain; cutting the newest ones off is found against the heads file (heads-file.ts).
//
// Events also carry the state of what they changed ("records"): a user's role, an alarm's
// acknowledgement, a channel's unit, its alarm limits. Verification compares the current rows of
// those tables with the last state the chain recorded for them, so a row changed in the database
// without an event (a backdoor administrator, a limit changed 10 → 100) is found too.
import { createHash, createHmac } from 'node:crypto';
import type { EventLevel } from './types.ts';

/** The fields of an event the chain covers (the id is not: SQL Server hands it out at insert). */
export interface ChainedEventFields {
  at: number;
  recordedAt: number;
  deviceId: number | null;
  type: string;
  level: EventLevel;
  message: string;
  /** The data column's text exactly as stored (JSON), or null. */
  dataText: string | null;
  actor: string | null;
  source: string | null;
}

export function eventHash(prevHash: Uint8Array, e: ChainedEventFields, key: Uint8Array | null): Buffer {
  const body = JSON.stringify([key ? 2 : 1, e.at, e.recordedAt, e.deviceId, e.type, e.level, e.message, e.dataText, e.actor, e.source]);
  return key
    ? createHmac('sha256', key).update(prevHash).update(body).digest()
    : createHash('sha256').update(prevHash).update(body).digest();
}

/** One audited row's state as an event recorded it: `key` names the row ("user:3", "alarm:12", ...). */
export interface AuditRecord {
  key: string;
  /** null: the row was removed (limits of a channel cleared). */
  state: Record<string, unknown> | unknown[] | null;
}

/** Stable JSON of a state (object keys sorted), so the row and the event compare as text. */
export function canonicalState(state: unknown): string {
  return JSON.stringify(state, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

/** A digest that shows a password hash was replaced without showing the hash itself. */
export function secretDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
