// The audit-trail review (issue 18): every event, filtered by user, type, device and period, paged
// through all of them (newest first, by id), exported as CSV or PDF, and a signed "reviewed by …"
// record. Operators and administrators only: the trail names users and addresses.
import { Router, type Response } from 'express';
import type { EventQuery, Store, StoredEvent } from '../store/store.ts';
import { requireRole, sessionOf } from './auth.ts';
import { HttpError, bodyParser, queryParser } from './http.ts';
import { SIGNATURE_SCHEMA, type SignatureInput, describeSignature, verifySignature } from './signatures.ts';
import { visibleDeviceIds } from './scope.ts';

export const AUDIT_LIMITS = { page: 500, export: 100_000 } as const;

interface AuditFilter { actor?: string; type?: string; device?: number; from?: number; to?: number }

/** A caller limited to zones sees the events of their zones' devices only (none of users, zones or the system). */
type Sight = { deviceIds?: number[] };

async function sightOf(store: Store, res: Response): Promise<Sight> {
  const visible = await visibleDeviceIds(store, res);
  return visible === 'all' ? {} : { deviceIds: [...visible] };
}

const FILTER_PROPERTIES = {
  actor: { type: 'string', minLength: 1, maxLength: 128 },
  /** A type or a prefix ending in "." (alarm., user., device.). */
  type: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[a-z0-9.-]+$' },
  device: { type: 'integer', minimum: 1 },
  from: { type: 'integer', minimum: 0, maximum: 8.64e15 },
  to: { type: 'integer', minimum: 0, maximum: 8.64e15 },
} as const;

const parsePageQuery = queryParser<AuditFilter & { before?: number; limit: number }>({
  type: 'object', additionalProperties: false,
  properties: { ...FILTER_PROPERTIES, before: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: AUDIT_LIMITS.page, default: 100 } },
});
const parseExportQuery = queryParser<AuditFilter & { tz?: string }>({
  type: 'object', additionalProperties: false, properties: { ...FILTER_PROPERTIES, tz: { type: 'string', maxLength: 64 } },
});
const parseReview = bodyParser<AuditFilter & { comment: string; signature?: SignatureInput }>({
  type: 'object', additionalProperties: false, required: ['comment'],
  properties: { ...FILTER_PROPERTIES, comment: { type: 'string', minLength: 3, maxLength: 2000, pattern: '\\S' }, signature: SIGNATURE_SCHEMA },
});

function storeQuery(f: AuditFilter, sight: Sight = {}): EventQuery {
  return {
    ...sight,
    actor: f.actor, deviceId: f.device, since: f.from, until: f.to,
    ...(f.type ? (f.type.endsWith('.') ? { typePrefix: f.type } : { type: f.type }) : {}),
  };
}

/** Pages through every event matching the filter, newest first, without holding them all. */
async function* allEvents(store: Store, f: AuditFilter, max: number, sight: Sight): AsyncGenerator<StoredEvent> {
  let before: number | undefined;
  let n = 0;
  for (;;) {
    const page = await store.events({ ...storeQuery(f, sight), beforeId: before, limit: 5000 });
    for (const e of page) { if (n++ >= max) return; yield e; }
    if (page.length < 5000) return;
    before = page[page.length - 1].id;
  }
}

