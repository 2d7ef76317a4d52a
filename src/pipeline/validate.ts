// Plausibility and identity checks that need no state beyond the registered device.
import type { Device, Upload } from '../domain/types.ts';
import { implausibilityIn, plausibleRange, type Range } from '../domain/quantities.ts';
import { canonicalUnit, unitsOf } from '../domain/units.ts';

/**
 * Replaces each reading's unit text with its canonical form (C, °C and degC are all °C), or refuses
 * the upload when a text is no unit of its quantity: a value is never stored in a unit nobody checked.
 */
export function canonicaliseUnits(upload: Upload): Refusal | null {
  let lastText: string | null = null;
  let lastQuantity: string | null = null;
  let lastCanonical: string | null = null;
  for (const r of upload.readings) {
    // A backlog repeats the same few (quantity, unit) pairs 100,000 times.
    if (r.unit !== lastText || r.quantity !== lastQuantity) {
      lastText = r.unit;
      lastQuantity = r.quantity;
      lastCanonical = canonicalUnit(r.quantity, r.unit);
    }
    if (lastCanonical === null) {
      return { status: 422, reason: `channel ${r.channel}: "${r.unit.slice(0, 20)}" is not a unit Inlet knows for ${r.quantity} (expected ${unitsOf(r.quantity).join(', ')}); nothing was stored` };
    }
    r.unit = lastCanonical;
  }
  return null;
}

/**
 * Channels of the upload that measure their registered quantity in another unit: earlier values
 * would read in the new unit. A different quantity (a relabelled logger channel, a Web Sensor's
 * computed quantity switched) is recorded as a channel change by the writer instead (channel.recorded).
 */
export function unitChanges(registered: Map<number, { quantity: string; unit: string }>, upload: Upload): { channel: number; from: string; to: string }[] {
  // The usual upload changes nothing: found without building anything.
  let any = false;
  for (const r of upload.readings) {
    const known = registered.get(r.channel);
    if (known && known.quantity === r.quantity && known.unit !== r.unit) { any = true; break; }
  }
  if (!any) return [];
  const changes = new Map<number, { channel: number; from: string; to: string }>();
  for (const r of upload.readings) {
    const known = registered.get(r.channel);
    if (known && known.quantity === r.quantity && known.unit !== r.unit && !changes.has(r.channel)) {
      changes.set(r.channel, { channel: r.channel, from: `${known.quantity} in ${known.unit || '(no unit)'}`, to: `${r.quantity} in ${r.unit || '(no unit)'}` });
    }
  }
  return [...changes.values()];
}

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

/**
 * Plausible ranges by quantity and canonical unit, looked up once per pair for the gateway's life
 * (units are canonical by now, so the pairs are few); bounded in case a family passes free text.
 */
const knownRanges = new Map<string, Map<string, Range | undefined>>();
let knownRangeCount = 0;
const MAX_KNOWN_RANGES = 512;

function rangeOf(quantity: string, unit: string): Range | undefined {
  const byUnit = knownRanges.get(quantity);
  if (byUnit?.has(unit)) return byUnit.get(unit);
  const range = plausibleRange(quantity, unit);
  if (knownRangeCount < MAX_KNOWN_RANGES) {
    if (byUnit) byUnit.set(unit, range); else knownRanges.set(quantity, new Map([[unit, range]]));
    knownRangeCount++;
  }
  return range;
}

export function checkReadings(upload: Upload): Refusal | null {
  if (upload.readings.length === 0 && upload.kind !== 'test') return { status: 422, reason: 'message holds no readings' };
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
