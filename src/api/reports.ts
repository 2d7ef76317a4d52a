// Server-made PDF reports for the viewer: make one (any signed-in user), sign one (operators and
// administrators, re-entering their password with the meaning "approved"), and the scheduled
// reports an administrator keeps. The PDF is the same as `inlet report` makes.
import { Router } from 'express';
import type { InletConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { ReportScheduleInput } from '../store/report-records.ts';
import { HttpError, bodyParser, idParam, queryParser } from './http.ts';
import { requireReason } from './reason.ts';
import { requireGlobalRole, requireRole, sessionOf } from './auth.ts';
import { scopeOf } from './scope.ts';
import { verifySignature } from './signatures.ts';
import { ReportConflictError, ReportNotFoundError, makeReport, reportSettings, reportTimeZone, signReport, type MadeReport } from '../report/issue.ts';
import { ReportRequestError } from '../report/model.ts';
import { isTimeZone, formatLocalDate } from '../report/time-zone.ts';
import { allSchedules } from '../report/schedule.ts';
import { drawInWorker } from '../report/draw.ts';

const TIME = { type: 'integer', minimum: 0, maximum: 8.64e15 } as const;
/** What a signature may mean; the viewer offers "approved". */
export const SIGNATURE_MEANINGS = ['approved', 'reviewed'] as const;

const parseReportQuery = queryParser<{ devices: string; channels?: string; from: number; to: number; tz?: string; title?: string }>({
  type: 'object', additionalProperties: false, required: ['devices', 'from', 'to'],
  properties: {
    devices: { type: 'string', pattern: '^\\d{1,9}(,\\d{1,9})*$', maxLength: 500 },
    channels: { type: 'string', pattern: '^\\d{1,9}:\\d{1,3}(,\\d{1,9}:\\d{1,3})*$', maxLength: 1000 },
    from: TIME, to: TIME, tz: { type: 'string', maxLength: 64 }, title: { type: 'string', maxLength: 200 },
  },
});

// The shape of issue 18's electronic signatures: { signature: { password, meaning } }.
const parseSignBody = bodyParser<{ signature: { password: string; meaning: (typeof SIGNATURE_MEANINGS)[number] } }>({
  type: 'object', additionalProperties: false, required: ['signature'],
  properties: {
    signature: {
      type: 'object', additionalProperties: false, required: ['password', 'meaning'],
      properties: { password: { type: 'string', minLength: 1, maxLength: 200 }, meaning: { type: 'string', enum: [...SIGNATURE_MEANINGS] } },
    },
  },
});

const EMAIL = { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 254 } as const;
const parseSchedule = bodyParser<ReportScheduleInput & { reason: string }>({
  type: 'object', additionalProperties: false, required: ['name', 'scope', 'period', 'reason'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 }, scope: { type: 'string', enum: ['location', 'devices'] },
    location: { type: 'string', maxLength: 200, default: '' }, deviceIds: { type: 'array', maxItems: 100, items: { type: 'integer', minimum: 1 }, default: [] },
    period: { type: 'string', enum: ['daily', 'weekly', 'monthly'] }, mailTo: { type: 'array', maxItems: 50, items: EMAIL, default: [] },
    folder: { type: 'string', maxLength: 400, default: '' }, enabled: { type: 'boolean', default: true },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
  },
});
const parseRemoval = bodyParser<{ reason: string }>({
  type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
});

function sendPdf(res: import('express').Response, made: MadeReport, timeZone: string, suffix = ''): void {
  const first = formatLocalDate(made.model.from, timeZone);
  const last = formatLocalDate(made.model.to - 1, timeZone);
  res.set({
    'Content-Type': 'application/pdf',
    'Content-Disposition': `attachment; filename="inlet-report-${first}_${last}-${made.issued.code}${suffix}.pdf"`,
    'X-Inlet-Report-Code': made.issued.code,
    'Cache-Control': 'no-store',
  });
  res.send(made.pdf);
}

function checkSchedule(s: ReportScheduleInput): void {
  if (s.scope === 'location' && !s.location) throw new HttpError(400, 'a schedule by location needs the location');
  if (s.scope === 'devices' && !s.deviceIds.length) throw new HttpError(400, 'a schedule by devices needs at least one device');
  if (!s.mailTo.length && !s.folder) throw new HttpError(400, 'the report would go nowhere: give addresses to mail it to, a folder to write it to, or both');
}

