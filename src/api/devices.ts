// Devices: the tree by location with latest values and status for everyone signed in, and the
// administration of devices (register, rename, interval, suspend/resume, entry point).
import { Router } from 'express';
import type { InletConfig } from '../config/schema.ts';
import type { Device, Family, LoggerClockSetting } from '../domain/types.ts';
import { FAMILIES, LOGGER_CLOCK_SETTINGS } from '../domain/types.ts';
import { SERIAL_PATTERN, newEntryToken } from '../ingest/families.ts';
import { allowedIntervalS } from '../pipeline/throttle.ts';
import { isSilent } from '../jobs/offline.ts';
import type { DeviceRegistry } from '../pipeline/registry.ts';
import type { LatestValue, Store, StoredAlarm } from '../store/store.ts';
import { RegistrationError, entryUrl, loggerClockChange, registerDevice, renewEntryToken, type IssuedDevice } from '../admin/devices.ts';
import { HttpError, bodyParser, idParam, queryParser } from './http.ts';
import { requireRole, sessionOf } from './auth.ts';
import { SIGNATURE_SCHEMA, type SignatureInput, verifySignature } from './signatures.ts';
import { canonicalUnit, unitsOf } from '../domain/units.ts';
import { scopeOf } from './scope.ts';
import { ZoneError, ensureZonePath, placeDevice } from '../admin/zones.ts';
import { deviceRecord } from '../store/zone-records.ts';

export type DeviceStatus = 'ok' | 'offline' | 'never-seen' | 'suspended' | 'retired';

/** A device with when it was retired, if it was (store.retirements()). */
type ShownDevice = Device & { retiredAt?: number | null };

/** Offline by the same rule as the offline job (jobs.offline.missedIntervals), so the tree and the alarms agree. */
export function deviceStatus(d: ShownDevice, now: number, offlineAfterIntervals: number): { status: DeviceStatus; intervalS: number } {
  const intervalS = allowedIntervalS(d.family, d.allowedIntervalS, d.declaredIntervalS);
  const status: DeviceStatus = d.retiredAt ? 'retired' : d.state === 'suspended' ? 'suspended'
    : d.lastSeenAt === null ? 'never-seen'
      : isSilent(d, now, { missedIntervals: offlineAfterIntervals }) ? 'offline' : 'ok';
  return { status, intervalS };
}

/** The open alarm that matters most: alarm before warning, unacknowledged before acknowledged, then the newest. */
export function worstAlarm(alarms: StoredAlarm[]): StoredAlarm | null {
  const rank = (a: StoredAlarm) => (a.level === 'alarm' ? 2 : 0) + (a.acknowledgedAt === null ? 1 : 0);
  return alarms.reduce<StoredAlarm | null>((worst, a) => (!worst || rank(a) > rank(worst) || (rank(a) === rank(worst) && a.raisedAt > worst.raisedAt) ? a : worst), null);
}

export interface OpenAlarmCount { total: number; unacknowledged: number; worstLevel: 'warning' | 'alarm' | null }

/** The open-alarm count over some devices (their worst alarms say the level), plus the system's own. */
export function openAlarmCount(devices: { openAlarm: { level: 'warning' | 'alarm'; count: number; unacknowledged: number } | null }[], system: OpenAlarmCount | null): OpenAlarmCount {
  const levels = [...devices.map((d) => d.openAlarm?.level ?? null), system?.worstLevel ?? null];
  return {
    total: devices.reduce((n, d) => n + (d.openAlarm?.count ?? 0), system?.total ?? 0),
    unacknowledged: devices.reduce((n, d) => n + (d.openAlarm?.unacknowledged ?? 0), system?.unacknowledged ?? 0),
    worstLevel: levels.includes('alarm') ? 'alarm' : levels.includes('warning') ? 'warning' : null,
  };
}

