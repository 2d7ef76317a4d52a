// `inlet limits ...`: alarm limits per channel from the command line: show them, set them on one
// channel or many at once (one set, a template, for every fridge of a site), copy one channel's
// limits to others. Channels are named "serial:channel" as on the device label. Each change is
// signed electronically (signature.ts) and recorded by the store as an 'alarm.limits.changed' event
// naming the verified signer as its actor; a running gateway picks the new limits up within seconds.
import { readFileSync } from 'node:fs';
import type { AlarmLevel, AlarmLimit, Device } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { limitSetProblem } from '../api/alarms.ts';
import { UsageError, intOption, parse, required, requiredReason } from './args.ts';
import { cliSource } from './actor.ts';
import type { InletConfig } from '../config/schema.ts';
import { ZoneTree, roleAtLeast } from '../domain/zones.ts';
import { Scope, localAccess } from '../api/scope.ts';
import { describeSignature, type Signature } from '../api/signatures.ts';
import { SIGNER_OPTIONS, SIGNER_USAGE, SignatureRefused, TERMINAL_SIGNER, signOnCommandLine, type SignedAction, type SignerInput } from './signature.ts';

const USAGE = `usage:
  inlet limits show [--serial <serial>]
  inlet limits set --channels <serial:channel>[,<serial:channel>...] [--level alarm|warning] [--high <n>] [--low <n>]
                   [--delay <s>] [--hysteresis <n>] --reason <text> [<signature>]   (one set of limits on every channel named)
  inlet limits set --channels <...> --template <file.json> --reason <text> [<signature>]
                   (the file: [{"level":"alarm","low":2,"high":8,"delayS":600,"hysteresis":0.3}, {"level":"warning",...}])
  inlet limits set --channels <...> --level <level> --clear --reason <text> [<signature>]   (remove that level's limits)
  inlet limits copy --from <serial:channel> --to <serial:channel>[,<serial:channel>...] --reason <text> [<signature>]
Every change is recorded in the audit trail with --reason, and ${SIGNER_USAGE}.
<signature>: [--signer <user>] [--meaning <meaning>] [--password-stdin]. The signer is the change's
actor and needs the operator role (or administrator) on every device named.`;

type LimitSet = Omit<AlarmLimit, 'deviceId' | 'channel'>[];

interface ChannelRef { device: Device; channel: number; label: string }

async function resolveChannels(store: Store, list: string): Promise<ChannelRef[]> {
  const [devices, channels] = await Promise.all([store.listDevices(), store.listChannels()]);
  return list.split(',').map((item) => item.trim()).filter(Boolean).map((item) => {
    const m = /^(\d{1,8}):(\d{1,3})$/.exec(item);
    if (!m) throw new UsageError(`"${item}" is not serial:channel (e.g. 20960050:1)`);
    const matches = devices.filter((d) => d.serial === m[1]);
    if (matches.length === 0) throw new UsageError(`no device with serial ${m[1]}; see 'inlet device list'`);
    if (matches.length > 1) throw new UsageError(`serial ${m[1]} is registered in several families (${matches.map((d) => d.family).join(', ')})`);
    const device = matches[0];
    const channel = Number(m[2]);
    const known = channels.find((c) => c.deviceId === device.id && c.channel === channel);
    if (!known) throw new UsageError(`${device.name} (serial ${device.serial}) has no channel ${channel}; it has ${channels.filter((c) => c.deviceId === device.id).map((c) => c.channel).join(', ') || 'none yet'}`);
    return { device, channel, label: `${device.name} (serial ${device.serial}) channel ${channel} ${known.quantity} [${known.unit}]` };
  });
}

function numberOption(values: Record<string, unknown>, name: string): number | null {
  const v = values[name];
  if (v === undefined) return null;
  const n = Number(String(v).replace(',', '.'));
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(v)}"`);
  return n;
}

function describe(l: Omit<AlarmLimit, 'deviceId' | 'channel'>): string {
  const parts = [l.low === null ? null : `low ${l.low}`, l.high === null ? null : `high ${l.high}`, l.delayS ? `delay ${l.delayS} s` : null, l.hysteresis ? `hysteresis ${l.hysteresis}` : null];
  return `${l.level}: ${parts.filter(Boolean).join(', ')}`;
}

function readTemplate(file: string): LimitSet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the template ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new UsageError(`the template ${file} must be a JSON list of limits, e.g. [{"level":"alarm","low":2,"high":8}]`);
  return parsed.map((item: Record<string, unknown>, i) => {
    const level = item.level;
    if (level !== 'alarm' && level !== 'warning') throw new UsageError(`template entry ${i + 1}: "level" must be "alarm" or "warning"`);
    const num = (key: string, fallback: number | null) => {
      const v = item[key];
      if (v === undefined || v === null) return fallback;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`template entry ${i + 1}: "${key}" must be a number`);
      return v;
    };
    return { level, high: num('high', null), low: num('low', null), delayS: num('delayS', 0)!, hysteresis: num('hysteresis', 0)! };
  });
}

/** Replaces the given levels on each channel, keeping the channel's other level as it is. */
/**
 * Who may sign limit changes: the operator role or above on each device's zone, as the API asks.
 * A directory account's global role is the one its last sign-in recorded; its zone roles come from
 * directory groups at sign-in and are not stored, so a zone-scoped directory account signs limit
 * changes in the viewer, not here.
 */
function limitsSigner(store: Store, refs: ChannelRef[]): SignedAction {
  return {
    what: 'alarm limits', nothingDone: 'no limits were changed',
    async refuseSigner(user) {
      const scope = new Scope(await localAccess(store, user), new ZoneTree(await store.listZones()));
      const outOfReach = refs.filter((ref) => !roleAtLeast(scope.roleOnDevice(ref.device), 'operator'));
      return outOfReach.length ? `${user.username} does not hold the operator role on ${outOfReach.map((r) => r.device.name).join(', ')}: only an operator or administrator there may sign its alarm limits` : null;
    },
  };
}

