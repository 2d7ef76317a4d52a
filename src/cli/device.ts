// `inlet device ...`: register devices and manage them. Works on the configured store directly,
// also while the gateway runs (it picks up changes within seconds).
import os from 'node:os';
import type { InletConfig } from '../config/schema.ts';
import type { Device, Family } from '../domain/types.ts';
import { FAMILIES } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { INGEST_PATH_SEGMENT, SERIAL_PATTERN, familyForModel, initialChannels, newEntryToken, soapModelCode } from '../ingest/families.ts';
import { UsageError, intOption, parse, required } from './args.ts';

/** The base URL devices should use: the configured public URL, else this machine's first LAN address. */
export function publicBaseUrl(config: InletConfig): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const lan = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
  const host = config.http.host !== '0.0.0.0' && config.http.host !== '::' ? config.http.host : lan?.address ?? '127.0.0.1';
  return `http://${host}${config.http.port === 80 ? '' : `:${config.http.port}`}`;
}

export function entryUrl(config: InletConfig, device: Pick<Device, 'family' | 'entryToken'>): string {
  return `${publicBaseUrl(config)}/ingest/${INGEST_PATH_SEGMENT[device.family]}/${device.entryToken}`;
}

function describeDevice(d: Device): string {
  const state = d.state === 'suspended' ? `SUSPENDED since ${new Date(d.suspendedAt ?? 0).toISOString()}: ${d.suspendedReason}` : 'active';
  const seen = d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : 'never';
  const interval = d.allowedIntervalS !== null ? `${d.allowedIntervalS} s (set by administrator)`
    : d.declaredIntervalS !== null ? `${d.declaredIntervalS} s (declared by device)` : 'model default';
  return `${d.serial}  ${d.model.padEnd(8)} ${d.family.padEnd(15)} ${d.name}  [${state}; last seen ${seen}; interval ${interval}]`;
}

async function findBySerial(store: Store, serial: string, family?: string): Promise<Device> {
  const matches = (await store.listDevices()).filter((d) => d.serial === serial && (!family || d.family === family));
  if (matches.length === 0) throw new UsageError(`no device with serial ${serial}${family ? ` in family ${family}` : ''}; see 'inlet device list'`);
  if (matches.length > 1) throw new UsageError(`serial ${serial} is registered in several families (${matches.map((d) => d.family).join(', ')}): add --family`);
  return matches[0];
}

const USAGE = `usage:
  inlet device add --serial <serial> --model <model> --name <name> [--location <text>] [--family ${FAMILIES.join('|')}] [--interval <s>] [--customer-uid <uid>]
  inlet device list
  inlet device show --serial <serial>
  inlet device suspend --serial <serial> --reason <text>
  inlet device resume --serial <serial> [--import]
  inlet device set-interval --serial <serial> --seconds <s>     (0 = use the interval the device declares)
  inlet device new-token --serial <serial>                       (issue a new entry point; the old one stops working)`;

