// The audited state of each protected row, as events record it and as verification reads it back:
// users (name, role, disabled, a digest of the password hash), alarms (every column), a channel's
// alarm limits and a channel's quantity and unit. One definition for both adapters and for
// verification, so that "recorded" and "found" are computed the same way.
import { type AuditRecord, secretDigest } from '../domain/audit-chain.ts';
import type { AlarmLimit, Channel } from '../domain/types.ts';
import type { Store, StoredAlarm, UserRecord } from './store.ts';
import { type ZoneRecordStore, zoneRowRecords } from './zone-records.ts';

export function userRecord(u: Pick<UserRecord, 'id' | 'username' | 'role' | 'disabled' | 'passwordHash'> & Partial<Pick<UserRecord, 'scope'>>): AuditRecord {
  return { key: `user:${u.id}`, state: { username: u.username, role: u.role, scope: u.scope ?? 'global', disabled: u.disabled, password: secretDigest(u.passwordHash) } };
}

export function alarmRecord(a: StoredAlarm): AuditRecord {
  return {
    key: `alarm:${a.id}`,
    state: {
      deviceId: a.deviceId, channel: a.channel, source: a.source, kind: a.kind, level: a.level, direction: a.direction, raisedAt: a.raisedAt,
      value: a.value, message: a.message, acknowledgedAt: a.acknowledgedAt, acknowledgedBy: a.acknowledgedBy, ackComment: a.ackComment,
      ackMeaning: a.ackMeaning ?? null, clearedAt: a.clearedAt, clearedValue: a.clearedValue,
    },
  };
}

export function limitsRecord(deviceId: number, channel: number, limits: Pick<AlarmLimit, 'level' | 'high' | 'low' | 'delayS' | 'hysteresis'>[]): AuditRecord {
  const state = [...limits].sort((a, b) => a.level.localeCompare(b.level))
    .map(({ level, high, low, delayS, hysteresis }) => ({ level, high, low, delayS, hysteresis }));
  return { key: `limits:${deviceId}:${channel}`, state: state.length ? state : null };
}

export function channelRecord(c: Pick<Channel, 'deviceId' | 'channel' | 'quantity' | 'unit'>): AuditRecord {
  return { key: `channel:${c.deviceId}:${c.channel}`, state: { quantity: c.quantity, unit: c.unit } };
}

/** Alarms read per page while collecting the current state. */
const ALARM_PAGE = 10_000;

/** Every audited row as it is in the store now. */
export async function currentRecords(store: Pick<Store, 'listUsers' | 'alarms' | 'alarmLimits' | 'listChannels'> & ZoneRecordStore): Promise<AuditRecord[]> {
  const records: AuditRecord[] = (await store.listUsers()).map(userRecord);
  let beforeId: number | undefined;
  for (;;) {
    const page = await store.alarms({ limit: ALARM_PAGE, beforeId });
    records.push(...page.map(alarmRecord));
    if (page.length < ALARM_PAGE) break;
    beforeId = page[page.length - 1].id;
  }
  const byChannel = Map.groupBy(await store.alarmLimits(), (l) => `${l.deviceId}:${l.channel}`);
  for (const limits of byChannel.values()) records.push(limitsRecord(limits[0].deviceId, limits[0].channel, limits));
  records.push(...(await store.listChannels()).map(channelRecord));
  records.push(...(await zoneRowRecords(store)));
  return records;
}
