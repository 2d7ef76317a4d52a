// Alarms in the viewer: the list for everyone signed in, acknowledgement with a mandatory
// comment for operators and administrators (one alarm, or many selected with one comment, each
// still its own record), alarm limits set by operators and administrators, per channel or one
// set for many channels at once. Roles are checked here, on the server; the store writes every
// change to the (append-only) event log.
import { Router } from 'express';
import type { AlarmLimit } from '../domain/types.ts';
import type { AlarmMonitor } from '../pipeline/alarm-monitor.ts';
import type { Store } from '../store/store.ts';
import { requireRole, sessionOf } from './auth.ts';
import { scopeOf, visibleDeviceIds } from './scope.ts';
import { HttpError, bodyParser, idParam, queryParser } from './http.ts';
import { requireReason } from './reason.ts';
import { SIGNATURE_SCHEMA, type SignatureInput as Signature, verifySignature } from './signatures.ts';

const parseAlarmQuery = queryParser<{ open: boolean; device?: number; limit: number }>({
  type: 'object', additionalProperties: false,
  properties: { open: { type: 'boolean', default: false }, device: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } },
});

const COMMENT = { type: 'string', minLength: 3, maxLength: 1000, pattern: '\\S' } as const;
const parseAcknowledgement = bodyParser<{ comment: string; signature?: Signature }>({
  type: 'object', additionalProperties: false, required: ['comment'],
  properties: { comment: COMMENT, signature: SIGNATURE_SCHEMA },
});

/** At most this many alarms in one bulk acknowledgement. */
export const BULK_ACKNOWLEDGE_MAX = 500;
const parseBulkAcknowledgement = bodyParser<{ ids: number[]; comment: string; signature?: Signature }>({
  type: 'object', additionalProperties: false, required: ['ids', 'comment'],
  properties: {
    ids: { type: 'array', minItems: 1, maxItems: BULK_ACKNOWLEDGE_MAX, uniqueItems: true, items: { type: 'integer', minimum: 1 } },
    comment: COMMENT, signature: SIGNATURE_SCHEMA,
  },
});

const LIMIT_VALUE = { type: ['number', 'null'] } as const;
const LIMITS_SCHEMA = {
  type: 'array', maxItems: 2,
  items: {
    type: 'object', additionalProperties: false, required: ['level'],
    properties: {
      level: { enum: ['warning', 'alarm'] },
      high: { ...LIMIT_VALUE, default: null },
      low: { ...LIMIT_VALUE, default: null },
      delayS: { type: 'integer', minimum: 0, maximum: 86_400, default: 0 },
      hysteresis: { type: 'number', minimum: 0, default: 0 },
    },
  },
} as const;
type LimitSet = Omit<AlarmLimit, 'deviceId' | 'channel'>[];

/** One set of limits for many channels ("deviceId:channel"): a template applied at once. */
const REASON = { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } as const;

const parseLimitTemplate = bodyParser<{ channels: string[]; limits: LimitSet; reason: string; signature?: Signature }>({
  type: 'object', additionalProperties: false, required: ['channels', 'limits', 'reason'],
  properties: {
    reason: REASON,
    channels: { type: 'array', minItems: 1, maxItems: 500, uniqueItems: true, items: { type: 'string', pattern: '^\\d{1,9}:\\d{1,3}$' } },
    limits: LIMITS_SCHEMA, signature: SIGNATURE_SCHEMA,
  },
});

/** The checks a set of limits must pass before it is stored (the store's constraints say the same). */
export function limitSetProblem(limits: LimitSet): string | null {
  if (new Set(limits.map((l) => l.level)).size !== limits.length) return 'give each level (warning, alarm) at most once';
  for (const l of limits) {
    if (l.high === null && l.low === null) return `the ${l.level} limits need a high or a low value (send no entry to remove them)`;
    if (l.high !== null && l.low !== null && l.low >= l.high) return `the ${l.level} low limit must be below its high limit`;
  }
  return null;
}

const parseLimits = bodyParser<{ limits: LimitSet; reason: string; signature?: Signature }>({
  type: 'object', additionalProperties: false, required: ['limits', 'reason'],
  properties: { limits: LIMITS_SCHEMA, reason: REASON, signature: SIGNATURE_SCHEMA },
});