export async function deviceCommand(argv: string[], config: InletConfig, store: Store, out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  const now = Date.now();
  switch (sub) {
    case 'add': {
      const { values } = parse(rest, {
        serial: { type: 'string' }, model: { type: 'string' }, name: { type: 'string' }, location: { type: 'string' },
        family: { type: 'string' }, interval: { type: 'string' }, 'customer-uid': { type: 'string' },
      });
      const serial = required(values, 'serial');
      if (!SERIAL_PATTERN.test(serial)) throw new UsageError(`--serial must be the device's serial number (up to 8 digits), got "${serial}"`);
      const model = required(values, 'model').toUpperCase();
      const family = (values.family ?? familyForModel(model)) as Family | undefined;
      if (!family || !FAMILIES.includes(family)) {
        throw new UsageError(`cannot tell the device family of model "${model}": add --family ${FAMILIES.join('|')}`);
      }
      const modelCode = family === 'soap' ? soapModelCode(model) : null;
      const interval = intOption(values, 'interval', 0);
      const device = await store.addDevice({
        family, serial, modelCode, model, name: required(values, 'name'), location: values.location as string | undefined,
        entryToken: newEntryToken(), allowedIntervalS: interval > 0 ? interval : null,
        customerUid: (values['customer-uid'] as string | undefined) ?? null, channels: initialChannels(family, modelCode),
      }, now);
      await store.addEvent({ at: now, deviceId: device.id, type: 'device.added', level: 'info', message: `device ${device.name} (${model}, serial ${serial}) registered from the command line` });
      out(`Registered ${device.name} (${model}, serial ${serial}, ${family}).`);
      out(family === 'soap' ? 'Type this URL into the sensor\'s SOAP server settings (keep it secret; it is the device\'s key):'
        : 'Set this URL as the device\'s server address (keep it secret; it is the device\'s key):');
      out(`  ${entryUrl(config, device)}`);
      return 0;
    }
    case 'list': {
      const devices = await store.listDevices();
      if (!devices.length) out('no devices registered; add one with: inlet device add --serial <serial> --model <model> --name <name>');
      for (const d of devices) out(describeDevice(d));
      return 0;
    }
    case 'show': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' } });
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      out(describeDevice(d));
      out(`entry point: ${entryUrl(config, d)}`);
      const q = await store.quarantined(d.id);
      if (q.length) out(`quarantined uploads waiting for release: ${q.length}`);
      return 0;
    }
    case 'suspend': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, reason: { type: 'string' } });
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const reason = required(values, 'reason');
      await store.updateDevice(d.id, { state: 'suspended', suspendedReason: `suspended by administrator: ${reason}` }, now);
      await store.addEvent({ at: now, deviceId: d.id, type: 'device.suspended', level: 'warning', message: `${d.name} suspended by an administrator: ${reason}` });
      out(`${d.name} (serial ${d.serial}) suspended; its uploads are kept aside until it is resumed.`);
      return 0;
    }
    case 'resume': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, import: { type: 'boolean' } });
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const importData = values.import === true;
      const waiting = (await store.quarantined(d.id)).length;
      out(`${waiting} quarantined upload(s) for ${d.name}; ${importData ? 'importing them' : 'releasing them without importing (they stay archived)'}...`);
      const released = await store.releaseQuarantine(d.id, importData, now);
      await store.updateDevice(d.id, { state: 'active' }, now);
      await store.addEvent({
        at: now, deviceId: d.id, type: 'device.resumed', level: 'info',
        message: `${d.name} resumed by an administrator; ${released.uploads} quarantined upload(s) ${importData ? `imported (${released.samplesImported} samples)` : 'released without import'}`,
      });
      out(`${d.name} (serial ${d.serial}) resumed. ${importData ? `Imported ${released.samplesImported} samples from ${released.uploads} uploads.` : `${released.uploads} quarantined uploads left out of the data.`}`);
      return 0;
    }
    case 'set-interval': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, seconds: { type: 'string' } });
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const seconds = intOption(values, 'seconds', -1);
      if (!Number.isInteger(seconds) || seconds < 0) throw new UsageError('--seconds must be a whole number of seconds (0 = the device\'s declared interval)');
      await store.updateDevice(d.id, { allowedIntervalS: seconds === 0 ? null : seconds }, now);
      out(`${d.name}: allowed interval ${seconds === 0 ? 'now follows what the device declares' : `set to ${seconds} s`}.`);
      return 0;
    }
    case 'new-token': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' } });
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const updated = await store.updateDevice(d.id, { entryToken: newEntryToken() }, now);
      await store.addEvent({ at: now, deviceId: d.id, type: 'device.token', level: 'warning', message: `${d.name}: entry point replaced; the old one no longer works` });
      out(`New entry point for ${d.name} (the old one stops working within seconds):`);
      out(`  ${entryUrl(config, updated)}`);
      return 0;
    }
    default:
      out(USAGE);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}