/** Names sort as people count: "Fridge 2" before "Fridge 10". */
const naturalOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** What the viewer shows of a device; the entry token is a secret and never part of it. */
function deviceView(d: ShownDevice, latest: LatestValue[], channels: { channel: number; quantity: string; unit: string }[], now: number, offlineAfterIntervals: number, openAlarms: StoredAlarm[] = []) {
  const byChannel = new Map(latest.map((v) => [v.channel, v]));
  const values = channels.map((c) => {
    const v = byChannel.get(c.channel);
    return { channel: c.channel, quantity: c.quantity, unit: c.unit, time: v?.time ?? null, value: v?.value ?? null, errorCode: v?.errorCode ?? null, alarm: v?.alarm ?? 'no' };
  });
  return {
    id: d.id, name: d.name, location: d.location, zoneId: d.zoneId, serial: d.serial, model: d.model, family: d.family, state: d.state,
    suspendedReason: d.suspendedReason, suspendedAt: d.suspendedAt, lastSeenAt: d.lastSeenAt, allowedIntervalS: d.allowedIntervalS,
    declaredIntervalS: d.declaredIntervalS, retiredAt: d.retiredAt ?? null, ...deviceStatus(d, now, offlineAfterIntervals),
    alarm: values.some((v) => v.alarm !== 'no'), error: values.some((v) => v.errorCode !== null), channels: values,
    ...(d.family === 'logger' ? { loggerClock: d.loggerClock ?? 'auto' } : {}),
    openAlarm: openAlarmSummary(openAlarms),
  };
}

function openAlarmSummary(alarms: StoredAlarm[]) {
  const worst = worstAlarm(alarms);
  return worst && {
    id: worst.id, level: worst.level, message: worst.message, acknowledged: worst.acknowledgedAt !== null, cleared: worst.clearedAt !== null,
    count: alarms.length, unacknowledged: alarms.filter((a) => a.acknowledgedAt === null).length,
  };
}

export type DeviceView = ReturnType<typeof deviceView>;

/**
 * All devices grouped by location (in natural order), each with its channels' latest values and its
 * worst open alarm; openAlarms counts every open alarm, the system's own (no device) included.
 */
export async function deviceTree(store: Store, now: number, offlineAfterIntervals: number, visible: (d: Device) => boolean = () => true, includeRetired = false) {
  const [listed, channels, latest, allOpen, retirements] = await Promise.all([
    store.listDevices(), store.listChannels(), store.latestValues(), store.alarms({ open: true, limit: 10_000 }), store.retirements(),
  ]);
  const retiredAt = new Map(retirements.map((r) => [r.deviceId, r.retiredAt]));
  const devices: ShownDevice[] = listed.filter(visible).map((d) => ({ ...d, retiredAt: retiredAt.get(d.id) ?? null }));
  // the alarms of the devices in sight; those of no device (integrity) only for whoever sees everything
  const seen = new Set(devices.map((d) => d.id));
  const everything = listed.every(visible);
  const open = allOpen.filter((a) => (a.deviceId === null ? everything : seen.has(a.deviceId)));
  const latestByDevice = Map.groupBy(latest, (v) => v.deviceId);
  const channelsByDevice = Map.groupBy(channels, (c) => c.deviceId);
  const alarmsByDevice = Map.groupBy(open, (a) => a.deviceId ?? 0);
  const locations = new Map<string, DeviceView[]>();
  for (const d of [...devices].filter((x) => includeRetired || !x.retiredAt).sort((a, b) => naturalOrder.compare(a.name, b.name))) {
    const view = deviceView(d, latestByDevice.get(d.id) ?? [], channelsByDevice.get(d.id) ?? [], now, offlineAfterIntervals, alarmsByDevice.get(d.id));
    const list = locations.get(d.location) ?? [];
    list.push(view);
    locations.set(d.location, list);
  }
  const system = open.filter((a) => a.deviceId === null);
  return {
    now,
    openAlarms: { total: open.length, unacknowledged: open.filter((a) => a.acknowledgedAt === null).length, worstLevel: worstAlarm(open)?.level ?? null },
    /** The open alarms of no device (integrity), for the live stream to add for global roles. */
    systemAlarms: { total: system.length, unacknowledged: system.filter((a) => a.acknowledgedAt === null).length, worstLevel: worstAlarm(system)?.level ?? null },
    locations: [...locations].sort(([a], [b]) => naturalOrder.compare(a, b)).map(([name, list]) => ({ name, devices: list })),
  };
}

const NAME = { type: 'string', minLength: 1, maxLength: 100 } as const;
/** Why a configuration change was made: recorded in its event (optional here; the viewer asks for it). */
const REASON = { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } as const;
const LOCATION = { type: 'string', maxLength: 100 } as const;

