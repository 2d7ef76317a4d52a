// `inlet simulate`: plays Web Sensors against a running gateway, in their exact wire format.
import type { InletConfig } from '../config/schema.ts';
import type { AlarmState } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { buildSoapMessage, drift, isCo2Model } from '../sim/soap.ts';
import { createAgent, post } from '../sim/client.ts';
import { initialChannels, newEntryToken, soapModelCode } from '../ingest/families.ts';
import { UsageError, intOption, parse } from './args.ts';
import { entryUrl } from '../admin/devices.ts';

export interface SimulatedDevice { url: string; serial: string; modelCode: number }

export interface SimulationOptions {
  devices: SimulatedDevice[];
  count: number;            // messages per device
  intervalMs: number;       // between a device's messages
  alarmEvery: number;       // every Nth message raises a high temperature alarm (0 = never)
  errorEvery: number;       // every Nth message reports sensor errors (0 = never)
  onProgress?: (sent: number, total: number) => void;
}

export interface SimulationReport { sent: number; ok: number; failed: number; statuses: Record<number, number>; p50Ms: number; p99Ms: number }

export function simulatedSample(device: SimulatedDevice, index: number, options: Pick<SimulationOptions, 'alarmEvery' | 'errorEvery' | 'intervalMs'>): string {
  const t = Date.now();
  const seed = Number(device.serial) % 97;
  const alarm = options.alarmEvery > 0 && index % options.alarmEvery === options.alarmEvery - 1;
  const error = options.errorEvery > 0 && index % options.errorEvery === options.errorEvery - 1;
  const alarms: [AlarmState, AlarmState, AlarmState, AlarmState] = [alarm ? 'hi' : 'no', 'no', 'no', 'no'];
  return buildSoapMessage({
    serial: device.serial, modelCode: device.modelCode,
    temp: error ? 9999 : Number(drift(seed, t, alarm ? 30 : 4, 1.5).toFixed(1)),
    relHum: error ? -9999 : Number(drift(seed + 1, t, 60, 10).toFixed(1)),
    compQuant: Number(drift(seed + 2, t, -2, 1).toFixed(1)),
    pressure: Number(drift(seed + 3, t, 1005, 8).toFixed(1)),
    co2: isCo2Model(device.modelCode) ? Math.round(drift(seed, t, 700, 150)) : undefined,
    alarms, timer: Math.max(1, Math.round(options.intervalMs / 1000)),
  });
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let sent = 0;
  let failed = 0;
  const total = options.devices.length * options.count;
  await Promise.all(options.devices.map(async (device, d) => {
    const agent = createAgent(device.url);
    // spread devices over the interval, as a real site's sensors are
    await new Promise((r) => setTimeout(r, (options.intervalMs * d) / Math.max(1, options.devices.length)));
    for (let i = 0; i < options.count; i++) {
      const started = Date.now();
      try {
        const res = await post(device.url, simulatedSample(device, i, options), 'text/xml; charset=utf-8', agent);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        latencies.push(res.ms);
      } catch {
        failed++;
      }
      sent++;
      options.onProgress?.(sent, total);
      const wait = options.intervalMs - (Date.now() - started);
      if (i < options.count - 1 && wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    agent.destroy();
  }));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0;
  return { sent, ok: statuses[200] ?? 0, failed, statuses, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

const USAGE = `usage:
  inlet simulate --url <entry point URL> --serial <serial> --model <model> [--count N] [--interval <s>] [--alarm-every N] [--error-every N]
  inlet simulate --register <N> [--model T3510] [--count N] [--interval <s>]   registers N simulated sensors
                                                                                  (serials 99000001...) and plays them`;

export async function simulateCommand(argv: string[], config: InletConfig, openStore: () => Promise<Store>, out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    url: { type: 'string' }, serial: { type: 'string' }, model: { type: 'string' }, count: { type: 'string' },
    interval: { type: 'string' }, 'alarm-every': { type: 'string' }, 'error-every': { type: 'string' },
    register: { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) { out(USAGE); return 0; }
  const model = (values.model as string | undefined) ?? 'T3510';
  const modelCode = soapModelCode(model);
  if (modelCode === null) throw new UsageError(`--model ${model} is not a known SOAP Web Sensor model`);
  const devices: SimulatedDevice[] = [];
  if (values.register !== undefined) {
    const n = intOption(values, 'register', 0);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError('--register takes a number of devices from 1 to 100000');
    const store = await openStore();
    try {
      for (let i = 1; i <= n; i++) {
        const serial = String(99_000_000 + i);
        let device = await store.findDeviceBySerial('soap', serial);
        device ??= await store.addDevice({
          family: 'soap', serial, modelCode, model: model.toUpperCase(), name: `Simulated ${model.toUpperCase()} #${i}`, location: 'Simulation',
          entryToken: newEntryToken(), channels: initialChannels('soap', modelCode),
        }, Date.now());
        devices.push({ url: entryUrl({ ...config, publicUrl: config.publicUrl || `http://127.0.0.1:${config.http.port}` }, device), serial, modelCode: device.modelCode ?? modelCode });
      }
    } finally {
      await store.close();
    }
  } else {
    if (!values.url || !values.serial) { out(USAGE); return 2; }
    devices.push({ url: values.url as string, serial: values.serial as string, modelCode });
  }
  const count = intOption(values, 'count', 10);
  const intervalMs = intOption(values, 'interval', 60) * 1000;
  out(`simulating ${devices.length} ${model} sensor(s), ${count} message(s) each, every ${intervalMs / 1000} s`);
  let lastShown = 0;
  const report = await runSimulation({
    devices, count, intervalMs, alarmEvery: intOption(values, 'alarm-every', 0), errorEvery: intOption(values, 'error-every', 0),
    onProgress: (sent, total) => {
      if (sent === total || Date.now() - lastShown > 2000) { lastShown = Date.now(); out(`  ${sent}/${total} sent`); }
    },
  });
  out(`done: ${report.sent} sent, ${report.ok} answered 200, ${report.failed} connection failures, statuses ${JSON.stringify(report.statuses)}, ` +
    `latency p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms`);
  return report.ok === report.sent ? 0 : 1;
}
