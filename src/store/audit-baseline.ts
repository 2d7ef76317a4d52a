// The audit baseline: the state of every audited row (users, alarms, alarm limits, channels) as it
// was when the audit trail began (the upgrade to migration 019), or when a retention purge is about
// to remove the events that recorded older states. Verification compares rows with the latest state
// the events recorded; rows from before the audit trail have theirs here.
import { currentRecords } from './audit-records.ts';
import type { Store } from './store.ts';

export const AUDIT_BASELINE_EVENT = 'audit.baseline';

type BaselineStore = Pick<Store, 'events' | 'addEvent' | 'listUsers' | 'alarms' | 'alarmLimits' | 'listChannels'>;

export async function writeAuditBaseline(store: BaselineStore, at: number, why: string): Promise<void> {
  const records = await currentRecords(store);
  await store.addEvent({
    at, deviceId: null, type: AUDIT_BASELINE_EVENT, level: 'info', actor: 'system', source: null,
    message: `audit baseline (${why}): the state of ${records.length} users, alarms, alarm limits and channels; every change from here on is an event`,
    data: { why, records },
  });
}

/** Writes the first baseline once, at the first start with an audit trail. */
export async function ensureAuditBaseline(store: BaselineStore, at = Date.now()): Promise<void> {
  const [found] = await store.events({ type: AUDIT_BASELINE_EVENT, limit: 1 });
  if (!found) await writeAuditBaseline(store, at, 'the audit trail began');
}
