// `inlet simulate`: plays COMET devices against a running gateway, in their exact wire format:
// SOAP Web Sensors, WiFi sensors, TAx6xx/PAx6xx Web Sensors and GSM/LTE loggers.
import type { InletConfig } from '../config/schema.ts';
import type { AlarmState, Family } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { buildSoapMessage, drift, isCo2Model } from '../sim/soap.ts';
import { buildWifiBody } from '../sim/wifi.ts';
import { buildWebsensorBody } from '../sim/websensor-json.ts';
import { buildLoggerBody, loggerBacklogMessages } from '../sim/logger.ts';
import type { SimJsonChannel } from '../sim/comet-json-object.ts';
import { createAgent, post } from '../sim/client.ts';
import { initialChannels, newEntryToken, soapModelCode } from '../ingest/families.ts';
import { SOAP_MODELS, type SoapQuantity } from '../ingest/soap/models.ts';
import { UsageError, intOption, parse } from './args.ts';
import { FAMILY_MIN_INTERVAL_S } from '../pipeline/throttle.ts';
import { entryUrl, renewEntryToken } from '../admin/devices.ts';
import { cliActor, cliSource } from './actor.ts';

export interface SimulatedDevice {
  url: string;
  serial: string;
  modelCode: number;
  /** Default 'soap'. */
  family?: Family;
  /** Loggers only: the CustomerUid registered for the device. */
  customerUid?: string;
}

export interface SimulationOptions {
  devices: SimulatedDevice[];
  count: number;            // messages per device
  intervalMs: number;       // between a device's messages
  alarmEvery: number;       // every Nth message raises a high temperature alarm (0 = never)
  errorEvery: number;       // every Nth message reports sensor errors (0 = never)
  /** WiFi and TAx6xx: first send this many messages from the cache (old samples, at full speed), as after an outage. */
  cacheFlush?: number;
  /** Loggers: first send a backlog of this many samples in one upload, as after lost coverage. */
  backlogSamples?: number;
  onProgress?: (sent: number, total: number) => void;
}

interface SimulatedMessage { body: string | Buffer; contentType: string }

/** The family's model, `Kind` and channels for `--register`, and the one a single --url device is taken to be. */
const FAMILY_DEFAULT_MODEL: Record<Exclude<Family, 'soap'>, { model: string; modelCode: number }> = {
  wifi: { model: 'W3711', modelCode: 4 },               // OEM Kind 4: one digital T+RH probe
  'websensor-json': { model: 'TA3610', modelCode: 1 },  // Kind 1: internal T+RH
  logger: { model: 'U3631M', modelCode: 1 },            // logger Kind table unknown (spec §10.6)
};
const SIM_CUSTOMER_UID = 'inlet-simulator';
const FAMILY_OPTION: Record<string, Family> = { soap: 'soap', wifi: 'wifi', json: 'websensor-json', logger: 'logger' };

export interface SimulationReport {
  sent: number; ok: number; failed: number; statuses: Record<number, number>; p50Ms: number; p99Ms: number;
  /** What the gateway did with each upload (its X-Inlet-Verdict header): accepted, duplicate, quarantined, refused. */
  verdicts: Record<string, number>;
  /** Each distinct reason an upload was not stored (quarantine, refusal, suspension), with its count. */
  notStoredReasons: Record<string, number>;
  /** Uploads whose data the gateway stored (accepted, or a duplicate of one stored before). */
  stored: number;
}

/** The verdict of one answer: the gateway's header, else (an older gateway) the status alone. */
function verdictOf(status: number, headers: Record<string, string | string[] | undefined>): { kind: string; reason: string } {
  const kind = headers['x-inlet-verdict'];
  const reason = headers['x-inlet-reason'];
  if (typeof kind === 'string') return { kind, reason: typeof reason === 'string' ? reason : '' };
  return status >= 200 && status < 300 ? { kind: 'accepted', reason: '' } : { kind: 'refused', reason: `HTTP ${status}` };
}