export function alarmsRouter(deps: { store: Store; alarmMonitor: AlarmMonitor; now: () => number }): Router {
  const { store, alarmMonitor, now } = deps;
  const router = Router();

  router.get('/alarms', async (req, res) => {
    const q = parseAlarmQuery(req.query);
    const visible = await visibleDeviceIds(store, res);
    res.json({ alarms: await store.alarms({ open: q.open, deviceId: q.device, limit: q.limit, deviceIds: visible === 'all' ? undefined : [...visible] }) });
  });

  // Many alarms, one comment: each alarm gets its own acknowledgement record and event. Alarms
  // someone else acknowledged meanwhile are reported back, not an error.
  router.post('/alarms/acknowledge', requireRole('operator'), async (req, res) => {
    const { ids, comment, signature } = parseBulkAcknowledgement(req.body);
    // each alarm on its own zone: out of sight is a 404, too low a role there a 403, and then nothing is acknowledged
    const scope = await scopeOf(store, res);
    const devices = new Map((await store.listDevices()).map((d) => [d.id, d]));
    for (const id of ids) {
      const [alarm] = await store.alarms({ id, limit: 1 });
      if (!alarm) continue;
      const device = alarm.deviceId === null ? undefined : devices.get(alarm.deviceId);
      if (alarm.deviceId !== null && !device) continue;
      if (device) scope.require(device, 'operator', 'alarm');
      else scope.requireZone(null, 'operator');
    }
    // Signed (issue 18): the password again and a meaning, bound to each acknowledgement and its event.
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    const acknowledged: number[] = [];
    const skipped: number[] = [];
    for (const id of ids) {
      const alarm = await store.acknowledgeAlarm(id, signed.by, comment.trim(), signed.at, signed.meaning, req.ip ?? null);
      (alarm ? acknowledged : skipped).push(id);
    }
    res.json({ acknowledged, skipped });
  });

  router.post('/alarms/:id/acknowledge', requireRole('operator'), async (req, res) => {
    const id = idParam(req.params.id, 'alarm');
    const { comment, signature } = parseAcknowledgement(req.body);
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    const alarm = await store.acknowledgeAlarm(id, signed.by, comment.trim(), signed.at, signed.meaning, req.ip ?? null);
    if (!alarm) throw new HttpError(409, `alarm ${id} does not exist or is already acknowledged: reload the alarm list`);
    res.json({ alarm });
  });

  router.get('/alarm-limits', async (req, res) => {
    const { device } = queryParser<{ device?: number }>({
      type: 'object', additionalProperties: false, properties: { device: { type: 'integer', minimum: 1 } },
    })(req.query);
    const visible = await visibleDeviceIds(store, res);
    res.json({ limits: (await store.alarmLimits(device)).filter((l) => visible === 'all' || visible.has(l.deviceId)) });
  });

  // One set of limits for many channels at once (a template: every fridge 2–8 °C).
  router.put('/alarm-limits', requireRole('operator'), async (req, res) => {
    requireReason(req.body);
    const { channels, limits, reason, signature } = parseLimitTemplate(req.body);
    const problem = limitSetProblem(limits);
    if (problem) throw new HttpError(400, problem);
    const known = new Set((await store.listChannels()).map((c) => `${c.deviceId}:${c.channel}`));
    const unknown = channels.filter((c) => !known.has(c));
    if (unknown.length) throw new HttpError(404, `no such channel: ${unknown.join(', ')} (deviceId:channel)`);
    const scope = await scopeOf(store, res);
    const devices = new Map((await store.listDevices()).map((d) => [d.id, d]));
    for (const key of channels) scope.require(devices.get(Number(key.split(':')[0])), 'operator');
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    for (const key of channels) {
      const [deviceId, channel] = key.split(':').map(Number);
      await store.setAlarmLimits(deviceId, channel, limits.map((l) => ({ ...l, deviceId, channel })), signed.by, signed.at, { source: req.ip ?? null, reason, signatureMeaning: signed.meaning });
    }
    await alarmMonitor.reloadLimits();
    res.json({ limits: await store.alarmLimits() });
  });

  router.put('/devices/:id/channels/:channel/alarm-limits', requireRole('operator'), async (req, res) => {
    requireReason(req.body);
    const deviceId = idParam(req.params.id, 'device');
    const channel = Number(req.params.channel);
    if (!(await store.listChannels(deviceId)).some((c) => c.channel === channel)) throw new HttpError(404, `no channel ${req.params.channel} on device ${deviceId}`);
    const { limits, reason, signature } = parseLimits(req.body);
    const problem = limitSetProblem(limits);
    if (problem) throw new HttpError(400, problem);
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    const full = limits.map((l) => ({ ...l, deviceId, channel }));
    await store.setAlarmLimits(deviceId, channel, full, signed.by, signed.at, { source: req.ip ?? null, reason, signatureMeaning: signed.meaning });
    await alarmMonitor.reloadLimits();
    res.json({ limits: await store.alarmLimits(deviceId) });
  });
  return router;
}
