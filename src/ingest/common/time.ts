// Device time formats: RFC 3339 with offset (WiFi, TAx6xx) and hex seconds since 2000-01-01 plus a
// timezone in 15-minute steps (loggers).

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** RFC 3339 date-time with a mandatory offset -> ms UTC, or null when malformed or out of range. */
export function parseRfc3339(text: string): number | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const fractionMs = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const offsetMinutes = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  // Second 60 is a leap second (RFC 3339 §5.6); Date.UTC folds it into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return null;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, fractionMs) - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** ms UTC -> RFC 3339 in the given offset, whole seconds, as COMET devices write it (`2026-03-15T16:17:10+01:00`). */
export function formatRfc3339(ms: number, offsetMinutes: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000).toISOString().slice(0, 19);
  if (offsetMinutes === 0) return `${local}+00:00`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** 2000-01-01T00:00:00Z in ms since the Unix epoch. */
const EPOCH_2000_MS = Date.UTC(2000, 0, 1);
const HEX8 = /^[0-9A-Fa-f]{8}$/;

/** Logger time: 8 hex digits counting seconds since 2000-01-01, read as if UTC; null when malformed. */
export function epoch2000HexToMs(hex: string): number | null {
  if (!HEX8.test(hex)) return null;
  return EPOCH_2000_MS + Number.parseInt(hex, 16) * 1000;
}

export function msToEpoch2000Hex(ms: number, letterCase: 'upper' | 'lower' = 'upper'): string {
  const hex = Math.floor((ms - EPOCH_2000_MS) / 1000).toString(16).padStart(8, '0');
  return letterCase === 'upper' ? hex.toUpperCase() : hex;
}

/** Logger `Timezone` value meaning "not used" (0x80 as a signed byte). */
export const TIMEZONE_NOT_USED = -128;
const QUARTER_HOURS_MIN = -48; // -12 h
const QUARTER_HOURS_MAX = 56; // +14 h

export type TimezoneResult = { ok: true; offsetMinutes: number | null } | { ok: false; reason: string };

/** Logger `Timezone` (UTC offset in 15-minute steps, -128 = not used) -> offset in minutes. */
export function decodeQuarterHourTimezone(quarterHours: number): TimezoneResult {
  if (quarterHours === TIMEZONE_NOT_USED) return { ok: true, offsetMinutes: null };
  if (!Number.isInteger(quarterHours) || quarterHours < QUARTER_HOURS_MIN || quarterHours > QUARTER_HOURS_MAX) {
    return { ok: false, reason: `${quarterHours} is neither ${TIMEZONE_NOT_USED} (not used) nor ${QUARTER_HOURS_MIN}..${QUARTER_HOURS_MAX} quarter hours (-12 h..+14 h)` };
  }
  return { ok: true, offsetMinutes: quarterHours * 15 };
}
