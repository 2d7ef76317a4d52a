// Registering devices and telling them where to post: shared by the CLI and the viewer's API,
// so both create the same rows, the same event and the same entry point URL.
import os from 'node:os';
import type { InletConfig } from '../config/schema.ts';
import type { Device, Family, LoggerClockSetting } from '../domain/types.ts';
import { FAMILIES } from '../domain/types.ts';
import type { ChangeAudit, IssuedDevice, Store } from '../store/store.ts';

export type { IssuedDevice };
import { ZoneError, ensureZonePath, zoneTree } from './zones.ts';
import { INGEST_PATH_SEGMENT, SERIAL_PATTERN, familyForModel, initialChannels, newEntryToken, similarSoapModels, soapModelCode } from '../ingest/families.ts';

/** The base URL devices should use: the configured public URL, else this machine's first LAN address. */
export function publicBaseUrl(config: InletConfig): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const lan = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
  const host = config.http.host !== '0.0.0.0' && config.http.host !== '::' ? config.http.host : lan?.address ?? '127.0.0.1';
  return `http://${host}${config.http.port === 80 ? '' : `:${config.http.port}`}`;
}

export function entryUrl(config: InletConfig, device: Pick<IssuedDevice, 'family' | 'entryToken'>): string {
  return `${publicBaseUrl(config)}/ingest/${INGEST_PATH_SEGMENT[device.family]}/${device.entryToken}`;
}

/**
 * Gives the device a new entry token (the old one stops working at once) and records who did it;
 * the result is the one moment the new token can be shown. The token itself is never in the event.
 */
export async function renewEntryToken(store: Store, device: Device, by: string, at: number, audit: ChangeAudit = {}): Promise<IssuedDevice> {
  const entryToken = newEntryToken();
  const updated = await store.updateDevice(device.id, { entryToken }, at);
  await store.addEvent({
    at, deviceId: device.id, type: 'device.token', level: 'warning', actor: by, source: audit.source ?? null,
    message: `${device.name}: entry point replaced by ${by}; the old one no longer works${audit.reason ? `. Reason: ${audit.reason}` : ''}`,
    data: { entryToken: 'replaced', reason: audit.reason ?? null },
  });
  return { ...updated, entryToken };
}

/** A registration the caller got wrong; the message says what to change. */
export class RegistrationError extends Error {
  readonly conflict: boolean;
  constructor(message: string, conflict = false) {
    super(message);
    this.conflict = conflict;
  }
}

const CLOCK_WORDS: Record<LoggerClockSetting, string> = {
  auto: 'decided per upload from its send time', utc: 'UTC', local: 'local time (its Timezone is the offset)',
};

/** The event of a change of a logger's clock reading: who, old -> new, and why; the same from the CLI and the API. */
export function loggerClockChange(device: Device, to: LoggerClockSetting, by: string, reason: string | null): { type: string; level: 'info'; message: string; data: Record<string, unknown> } {
  const from = device.loggerClock ?? 'auto';
  return {
    type: 'device.clock-setting', level: 'info',
    message: `${device.name} (serial ${device.serial}): logger clock reading changed from ${from} to ${to} (${CLOCK_WORDS[to]}) by ${by}${reason ? `: ${reason}` : ''}`,
    data: { from, to, by, reason },
  };
}

export interface Registration {
  serial: string;
  model: string;
  name: string;
  /** A zone path ("Hospital/Pharmacy"); missing levels are created. Ignored when zoneId is given. */
  location?: string;
  /** The zone to place the device in. */
  zoneId?: number | null;
  family?: Family;
  allowedIntervalS?: number | null;
  customerUid?: string | null;
}

function didYouMean(model: string): string {
  const similar = similarSoapModels(model);
  return similar.length ? ` (did you mean ${similar.join(' or ')}?)` : '';
}

/** Creates the device with its channels and secret entry token, and records who did it. */
export async function registerDevice(store: Store, input: Registration, by: string, at: number, audit: ChangeAudit = {}): Promise<IssuedDevice> {
  if (!SERIAL_PATTERN.test(input.serial)) throw new RegistrationError(`the serial must be the device's serial number (up to 8 digits), got "${input.serial}"`);
  const model = input.model.trim().toUpperCase();
  const family = input.family ?? familyForModel(model);
  if (!family || !FAMILIES.includes(family)) {
    throw new RegistrationError(`cannot tell the device family of model "${model}"${didYouMean(model)}: choose one of ${FAMILIES.join(', ')}`);
  }
  const modelCode = family === 'soap' ? soapModelCode(model) : null;
  // A Web Sensor model not in our table is most often a typing slip on the label's name. A model
  // newer than our table is still accepted when the family is given: its uploads are stored and
  // flagged, its model code is not checked, and its channels come from its first upload.
  if (family === 'soap' && modelCode === null && input.family === undefined) {
    throw new RegistrationError(`"${model}" is not a Web Sensor model Inlet knows${didYouMean(model)}; ` +
      'check the name on the label, or choose the family soap explicitly (--family soap, or Family in the viewer) to register a model newer than Inlet\'s table');
  }
  let zoneId = input.zoneId ?? null;
  if (zoneId === null && input.location?.trim()) {
    try {
      zoneId = (await ensureZonePath(store, input.location, { by, at })).id;
    } catch (err) {
      if (err instanceof ZoneError) throw new RegistrationError(err.message);
      throw err;
    }
  }
  const location = zoneId === null ? '' : (await zoneTree(store)).path(zoneId);
  if (zoneId !== null && !location) throw new RegistrationError(`no zone with id ${zoneId}`);
  let device: IssuedDevice;
  try {
    device = await store.addDevice({
      family, serial: input.serial, modelCode, model, name: input.name, location, zoneId, entryToken: newEntryToken(),
      allowedIntervalS: input.allowedIntervalS ?? null, customerUid: input.customerUid ?? null, channels: initialChannels(family, modelCode),
    }, at);
  } catch (err) {
    if ((err as Error).message.includes('already registered')) throw new RegistrationError((err as Error).message, true);
    throw err;
  }
  await store.addEvent({
    at, deviceId: device.id, type: 'device.added', level: 'info', actor: by, source: audit.source ?? null,
    message: `device ${device.name} (${model}, serial ${device.serial}, ${family}) registered in "${device.location}" (by ${by})${audit.reason ? `. Reason: ${audit.reason}` : ''}`,
    data: {
      new: { name: device.name, location: device.location, family, model, serial: device.serial, allowedIntervalS: device.allowedIntervalS },
      reason: audit.reason ?? null,
    },
  });
  return device;
}
