// Device channel labels are free text (and translatable on loggers), so the normalised quantity is a
// best effort; the device's own label is always kept beside it in Upload.meta.

/** Normalised names for labels seen in COMET sources (spec §3.2, §4.6, §5.6), compared lower-cased. */
const KNOWN_LABELS: Record<string, string> = {
  'temperature': 'temperature',
  'relative humidity': 'relative_humidity',
  'rel. humidity': 'relative_humidity',
  'humidity': 'relative_humidity',
  'atmospheric pressure': 'pressure',
  'barometric pressure': 'pressure',
  'pressure': 'pressure',
  'co2': 'co2',
  'co2 concentration': 'co2',
  'dew point': 'dew_point',
  'dew point temperature': 'dew_point',
};

export const BINARY_QUANTITY = 'binary';

export function normaliseQuantity(label: string, channel: number): string {
  const known = KNOWN_LABELS[label.trim().toLowerCase()];
  if (known) return known;
  const slug = label.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return slug || `channel_${channel}`;
}
