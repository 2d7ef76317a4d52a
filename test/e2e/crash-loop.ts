// Kill -9 under load, again and again: a child gateway serves a mixed fleet posting back to back,
// is killed at a random moment, restarted on the same data folder, and so on. Each device keeps
// the message numbers it saw acknowledged; the audit at the end compares them with the store.
// Used by test/e2e/crash.test.ts (a few cycles in CI) and bench/crash-loop.ts (many).
import { createAgent, post } from '../../src/sim/client.ts';
import { openDataStore, startChildGateway } from './harness.ts';
import { auditDevice, fleetMessage, fleetUrl, isAcknowledged, type FleetAudit, type FleetDevice } from './fleet.ts';

export interface CrashLoopOptions {
  dataDir: string;
  fleet: FleetDevice[];
  cycles: number;
  /** The kill comes at a random moment in [minLoadMs, maxLoadMs) after the cycle's first acknowledgement. */
  minLoadMs: number;
  maxLoadMs: number;
  /**
   * Instead of a time: the kill comes after a random number of acknowledgements in [min, max), so
   * a busy machine changes how long a cycle takes but not how much load it carries (tests).
   */
  killAfterAcks?: [number, number];
  seed: number;
  onCycle?: (cycle: CycleReport) => void;
}

export interface CycleReport { cycle: number; killAfterMs: number; startMs: number; sent: number; acknowledged: number; statuses: Record<string, number> }

export interface CrashLoopReport {
  cycles: CycleReport[];
  sent: number;
  acknowledged: number;
  stored: number;
  quarantined: number;
  lost: { serial: string; tags: number[] }[];
  duplicated: { serial: string; tags: number[] }[];
}

/** mulberry32: a small seeded generator, so a failing run can be replayed with its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DeviceProgress { next: number; acknowledged: Set<number> }

/** The crash gateways post faster than any allowed interval: throttling would only quarantine. */
const CRASH_GATEWAY_ENV = { INLET_THROTTLE_ENABLED: 'false', INLET_LOG_LEVEL: 'warn' };

async function runCycle(options: CrashLoopOptions, cycle: number, random: () => number, progress: Map<FleetDevice, DeviceProgress>): Promise<CycleReport> {
  const started = performance.now();
  const gateway = await startChildGateway(options.dataDir, CRASH_GATEWAY_ENV);
  const startMs = performance.now() - started;
  const killAfterMs = options.minLoadMs + random() * (options.maxLoadMs - options.minLoadMs);
  const statuses: Record<string, number> = {};
  let sent = 0;
  let acknowledged = 0;
  let killed = false;
  const acksBeforeKill = options.killAfterAcks
    ? Math.floor(options.killAfterAcks[0] + random() * (options.killAfterAcks[1] - options.killAfterAcks[0])) : 1;
  let firstAck: () => void = () => {};
  const underLoad = new Promise<void>((resolve) => { firstAck = resolve; });
  const senders = options.fleet.map(async (device) => {
    const url = fleetUrl(gateway.url, device);
    const agent = createAgent(url);
    const state = progress.get(device)!;
    while (!killed) {
      const k = state.next;
      const message = fleetMessage(device, k);
      sent++;
      let ok = false;
      try {
        const res = await post(url, message.body, message.contentType, agent);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        ok = isAcknowledged(device, res.status, res.body);
      } catch {
        statuses.connection = (statuses.connection ?? 0) + 1; // cut by the kill: fate unknown
      }
      if (ok) { state.acknowledged.add(k); acknowledged++; if (acknowledged >= acksBeforeKill) firstAck(); }
      if (ok || !device.resendsUntilAcknowledged) state.next++;
    }
    agent.destroy();
  });
  // a gateway that never acknowledges fails the test by its timeout rather than passing a cycle without load
  await underLoad;
  if (!options.killAfterAcks) await new Promise((r) => setTimeout(r, killAfterMs));
  gateway.child.kill('SIGKILL');
  killed = true;
  await Promise.all(senders);
  await gateway.exited;
  const report = { cycle, killAfterMs: Math.round(killAfterMs), startMs: Math.round(startMs), sent, acknowledged, statuses };
  options.onCycle?.(report);
  return report;
}

export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashLoopReport> {
  const random = seededRandom(options.seed);
  const progress = new Map(options.fleet.map((d) => [d, { next: 1, acknowledged: new Set<number>() }]));
  const cycles: CycleReport[] = [];
  for (let cycle = 1; cycle <= options.cycles; cycle++) cycles.push(await runCycle(options, cycle, random, progress));

  const store = openDataStore(options.dataDir);
  await store.migrate();
  const audits: [FleetDevice, FleetAudit][] = [];
  for (const device of options.fleet) audits.push([device, await auditDevice(store, device, progress.get(device)!.acknowledged)]);
  await store.close();
  const sum = (pick: (a: FleetAudit) => number) => audits.reduce((n, [, a]) => n + pick(a), 0);
  return {
    cycles,
    sent: cycles.reduce((n, c) => n + c.sent, 0),
    acknowledged: sum((a) => a.acknowledged),
    stored: sum((a) => a.stored),
    quarantined: sum((a) => a.quarantined),
    lost: audits.filter(([, a]) => a.lost.length).map(([d, a]) => ({ serial: d.serial, tags: a.lost })),
    duplicated: audits.filter(([, a]) => a.duplicated.length).map(([d, a]) => ({ serial: d.serial, tags: a.duplicated })),
  };
}