const parseNewDevice = bodyParser<{ serial: string; model: string; name: string; location?: string; zoneId?: number; family?: string; allowedIntervalS?: number; reason?: string }>({
  type: 'object', additionalProperties: false, required: ['serial', 'model', 'name'],
  properties: {
    reason: REASON,
    serial: { type: 'string', pattern: SERIAL_PATTERN.source }, model: { type: 'string', minLength: 1, maxLength: 20 }, name: NAME,
    location: LOCATION, zoneId: { type: 'integer', minimum: 1 }, family: { type: 'string', enum: [...FAMILIES] },
    allowedIntervalS: { type: 'integer', minimum: 1, maximum: 86_400 },
  },
});
const parseRename = bodyParser<{ name?: string; location?: string; zoneId?: number | null; reason?: string }>({
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { name: NAME, location: LOCATION, zoneId: { type: 'integer', minimum: 1, nullable: true }, reason: { type: 'string', maxLength: 500 } },
});
const parseInterval = bodyParser<{ allowedIntervalS: number | null; reason?: string }>({
  type: 'object', additionalProperties: false, required: ['allowedIntervalS'],
  properties: { allowedIntervalS: { type: 'integer', minimum: 1, maximum: 86_400, nullable: true }, reason: REASON },
});
const parseClock = bodyParser<{ loggerClock: LoggerClockSetting; reason?: string }>({
  type: 'object', additionalProperties: false, required: ['loggerClock'],
  properties: { loggerClock: { enum: [...LOGGER_CLOCK_SETTINGS] }, reason: { type: 'string', maxLength: 200 } },
});
const parseSuspend = bodyParser<{ reason: string }>({
  type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 200 } },
});
const parseTreeQuery = queryParser<{ retired: boolean }>({
  type: 'object', additionalProperties: false, properties: { retired: { type: 'boolean', default: false } },
});
const parseReplacement = bodyParser<{ serial: string; model: string; family?: string; reason: string }>({
  type: 'object', additionalProperties: false, required: ['serial', 'model', 'reason'],
  properties: {
    serial: { type: 'string', pattern: SERIAL_PATTERN.source }, model: { type: 'string', minLength: 1, maxLength: 20 },
    family: { type: 'string', enum: [...FAMILIES] }, reason: { type: 'string', minLength: 1, maxLength: 200 },
  },
});
// Resuming releases the quarantined data (imported or not): a signed decision.
const parseResume = bodyParser<{ importData: boolean; reason?: string; signature?: SignatureInput }>({
  type: 'object', additionalProperties: false, required: ['importData'],
  properties: { importData: { type: 'boolean' }, reason: REASON, signature: SIGNATURE_SCHEMA },
});
// An administrator confirms that a channel now measures in another unit (its earlier samples keep theirs).
const parseUnitChange = bodyParser<{ unit: string; reason: string; signature?: SignatureInput }>({
  type: 'object', additionalProperties: false, required: ['unit', 'reason'],
  properties: { unit: { type: 'string', maxLength: 20 }, reason: REASON, signature: SIGNATURE_SCHEMA },
});

