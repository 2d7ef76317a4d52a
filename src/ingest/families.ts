// What registering a device needs to know about families: the family a model belongs to,
// its model code and the channels known before the first upload. Used by the CLI and the API.
import { randomBytes } from 'node:crypto';
import type { Channel, Family } from '../domain/types.ts';
import { SOAP_MODELS, soapModelByName, type SoapQuantity } from './soap/models.ts';

export { similarSoapModels } from './soap/models.ts';

/** 128 random bits, URL-safe: the per-device secret path segment. */
export function newEntryToken(): string {
  return randomBytes(16).toString('base64url');
}

export const SERIAL_PATTERN = /^\d{1,8}$/;

/** Devices post to /ingest/<segment>/<entry token>; the segment each family's adapter listens on. */
export const INGEST_PATH_SEGMENT: Record<Family, string> = { soap: 'soap', wifi: 'wifi', 'websensor-json': 'json', logger: 'logger' };

export function familyForModel(model: string): Family | undefined {
  const m = model.trim().toUpperCase();
  if (soapModelByName(m)) return 'soap';
  if (/^(TA|PA)\d{4}/.test(m)) return 'websensor-json';
  if (/^W\d{4}/.test(m)) return 'wifi';
  if (/^U\d{4}/.test(m)) return 'logger';
  if (/^[THP]\d{4}/.test(m)) return 'soap';
  return undefined;
}

// Units in their canonical form (domain/units.ts), as stored.
const SOAP_CHANNELS: Record<SoapQuantity, Omit<Channel, 'deviceId'>> = {
  temperature: { channel: 1, quantity: 'temperature', unit: '°C' },
  relative_humidity: { channel: 2, quantity: 'relative_humidity', unit: '%RH' },
  computed: { channel: 3, quantity: 'dew_point', unit: '°C' },
  pressure: { channel: 4, quantity: 'pressure', unit: 'hPa' },
  co2: { channel: 4, quantity: 'co2', unit: 'ppm' },
};

/** Channels known before the first upload; the first upload corrects units and adds the rest. */
export function initialChannels(family: Family, modelCode: number | null): Omit<Channel, 'deviceId'>[] {
  if (family !== 'soap' || modelCode === null) return [];
  const model = SOAP_MODELS.get(modelCode);
  return (model?.quantities ?? []).map((q) => SOAP_CHANNELS[q]);
}

export function soapModelCode(model: string): number | null {
  return soapModelByName(model)?.code ?? null;
}
