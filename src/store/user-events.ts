// The events user administration appends, composed once for both adapters: who did it, from where,
// why, old → new (a password only as "changed", never its value or hash), and the user's new audited
// state (audit-records.ts), which verification compares with the row.
import type { UserPatch } from './row-mapping.ts';
import type { UserRecord } from './store.ts';
import { userRecord } from './audit-records.ts';

/** Who changes a user, from where and why. Sign-in bookkeeping (failed attempts) passes none and records no event here. */
export interface UserAudit {
  actor: string;
  source?: string | null;
  reason?: string | null;
}

export function userAddedEvent(user: UserRecord, at: number, audit: UserAudit | undefined) {
  const actor = audit?.actor ?? 'system';
  return {
    at, deviceId: null, type: 'user.added', level: 'warning' as const, actor, source: audit?.source ?? null,
    message: `user ${user.username} added as ${user.role} (by ${actor})${audit?.reason ? `. Reason: ${audit.reason}` : ''}`,
    data: { userId: user.id, username: user.username, new: { role: user.role, disabled: user.disabled }, reason: audit?.reason ?? null, records: [userRecord(user)] },
  };
}

/** The event for a change, or null when nothing audited changed (sign-in counters only, without an actor). */
export function userChangedEvent(before: UserRecord, after: UserRecord, patch: UserPatch, at: number, audit: UserAudit | undefined) {
  const changes: string[] = [];
  const old: Record<string, unknown> = {};
  const now: Record<string, unknown> = {};
  if (before.role !== after.role) { changes.push(`role ${before.role} → ${after.role}`); old.role = before.role; now.role = after.role; }
  if ((before.scope ?? 'global') !== (after.scope ?? 'global')) { changes.push(`rights ${before.scope} → ${after.scope}`); old.scope = before.scope; now.scope = after.scope; }
  if (before.disabled !== after.disabled) { changes.push(after.disabled ? 'disabled' : 're-enabled'); old.disabled = before.disabled; now.disabled = after.disabled; }
  if (patch.passwordHash !== undefined && before.passwordHash !== after.passwordHash) { changes.push('password set (value not recorded)'); now.password = 'changed'; }
  const unlocked = audit !== undefined && patch.lockedUntil === null && (before.lockedUntil !== null || before.failedLogins > 0);
  if (unlocked) { changes.push('unlocked'); old.lockedUntil = before.lockedUntil; old.failedLogins = before.failedLogins; now.lockedUntil = null; now.failedLogins = 0; }
  if (!changes.length && !(audit && patch.passwordHash !== undefined)) return null;
  if (!changes.length) changes.push('password set (value not recorded)');
  const actor = audit?.actor ?? 'system';
  const type = patch.passwordHash !== undefined ? 'user.password.set' : before.role !== after.role ? 'user.role.changed'
    : before.scope !== after.scope ? 'user.scope.recorded'
    : before.disabled !== after.disabled ? (after.disabled ? 'user.disabled' : 'user.enabled') : 'user.unlocked';
  return {
    at, deviceId: null, type, level: 'warning' as const, actor, source: audit?.source ?? null,
    message: `user ${after.username}: ${changes.join(', ')} (by ${actor})${audit?.reason ? `. Reason: ${audit.reason}` : ''}`,
    data: { userId: after.id, username: after.username, old, new: now, reason: audit?.reason ?? null, records: [userRecord(after)] },
  };
}