export function reportsRouter(deps: { store: Store; config: InletConfig; version: string; now: () => number }): Router {
  const { store, config, version, now } = deps;
  const router = Router();
  const draw = drawInWorker(config, store);

  router.get('/report.pdf', async (req, res) => {
    const q = parseReportQuery(req.query);
    const timeZone = q.tz ?? reportTimeZone(config);
    if (!isTimeZone(timeZone)) throw new HttpError(400, `unknown time zone "${timeZone}": use an IANA name such as Europe/Prague`);
    try {
      const made = await makeReport(store, {
        deviceIds: q.devices.split(',').map(Number), channels: q.channels?.split(','), from: q.from, to: q.to, timeZone, title: q.title,
      }, reportSettings(config, version), sessionOf(res).username, now(), draw, req.ip ?? null);
      sendPdf(res, made, timeZone);
    } catch (err) {
      if (err instanceof ReportRequestError) throw new HttpError(/^no (device|channel)/.test(err.message) ? 404 : 400, err.message);
      throw err;
    }
  });

  router.post('/reports/:code/sign', requireRole('operator'), async (req, res) => {
    const code = String(req.params.code).toUpperCase();
    if (!/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(code)) throw new HttpError(404, `no report with verification code "${code}"`);
    const { signature } = parseSignBody(req.body);
    const session = sessionOf(res);
    // signing a report of devices outside the caller's zones, or without the operator role there, is refused before the password is looked at
    const original = await store.findIssuedReport({ code });
    if (!original) throw new HttpError(404, `no report with verification code ${code}, or not of your zones`);
    const scope = await scopeOf(store, res);
    const devices = await store.listDevices();
    for (const id of (original.request.deviceIds as number[] | undefined) ?? []) {
      const device = devices.find((d) => d.id === id);
      if (!device || !scope.canSee(device)) throw new HttpError(404, `no report with verification code ${code}, or not of your zones`);
      scope.require(device, 'operator');
    }
    // The password is checked as every signature is (signatures.ts): the directory for a directory
    // account, the sign-in slow-down, and a 'signature.refused' event for a wrong one.
    const signed = await verifySignature(store, session.username, signature, now(), req.ip ?? null).catch((err: unknown) => {
      // the viewer's report dialog says it in its own words; the refusal is recorded as it is for any signature
      if (err instanceof HttpError && err.status === 403) throw new HttpError(403, 'the password is not right: the report was not signed');
      throw err;
    });
    try {
      const made = await signReport(store, code, signed.by, signed.meaning, reportSettings(config, version), signed.at, draw, req.ip ?? null);
      sendPdf(res, made, String(made.issued.request.timeZone ?? reportTimeZone(config)), '-signed');
    } catch (err) {
      if (err instanceof ReportNotFoundError) throw new HttpError(404, err.message);
      if (err instanceof ReportConflictError) throw new HttpError(409, err.message);
      throw err;
    }
  });

  router.get('/report-schedules', requireGlobalRole('administrator'), async (_req, res) => {
    const [fromDb, all] = await Promise.all([store.listReportSchedules(), allSchedules(config, store)]);
    res.json({ timeZone: reportTimeZone(config), schedule: config.reports.schedule, schedules: fromDb, fromConfig: all.filter((s) => s.source === 'config') });
  });

  router.post('/report-schedules', requireGlobalRole('administrator'), async (req, res) => {
    requireReason(req.body);
    const { reason, ...schedule } = parseSchedule(req.body);
    checkSchedule(schedule);
    try {
      res.status(201).json(await store.saveReportSchedule(undefined, schedule, sessionOf(res).username, reason, now(), req.ip ?? null));
    } catch (err) {
      if (/already exists/.test((err as Error).message)) throw new HttpError(409, (err as Error).message);
      throw err;
    }
  });

  router.put('/report-schedules/:id', requireGlobalRole('administrator'), async (req, res) => {
    requireReason(req.body);
    const id = idParam(req.params.id, 'scheduled report');
    const { reason, ...schedule } = parseSchedule(req.body);
    checkSchedule(schedule);
    let saved;
    try {
      saved = await store.saveReportSchedule(id, schedule, sessionOf(res).username, reason, now(), req.ip ?? null);
    } catch (err) {
      if (/already exists/.test((err as Error).message)) throw new HttpError(409, (err as Error).message);
      throw err;
    }
    if (!saved) throw new HttpError(404, `no scheduled report with id ${id}`);
    res.json(saved);
  });

  router.delete('/report-schedules/:id', requireGlobalRole('administrator'), async (req, res) => {
    requireReason(req.body);
    const id = idParam(req.params.id, 'scheduled report');
    const { reason } = parseRemoval(req.body);
    if (!await store.removeReportSchedule(id, sessionOf(res).username, reason, now(), req.ip ?? null)) throw new HttpError(404, `no scheduled report with id ${id}`);
    res.status(204).end();
  });
  return router;
}
