// Plausibility and identity checks that need no state beyond the registered device.
import type { Device, Upload } from '../domain/types.ts';
import { implausibilityIn, plausibleRange, type Range } from '../domain/quantities.ts';

export interface Refusal { status: number; reason: string }

/** A sample more than this far ahead of the server clock means a wrong device clock or a forged message. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

export function checkIdentity(device: Device, upload: Upload): Refusal | null {
  if (device.family !== upload.family) {
    return { status: 403, reason: `entry point belongs to a ${device.family} device, but a ${upload.family} message was posted` };
  }
  if (device.serial !== upload.serial) {
    return { status: 403, reason: `entry point belongs to serial ${device.serial}, but the message says serial ${upload.serial}` };
  }
  if (device.modelCode !== null && upload.modelCode !== null && device.modelCode !== upload.modelCode) {
    return { status: 403, reason: `serial ${upload.serial} is registered as model code ${device.modelCode} (${device.model}), but the message says model code ${upload.modelCode}` };
  }
  if (device.customerUid !== null && upload.customerUid !== device.customerUid) {
    return { status: 403, reason: 'customer UID does not match the one registered for this device' };
  }
  return null;
}

export function checkReadings(upload: Upload): Refusal | null {
  if (upload.readings.length === 0 && upload.kind !== 'test') return { status: 422, reason: 'message holds no readings' };
  // The few (quantity, unit) pairs of an upload, each looked up once.
  const ranges: { quantity: string; unit: string; range: Range | undefined }[] = [];
  const rangeOf = (quantity: string, unit: string): Range | undefined => {
    for (const known of ranges) if (known.quantity === quantity && known.unit === unit) return known.range;
    const range = plausibleRange(quantity, unit);
    if (ranges.length < 16) ranges.push({ quantity, unit, range });
    return range;
  };
  for (const r of upload.readings) {
    if (r.value !== null) {
      const why = implausibilityIn(rangeOf(r.quantity, r.unit), r.quantity, r.unit, r.value);
      if (why) return { status: 422, reason: `channel ${r.channel}: ${why}` };
    }
    const t = r.sampleTime ?? upload.receivedAt;
    if (!Number.isFinite(t)) return { status: 422, reason: `channel ${r.channel}: sample time is not a valid time` };
    if (t > upload.receivedAt + MAX_FUTURE_SKEW_MS) {
      return { status: 422, reason: `channel ${r.channel}: sample time ${new Date(t).toISOString()} is in the future (server time ${new Date(upload.receivedAt).toISOString()})` };
    }
    if (upload.deviceNow !== null && t > upload.deviceNow + 1000) {
      return { status: 422, reason: `channel ${r.channel}: sample time ${new Date(t).toISOString()} is after the device's own send time ${new Date(upload.deviceNow).toISOString()}` };
    }
  }
  return null;
}
