// How values, units, times and statuses read on screen. One date and time format everywhere (the
// browser's locale, with its 12- or 24-hour clock), one number format per unit, and the time zone
// named on every page.
const QUANTITIES: Record<string, string> = {
  temperature: 'Temperature', relative_humidity: 'Relative humidity', dew_point: 'Dew point', pressure: 'Pressure', co2: 'CO₂',
};
const UNITS: Record<string, string> = { C: '°C', F: '°F' };

export const quantityLabel = (q: string) => QUANTITIES[q] ?? q.replace(/_/g, ' ');
export const unitLabel = (u: string) => UNITS[u] ?? u;

/** The browser's time zone, e.g. "Europe/Prague". */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
const zoneAbbreviation = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(Date.now()).find((p) => p.type === 'timeZoneName')?.value ?? '';
/** Shown in the header of every page and on reports: "Times: Europe/Prague (CET)". */
export const TIME_ZONE_NOTE = `Times: ${TIME_ZONE}${zoneAbbreviation && zoneAbbreviation !== TIME_ZONE ? ` (${zoneAbbreviation})` : ''}`;

const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeShort = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
const dateOnly = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit' });
const dayAndTime = new Intl.DateTimeFormat(undefined, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const timeSeconds = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export const formatTime = (ms: number | null) => (ms === null ? '—' : dateTime.format(ms));
export const formatTimeShort = (ms: number) => dateTimeShort.format(ms);
export const formatDate = (ms: number) => dateOnly.format(ms);
/** Day, month and time without the year: chart axes over a few days. */
export const formatDayAndTime = (ms: number) => dayAndTime.format(ms);
export const formatClock = (ms: number, seconds = false) => (seconds ? timeSeconds : timeOnly).format(ms);

/** Decimals shown per unit: whole ppm, otherwise one or two. The same on every page. */
function numberFormat(unit: string): Intl.NumberFormat {
  return unit === 'ppm' ? new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }) : new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 2 });
}
const formats = new Map<string, Intl.NumberFormat>();
export function formatNumber(value: number, unit: string): string {
  let f = formats.get(unit);
  if (!f) { f = numberFormat(unit); formats.set(unit, f); }
  return f.format(value);
}

/** ", from 5 Dec 2026 10:00" / ", until …" for the samples of one unit version when the unit changed in the range; '' otherwise. */
export function unitValidity(v: { unitFrom?: number | null; unitUntil?: number | null }): string {
  return `${v.unitFrom != null ? `, from ${formatTime(v.unitFrom)}` : ''}${v.unitUntil != null ? `, until ${formatTime(v.unitUntil)}` : ''}`;
}

export function formatValue(value: number | null, unit: string): string {
  return value === null ? '—' : `${formatNumber(value, unit)}${unit ? ` ${unitLabel(unit)}` : ''}`;
}

export function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

export const STATUS_LABELS: Record<string, string> = { ok: 'Online', offline: 'Offline', 'never-seen': 'Never seen', suspended: 'Suspended', retired: 'Retired' };

/** Sorts names as people count: "Fridge 2" before "Fridge 10". */
export const naturalCompare = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;

/** datetime-local inputs speak local wall-clock time without a zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
export const fromLocalInput = (text: string) => new Date(text).getTime();
