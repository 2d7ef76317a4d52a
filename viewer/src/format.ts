// How values, units, times and statuses read on screen.
const QUANTITIES: Record<string, string> = {
  temperature: 'Temperature', relative_humidity: 'Relative humidity', dew_point: 'Dew point', pressure: 'Pressure', co2: 'CO₂',
};
const UNITS: Record<string, string> = { C: '°C', F: '°F' };

export const quantityLabel = (q: string) => QUANTITIES[q] ?? q.replace(/_/g, ' ');
export const unitLabel = (u: string) => UNITS[u] ?? u;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
export const formatTime = (ms: number | null) => (ms === null ? '—' : dateTime.format(ms));

export function formatValue(value: number | null, unit: string): string {
  return value === null ? '—' : `${value.toLocaleString(undefined, { maximumFractionDigits: 2 })} ${unitLabel(unit)}`;
}

export function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

export const STATUS_LABELS: Record<string, string> = { ok: 'Online', offline: 'Offline', 'never-seen': 'Never seen', suspended: 'Suspended' };

/** datetime-local inputs speak local wall-clock time without a zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
export const fromLocalInput = (text: string) => new Date(text).getTime();
