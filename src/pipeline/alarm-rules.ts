// Limit alarm rules, pure: the caller passes each stored reading with its sample time, so tests
// drive them with a synthetic clock. It lives in pipeline/ because the pipeline is where every
// stored reading passes, in order; jobs/ and api/ sit above and may use it, the pipeline may not
// import them.
//
// The rule for one channel and one level (warning or alarm):
// - A reading breaches when it is above `high` or below `low` (a limit left null never breaches).
// - An alarm is raised once the breach has lasted `delayS` by sample time: at the first reading at
//   least delayS after the first breaching one. A reading back inside the limits restarts the
//   wait; delayS 0 raises on the first breaching reading.
// - A raised alarm clears at the first reading back inside by at least `hysteresis`
//   (value <= high - hysteresis, or >= low + hysteresis), so a value hovering at the limit does not
//   raise and clear over and over. Clearing needs no delay.
// - Error readings (no value) and readings not newer than the last one seen (resends, late cache
//   entries) change nothing.

import type { AlarmDirection, AlarmLimit } from '../domain/types.ts';

export interface LimitState {
  /** The direction of the raised alarm, null when none is raised. */
  raised: AlarmDirection | null;
  /** Sample time of the first reading of the breach now being waited out. */
  breachSince: number | null;
  breachDirection: AlarmDirection | null;
  /** Sample time of the last reading evaluated. */
  lastTime: number;
}

export type AlarmTransition =
  | { kind: 'raise'; direction: AlarmDirection; value: number; at: number; limit: number }
  | { kind: 'clear'; direction: AlarmDirection; value: number; at: number };

export function initialLimitState(raised: AlarmDirection | null = null): LimitState {
  return { raised, breachSince: null, breachDirection: null, lastTime: Number.NEGATIVE_INFINITY };
}

function breachOf(limit: AlarmLimit, value: number): AlarmDirection | null {
  if (limit.high !== null && value > limit.high) return 'high';
  if (limit.low !== null && value < limit.low) return 'low';
  return null;
}

function backInside(limit: AlarmLimit, direction: AlarmDirection, value: number): boolean {
  return direction === 'high'
    ? limit.high === null || value <= limit.high - limit.hysteresis
    : limit.low === null || value >= limit.low + limit.hysteresis;
}

/** Evaluates one reading; returns the new state and what changed (a clear can be followed by an opposite raise). */
export function evaluateReading(limit: AlarmLimit, state: LimitState, reading: { time: number; value: number | null }): { state: LimitState; transitions: AlarmTransition[] } {
  if (reading.value === null || reading.time <= state.lastTime) return { state, transitions: [] };
  const { time, value } = reading;
  const next: LimitState = { ...state, lastTime: time };
  const transitions: AlarmTransition[] = [];
  if (next.raised) {
    if (!backInside(limit, next.raised, value)) return { state: next, transitions };
    transitions.push({ kind: 'clear', direction: next.raised, value, at: time });
    next.raised = null;
  }
  const breach = breachOf(limit, value);
  if (!breach) {
    next.breachSince = null;
    next.breachDirection = null;
    return { state: next, transitions };
  }
  if (next.breachDirection !== breach) {
    next.breachSince = time;
    next.breachDirection = breach;
  }
  if (time - next.breachSince! >= limit.delayS * 1000) {
    transitions.push({ kind: 'raise', direction: breach, value, at: time, limit: (breach === 'high' ? limit.high : limit.low)! });
    next.raised = breach;
    next.breachSince = null;
    next.breachDirection = null;
  }
  return { state: next, transitions };
}
