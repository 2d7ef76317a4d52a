// Alarms the devices raise themselves, pure (the caller passes each stored reading with its sample
// time, so tests drive them with a synthetic clock). Per channel:
// - Device alarm state: a reading whose alarm state is hi or lo raises a 'device' alarm in that
//   direction; a reading back at 'no' clears it; hi straight to lo clears one and raises the other.
//   Error readings say nothing about the alarm state and change nothing here.
// - Sensor error: an error reading (no value: failed or missing probe) starts the wait; the alarm
//   is raised at the first error reading at least `sensorErrorDelayS` after the first one (0: at
//   once). The first reading with a value again clears it, or ends the wait.
// - Readings not newer than the last one seen (resends, late cache entries) change nothing.
import type { AlarmDirection, AlarmState } from '../domain/types.ts';

export interface DeviceChannelState {
  /** Direction of the raised device alarm, null when none. */
  alarm: AlarmDirection | null;
  /** Sample time of the first error reading of the error now being waited out or raised. */
  errorSince: number | null;
  errorRaised: boolean;
  lastTime: number;
}

export type DeviceAlarmTransition =
  | { kind: 'raise' | 'clear'; what: 'device'; direction: AlarmDirection; at: number; value: number | null }
  | { kind: 'raise'; what: 'sensor'; at: number; errorCode: number; since: number }
  | { kind: 'clear'; what: 'sensor'; at: number; value: number | null };

export function initialDeviceChannelState(alarm: AlarmDirection | null = null, errorRaised = false): DeviceChannelState {
  return { alarm, errorSince: null, errorRaised, lastTime: Number.NEGATIVE_INFINITY };
}

const DIRECTION: Record<Exclude<AlarmState, 'no'>, AlarmDirection> = { hi: 'high', lo: 'low' };

export function evaluateDeviceReading(
  state: DeviceChannelState,
  reading: { time: number; value: number | null; errorCode: number | null; alarm: AlarmState },
  sensorErrorDelayS: number,
): { state: DeviceChannelState; transitions: DeviceAlarmTransition[] } {
  if (reading.time <= state.lastTime) return { state, transitions: [] };
  const next: DeviceChannelState = { ...state, lastTime: reading.time };
  const transitions: DeviceAlarmTransition[] = [];
  if (reading.errorCode !== null) {
    next.errorSince ??= reading.time;
    if (!next.errorRaised && reading.time - next.errorSince >= sensorErrorDelayS * 1000) {
      transitions.push({ kind: 'raise', what: 'sensor', at: reading.time, errorCode: reading.errorCode, since: next.errorSince });
      next.errorRaised = true;
    }
    return { state: next, transitions };
  }
  if (next.errorRaised) transitions.push({ kind: 'clear', what: 'sensor', at: reading.time, value: reading.value });
  next.errorSince = null;
  next.errorRaised = false;
  const reported = reading.alarm === 'no' ? null : DIRECTION[reading.alarm];
  if (next.alarm !== reported) {
    if (next.alarm) transitions.push({ kind: 'clear', what: 'device', direction: next.alarm, at: reading.time, value: reading.value });
    if (reported) transitions.push({ kind: 'raise', what: 'device', direction: reported, at: reading.time, value: reading.value });
    next.alarm = reported;
  }
  return { state: next, transitions };
}
