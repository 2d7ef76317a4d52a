// The event each alarm change appends to the audit trail, composed once for both adapters so that
// the embedded store and SQL Server write the same types, levels, texts and data.
import type { AlarmLimit, EventLevel } from '../domain/types.ts';
import type { NewAlarm, StoredAlarm } from './store.ts';

export interface AlarmEvent {
  at: number;
  deviceId: number | null;
  type: 'alarm.limits.changed' | 'alarm.raised' | 'alarm.cleared' | 'alarm.acknowledged';
  level: EventLevel;
  message: string;
  data: Record<string, unknown>;
}

export function limitsChangedEvent(deviceId: number, channel: number, limits: AlarmLimit[], by: string, at: number): AlarmEvent {
  const described = limits.map((l) => `${l.level}: low ${l.low ?? '-'}, high ${l.high ?? '-'}, delay ${l.delayS} s, hysteresis ${l.hysteresis}`).join('; ');
  return {
    at, deviceId, type: 'alarm.limits.changed', level: 'info',
    message: `alarm limits of channel ${channel} ${limits.length ? `set to ${described}` : 'removed'} (by ${by})`,
    data: { channel, limits: limits.map(({ level, high, low, delayS, hysteresis }) => ({ level, high, low, delayS, hysteresis })), by },
  };
}

export function raisedEvent(alarm: NewAlarm, id: number): AlarmEvent {
  return {
    at: alarm.raisedAt, deviceId: alarm.deviceId, type: 'alarm.raised', level: alarm.level, message: alarm.message,
    data: { alarmId: id, channel: alarm.channel, value: alarm.value },
  };
}

export function clearedEvent(alarm: StoredAlarm, at: number, value: number | null): AlarmEvent {
  return {
    at, deviceId: alarm.deviceId, type: 'alarm.cleared', level: 'info',
    message: `cleared${value === null ? '' : ` at ${value}`}: ${alarm.message}`, data: { alarmId: alarm.id, channel: alarm.channel, value },
  };
}

export function acknowledgedEvent(alarm: StoredAlarm, by: string, comment: string, at: number): AlarmEvent {
  return {
    at, deviceId: alarm.deviceId, type: 'alarm.acknowledged', level: 'info',
    message: `acknowledged by ${by}: "${comment}" (${alarm.message})`, data: { alarmId: alarm.id, by, comment },
  };
}
