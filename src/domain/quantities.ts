// Physical plausibility of a reading: values outside what any COMET sensor can measure are
// refused, whatever the device claims. Ranges are generous on purpose (probe models differ).

export interface Range { min: number; max: number }

function temperatureRange(unit: string): Range | undefined {
  const u = unit.replace('°', '').trim().toUpperCase();
  if (u === 'C') return { min: -273.15, max: 1800 };
  if (u === 'F') return { min: -459.67, max: 3300 };
  if (u === 'K') return { min: 0, max: 2100 };
  return undefined;
}

const PRESSURE_HPA_PER_UNIT: Record<string, number> = {
  hpa: 1, mbar: 1, kpa: 10, psi: 68.9476, inhg: 33.8639, mmhg: 1.33322, inh2o: 2.49089, 'oz/in^2': 4.30922, 'oz/in²': 4.30922,
};

/** The physically possible range for a quantity in a unit, or undefined when we cannot judge. */
export function plausibleRange(quantity: string, unit: string): Range | undefined {
  switch (quantity) {
    case 'temperature':
    case 'dew_point':
      return temperatureRange(unit);
    case 'relative_humidity':
      return { min: 0, max: 100 };
    case 'pressure': {
      const factor = PRESSURE_HPA_PER_UNIT[unit.trim().toLowerCase()];
      return factor ? { min: 0, max: 2000 / factor } : undefined;
    }
    case 'co2':
      return { min: 0, max: 100_000 };
    case 'binary':
      return { min: 0, max: 1 };
    default:
      return undefined;
  }
}

/** Why a value is implausible, or null when it is fine. */
export function implausibility(quantity: string, unit: string, value: number): string | null {
  return implausibilityIn(plausibleRange(quantity, unit), quantity, unit, value);
}

/** implausibility() with the range already looked up (a backlog checks 100,000 values of a few channels). */
export function implausibilityIn(range: Range | undefined, quantity: string, unit: string, value: number): string | null {
  if (!Number.isFinite(value)) return `${quantity} value ${value} is not a finite number`;
  if (range && (value < range.min || value > range.max)) {
    return `${quantity} ${value} ${unit} is outside the physical range ${range.min}..${range.max}`;
  }
  return null;
}
