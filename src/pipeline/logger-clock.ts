// Which reading of a GSM/LTE logger's clock to use. COMET's logger JSON gives "device time ... count
// of seconds since 1.1.2000" and a separate Timezone, without saying whether the count is UTC or
// local time; its own example (Timezone +2 h in September) suggests local. The adapter reads the
// count as UTC and reports both readings' skew against the receive time (meta.clock); here the
// device's setting, or else the evidence, picks one. Pure: no clock, no I/O.
import type { LoggerClockSetting } from '../domain/types.ts';

/** What the logger adapter puts in meta.clock. */
export interface LoggerClockEvidence {
  /** The message's Timezone as minutes east of UTC; null when the logger says "not used". */
  offsetMinutes: number | null;
  /** Receive time minus the send time (TimeNow) read as UTC / as local time; null without an offset. */
  skewIfUtcMs: number;
  skewIfLocalMs: number | null;
}

export interface LoggerClockDecision {
  counts: 'utc' | 'local';
  /** 'administrator' when the device's setting decided, 'evidence' when the skews did, 'no-offset' when both readings agree. */
  basis: 'administrator' | 'evidence' | 'no-offset';
  /** Added to every time the adapter read as UTC: 0, or minus the Timezone offset. */
  shiftMs: number;
  /** Receive time minus send time under the chosen reading: the logger clock's error plus transit. */
  skewMs: number;
}

/**
 * Once a reading is chosen it is kept until the other explains the send time clearly better: a
 * clock that drifts by a few minutes must not flip the device's times between uploads.
 */
export const SWITCH_MARGIN_MS = 5 * 60_000;

export function decideLoggerClock(setting: LoggerClockSetting, evidence: LoggerClockEvidence, previous: 'utc' | 'local' | null): LoggerClockDecision {
  const utc: LoggerClockDecision = { counts: 'utc', basis: 'evidence', shiftMs: 0, skewMs: evidence.skewIfUtcMs };
  if (evidence.offsetMinutes === null || evidence.offsetMinutes === 0 || evidence.skewIfLocalMs === null) {
    return { ...utc, basis: setting === 'auto' ? 'no-offset' : 'administrator' };
  }
  const local: LoggerClockDecision = { counts: 'local', basis: 'evidence', shiftMs: -evidence.offsetMinutes * 60_000, skewMs: evidence.skewIfLocalMs };
  if (setting === 'utc') return { ...utc, basis: 'administrator' };
  if (setting === 'local') return { ...local, basis: 'administrator' };
  const [kept, other] = previous === 'local' ? [local, utc] : previous === 'utc' ? [utc, local] : [null, null];
  if (kept && other) return Math.abs(other.skewMs) + SWITCH_MARGIN_MS < Math.abs(kept.skewMs) ? other : kept;
  return Math.abs(local.skewMs) < Math.abs(utc.skewMs) ? local : utc;
}

export function describeSkew(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
  return ms >= 0 ? `${text} behind` : `${text} ahead`;
}