export function simulatedSample(device: SimulatedDevice, index: number, options: Pick<SimulationOptions, 'alarmEvery' | 'errorEvery' | 'intervalMs'>): string {
  const t = Date.now();
  const seed = Number(device.serial) % 97;
  const alarm = options.alarmEvery > 0 && index % options.alarmEvery === options.alarmEvery - 1;
  const error = options.errorEvery > 0 && index % options.errorEvery === options.errorEvery - 1;
  const alarms: [AlarmState, AlarmState, AlarmState, AlarmState] = [alarm ? 'hi' : 'no', 'no', 'no', 'no'];
  // A slot the model lacks carries the device's -9999 filler (and unit n/a), as on a real sensor;
  // a model not in the table fills every slot.
  const quantities = SOAP_MODELS.get(device.modelCode)?.quantities;
  const has = (q: SoapQuantity) => !quantities || quantities.includes(q);
  return buildSoapMessage({
    serial: device.serial, modelCode: device.modelCode,
    temp: !has('temperature') ? -9999 : error ? 9999 : Number(drift(seed, t, alarm ? 30 : 4, 1.5).toFixed(1)),
    relHum: !has('relative_humidity') || error ? -9999 : Number(drift(seed + 1, t, 60, 10).toFixed(1)),
    compQuant: has('computed') ? Number(drift(seed + 2, t, -2, 1).toFixed(1)) : -9999,
    pressure: has('pressure') ? Number(drift(seed + 3, t, 1005, 8).toFixed(1)) : -9999,
    co2: isCo2Model(device.modelCode) ? Math.round(drift(seed, t, 700, 150)) : undefined,
    tempU: has('temperature') ? 'C' : 'n/a', compType: has('computed') ? 'Dew point' : 'n/a', pressureU: has('pressure') ? 'hPa' : 'n/a',
    alarms: has('temperature') ? alarms : ['no', 'no', 'no', alarm ? 'hi' : 'no'], timer: Math.max(1, Math.round(options.intervalMs / 1000)),
  });
}

/** Temperature and humidity as the JSON families send them; `index` drives alarms and errors as for SOAP. */
function jsonChannels(device: SimulatedDevice, index: number, t: number, options: Pick<SimulationOptions, 'alarmEvery' | 'errorEvery'>): SimJsonChannel[] {
  const seed = Number(device.serial) % 97;
  const alarm = options.alarmEvery > 0 && index % options.alarmEvery === options.alarmEvery - 1;
  const error = options.errorEvery > 0 && index % options.errorEvery === options.errorEvery - 1;
  return [
    { nr: 1, label: 'Temperature', unit: '°C', value: Number(drift(seed, t, alarm ? 30 : 4, 1.5).toFixed(1)), alarms: [0, alarm ? 1 : 0], alarmModes: [1, 2] },
    { nr: 2, label: 'Relative humidity', unit: '%RH', value: error ? { errorCode: 4 } : Number(drift(seed + 1, t, 60, 10).toFixed(1)) },
  ];
}

/**
 * Message `index` of a device, sampled at `sampleTime`. `orderId` counts every message the device sent;
 * `fromCache` marks a resend after an outage (MsgCache 1: no network). An alarm message is asynchronous.
 */
export function simulatedMessage(device: SimulatedDevice, index: number, orderId: number, sampleTime: number, fromCache: boolean,
  options: Pick<SimulationOptions, 'alarmEvery' | 'errorEvery' | 'intervalMs'>): SimulatedMessage {
  const family = device.family ?? 'soap';
  if (family === 'soap') return { body: simulatedSample(device, index, options), contentType: 'text/xml; charset=utf-8' };
  const intervalS = Math.max(1, Math.round(options.intervalMs / 1000));
  const channels = jsonChannels(device, index, sampleTime, options);
  const msgType = channels[0].alarms?.[1] ? 'async' : 'periodic';
  if (family === 'logger') {
    const body = buildLoggerBody({
      serial: Number(device.serial), model: device.modelCode, orderId: orderId % 256, isAsync: msgType === 'async', sampleTime, now: Date.now(),
      customerUid: device.customerUid ?? SIM_CUSTOMER_UID, intervalPowerMode: intervalS, intervalBatteryMode: intervalS,
      // a logger's quantity name has at most 16 characters (spec §5.2)
      channels: channels.map((c) => ({ nr: c.nr, label: c.nr === 2 ? 'Rel. humidity' : c.label, unit: c.unit, value: c.value, alarms: c.alarms, behaviours: c.alarmModes })),
    });
    return { body, contentType: 'application/json' };
  }
  const message = {
    serial: device.serial, model: device.modelCode, orderId, msgType, msgCache: fromCache ? 1 : 0, interval: intervalS, sampleTime, now: Date.now(), channels,
  } as const;
  return { body: family === 'wifi' ? buildWifiBody(message) : buildWebsensorBody(message), contentType: 'application/json' };
}

/**
 * What a device sends before its live messages: a cache flush (JSON families) or a backlog upload
 * (loggers), and how many device messages that was, so that the live ones continue the OrderId count.
 */
