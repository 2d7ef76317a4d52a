// Mean kinetic temperature, as USP <1079> ("Good Storage and Shipping Practices") defines it:
//
//   MKT = (ΔH / R) / ( −ln( (Σ e^(−ΔH / (R·Tᵢ))) / n ) )
//
//   ΔH  activation energy, 83.144 kJ/mol by default (USP's value; configurable per report)
//   R   universal gas constant, 8.3144 J/(mol·K)
//   Tᵢ  the i-th temperature sample in kelvin, n the number of samples (taken at equal intervals)
//
// The result is in kelvin; callers convert to the channel's unit. The sum is kept as a running
// log-sum-exp so that neither a cold room (e^(−60)) nor a million samples loses precision.

export const GAS_CONSTANT_J_PER_MOL_K = 8.3144;
export const DEFAULT_ACTIVATION_ENERGY_KJ_PER_MOL = 83.144;
const ZERO_CELSIUS_K = 273.15;

/** Converts a temperature in the given unit (C, °C, F, °F, K) to kelvin; undefined for other units. */
export function toKelvin(value: number, unit: string): number | undefined {
  const u = unit.replace('°', '').trim().toUpperCase();
  if (u === 'C') return value + ZERO_CELSIUS_K;
  if (u === 'F') return (value - 32) * 5 / 9 + ZERO_CELSIUS_K;
  if (u === 'K') return value;
  return undefined;
}

/** The inverse of toKelvin. */
export function fromKelvin(kelvin: number, unit: string): number | undefined {
  const u = unit.replace('°', '').trim().toUpperCase();
  if (u === 'C') return kelvin - ZERO_CELSIUS_K;
  if (u === 'F') return (kelvin - ZERO_CELSIUS_K) * 9 / 5 + 32;
  if (u === 'K') return kelvin;
  return undefined;
}

/** Accumulates samples one at a time (a year at one minute is half a million of them). */
export class MktAccumulator {
  private readonly activationOverR: number;   // ΔH / R, in kelvin
  private maxExponent = Number.NEGATIVE_INFINITY;
  private scaledSum = 0;                       // Σ e^(aᵢ − maxExponent)
  count = 0;

  constructor(activationEnergyKJPerMol: number = DEFAULT_ACTIVATION_ENERGY_KJ_PER_MOL) {
    if (!(activationEnergyKJPerMol > 0)) throw new RangeError(`the activation energy must be positive, got ${activationEnergyKJPerMol} kJ/mol`);
    this.activationOverR = (activationEnergyKJPerMol * 1000) / GAS_CONSTANT_J_PER_MOL_K;
  }

  add(kelvin: number): void {
    if (!(kelvin > 0) || !Number.isFinite(kelvin)) return;
    const exponent = -this.activationOverR / kelvin;
    if (exponent > this.maxExponent) {
      this.scaledSum = this.scaledSum * Math.exp(this.maxExponent - exponent) + 1;
      this.maxExponent = exponent;
    } else {
      this.scaledSum += Math.exp(exponent - this.maxExponent);
    }
    this.count++;
  }

  /** MKT in kelvin, or null without samples. */
  kelvin(): number | null {
    if (this.count === 0) return null;
    const lnMean = this.maxExponent + Math.log(this.scaledSum / this.count);
    return this.activationOverR / -lnMean;
  }
}

/** MKT in kelvin of temperatures in kelvin; null for none. */
export function meanKineticTemperatureK(kelvins: Iterable<number>, activationEnergyKJPerMol = DEFAULT_ACTIVATION_ENERGY_KJ_PER_MOL): number | null {
  const acc = new MktAccumulator(activationEnergyKJPerMol);
  for (const k of kelvins) acc.add(k);
  return acc.kelvin();
}
