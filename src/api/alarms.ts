// Alarms in the viewer: the list for everyone signed in, acknowledgement with a mandatory
// comment for operators and administrators, alarm limits set by administrators only. Roles are
// checked here, on the server; the store writes every change to the (append-only) event log.
import { Router } from 'express';
import type { AlarmLimit } from '../domain/types.ts';
import type { AlarmMonitor } from '../pipeline/alarm-monitor.ts';
import type { Store } from '../store/store.ts';
import { requireRole, sessionOf } from './auth.ts';
import { scopeOf, visibleDeviceIds } from './scope.ts';
import { roleAtLeast } from '../domain/zones.ts';
import { HttpError, bodyParser, idParam, queryParser } from './http.ts';
import { SIGNATURE_SCHEMA, type SignatureInput, verifySignature } from './signatures.ts';

const parseAlarmQuery = queryParser<{ open: boolean; device?: number; limit: number }>({
  type: 'object', additionalProperties: false,
  properties: { open: { type: 'boolean', default: false }, device: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } },
});

const COMMENT = { type: 'string', minLength: 3, maxLength: 1000, pattern: '\\S' } as const;
const REASON = { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } as const;

// The signature is checked by verifySignature, which says what is missing; the schema only admits it.
const parseAcknowledgement = bodyParser<{ comment: string; signature?: SignatureInput }>({
  type: 'object', additionalProperties: false, required: ['comment'],
  properties: { comment: COMMENT, signature: SIGNATURE_SCHEMA },
});

const parseBulkAcknowledgement = bodyParser<{ ids: number[]; comment: string; signature?: SignatureInput }>({
  type: 'object', additionalProperties: false, required: ['ids', 'comment'],
  properties: { ids: { type: 'array', minItems: 1, maxItems: 500, uniqueItems: true, items: { type: 'integer', minimum: 1 } }, comment: COMMENT, signature: SIGNATURE_SCHEMA },
});

const LIMIT_VALUE = { type: ['number', 'null'] } as const;
const parseLimits = bodyParser<{ limits: Omit<AlarmLimit, 'deviceId' | 'channel'>[]; reason?: string; signature?: SignatureInput }>({
  type: 'object', additionalProperties: false, required: ['limits'],
  properties: {
    reason: REASON,
    signature: SIGNATURE_SCHEMA,
    limits: {
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
    },
  },
});

export function alarmsRouter(deps: { store: Store; alarmMonitor: AlarmMonitor; now: () => number }): Router {
  const { store, alarmMonitor, now } = deps;
  const router = Router();

  router.get('/alarms', async (req, res) => {
    const q = parseAlarmQuery(req.query);
    const visible = await visibleDeviceIds(store, res);
    res.json({ alarms: await store.alarms({ open: q.open, deviceId: q.device, limit: q.limit, deviceIds: visible === 'all' ? undefined : [...visible] }) });
  });

  // An acknowledgement is signed: the user's password again and the meaning they choose.
  router.post('/alarms/:id/acknowledge', requireRole('operator'), async (req, res) => {
    const id = idParam(req.params.id, 'alarm');
    const { comment, signature } = parseAcknowledgement(req.body);
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    const alarm = await store.acknowledgeAlarm(id, signed.by, comment.trim(), signed.at, signed.meaning, req.ip ?? null);
    if (!alarm) throw new HttpError(409, `alarm ${id} does not exist or is already acknowledged: reload the alarm list`);
    res.json({ alarm });
  });

  /** Several alarms with one comment and one signature; each is acknowledged (and recorded) on its own. */
  router.post('/alarms/acknowledge', requireRole('operator'), async (req, res) => {
    const { ids, comment, signature } = parseBulkAcknowledgement(req.body);
    // Each alarm must be one the caller may acknowledge (operator on its device's zone), as for one alarm by its path.
    const scope = await scopeOf(store, res);
    for (const id of ids) {
      const [alarm] = await store.alarms({ id, limit: 1 });
      const device = alarm?.deviceId == null ? undefined : await store.getDevice(alarm.deviceId);
      if (!alarm || (alarm.deviceId !== null && !device) || scope.roleOnZone(device ? device.zoneId : null) === null) {
        throw new HttpError(404, `no alarm with id ${id}, or not in your zones`);
      }
      if (!roleAtLeast(scope.roleOnZone(device ? device.zoneId : null), 'operator')) throw new HttpError(403, `acknowledging alarm ${id} needs the operator role on its zone`);
    }
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    const acknowledged = [];
    const skipped: number[] = [];
    for (const id of ids) {
      const alarm = await store.acknowledgeAlarm(id, signed.by, comment.trim(), signed.at, signed.meaning, req.ip ?? null);
      if (alarm) acknowledged.push(alarm); else skipped.push(id);
    }
    res.json({ alarms: acknowledged, skipped });
  });

  router.get('/alarm-limits', async (req, res) => {
    const { device } = queryParser<{ device?: number }>({
      type: 'object', additionalProperties: false, properties: { device: { type: 'integer', minimum: 1 } },
    })(req.query);
    const visible = await visibleDeviceIds(store, res);
    res.json({ limits: (await store.alarmLimits(device)).filter((l) => visible === 'all' || visible.has(l.deviceId)) });
  });

  router.put('/devices/:id/channels/:channel/alarm-limits', requireRole('administrator'), async (req, res) => {
    const deviceId = idParam(req.params.id, 'device');
    const channel = Number(req.params.channel);
    if (!(await store.listChannels(deviceId)).some((c) => c.channel === channel)) throw new HttpError(404, `no channel ${req.params.channel} on device ${deviceId}`);
    const { limits, reason, signature } = parseLimits(req.body);
    if (new Set(limits.map((l) => l.level)).size !== limits.length) throw new HttpError(400, 'give each level (warning, alarm) at most once');
    for (const l of limits) {
      if (l.high === null && l.low === null) throw new HttpError(400, `the ${l.level} limits need a high or a low value (send no entry to remove them)`);
      if (l.high !== null && l.low !== null && l.low >= l.high) throw new HttpError(400, `the ${l.level} low limit must be below its high limit`);
    }
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    const full = limits.map((l) => ({ ...l, deviceId, channel }));
    await store.setAlarmLimits(deviceId, channel, full, signed.by, signed.at, { source: req.ip ?? null, reason: reason?.trim() ?? null, signatureMeaning: signed.meaning });
    await alarmMonitor.reloadLimits();
    res.json({ limits: await store.alarmLimits(deviceId) });
  });
  return router;
}