function catchUpMessages(device: SimulatedDevice, options: SimulationOptions): { uploads: SimulatedMessage[]; deviceMessages: number } {
  const now = Date.now();
  if (device.family === 'logger' && (options.backlogSamples ?? 0) > 0) {
    const messages = loggerBacklogMessages({
      serial: Number(device.serial), model: device.modelCode, customerUid: device.customerUid ?? SIM_CUSTOMER_UID, samples: options.backlogSamples!,
      channels: 2, intervalS: Math.max(1, Math.round(options.intervalMs / 1000)), newestSampleTime: now - options.intervalMs, now,
    });
    return { uploads: [{ body: buildLoggerBody(messages), contentType: 'application/json' }], deviceMessages: messages.length };
  }
  if ((device.family === 'wifi' || device.family === 'websensor-json') && (options.cacheFlush ?? 0) > 0) {
    const n = options.cacheFlush!;
    return { uploads: Array.from({ length: n }, (_, i) => simulatedMessage(device, i, i, now - (n - i) * options.intervalMs, true, options)), deviceMessages: n };
  }
  return { uploads: [], deviceMessages: 0 };
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const verdicts: Record<string, number> = {};
  const notStoredReasons: Record<string, number> = {};
  let sent = 0;
  let failed = 0;
  const catchUp = options.devices.map((device) => catchUpMessages(device, options));
  const total = options.devices.length * options.count + catchUp.reduce((n, c) => n + c.uploads.length, 0);
  const send = async (device: SimulatedDevice, message: SimulatedMessage, agent: ReturnType<typeof createAgent>) => {
    try {
      const res = await post(device.url, message.body, message.contentType, agent);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      latencies.push(res.ms);
      const verdict = verdictOf(res.status, res.headers);
      verdicts[verdict.kind] = (verdicts[verdict.kind] ?? 0) + 1;
      if (verdict.kind !== 'accepted' && verdict.kind !== 'duplicate') {
        const why = `${verdict.kind}: ${verdict.reason || `HTTP ${res.status}`}`;
        notStoredReasons[why] = (notStoredReasons[why] ?? 0) + 1;
      }
    } catch {
      failed++;
    }
    sent++;
    options.onProgress?.(sent, total);
  };
  await Promise.all(options.devices.map(async (device, d) => {
    const agent = createAgent(device.url);
    // spread devices over the interval, as a real site's sensors are
    await new Promise((r) => setTimeout(r, (options.intervalMs * d) / Math.max(1, options.devices.length)));
    // cached messages go first and as fast as the link allows, as the devices do
    for (const message of catchUp[d].uploads) await send(device, message, agent);
    for (let i = 0; i < options.count; i++) {
      const started = Date.now();
      await send(device, simulatedMessage(device, i, catchUp[d].deviceMessages + i, started, false, options), agent);
      const wait = options.intervalMs - (Date.now() - started);
      if (i < options.count - 1 && wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    agent.destroy();
  }));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0;
  const stored = (verdicts.accepted ?? 0) + (verdicts.duplicate ?? 0);
  return { sent, ok: statuses[200] ?? 0, failed, statuses, p50Ms: pct(0.5), p99Ms: pct(0.99), verdicts, notStoredReasons, stored };
}

/**
 * The closing lines: how many uploads were stored, and why the others were not. A SOAP device is
 * answered 200 even when its upload is kept aside (quarantined), so "answered 200" alone says little.
 */
export function describeSimulation(report: SimulationReport): { lines: string[]; exitCode: number } {
  const lines = [`done: ${report.sent} sent, ${report.stored} stored, ${report.verdicts.quarantined ?? 0} quarantined, ` +
    `${report.verdicts.refused ?? 0} refused, ${report.failed} connection failures; statuses ${JSON.stringify(report.statuses)}, ` +
    `latency p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms`];
  for (const [reason, n] of Object.entries(report.notStoredReasons)) lines.push(`  not stored (${n}x): ${reason}`);
  const suspended = Object.keys(report.notStoredReasons).some((r) => /suspend/i.test(r));
  if (suspended) lines.push('  a device was suspended: see `inlet device show --serial <serial>`, and resume it with `inlet device resume --serial <serial>`');
  const allStored = report.failed === 0 && report.stored === report.sent;
  if (!allStored) lines.push(`FAILED: ${report.sent - report.stored} of ${report.sent} uploads were not stored`);
  return { lines, exitCode: allStored ? 0 : 1 };
}

const USAGE = `usage:
  inlet simulate [--family soap|wifi|json|logger] --url <entry point URL> --serial <serial> [--model <model>] [--count N] [--interval <s>]
                 [--alarm-every N] [--error-every N] [--cache-flush N] [--backlog N]
  inlet simulate [--family ...] --register <N> [--model <model>] [--count N] [--interval <s>] ...
                 registers N simulated devices of the family (serials 99000001..., 98000001... for loggers) and plays them
  --family         soap: Web Sensors Tx5xx/Tx6xx (default, model T3510); wifi: Wx7xx (JsonType 2, Kind 4);
                   json: TAx6xx/PAx6xx (JsonType 5, Kind 1); logger: GSM/LTE loggers (JsonType 1, CustomerUid ${SIM_CUSTOMER_UID})
  --cache-flush N  wifi/json: first resend N cached messages (old samples, MsgCache 1) at full speed, as after an outage
  --backlog N      logger: first send a backlog of N samples (2 channels a message) in one upload, as after lost coverage`;

export async function simulateCommand(argv: string[], config: InletConfig, openStore: () => Promise<Store>, out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    url: { type: 'string' }, serial: { type: 'string' }, model: { type: 'string' }, count: { type: 'string' },
    interval: { type: 'string' }, 'alarm-every': { type: 'string' }, 'error-every': { type: 'string' },
    register: { type: 'string' }, family: { type: 'string' }, 'cache-flush': { type: 'string' }, backlog: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) { out(USAGE); return 0; }
  const family = FAMILY_OPTION[(values.family as string | undefined) ?? 'soap'];
  if (!family) throw new UsageError(`--family ${String(values.family)} is not one of ${Object.keys(FAMILY_OPTION).join(', ')}`);
  const cacheFlush = intOption(values, 'cache-flush', 0);
  const backlogSamples = intOption(values, 'backlog', 0);
  if (cacheFlush && family !== 'wifi' && family !== 'websensor-json') throw new UsageError('--cache-flush is for --family wifi or json; loggers send a --backlog');
  if (backlogSamples && family !== 'logger') throw new UsageError('--backlog is for --family logger');
  const model = (values.model as string | undefined) ?? (family === 'soap' ? 'T3510' : FAMILY_DEFAULT_MODEL[family].model);
  const modelCode = family === 'soap' ? soapModelCode(model) : FAMILY_DEFAULT_MODEL[family].modelCode;
  if (modelCode === null) throw new UsageError(`--model ${model} is not a known SOAP Web Sensor model`);
  const customerUid = family === 'logger' ? SIM_CUSTOMER_UID : undefined;
  const devices: SimulatedDevice[] = [];
  if (values.register !== undefined) {
    const n = intOption(values, 'register', 0);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError('--register takes a number of devices from 1 to 100000');
    const store = await openStore();
    try {
      for (let i = 1; i <= n; i++) {
        // logger serials are numbers in the message and must not meet a SOAP serial in the viewer's lists
        const serial = String((family === 'logger' ? 98_000_000 : 99_000_000) + i);
        // Only a hash of an entry token is stored: a simulated device registered by an earlier run
        // is given a new token, recorded like any renewal.
        const known = await store.findDeviceBySerial(family, serial);
        const device = known ? await renewEntryToken(store, known, `${cliActor()} (simulator)`, Date.now(), { source: cliSource(), reason: 'inlet simulate --register re-used the simulated device' }) : await store.addDevice({
          family, serial, modelCode, model: model.toUpperCase(), name: `Simulated ${model.toUpperCase()} #${i}`, location: 'Simulation',
          entryToken: newEntryToken(), customerUid, channels: initialChannels(family, modelCode),
        }, Date.now());
        devices.push({
          url: entryUrl({ ...config, publicUrl: config.publicUrl || `http://127.0.0.1:${config.http.port}` }, device), serial,
          modelCode: device.modelCode ?? modelCode, family, customerUid: device.customerUid ?? undefined,
        });
      }
    } finally {
      await store.close();
    }
  } else {
    if (!values.url || !values.serial) { out(USAGE); return 2; }
    devices.push({ url: values.url as string, serial: values.serial as string, modelCode, family, customerUid });
  }
  const count = intOption(values, 'count', 10);
  const intervalMs = intOption(values, 'interval', 60) * 1000;
  if (intervalMs < FAMILY_MIN_INTERVAL_S[family] * 1000) {
    out(`note: --interval ${intervalMs / 1000} s is shorter than the ${FAMILY_MIN_INTERVAL_S[family]} s a ${family} device may declare: ` +
      'the gateway will suspend the device unless an administrator set a shorter interval (inlet device set-interval)');
  }
  out(`simulating ${devices.length} ${model} ${family} device(s), ${count} message(s) each, every ${intervalMs / 1000} s` +
    `${cacheFlush ? `, after a cache flush of ${cacheFlush}` : ''}${backlogSamples ? `, after a backlog of ${backlogSamples} samples` : ''}`);
  let lastShown = 0;
  const report = await runSimulation({
    devices, count, intervalMs, alarmEvery: intOption(values, 'alarm-every', 0), errorEvery: intOption(values, 'error-every', 0), cacheFlush, backlogSamples,
    onProgress: (sent, total) => {
      if (sent === total || Date.now() - lastShown > 2000) { lastShown = Date.now(); out(`  ${sent}/${total} sent`); }
    },
  });
  const { lines, exitCode } = describeSimulation(report);
  for (const line of lines) out(line);
  return exitCode;
}
