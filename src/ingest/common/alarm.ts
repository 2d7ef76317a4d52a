import type { AlarmState } from '../../domain/types.ts';

/** Alarm mode / behaviour per alarm, as all three JSON families number it. */
const MODE_BELOW = 1; // analog: value lower than limit; binary: alarm on low (0) state
const MODE_ABOVE = 2; // analog: value higher than limit; binary: alarm on high (1) state

/**
 * Channel alarm state from the device's two alarms: `active` = [Al1, Al2] (1 = in alarm),
 * `modes` = [mode1, mode2] (0 off, 1 below limit / low state, 2 above limit / high state).
 * Rule: an active alarm in mode 2 gives 'hi', in mode 1 'lo'; 'hi' wins if both are active in
 * opposite directions (cannot happen with sane limits); an active alarm whose mode is 0 (off) has no
 * direction and is ignored; otherwise 'no'. Raw pairs stay in Upload.meta for anything finer.
 */
export function alarmStateFromPairs(active: readonly number[], modes: readonly number[]): AlarmState {
  let state: AlarmState = 'no';
  for (let i = 0; i < Math.min(active.length, modes.length); i++) {
    if (active[i] !== 1) continue;
    if (modes[i] === MODE_ABOVE) return 'hi';
    if (modes[i] === MODE_BELOW) state = 'lo';
  }
  return state;
}
