// The audit baseline: the state of every audited row (users, alarms, alarm limits, channels) as it
// was when the audit trail began (the upgrade to migration 019), or when a retention purge is about
// to remove the events that recorded older states. Verification compares rows with the latest state
// the events recorded; rows from before the audit trail have theirs here.
import { currentRecords } from './audit-records.ts';
import type { Store } from './store.ts';
import { type ZoneRecordStore, zoneRowRecords } from './zone-records.ts';

export const AUDIT_BASELINE_EVENT = 'audit.baseline';
/** The baseline of zones, users' zone roles and devices, which joined the audited rows later. */
export const ZONE_BASELINE_EVENT = 'audit.baseline.zones';

type BaselineStore = Pick<Store, 'events' | 'addEvent' | 'listUsers' | 'alarms' | 'alarmLimits' | 'listChannels'> & ZoneRecordStore;

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
  await ensureZoneBaseline(store, at);
}

/**
 * Zones, users' zone roles and devices are compared with their recorded state since this baseline:
 * a store that had them before records their state once (a fresh store's first baseline holds them
 * already, and this one repeats it harmlessly). Changes made before it cannot be told apart.
 */
async function ensureZoneBaseline(store: BaselineStore, at: number): Promise<void> {
  const [found] = await store.events({ type: ZONE_BASELINE_EVENT, limit: 1 });
  if (found) return;
  const records = await zoneRowRecords(store);
  await store.addEvent({
    at, deviceId: null, type: ZONE_BASELINE_EVENT, level: 'info', actor: 'system', source: null,
    message: `audit baseline of zones: the state of ${records.length} zones, users' zone roles and devices; every change from here on is an event`,
    data: { why: 'zones, zone roles and devices joined the audited rows', records },
  });
}
