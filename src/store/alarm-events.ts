// The event each alarm change appends to the audit trail, composed once for both adapters so that
// the embedded store and SQL Server write the same types, levels, texts and data. Each carries the
// changed row's new state (audit-records.ts), which verification compares with the row.
import type { AlarmLimit, EventLevel } from '../domain/types.ts';
import type { AuditRecord } from '../domain/audit-chain.ts';
import type { ChangeAudit, StoredAlarm } from './store.ts';
import { alarmRecord, limitsRecord } from './audit-records.ts';

export interface AlarmEvent {
  at: number;
  deviceId: number | null;
  type: 'alarm.limits.changed' | 'alarm.raised' | 'alarm.cleared' | 'alarm.acknowledged';
  level: EventLevel;
  message: string;
  data: Record<string, unknown> & { records: AuditRecord[] };
  actor: string;
  source: string | null;
}

type LimitValues = Pick<AlarmLimit, 'level' | 'high' | 'low' | 'delayS' | 'hysteresis'>;

function describeLimits(limits: LimitValues[]): string {
  return limits.length
    ? limits.map((l) => `${l.level}: low ${l.low ?? '-'}, high ${l.high ?? '-'}, delay ${l.delayS} s, hysteresis ${l.hysteresis}`).join('; ')
    : 'none';
}

export function limitsChangedEvent(deviceId: number, channel: number, limits: LimitValues[], by: string, at: number, audit: ChangeAudit = {}, previous: LimitValues[] = []): AlarmEvent {
  const values = (list: LimitValues[]) => list.map(({ level, high, low, delayS, hysteresis }) => ({ level, high, low, delayS, hysteresis }));
  const signed = audit.signatureMeaning ? `, signed "${audit.signatureMeaning}"` : '';
  return {
    at, deviceId, type: 'alarm.limits.changed', level: 'info', actor: by, source: audit.source ?? null,
    message: `alarm limits of channel ${channel} changed from ${describeLimits(previous)} to ${describeLimits(limits)} (by ${by}${signed})` +
      `${audit.reason ? `. Reason: ${audit.reason}` : ''}`,
    data: {
      channel, limits: values(limits), previous: values(previous), by, reason: audit.reason ?? null,
      signature: audit.signatureMeaning ? { by, meaning: audit.signatureMeaning, at } : null,
      records: [limitsRecord(deviceId, channel, limits)],
    },
  };
}

export function raisedEvent(alarm: StoredAlarm): AlarmEvent {
  return {
    at: alarm.raisedAt, deviceId: alarm.deviceId, type: 'alarm.raised', level: alarm.level, message: alarm.message, actor: 'system', source: null,
    data: { alarmId: alarm.id, channel: alarm.channel, value: alarm.value, records: [alarmRecord(alarm)] },
  };
}

export function clearedEvent(alarm: StoredAlarm, at: number, value: number | null): AlarmEvent {
  return {
    at, deviceId: alarm.deviceId, type: 'alarm.cleared', level: 'info', actor: 'system', source: null,
    message: `cleared${value === null ? '' : ` at ${value}`}: ${alarm.message}`,
    data: { alarmId: alarm.id, channel: alarm.channel, value, records: [alarmRecord(alarm)] },
  };
}

/** `alarm` as it is after the acknowledgement. */
export function acknowledgedEvent(alarm: StoredAlarm, by: string, comment: string, at: number, source: string | null = null): AlarmEvent {
  const meaning = alarm.ackMeaning;
  return {
    at, deviceId: alarm.deviceId, type: 'alarm.acknowledged', level: 'info', actor: by, source,
    message: `acknowledged by ${by}${meaning ? ` with electronic signature (${meaning})` : ''}: "${comment}" (${alarm.message})`,
    data: { alarmId: alarm.id, by, comment, signature: meaning ? { by, meaning, at } : null, records: [alarmRecord(alarm)] },
  };
}
