// `inlet device ...`: register devices and manage them. Works on the configured store directly,
// also while the gateway runs (it picks up changes within seconds).
import type { InletConfig } from '../config/schema.ts';
import type { Device, Family } from '../domain/types.ts';
import { FAMILIES } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { INGEST_PATH_SEGMENT } from '../ingest/families.ts';
import { RegistrationError, entryUrl, loggerClockChange, publicBaseUrl, registerDevice, renewEntryToken, type IssuedDevice } from '../admin/devices.ts';
import { LOGGER_CLOCK_SETTINGS, type LoggerClockSetting } from '../domain/types.ts';
import { UsageError, intOption, parse, required, requiredReason } from './args.ts';
import { cliActor, cliSource } from './actor.ts';

const reasonOf = (values: Record<string, unknown>) => (typeof values.reason === 'string' ? values.reason : null);
const because = (reason: string | null) => (reason ? `. Reason: ${reason}` : '');
import { parseCsv } from './csv.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';

function stateText(d: Device): string {
  return d.state === 'suspended' ? `SUSPENDED since ${new Date(d.suspendedAt ?? 0).toISOString()}: ${d.suspendedReason}` : 'active';
}

function intervalText(d: Device): string {
  return d.allowedIntervalS !== null ? `${d.allowedIntervalS} s (set by administrator)`
    : d.declaredIntervalS !== null ? `${d.declaredIntervalS} s (declared by device)` : 'model default';
}

function describeDevice(d: Device): string {
  const seen = d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : 'never';
  return `${d.serial}  ${d.model} ${d.family} ${d.name}  [${stateText(d)}; last seen ${seen}; interval ${intervalText(d)}]`;
}

/**
 * The device list as a table: a header and columns padded to their widest cell, whatever the
 * lengths of names and models (a long model name used to push its row's columns out of line).
 */
