// The closed set of units per quantity, and the one canonical text of each. Devices write the same
// unit in several ways (SOAP "C", JSON "°C", a logger "degC"); stored channels, charts, CSV headers
// and unit comparisons use the canonical form only, so "C" and "°C" are one unit and one chart axis.
// A unit text not in a quantity's set is refused at ingest: a value is never stored in a unit
// nobody checked (its plausible range is then unknown too).

/** Canonical unit → the texts devices are known to send for it (compared exactly, then case-folded). */
const TEMPERATURE: Record<string, string[]> = {
  '°C': ['C', '°C', 'degC', 'deg C', '℃', 'Celsius', 'celsius', '°c', 'c'],
  '°F': ['F', '°F', 'degF', 'deg F', '℉', 'Fahrenheit', 'fahrenheit', '°f', 'f'],
  K: ['K', 'kelvin', 'Kelvin'],
};

/** Units per quantity (domain/quantities.ts names). Quantities not listed take only DIMENSIONLESS or OTHER units. */
const UNITS_BY_QUANTITY: Record<string, Record<string, string[]>> = {
  temperature: TEMPERATURE,
  dew_point: TEMPERATURE,
  relative_humidity: { '%RH': ['%RH', '%', '% RH', 'RH', '%rh', 'rh'] },
  pressure: {
    hPa: ['hPa', 'hpa', 'HPA'], mbar: ['mbar', 'mBar', 'MBAR'], kPa: ['kPa', 'kpa', 'KPA'], psi: ['psi', 'PSI'],
    inHg: ['inHg', 'INHG', 'inhg'], mmHg: ['mmHg', 'MMHG', 'mmhg'], inH2O: ['inH2O', 'INH2O', 'inh2o'], 'oz/in²': ['oz/in²', 'oz/in^2', 'oz/in2'],
  },
  co2: { ppm: ['ppm', 'PPM'] },
  binary: { '': ['', 'n/a'] },
};

/** Units a channel of a quantity Inlet does not know (a logger's free-text label) may carry. */
const OTHER_UNITS: Record<string, string[]> = {
  '': ['', 'n/a', '-'],
  '%': ['%'],
  'g/m³': ['g/m3', 'g/m³', 'g/m^3'],
  'g/kg': ['g/kg'],
  'kJ/kg': ['kJ/kg'],
  V: ['V', 'v'], mV: ['mV', 'mv'], A: ['A'], mA: ['mA', 'ma'],
  'm/s': ['m/s'], lx: ['lx', 'lux'], Pa: ['Pa'], ppm: ['ppm', 'PPM'],
};

function lookup(table: Record<string, string[]>, text: string): string | null {
  const trimmed = text.trim();
  for (const [canonical, spellings] of Object.entries(table)) if (spellings.includes(trimmed)) return canonical;
  const folded = trimmed.toLowerCase();
  for (const [canonical, spellings] of Object.entries(table)) if (spellings.some((s) => s.toLowerCase() === folded)) return canonical;
  return null;
}

/**
 * canonicalUnit's answers by quantity and text: every upload names its units, and the table search
 * builds arrays each time. Bounded, since the texts come from devices.
 */
const canonicalByQuantity = new Map<string, Map<string, string | null>>();
let canonicalCount = 0;
const MAX_CANONICAL_CACHED = 1024;

/** The canonical unit for what a device sent, or null when the text is no unit of that quantity. */
export function canonicalUnit(quantity: string, text: string): string | null {
  const byText = canonicalByQuantity.get(quantity);
  const cached = byText?.get(text);
  if (cached !== undefined) return cached;
  const canonical = canonicalUnitOf(quantity, text);
  if (canonicalCount < MAX_CANONICAL_CACHED) {
    if (byText) byText.set(text, canonical); else canonicalByQuantity.set(quantity, new Map([[text, canonical]]));
    canonicalCount++;
  }
  return canonical;
}

function canonicalUnitOf(quantity: string, text: string): string | null {
  const table = UNITS_BY_QUANTITY[quantity];
  if (table) {
    // Temperatures: "c" and "f" are accepted only as the whole text, so look up case-sensitively first.
    return lookup(table, text);
  }
  return lookup(OTHER_UNITS, text);
}

/** The units a quantity may be stored in, for error messages ("expected one of ..."). */
export function unitsOf(quantity: string): string[] {
  return Object.keys(UNITS_BY_QUANTITY[quantity] ?? OTHER_UNITS).map((u) => (u === '' ? '(none)' : u));
}

/** True when the text is already the canonical form (what the store holds). */
export function isCanonicalUnit(quantity: string, unit: string): boolean {
  return canonicalUnit(quantity, unit) === unit;
}
