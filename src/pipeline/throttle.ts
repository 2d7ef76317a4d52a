// Interval throttling: the rule is written out in README.md ("Interval throttling"); keep the two in step.
// Pure: the caller passes the clock (receive times), so tests drive it with a synthetic clock.
import type { Family, MessageKind } from '../domain/types.ts';

export interface ThrottleSettings {
  /** Off only for commissioning and benchmarks: then no device is ever suspended automatically. */
  enabled: boolean;
  /** A periodic message this much earlier than the allowed interval counts as early (fraction of it). */
  earlyTolerance: number;      // 0.25 = earlier than 75 % of the interval
  /** Suspend when this many of the last `window` periodic messages were early. */
  earlyLimit: number;
  window: number;
  /** Suspend when more than this many live messages of any kind arrive within one allowed interval. */
  floodLimit: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { enabled: true, earlyTolerance: 0.25, earlyLimit: 3, window: 10, floodLimit: 20 };

/** Shortest interval a device may declare for itself; an administrator can set any value. */
export const FAMILY_MIN_INTERVAL_S: Record<Family, number> = { soap: 10, wifi: 10, 'websensor-json': 10, logger: 10 };
/** Used when neither the administrator nor the device states an interval. */
export const FAMILY_DEFAULT_INTERVAL_S: Record<Family, number> = { soap: 60, wifi: 60, 'websensor-json': 60, logger: 60 };

export function allowedIntervalS(family: Family, adminIntervalS: number | null, declaredIntervalS: number | null): number {
  if (adminIntervalS !== null && adminIntervalS > 0) return adminIntervalS;
  if (declaredIntervalS !== null && declaredIntervalS > 0) return Math.max(declaredIntervalS, FAMILY_MIN_INTERVAL_S[family]);
  return FAMILY_DEFAULT_INTERVAL_S[family];
}

export interface ThrottleState {
  lastPeriodicAt: number | null;
  /** true/false per recent periodic message: was it early? newest last */
  recent: boolean[];
  /** receive times of recent live messages (any kind), for the flood guard */
  liveTimes: number[];
}

export function newThrottleState(): ThrottleState {
  return { lastPeriodicAt: null, recent: [], liveTimes: [] };
}

export interface ThrottleInput {
  receivedAt: number;          // ms
  kind: MessageKind;
  fromCache: boolean;
  /**
   * Sample time of the oldest reading (ms); receive time for families that send none. A message is
   * live only when all its samples are recent, so a buffered logger upload whose samples span many
   * intervals is a backlog, like a cache flush, even though the logger does not flag it as a resend.
   */
  oldestSampleTime: number;
  /** True when alarm states differ from the device's previous message (an alarm change is async). */
  alarmChanged: boolean;
  allowedIntervalS: number;
}

export type ThrottleDecision =
  | { suspend: false; early: boolean; counted: boolean }
  | { suspend: true; reason: string };

/** Decides on one message and advances the state (the state is mutated in place). */
export function throttle(state: ThrottleState, input: ThrottleInput, settings: ThrottleSettings = DEFAULT_THROTTLE): ThrottleDecision {
  const intervalMs = input.allowedIntervalS * 1000;
  // A cache flush or a logger backlog carries old samples, sent as fast as the link allows: not live traffic.
  const live = !input.fromCache && input.receivedAt - input.oldestSampleTime <= intervalMs;
  if (!live) return { suspend: false, early: false, counted: false };

  state.liveTimes.push(input.receivedAt);
  while (state.liveTimes.length && state.liveTimes[0] <= input.receivedAt - intervalMs) state.liveTimes.shift();
  if (state.liveTimes.length > settings.floodLimit) {
    return { suspend: true, reason: `flood: ${state.liveTimes.length} messages within one allowed interval of ${input.allowedIntervalS} s (limit ${settings.floodLimit})` };
  }

  const counted = input.kind === 'periodic' && !input.alarmChanged;
  if (!counted) {
    // restart, test and alarm messages may come at any time; the next periodic one is measured from here on
    if (input.kind === 'restart') state.lastPeriodicAt = null;
    return { suspend: false, early: false, counted: false };
  }
  const previous = state.lastPeriodicAt;
  state.lastPeriodicAt = input.receivedAt;
  const early = previous !== null && input.receivedAt - previous < intervalMs * (1 - settings.earlyTolerance);
  state.recent.push(early);
  if (state.recent.length > settings.window) state.recent.shift();
  const earlyCount = state.recent.filter(Boolean).length;
  if (earlyCount >= settings.earlyLimit) {
    const gapS = previous === null ? 0 : (input.receivedAt - previous) / 1000;
    return {
      suspend: true,
      reason: `sending faster than allowed: ${earlyCount} of the last ${state.recent.length} periodic messages came early ` +
        `(latest ${gapS.toFixed(1)} s after the previous one; allowed interval ${input.allowedIntervalS} s)`,
    };
  }
  return { suspend: false, early, counted: true };
}