export function deviceTable(devices: readonly Device[]): string[] {
  const header = ['SERIAL', 'MODEL', 'FAMILY', 'NAME', 'LOCATION', 'STATE', 'LAST SEEN', 'INTERVAL'];
  const rows = devices.map((d) => [d.serial, d.model, d.family, d.name, d.location, stateText(d),
    d.lastSeenAt ? new Date(d.lastSeenAt).toISOString().replace(/\.\d{3}Z$/, 'Z') : 'never', intervalText(d)]);
  const widths = header.map((h, column) => Math.max(h.length, ...rows.map((r) => [...r[column]].length)));
  const line = (cells: string[]) => cells.map((c, column) => (column === cells.length - 1 ? c : c + ' '.repeat(widths[column] - [...c].length))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

async function findBySerial(store: Store, serial: string, family?: string): Promise<Device> {
  const matches = (await store.listDevices()).filter((d) => d.serial === serial && (!family || d.family === family));
  if (matches.length === 0) throw new UsageError(`no device with serial ${serial}${family ? ` in family ${family}` : ''}; see 'inlet device list'`);
  if (matches.length > 1) throw new UsageError(`serial ${serial} is registered in several families (${matches.map((d) => d.family).join(', ')}): add --family`);
  return matches[0];
}

const CSV_COLUMNS = ['serial', 'model', 'name', 'location', 'family', 'interval', 'customer-uid'] as const;

/**
 * Registers every device of a CSV file in one process (one start, one database connection), so
 * that a hundred devices take seconds. A line that cannot be registered is reported with its line
 * number and does not stop the others; the exit code is then 1.
 */
async function addFromFile(file: string, config: InletConfig, store: Store, out: (line: string) => void, now: number): Promise<number> {
  let rows;
  try {
    rows = parseCsv(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const [header, ...devices] = rows;
  const columns = (header?.cells ?? []).map((c) => c.toLowerCase());
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  const missing = ['serial', 'model', 'name'].filter((c) => !columns.includes(c));
  if (unknown.length || missing.length) {
    throw new UsageError(`${file}: the first line must name the columns (${CSV_COLUMNS.join(', ')}); ` +
      [missing.length ? `missing ${missing.join(', ')}` : '', unknown.length ? `unknown ${unknown.join(', ')}` : ''].filter(Boolean).join('; '));
  }
  let failed = 0;
  for (const row of devices) {
    const cell = (name: string) => { const i = columns.indexOf(name); return i >= 0 && row.cells[i] ? row.cells[i] : undefined; };
    try {
      const interval = Number(cell('interval') ?? 0);
      if (!Number.isInteger(interval) || interval < 0) throw new RegistrationError(`interval must be whole seconds, got "${cell('interval')}"`);
      const device = await registerDevice(store, {
        serial: cell('serial') ?? '', model: cell('model') ?? '', name: cell('name') ?? '', location: cell('location'),
        family: cell('family') as Family | undefined, allowedIntervalS: interval > 0 ? interval : null, customerUid: cell('customer-uid') ?? null,
      }, `${cliActor()} from ${path.basename(file)}`, now, { source: cliSource() });
      out(`${device.serial}  ${device.name}: ${entryUrl(config, device)}`);
    } catch (err) {
      if (!(err instanceof RegistrationError)) throw err;
      failed++;
      out(`line ${row.line}: not registered: ${err.message}`);
    }
  }
  out(`${devices.length - failed} of ${devices.length} device(s) registered from ${file}${failed ? `; ${failed} line(s) need correcting` : ''}.`);
  out('Each URL is that device\'s key: keep them secret. They are shown only now: Inlet keeps only a hash of each.');
  return failed ? 1 : 0;
}

const USAGE = `usage:
  inlet device add --serial <serial> --model <model> --name <name> [--location <text>] [--family ${FAMILIES.join('|')}] [--interval <s>] [--customer-uid <uid>] [--reason <text>]
  inlet device add --from <file.csv>    (many at once: a header line naming the columns serial, model, name
                                         and optionally location, family, interval, customer-uid; one device a line)
  inlet device list
  inlet device show --serial <serial>
  inlet device suspend --serial <serial> --reason <text>
  inlet device resume --serial <serial> [--import] --reason <text>
  inlet device set-interval --serial <serial> --seconds <s> --reason <text>   (0 = use the interval the device declares)
  inlet device new-token --serial <serial> --reason <text>                     (issue a new entry point; the old one stops working)
  inlet device set-clock --serial <serial> --clock auto|utc|local --reason <text>
                                    (GSM/LTE loggers: read the device clock as UTC or as local time with its Timezone;
                                     auto = decide per upload from its send time)
Every change is recorded in the audit trail with your operating-system account and --reason.`;

export async function deviceCommand(argv: string[], config: InletConfig, store: Store, out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  const now = Date.now();
  switch (sub) {
    case 'add': {
      const { values } = parse(rest, {
        serial: { type: 'string' }, model: { type: 'string' }, name: { type: 'string' }, location: { type: 'string' },
        family: { type: 'string' }, interval: { type: 'string' }, 'customer-uid': { type: 'string' }, from: { type: 'string' }, reason: { type: 'string' },
      });
      if (values.from !== undefined) return addFromFile(values.from, config, store, out, now);
      const interval = intOption(values, 'interval', 0);
      let device: IssuedDevice;
      try {
        device = await registerDevice(store, {
          serial: required(values, 'serial'), model: required(values, 'model'), name: required(values, 'name'),
          location: values.location as string | undefined, family: values.family as Family | undefined,
          allowedIntervalS: interval > 0 ? interval : null, customerUid: (values['customer-uid'] as string | undefined) ?? null,
        }, cliActor(), now, { source: cliSource(), reason: reasonOf(values) });
      } catch (err) {
        throw err instanceof RegistrationError ? new UsageError(err.message) : err;
      }
      const { family, model, serial } = device;
      out(`Registered ${device.name} (${model}, serial ${serial}, ${family}).`);
      out(family === 'soap' ? 'Type this URL into the sensor\'s SOAP server settings (keep it secret; it is the device\'s key):'
        : 'Set this URL as the device\'s server address (keep it secret; it is the device\'s key):');
      out(`  ${entryUrl(config, device)}`);
      out('It is shown only now: Inlet keeps only a hash of it (inlet device new-token issues a new one).');
      return 0;
    }
    case 'list': {
      const devices = await store.listDevices();
      if (!devices.length) out('no devices registered; add one with: inlet device add --serial <serial> --model <model> --name <name>');
      else for (const row of deviceTable(devices)) out(row);
      return 0;
    }
    case 'show': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' } });
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      out(describeDevice(d));
      if (d.family === 'logger') out(`logger clock read as: ${d.loggerClock ?? 'auto'} (change with inlet device set-clock)`);
      // Only the token's hash is stored: the URL was shown when it was made and cannot be shown again.
      out(`entry point: ${publicBaseUrl(config)}/ingest/${INGEST_PATH_SEGMENT[d.family]}/<secret, shown once when made; inlet device new-token to issue a new one>`);
      const q = await store.quarantined(d.id);
      if (q.length) out(`quarantined uploads waiting for release: ${q.length}`);
      return 0;
    }
    case 'suspend': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, reason: { type: 'string' } });
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const reason = required(values, 'reason');
      await store.updateDevice(d.id, { state: 'suspended', suspendedReason: `suspended by administrator: ${reason}` }, now);
      await store.addEvent({
        at: now, deviceId: d.id, type: 'device.suspended', level: 'warning', actor: cliActor(), source: cliSource(),
        message: `${d.name} suspended by ${cliActor()}: ${reason}`, data: { old: { state: d.state }, new: { state: 'suspended' }, reason },
      });
      out(`${d.name} (serial ${d.serial}) suspended; its uploads are kept aside until it is resumed.`);
      return 0;
    }
    case 'resume': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, import: { type: 'boolean' }, reason: { type: 'string' } });
      requiredReason(values);
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const importData = values.import === true;
      const waiting = (await store.quarantined(d.id)).length;
      out(`${waiting} quarantined upload(s) for ${d.name}; ${importData ? 'importing them' : 'releasing them without importing (they stay archived)'}...`);
      const released = await store.releaseQuarantine(d.id, importData, now);
      await store.updateDevice(d.id, { state: 'active' }, now);
      await store.addEvent({
        at: now, deviceId: d.id, type: 'device.resumed', level: 'info', actor: cliActor(), source: cliSource(),
        message: `${d.name} resumed by ${cliActor()}; ${released.uploads} quarantined upload(s) ${importData ? `imported (${released.samplesImported} samples)` : 'released without import'}${because(reasonOf(values))}`,
        data: { old: { state: d.state }, new: { state: 'active' }, released, importData, reason: reasonOf(values) },
      });
      out(`${d.name} (serial ${d.serial}) resumed. ${importData ? `Imported ${released.samplesImported} samples from ${released.uploads} uploads.` : `${released.uploads} quarantined uploads left out of the data.`}`);
      return 0;
    }
    case 'set-interval': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, seconds: { type: 'string' }, reason: { type: 'string' } });
      requiredReason(values);
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const seconds = intOption(values, 'seconds', -1);
      if (!Number.isInteger(seconds) || seconds < 0) throw new UsageError('--seconds must be a whole number of seconds (0 = the device\'s declared interval)');
      await store.updateDevice(d.id, { allowedIntervalS: seconds === 0 ? null : seconds }, now);
      const describe = (s: number | null) => (s === null ? 'what the device declares' : `${s} s`);
      await store.addEvent({
        at: now, deviceId: d.id, type: 'device.interval', level: 'info', actor: cliActor(), source: cliSource(),
        message: `${d.name}: allowed interval changed from ${describe(d.allowedIntervalS)} to ${describe(seconds === 0 ? null : seconds)} (by ${cliActor()})${because(reasonOf(values))}`,
        data: { old: { allowedIntervalS: d.allowedIntervalS }, new: { allowedIntervalS: seconds === 0 ? null : seconds }, reason: reasonOf(values) },
      });
      out(`${d.name}: allowed interval ${seconds === 0 ? 'now follows what the device declares' : `set to ${seconds} s`}.`);
      return 0;
    }
    case 'set-clock': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, clock: { type: 'string' }, reason: { type: 'string' } });
      requiredReason(values);
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const clock = required(values, 'clock') as LoggerClockSetting;
      if (!LOGGER_CLOCK_SETTINGS.includes(clock)) throw new UsageError(`--clock must be one of ${LOGGER_CLOCK_SETTINGS.join(', ')}, got "${clock}"`);
      if (d.family !== 'logger') throw new UsageError(`${d.name} is a ${d.family} device; only GSM/LTE loggers (family logger) send a clock to read`);
      const event = loggerClockChange(d, clock, cliActor(), (values.reason as string | undefined) ?? null);
      await store.updateDevice(d.id, { loggerClock: clock }, now);
      await store.addEvent({ at: now, deviceId: d.id, actor: cliActor(), source: cliSource(), ...event });
      out(`${event.message}. A running gateway applies it within seconds.`);
      return 0;
    }
    case 'new-token': {
      const { values } = parse(rest, { serial: { type: 'string' }, family: { type: 'string' }, reason: { type: 'string' } });
      requiredReason(values);
      const d = await findBySerial(store, required(values, 'serial'), values.family as string | undefined);
      const updated = await renewEntryToken(store, d, cliActor(), now, { source: cliSource(), reason: reasonOf(values) });
      out(`New entry point for ${d.name} (the old one stops working within seconds):`);
      out(`  ${entryUrl(config, updated)}`);
      out('It is shown only now: Inlet keeps only a hash of it. Keep it secret; it is the device\'s key.');
      return 0;
    }
    default:
      out(USAGE);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}