/** Replaces the given levels on each channel, keeping the channel's other level as it is; the verified signer is the actor. */
async function apply(
  store: Store, refs: ChannelRef[], levels: AlarmLevel[], set: LimitSet, reason: string, sign: (refs: ChannelRef[]) => Promise<Signature | null>, out: (line: string) => void,
): Promise<number> {
  const problem = limitSetProblem(set);
  if (problem) throw new UsageError(problem);
  const signed = await sign(refs);
  if (!signed) return 1;
  for (const ref of refs) {
    const kept = (await store.alarmLimits(ref.device.id)).filter((l) => l.channel === ref.channel && !levels.includes(l.level));
    const limits = [...kept.map(({ updatedAt: _, ...l }) => l), ...set.map((l) => ({ ...l, deviceId: ref.device.id, channel: ref.channel }))];
    await store.setAlarmLimits(ref.device.id, ref.channel, limits, signed.by, signed.at, { source: cliSource(), reason, signatureMeaning: signed.meaning });
    out(`${ref.label}: ${limits.length ? limits.map(describe).join('; ') : 'no limits'}`);
  }
  return 0;
}

export interface LimitsCommandOptions {
  /** For the directory that directory accounts' signatures are checked by. */
  config?: Pick<InletConfig, 'directory'>;
  /** Where the signer's name, password and meaning come from (the terminal by default). */
  input?: SignerInput;
  now?: () => number;
}

export async function limitsCommand(argv: string[], store: Store, out: (line: string) => void, options: LimitsCommandOptions = {}): Promise<number> {
  const [sub, ...rest] = argv;
  const { config, input = TERMINAL_SIGNER, now = Date.now } = options;
  /** The signature of the change (exit 1 and nothing changed when it is refused). */
  const signer = (values: Record<string, unknown>) => async (refs: ChannelRef[]): Promise<Signature | null> => {
    try {
      const signature = await signOnCommandLine(values, config, store, input, now(), limitsSigner(store, refs));
      out(`alarm limits ${describeSignature(signature)}`);
      return signature;
    } catch (err) {
      if (!(err instanceof SignatureRefused)) throw err;
      out(`refused: ${err.message}`);
      return null;
    }
  };
  switch (sub) {
    case 'show': {
      const { values } = parse(rest, { serial: { type: 'string' } });
      const [devices, channels, limits] = await Promise.all([store.listDevices(), store.listChannels(), store.alarmLimits()]);
      const shown = devices.filter((d) => !values.serial || d.serial === values.serial);
      if (values.serial && !shown.length) throw new UsageError(`no device with serial ${values.serial}; see 'inlet device list'`);
      let lines = 0;
      for (const d of shown) {
        for (const c of channels.filter((x) => x.deviceId === d.id)) {
          const own = limits.filter((l) => l.deviceId === d.id && l.channel === c.channel);
          if (!own.length && !values.serial) continue;
          out(`${d.serial}:${c.channel}  ${d.name}  ${c.quantity} [${c.unit}]  ${own.length ? own.map(describe).join('; ') : 'no limits'}`);
          lines++;
        }
      }
      if (!lines) out('no alarm limits are set');
      return 0;
    }
    case 'set': {
      const { values } = parse(rest, {
        channels: { type: 'string' }, level: { type: 'string' }, high: { type: 'string' }, low: { type: 'string' }, delay: { type: 'string' },
        hysteresis: { type: 'string' }, template: { type: 'string' }, clear: { type: 'boolean' }, reason: { type: 'string' }, ...SIGNER_OPTIONS,
      });
      const reason = requiredReason(values);
      const refs = await resolveChannels(store, required(values, 'channels'));
      const sign = signer(values);
      if (values.template) {
        const set = readTemplate(values.template as string);
        return apply(store, refs, ['alarm', 'warning'], set, reason, sign, out);
      }
      const level = (values.level as string | undefined) ?? 'alarm';
      if (level !== 'alarm' && level !== 'warning') throw new UsageError(`--level is alarm or warning, not "${level}"`);
      if (values.clear) return apply(store, refs, [level], [], reason, sign, out);
      const high = numberOption(values, 'high');
      const low = numberOption(values, 'low');
      if (high === null && low === null) throw new UsageError('give --high, --low or both (or --clear to remove the limits)');
      const set = [{ level: level as AlarmLevel, high, low, delayS: intOption(values, 'delay', 0), hysteresis: numberOption(values, 'hysteresis') ?? 0 }];
      if (set[0].delayS < 0 || set[0].hysteresis < 0) throw new UsageError('--delay and --hysteresis cannot be negative');
      return apply(store, refs, [level as AlarmLevel], set, reason, sign, out);
    }
    case 'copy': {
      const { values } = parse(rest, { from: { type: 'string' }, to: { type: 'string' }, reason: { type: 'string' }, ...SIGNER_OPTIONS });
      const reason = requiredReason(values);
      const [source] = await resolveChannels(store, required(values, 'from'));
      const targets = await resolveChannels(store, required(values, 'to'));
      const set = (await store.alarmLimits(source.device.id)).filter((l) => l.channel === source.channel)
        .map(({ level, high, low, delayS, hysteresis }) => ({ level, high, low, delayS, hysteresis }));
      if (!set.length) throw new UsageError(`${source.label} has no limits to copy`);
      return apply(store, targets, ['alarm', 'warning'], set, reason, signer(values), out);
    }
    default:
      out(USAGE);
      return sub === undefined || sub === 'help' ? 0 : 2;
  }
}
