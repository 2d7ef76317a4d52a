// COMET JSON families send measured values as IEEE-754 float32, big-endian, written as 8 hex digits
// (`41A26666` = 20.3). Loggers write lower case, Web Sensors upper case, so both are accepted.

const HEX8 = /^[0-9A-Fa-f]{8}$/;

/** `FF8100NN`: the device reports error number NN instead of a value (spec §3.2, §5.2). */
const ERROR_PREFIX = 0xff8100;

/** One scratch word for the bit reinterpretation: a logger backlog decodes 300,000 values in one upload. */
const scratch = new DataView(new ArrayBuffer(4));

export type HexFloatResult =
  | { ok: true; value: number; errorCode: null }
  | { ok: true; value: null; errorCode: number }
  | { ok: false; reason: string };

export function decodeHexFloat32(hex: string): HexFloatResult {
  if (!HEX8.test(hex)) return { ok: false, reason: `"${hex}" is not 8 hex digits` };
  const bits = Number.parseInt(hex, 16);
  // The error form is itself a NaN bit pattern, so it must be recognised before the NaN check.
  if (bits >>> 8 === ERROR_PREFIX) return { ok: true, value: null, errorCode: bits & 0xff };
  scratch.setUint32(0, bits);
  const value = scratch.getFloat32(0);
  if (!Number.isFinite(value)) {
    return { ok: false, reason: `"${hex}" is ${Number.isNaN(value) ? 'NaN' : 'Infinity'}, not a measurement` };
  }
  return { ok: true, value: shortestFloat32Decimal(value), errorCode: null };
}

/**
 * The shortest decimal that is the same float32, so `41A26666` reads as 20.3 rather than
 * 20.299999237060547 (the device meant 20.3; float32 cannot hold it exactly).
 */
function shortestFloat32Decimal(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** The device's own encoding of a value (for the simulator); `errorCode` gives the `FF8100NN` form. */
export function encodeHexFloat32(value: number | { errorCode: number }, letterCase: 'upper' | 'lower' = 'upper'): string {
  let bits: number;
  if (typeof value === 'number') {
    scratch.setFloat32(0, value);
    bits = scratch.getUint32(0);
  } else {
    bits = ((ERROR_PREFIX << 8) | (value.errorCode & 0xff)) >>> 0;
  }
  const hex = bits.toString(16).padStart(8, '0');
  return letterCase === 'upper' ? hex.toUpperCase() : hex;
}
