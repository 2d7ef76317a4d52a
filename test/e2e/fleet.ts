// A mixed fleet of simulated devices (SOAP Web Sensors, WiFi sensors, TAx6xx Web Sensors, GSM
// loggers) for crash tests and load benchmarks. Every message of a device carries a tag: a
// sequence number k stored as the value of one channel, so that what a device was told is stored
// can be compared, value by value, with what the store holds.
import type { Family } from '../../src/domain/types.ts';
import type { IssuedDevice, Store } from '../../src/store/store.ts';
import { initialChannels, newEntryToken, soapModelCode } from '../../src/ingest/families.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { buildWifiBody } from '../../src/sim/wifi.ts';
import { buildWebsensorBody } from '../../src/sim/websensor-json.ts';
import { buildLoggerBody } from '../../src/sim/logger.ts';

export const FLEET_FAMILIES: readonly Family[] = ['soap', 'wifi', 'websensor-json', 'logger'];

const PATH_SEGMENT: Record<Family, string> = { soap: 'soap', wifi: 'wifi', 'websensor-json': 'json', logger: 'logger' };
const MODEL: Record<Family, string> = { soap: 'T3510', wifi: 'W3710', 'websensor-json': 'TA3610', logger: 'U0110G' };
/** SOAP carries the tag in compQuant as "absolute humidity" (channel 3), a quantity without a plausible range. */
const TAG_CHANNEL: Record<Family, number> = { soap: 3, wifi: 1, 'websensor-json': 1, logger: 1 };
/** JSON families send sample times with whole seconds: message k of a device is sampled at SAMPLE_BASE + k s. */
const SAMPLE_BASE_MS = Date.UTC(2026, 0, 1);

export interface FleetDevice {
  family: Family;
  serial: string;
  device: IssuedDevice;
  /** Channel whose value is the message's sequence number. */
  tagChannel: number;
  /**
   * Devices with a cache (the JSON families) resend a message until it is acknowledged; SOAP Web
   * Sensors never resend (shared/protocols §1.7).
   */
  resendsUntilAcknowledged: boolean;
}

export interface FleetMessage { body: Buffer; contentType: string }

/** Registers `perFamily` devices of every family; serials start at serialBase. */
export async function registerFleet(store: Store, perFamily: number, serialBase: number, families = FLEET_FAMILIES): Promise<FleetDevice[]> {
  const fleet: FleetDevice[] = [];
  let serialNumber = serialBase;
  for (const family of families) {
    for (let i = 0; i < perFamily; i++) {
      const serial = String(serialNumber++).padStart(8, '0');
      const model = MODEL[family];
      const modelCode = family === 'soap' ? soapModelCode(model) : null;
      const device = await store.addDevice({
        family, serial, modelCode, model, name: `Fleet ${model} ${serial}`, entryToken: newEntryToken(),
        channels: initialChannels(family, modelCode),
      }, Date.now());
      fleet.push({ family, serial, device, tagChannel: TAG_CHANNEL[family], resendsUntilAcknowledged: family !== 'soap' });
    }
  }
  return fleet;
}

export function fleetUrl(base: string, d: FleetDevice): string {
  return `${base}/ingest/${PATH_SEGMENT[d.family]}/${d.device.entryToken}`;
}

/** The sample time a JSON-family device states for its message k. */
export function fleetSampleTime(k: number): number {
  return SAMPLE_BASE_MS + k * 1000;
}

/**
 * The value message k stores on the tag channel. SOAP gets k + 0.5: a whole 9999 or -9999 would be
 * read as the device's error sentinel. Float32 (the JSON families' encoding) holds k exactly up to 2^24.
 */
export function fleetTag(d: FleetDevice, k: number): number {
  return d.family === 'soap' ? k + 0.5 : k;
}

/** Message number k of a device, in its family's wire format; its tag channel holds fleetTag(k). */
export function fleetMessage(d: FleetDevice, k: number): FleetMessage {
  const sampleTime = fleetSampleTime(k);
  const counter = { nr: 1, label: 'Counter', value: k, unit: '', dec: 0 };
  switch (d.family) {
    case 'soap':
      return {
        body: Buffer.from(buildSoapMessage({ serial: d.serial, modelCode: d.device.modelCode!, temp: 21.5, relHum: 45, compQuant: fleetTag(d, k), compType: 'Absolute humidity' })),
        contentType: 'text/xml; charset=utf-8',
      };
    case 'wifi':
      return { body: buildWifiBody({ serial: d.serial, model: 3, orderId: k, msgType: 'periodic', interval: 10, sampleTime, channels: [counter] }), contentType: 'application/json' };
    case 'websensor-json':
      return { body: buildWebsensorBody({ serial: d.serial, model: 1, orderId: k, msgType: 'periodic', interval: 10, sampleTime, channels: [counter] }), contentType: 'application/json' };
    case 'logger':
      return {
        body: buildLoggerBody({ serial: Number(d.serial), model: 1, orderId: k % 256, sampleTime, channels: [counter] }),
        contentType: 'application/json',
      };
  }
}

/** Whether the answer tells the device its message is safely kept (each family's own acknowledgement). */
export function isAcknowledged(d: FleetDevice, status: number, body: string): boolean {
  if (status !== 200) return false;
  return d.family === 'wifi' || d.family === 'websensor-json' ? /"Result":true/.test(body) : true;
}

export interface FleetAudit { acknowledged: number; stored: number; lost: number[]; duplicated: number[]; quarantined: number }

/**
 * Compares the message numbers a device saw acknowledged with what the store holds on its tag
 * channel, its quarantine included: every acknowledged one must be there, and no tag twice.
 */
export async function auditDevice(store: Store, d: FleetDevice, acknowledged: Iterable<number>): Promise<FleetAudit> {
  const samples = await store.samples(d.device.id, d.tagChannel, 0, Number.MAX_SAFE_INTEGER, 10_000_000);
  const quarantinedValues = (await store.quarantined(d.device.id))
    .flatMap((q) => q.readings.filter((r) => r.channel === d.tagChannel).map((r) => r.value));
  const counts = new Map<number, number>();
  for (const v of [...samples.map((s) => s.value), ...quarantinedValues]) {
    if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const acked = [...acknowledged];
  return {
    acknowledged: acked.length,
    stored: samples.length,
    lost: acked.filter((k) => !counts.has(fleetTag(d, k))),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([tag]) => tag),
    quarantined: quarantinedValues.length,
  };
}
