// The audited state of zone rows (issue 18): each zone's name and parent, each user's zone roles and
// each device's identity, name and zone. Events that change them carry these records; verification
// compares the rows with the last state the chained events recorded, as for users and limits.
import type { AuditRecord } from '../domain/audit-chain.ts';
import type { Device } from '../domain/types.ts';
import type { Zone, ZoneGrant } from '../domain/zones.ts';
import type { Store } from './store.ts';

export function zoneRecord(zone: Pick<Zone, 'id' | 'name' | 'parentId'>): AuditRecord {
  return { key: `zone:${zone.id}`, state: { name: zone.name, parentId: zone.parentId } };
}

/** A removed zone: recorded as gone, so that a row re-inserted under its id is found. */
export function zoneRemovedRecord(zoneId: number): AuditRecord {
  return { key: `zone:${zoneId}`, state: null };
}

/** A user's zone roles, in zone order; null when they hold none (no rows). */
export function userZonesRecord(userId: number, grants: Pick<ZoneGrant, 'zoneId' | 'role'>[]): AuditRecord {
  const state = [...grants].sort((a, b) => a.zoneId - b.zoneId).map(({ zoneId, role }) => ({ zoneId, role }));
  return { key: `zones-of-user:${userId}`, state: state.length ? state : null };
}

/** What names a device and where it is: its family and serial (never changed), its name and zone. */
export function deviceRecord(d: Pick<Device, 'id' | 'family' | 'serial' | 'name'> & { zoneId?: number | null }): AuditRecord {
  return { key: `device:${d.id}`, state: { family: d.family, serial: d.serial, name: d.name, zoneId: d.zoneId ?? null } };
}

/**
 * One version of a channel's quantity and unit (a channel_units row): the viewer, CSV and reports show
 * each sample in the unit valid at its time, so a version inserted or changed in the database would
 * relabel history. Each row is recorded by the event that wrote it.
 */
export function unitVersionRecord(deviceId: number, v: { channel: number; validFrom: number; quantity: string; unit: string }): AuditRecord {
  return { key: `unit-version:${deviceId}:${v.channel}:${v.validFrom}`, state: { quantity: v.quantity, unit: v.unit } };
}

export type ZoneRecordStore = Pick<Store, 'listZones' | 'userZoneRoles' | 'listDevices' | 'channelUnits'>;

/** Every zone, user zone role set, device and unit version as it is in the store now. */
export async function zoneRowRecords(store: ZoneRecordStore): Promise<AuditRecord[]> {
  const records = (await store.listZones()).map(zoneRecord);
  const byUser = Map.groupBy(await store.userZoneRoles(), (g) => g.userId);
  for (const [userId, grants] of byUser) records.push(userZonesRecord(userId, grants));
  for (const d of await store.listDevices()) {
    records.push(deviceRecord(d));
    for (const v of await store.channelUnits(d.id)) records.push(unitVersionRecord(d.id, v));
  }
  return records;
}