export function devicesRouter(deps: { store: Store; registry: DeviceRegistry; config: InletConfig; now: () => number }): Router {
  const { store, registry, config, now } = deps;
  const router = Router();

  async function deviceById(rawId: unknown): Promise<Device> {
    const device = await store.getDevice(idParam(rawId, 'device'));
    if (!device) throw new HttpError(404, `no device with id ${String(rawId)}`);
    return device;
  }

  /**
   * Saves a change, records who did it, from where, why, and each changed field's old and new value,
   * and lets ingest see it now rather than at its next refresh.
   */
  async function change(
    device: Device, patch: Parameters<Store['updateDevice']>[1], event: { type: string; level: 'info' | 'warning'; message: string; data?: Record<string, unknown> },
    by: string, audit: { source: string | null; reason?: string | null },
  ) {
    const at = now();
    const updated = await store.updateDevice(device.id, patch, at);
    // The entry token is the device's secret: recorded as replaced, never its value.
    const fields = (Object.keys(patch) as (keyof typeof patch)[]).filter((f) => f !== 'entryToken');
    const old = Object.fromEntries(fields.map((f) => [f, (device as unknown as Record<string, unknown>)[f] ?? null]));
    const now_ = Object.fromEntries(fields.map((f) => [f, (updated as unknown as Record<string, unknown>)[f] ?? null]));
    await store.addEvent({
      at, deviceId: device.id, type: event.type, level: event.level, actor: by, source: audit.source,
      message: `${event.message} (by ${by})${audit.reason ? `. Reason: ${audit.reason}` : ''}`,
      data: { old, new: now_, ...('entryToken' in patch ? { entryToken: 'replaced' } : {}), reason: audit.reason ?? null, ...event.data, records: [deviceRecord(updated)] },
    });
    await registry.refresh();
    return updated;
  }
  const sourceOf = (req: { ip?: string }) => req.ip ?? null;

  router.get('/devices', async (req, res) => {
    const { retired } = parseTreeQuery(req.query);
    const scope = await scopeOf(store, res);
    res.json(await deviceTree(store, now(), config.jobs.offline.missedIntervals, (d) => scope.canSee(d), retired));
  });

  // Retiring takes a device out of use: its history and chain stay, it raises no offline alarm, it
  // is hidden unless asked for, and its entry point stops working (a new one is made), so nothing
  // it still sends is stored. Its open offline alarm is cleared and acknowledged with the reason.
  const isRetired = async (device: Device) => (await store.retirements()).some((r) => r.deviceId === device.id);

  async function retire(device: Device, reason: string, by: string, source: string | null = null): Promise<ShownDevice> {
    const at = now();
    await store.setRetirement(device.id, { retiredAt: at, retiredBy: by, reason });
    const updated = await change(device, { entryToken: newEntryToken() },
      { type: 'device.retired', level: 'info', message: `${device.name} (serial ${device.serial}) retired: ${reason}` }, by, { source, reason });
    for (const alarm of await store.alarms({ deviceId: device.id, kind: 'offline', uncleared: true })) {
      await store.clearAlarm(alarm.id, at, null);
      if (alarm.acknowledgedAt === null) await store.acknowledgeAlarm(alarm.id, by, `device retired: ${reason}`, at);
    }
    return { ...updated, retiredAt: at };
  }

  router.post('/devices/:id/retire', requireRole('operator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const { reason } = parseSuspend(req.body);
    if (await isRetired(device)) throw new HttpError(409, `${device.name} is already retired`);
    const updated = await retire(device, reason, sessionOf(res).username, sourceOf(req));
    res.json({ device: deviceView(updated, [], [], now(), config.jobs.offline.missedIntervals) });
  });

  router.post('/devices/:id/reinstate', requireRole('administrator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const { reason } = parseSuspend(req.body);
    if (!(await isRetired(device))) throw new HttpError(409, `${device.name} is not retired`);
    await store.setRetirement(device.id, null);
    // Only the hash of an entry token is stored: the device gets a new one, shown this once.
    const entryToken = newEntryToken();
    const updated = await change(device, { entryToken },
      { type: 'device.reinstated', level: 'info', message: `${device.name} (serial ${device.serial}) back in use with a new entry point: ${reason}` }, sessionOf(res).username, { source: sourceOf(req), reason });
    res.set('Cache-Control', 'no-store').json({ device: deviceView(updated, [], [], now(), config.jobs.offline.missedIntervals), entryUrl: entryUrl(config, { ...updated, entryToken }) });
  });

  // A new probe (device) at the same place: registered under the old one's name and location, the
  // old one retired, so the location's history runs on across both.
  router.post('/devices/:id/replace', requireRole('administrator'), async (req, res) => {
    const old = await deviceById(req.params.id);
    if (await isRetired(old)) throw new HttpError(409, `${old.name} is already retired`);
    const body = parseReplacement(req.body);
    const by = sessionOf(res).username;
    let device: IssuedDevice;
    try {
      device = await registerDevice(store, { serial: body.serial, model: body.model, family: body.family as Family | undefined, name: old.name, location: old.location, zoneId: old.zoneId ?? undefined }, by, now(), { source: sourceOf(req), reason: body.reason });
    } catch (err) {
      if (err instanceof RegistrationError) throw new HttpError(err.conflict ? 409 : 400, err.message);
      throw err;
    }
    await registry.refresh();
    await retire(old, `replaced by serial ${device.serial} (${device.model}): ${body.reason}`, by, sourceOf(req));
    await store.addEvent({ at: now(), deviceId: device.id, type: 'device.replaced', level: 'info', actor: by, source: sourceOf(req),
      message: `${device.name} at ${device.location || 'no location'}: serial ${old.serial} replaced by ${device.serial} (by ${by}): ${body.reason}`,
      data: { replaces: old.id, by } });
    res.status(201).set('Cache-Control', 'no-store').json({ device: deviceView(device, [], await store.listChannels(device.id), now(), config.jobs.offline.missedIntervals), entryUrl: entryUrl(config, device) });
  });

  router.post('/devices', requireRole('administrator'), async (req, res) => {
    const body = parseNewDevice(req.body);
    const at = now();
    // Registering needs the administrator role on the zone the device goes to; only a global
    // administrator may name a zone path that does not exist yet (it is created).
    const scope = await scopeOf(store, res);
    const target = body.zoneId !== undefined ? scope.tree.get(body.zoneId) : body.location?.trim() ? scope.tree.find(body.location) : undefined;
    if (body.zoneId !== undefined && !target) throw new HttpError(404, `no zone with id ${body.zoneId}, or not in your zones`);
    scope.requireZone(target ? target.id : null, 'administrator');
    let device: IssuedDevice;
    try {
      const { reason, ...registration } = body;
      device = await registerDevice(store, { ...registration, zoneId: target?.id, family: body.family as Family | undefined }, sessionOf(res).username, at, { source: sourceOf(req), reason: reason ?? null });
    } catch (err) {
      if (err instanceof RegistrationError) throw new HttpError(err.conflict ? 409 : 400, err.message);
      throw err;
    }
    await registry.refresh();
    res.status(201).set('Cache-Control', 'no-store').json({ device: deviceView(device, [], await store.listChannels(device.id), at, config.jobs.offline.missedIntervals), entryUrl: entryUrl(config, device) });
  });

  router.patch('/devices/:id', requireRole('operator'), async (req, res) => {
    let device = await deviceById(req.params.id);
    const { reason, zoneId, location, ...rename } = parseRename(req.body);
    const by = sessionOf(res).username;
    // A location is a zone now: moving a device to another zone needs the administrator role on
    // both zones (the path may name an existing zone, or a new one for a global administrator).
    if (zoneId !== undefined || location !== undefined) {
      const scope = await scopeOf(store, res);
      const target = zoneId !== undefined ? (zoneId === null ? null : scope.tree.get(zoneId) ?? undefined)
        : location!.trim() ? scope.tree.find(location!) ?? undefined : null;
      if (target === undefined && zoneId !== undefined) throw new HttpError(404, `no zone with id ${zoneId}, or not in your zones`);
      // target undefined: a path that names no zone yet (made below), which is always a move.
      if (target === undefined || (target?.id ?? null) !== device.zoneId) {
        scope.requireZone(device.zoneId, 'administrator');
        scope.requireZone(target?.id ?? null, 'administrator');
        try {
          const zone = target === undefined ? await ensureZonePath(store, location!, { by, at: now(), reason, source: sourceOf(req) }) : target;
          device = await placeDevice(store, device, zone?.id ?? null, { by, at: now(), reason, source: sourceOf(req) });
        } catch (err) {
          if (err instanceof ZoneError) throw new HttpError(err.conflict ? 409 : 400, err.message);
          throw err;
        }
        await registry.refresh();
      }
    }
    const updated = rename.name === undefined || rename.name === device.name ? device
      : await change(device, rename, { type: 'device.renamed', level: 'info', message: `${device.name} renamed to "${rename.name}"` }, by, { source: sourceOf(req), reason });
    res.json({ device: deviceView(updated, [], [], now(), config.jobs.offline.missedIntervals) });
  });

  router.put('/devices/:id/interval', requireRole('administrator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const { allowedIntervalS: seconds, reason } = parseInterval(req.body);
    const was = device.allowedIntervalS === null ? 'what the device declares' : `${device.allowedIntervalS} s`;
    const updated = await change(device, { allowedIntervalS: seconds }, {
      type: 'device.interval', level: 'info', message: `${device.name}: allowed interval changed from ${was} to ${seconds === null ? 'what the device declares' : `${seconds} s`}`,
    }, sessionOf(res).username, { source: sourceOf(req), reason });
    res.json({ device: deviceView(updated, [], [], now(), config.jobs.offline.missedIntervals) });
  });

  /** GSM/LTE loggers: how the device clock is read (UTC, local time, or decided per upload). */
  router.put('/devices/:id/clock', requireRole('administrator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const { loggerClock, reason } = parseClock(req.body);
    if (device.family !== 'logger') throw new HttpError(400, `${device.name} is a ${device.family} device; only GSM/LTE loggers send a clock to read`);
    const by = sessionOf(res).username;
    const at = now();
    const event = loggerClockChange(device, loggerClock, by, reason ?? null);
    const updated = await store.updateDevice(device.id, { loggerClock }, at);
    await store.addEvent({ at, deviceId: device.id, actor: by, source: sourceOf(req), ...event });
    await registry.refresh();
    res.json({ device: deviceView(updated, [], [], now(), config.jobs.offline.missedIntervals) });
  });

  router.post('/devices/:id/suspend', requireRole('operator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const { reason } = parseSuspend(req.body);
    if (device.state === 'suspended') throw new HttpError(409, `${device.name} is already suspended`);
    const updated = await change(device, { state: 'suspended', suspendedReason: `suspended in the viewer: ${reason}` }, { type: 'device.suspended', level: 'warning', message: `${device.name} suspended: ${reason}` }, sessionOf(res).username, { source: sourceOf(req), reason });
    res.json({ device: deviceView(updated, [], [], now(), config.jobs.offline.missedIntervals) });
  });

  router.get('/devices/:id/quarantine', requireRole('operator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const entries = await store.quarantined(device.id);
    res.json({ uploads: entries.length, readings: entries.reduce((n, e) => n + e.readings.length, 0) });
  });

  router.post('/devices/:id/resume', requireRole('operator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const { importData, reason, signature } = parseResume(req.body);
    // an active device may have readings kept aside too: those dated before its registration
    if (device.state !== 'suspended' && !(await store.quarantined(device.id)).length) throw new HttpError(409, `${device.name} is not suspended and has nothing kept aside`);
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), sourceOf(req));
    const released = await store.releaseQuarantine(device.id, importData, now());
    const updated = await change(device, { state: 'active' }, {
      type: 'device.resumed', level: 'info',
      message: `${device.name} resumed; ${released.uploads} quarantined upload(s) ${importData ? `imported (${released.samplesImported} samples)` : 'released without import'}, ` +
        `with electronic signature (${signed.meaning})`,
      data: { released, importData, signature: signed },
    }, signed.by, { source: sourceOf(req), reason });
    res.json({ device: deviceView(updated, [], [], now(), config.jobs.offline.missedIntervals), released });
  });

  /** The versions of a device's channels' quantities and units, oldest first. */
  router.get('/devices/:id/channel-units', async (req, res) => {
    const device = await deviceById(req.params.id);
    res.json({ versions: await store.channelUnits(device.id) });
  });

  /**
   * Confirms that a channel now measures in `unit` (after a device reported another unit and was
   * suspended for it): a new unit version from now on, signed. Resuming (with or without the
   * quarantined data) is then a separate, also signed, step.
   */
  router.post('/devices/:id/channels/:channel/unit', requireRole('administrator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const channel = (await store.listChannels(device.id)).find((c) => c.channel === Number(req.params.channel));
    if (!channel) throw new HttpError(404, `no channel ${req.params.channel} on device ${device.id}`);
    const { unit, reason, signature } = parseUnitChange(req.body);
    const canonical = canonicalUnit(channel.quantity, unit);
    if (canonical === null) throw new HttpError(400, `"${unit}" is not a unit of ${channel.quantity}: use one of ${unitsOf(channel.quantity).join(', ')}`);
    if (canonical === channel.unit) throw new HttpError(409, `channel ${channel.channel} already measures in ${canonical}`);
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), sourceOf(req));
    // The new unit holds from the first reading held back in it, so that importing those readings files them under it.
    let validFrom = signed.at;
    for (const entry of await store.quarantined(device.id)) {
      for (const r of entry.readings) if (r.channel === channel.channel && r.unit === canonical) validFrom = Math.min(validFrom, r.sampleTime ?? entry.receivedAt);
    }
    await store.setChannelUnit(device.id, channel.channel, channel.quantity, canonical, validFrom, signed.by, reason.trim(), { source: sourceOf(req), signatureMeaning: signed.meaning });
    await registry.refresh();
    res.json({ versions: await store.channelUnits(device.id) });
  });

  // Only the hash of an entry token is stored, so an entry point cannot be shown again: a new one is
  // issued (the old one stops working at once) and shown this once.
  router.post('/devices/:id/entry-point', requireRole('administrator'), async (req, res) => {
    const device = await deviceById(req.params.id);
    const { reason } = parseSuspend(req.body);
    const renewed = await renewEntryToken(store, device, sessionOf(res).username, now(), { source: sourceOf(req), reason });
    await registry.refresh();
    res.set('Cache-Control', 'no-store').json({ entryUrl: entryUrl(config, renewed) });
  });
  return router;
}