function describeFilter(f: AuditFilter): string {
  const parts = [
    f.actor ? `user ${f.actor}` : '', f.type ? `type ${f.type}` : '', f.device ? `device ${f.device}` : '',
    f.from !== undefined ? `from ${new Date(f.from).toISOString()}` : '', f.to !== undefined ? `to ${new Date(f.to).toISOString()}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'all events';
}

const CSV_COLUMNS = ['id', 'time (UTC)', 'recorded (UTC)', 'user', 'source', 'device', 'type', 'level', 'message', 'data'];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  // Quoted always; a leading = + - @ is neutralised so that a spreadsheet does not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

function eventCells(e: StoredEvent): unknown[] {
  const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? '' : new Date(ms).toISOString());
  return [e.id, iso(e.at), iso(e.recordedAt), e.actor ?? '', e.source ?? '', e.deviceId ?? '', e.type, e.level, e.message, e.data ? JSON.stringify(e.data) : ''];
}

async function writeCsv(res: Response, store: Store, f: AuditFilter, sight: Sight): Promise<void> {
  res.type('text/csv; charset=utf-8').attachment(`inlet-audit-trail-${new Date().toISOString().slice(0, 10)}.csv`);
  res.write(`\uFEFF# Inlet audit trail: ${describeFilter(f)}; exported ${new Date().toISOString()}\r\n`);
  res.write(`${CSV_COLUMNS.map(csvCell).join(',')}\r\n`);
  for await (const e of allEvents(store, f, AUDIT_LIMITS.export, sight)) res.write(`${eventCells(e).map(csvCell).join(',')}\r\n`);
  res.end();
}

async function writePdf(res: Response, store: Store, f: AuditFilter, by: string, sight: Sight): Promise<void> {
  // pdfkit is loaded on the first export, not with the viewer's API: most gateways never need its memory.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ size: 'A4', layout: 'landscape', margin: 36, info: { Title: 'Inlet audit trail', Author: 'Inlet' } });
  res.type('application/pdf').attachment(`inlet-audit-trail-${new Date().toISOString().slice(0, 10)}.pdf`);
  doc.pipe(res);
  doc.fontSize(16).text('Audit trail');
  doc.fontSize(9).fillColor('#444').text(`${describeFilter(f)}. Exported by ${by} at ${new Date().toISOString()} (times in UTC).`);
  doc.moveDown(0.5);
  const widths = [40, 105, 70, 80, 95, 380];
  const header = ['#', 'Time (UTC)', 'User', 'Source', 'Type', 'What'];
  const row = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8).fillColor('#000');
    let x = doc.page.margins.left;
    let bottom = y;
    cells.forEach((c, i) => {
      doc.text(c, x, y, { width: widths[i] - 6 });
      bottom = Math.max(bottom, doc.y);
      x += widths[i];
    });
    doc.x = doc.page.margins.left;
    doc.y = bottom + 3;
    if (doc.y > doc.page.height - doc.page.margins.bottom - 30) { doc.addPage(); row(header, true); }
  };
  row(header, true);
  let n = 0;
  for await (const e of allEvents(store, f, AUDIT_LIMITS.export, sight)) {
    row([String(e.id), new Date(e.at).toISOString().replace('T', ' ').slice(0, 19), e.actor ?? 'system', e.source ?? '', e.type, e.message.slice(0, 600)]);
    n++;
  }
  doc.moveDown().font('Helvetica').fontSize(9).text(`${n} event(s).`);
  doc.end();
}

export function auditRouter(deps: { store: Store; now: () => number }): Router {
  const { store, now } = deps;
  const router = Router();

  router.get('/audit', requireRole('operator'), async (req, res) => {
    const q = parsePageQuery(req.query);
    const sight = await sightOf(store, res);
    const events = await store.events({ ...storeQuery(q, sight), beforeId: q.before, limit: q.limit });
    const reviews = await store.events({ ...sight, type: 'audit.reviewed', limit: 5 });
    res.json({ events, nextBefore: events.length === q.limit ? events[events.length - 1].id : null, reviews });
  });

  router.get('/audit.csv', requireRole('operator'), async (req, res) => {
    await writeCsv(res, store, parseExportQuery(req.query), await sightOf(store, res));
  });

  router.get('/audit.pdf', requireRole('operator'), async (req, res) => {
    await writePdf(res, store, parseExportQuery(req.query), sessionOf(res).username, await sightOf(store, res));
  });

  /** "Reviewed by … with signature": the reviewer signs what they reviewed (the filter and period) with a comment. */
  router.post('/audit/review', requireRole('operator'), async (req, res) => {
    const { comment, signature, ...filter } = parseReview(req.body);
    if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) throw new HttpError(400, '"to" must be after "from"');
    const signed = await verifySignature(store, sessionOf(res).username, signature, now(), req.ip ?? null);
    const [newest] = await store.events({ ...storeQuery(filter, await sightOf(store, res)), limit: 1 });
    await store.addEvent({
      at: signed.at, deviceId: filter.device ?? null, type: 'audit.reviewed', level: 'info', actor: signed.by, source: req.ip ?? null,
      message: `audit trail (${describeFilter(filter)}) reviewed by ${signed.by} with electronic signature (${signed.meaning}): ${comment.trim()}`,
      data: { filter, throughEventId: newest?.id ?? null, comment: comment.trim(), signature: signed },
    });
    res.status(201).json({ review: { ...signed, filter, throughEventId: newest?.id ?? null, comment: comment.trim(), text: describeSignature(signed) } });
  });
  return router;
}
