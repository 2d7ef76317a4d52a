// Completeness per channel and day: samples received divided by samples expected from the
// device's interval. Days are UTC days; the first and last day of a range, and today, count only
// the part that lies inside the range and in the past. Nothing is expected before the device was
// registered: a device added five minutes ago is not 0.2 % complete over the last 24 hours.

export const DAY_MS = 86_400_000;

export interface DayCount { time: number; count: number }

export interface DayCompleteness {
  day: number;          // UTC midnight, ms
  received: number;
  expected: number;     // may be fractional for partial days
  ratio: number | null; // received / expected; null when nothing was expected
}

export function dailyCompleteness(counts: DayCount[], from: number, to: number, intervalS: number, now: number, registeredAt = Number.NEGATIVE_INFINITY): DayCompleteness[] {
  const end = Math.min(to, now);
  const expectedFrom = Math.max(from, registeredAt);
  const byDay = new Map<number, number>();
  for (const c of counts) {
    const day = c.time - (c.time % DAY_MS);
    byDay.set(day, (byDay.get(day) ?? 0) + c.count);
  }
  const days: DayCompleteness[] = [];
  for (let day = from - (from % DAY_MS); day < end; day += DAY_MS) {
    const covered = Math.max(0, Math.min(day + DAY_MS, end) - Math.max(day, expectedFrom));
    const expected = covered / (intervalS * 1000);
    const received = byDay.get(day) ?? 0;
    days.push({ day, received, expected: Math.round(expected * 100) / 100, ratio: expected > 0 ? received / expected : null });
  }
  return days;
}

/** One figure for a whole range: total received over total expected. */
export function overallCompleteness(days: DayCompleteness[]): number | null {
  const expected = days.reduce((n, d) => n + d.expected, 0);
  return expected > 0 ? days.reduce((n, d) => n + d.received, 0) / expected : null;
}
