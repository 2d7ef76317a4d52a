// Measured data for the viewer: chart series (downsampled on the server), the raw table with
// paging, CSV export, the printable report's figures, and the event list.
import { Router, type Request, type Response } from 'express';
import type { Channel, Device } from '../domain/types.ts';
import { csvRows, csvText, localTimeFormatter } from '../domain/csv-export.ts';
import { allowedIntervalS } from '../pipeline/throttle.ts';
import { dailyCompleteness, overallCompleteness, type DayCompleteness } from '../domain/completeness.ts';
import type { SeriesPoint, Store } from '../store/store.ts';
import { visibleDeviceIds } from './scope.ts';
import { HttpError, queryParser } from './http.ts';
import { segmentSeries, splitByUnit, unitSegments, validityText, type UnitSegment } from '../store/unit-versions.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const LIMITS = {
  seriesRangeMs: 20 * 366 * DAY,
  seriesChannels: 8,
  maxPoints: 4000,
  defaultPoints: 2000,
  tableRows: 1000,
  exportRangeMs: 400 * DAY,
  exportChannels: 16,
  /** Rows one CSV export writes at most; the last line then says it stopped. */
  exportRows: 1_000_000,
  /** CSV exports running at once; more answer 503 with Retry-After. */
  concurrentExports: 2,
  events: 1000,
} as const;

/** Bucket widths a chart may use. From an hour up they are whole hours, so the store reads its hourly rollup. */
const BUCKET_STEPS_MS = [
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE,
  15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY,
];

/** The narrowest bucket that keeps a span within maxPoints points. */
export function chooseBucketMs(spanMs: number, maxPoints: number): number {
  const narrowest = spanMs / maxPoints;
  return BUCKET_STEPS_MS.find((step) => step >= narrowest) ?? Math.ceil(narrowest / DAY) * DAY;
}

interface ChannelRef { device: Device; channel: Channel }

const CHANNEL_LIST = '^\\d{1,9}:\\d{1,3}(,\\d{1,9}:\\d{1,3})*$';
const TIME = { type: 'integer', minimum: 0, maximum: 8.64e15 } as const;

/** Resolves "deviceId:channel,..." against registered devices; unknown ones are a 404 naming them. */
async function resolveChannels(store: Store, list: string, max: number): Promise<ChannelRef[]> {
  const pairs = [...new Set(list.split(','))].map((p) => p.split(':').map(Number) as [number, number]);
  if (pairs.length > max) throw new HttpError(400, `at most ${max} channels at once; you asked for ${pairs.length}`);
  const [devices, channels] = await Promise.all([store.listDevices(), store.listChannels()]);
  const deviceById = new Map(devices.map((d) => [d.id, d]));
  return pairs.map(([deviceId, number]) => {
    const device = deviceById.get(deviceId);
    const channel = channels.find((c) => c.deviceId === deviceId && c.channel === number);
    if (!device || !channel) throw new HttpError(404, `no channel ${number} on device ${deviceId}`);
    return { device, channel };
  });
}

function checkRange(from: number, to: number, maxMs: number): void {
  if (to <= from) throw new HttpError(400, '"to" must be after "from"');
  if (to - from > maxMs) throw new HttpError(400, `the range is too long: at most ${Math.round(maxMs / DAY)} days`);
}

/**
 * One channel's points over a range, at most maxPoints of them: the raw samples when the device's
 * interval allows that many at most, else min/avg/max per bucket.
 */
async function channelPoints(store: Store, ref: ChannelRef, from: number, to: number, maxPoints: number, seg?: UnitSegment): Promise<{ bucketMs: number; points: SeriesPoint[] }> {
  const d = ref.device;
  const q = { deviceId: d.id, channel: ref.channel.channel, from, to };
  if ((to - from) / (allowedIntervalS(d.family, d.allowedIntervalS, d.declaredIntervalS) * SECOND) <= maxPoints) {
    const raw = await store.samples(q.deviceId, q.channel, from, to, maxPoints + 1);
    if (raw.length <= maxPoints) {
      return { bucketMs: 0, points: raw.map((s) => ({ time: s.time, min: s.value, max: s.value, avg: s.value, count: 1, errors: s.errorCode === null ? 0 : 1 })) };
    }
  }
  const bucketMs = chooseBucketMs(to - from, maxPoints);
  // a unit version's share of the hour its unit changed in is not read from the (unit-blind) rollup
  return { bucketMs, points: seg ? await segmentSeries(store, d.id, ref.channel.channel, seg, bucketMs) : await store.series({ ...q, bucketMs }) };
}

function describeChannel(ref: ChannelRef) {
  return { deviceId: ref.device.id, deviceName: ref.device.name, location: ref.device.location, channel: ref.channel.channel, quantity: ref.channel.quantity, unit: ref.channel.unit };
}

/** A channel as one unit version shows it: the unit valid then, and when it began or ended inside the range. */
function describeSegment(seg: UnitSegment<ChannelRef>) {
  return { ...describeChannel(seg.ref), quantity: seg.quantity, unit: seg.unit, unitFrom: seg.unitFrom, unitUntil: seg.unitUntil };
}

/** Columns rather than objects: a third of the bytes, and what uPlot takes as it is. */
function columns(bucketMs: number, points: SeriesPoint[]) {
  return bucketMs === 0
    ? { bucketMs, time: points.map((p) => p.time), avg: points.map((p) => p.avg) }
    : { bucketMs, time: points.map((p) => p.time), avg: points.map((p) => p.avg), min: points.map((p) => p.min), max: points.map((p) => p.max) };
}

function summary(points: SeriesPoint[]) {
  let min: number | null = null;
  let max: number | null = null;
  let sum = 0;
  let valued = 0;
  let count = 0;
  let errors = 0;
  for (const p of points) {
    count += p.count;
    errors += p.errors;
    if (p.min !== null) min = min === null ? p.min : Math.min(min, p.min);
    if (p.max !== null) max = max === null ? p.max : Math.max(max, p.max);
    if (p.avg !== null) { sum += p.avg * (p.count - p.errors); valued += p.count - p.errors; }
  }
  return { min, max, avg: valued ? sum / valued : null, count, errors };
}

const parseSeriesQuery = queryParser<{ channels: string; from: number; to: number; points: number }>({
  type: 'object', additionalProperties: false, required: ['channels', 'from', 'to'],
  properties: {
    channels: { type: 'string', pattern: CHANNEL_LIST, maxLength: 400 }, from: TIME, to: TIME,
    points: { type: 'integer', minimum: 10, maximum: LIMITS.maxPoints, default: LIMITS.defaultPoints },
  },
});

const parseTableQuery = queryParser<{ device: number; from: number; to: number; limit: number }>({
  type: 'object', additionalProperties: false, required: ['device', 'from', 'to'],
  properties: { device: { type: 'integer', minimum: 1 }, from: TIME, to: TIME, limit: { type: 'integer', minimum: 1, maximum: LIMITS.tableRows, default: 100 } },
});

const parseExportQuery = queryParser<{ channels: string; from: number; to: number; decimal?: 'comma' | 'point'; tz: string }>({
  type: 'object', additionalProperties: false, required: ['channels', 'from', 'to'],
  properties: {
    channels: { type: 'string', pattern: CHANNEL_LIST, maxLength: 400 }, from: TIME, to: TIME,
    decimal: { type: 'string', enum: ['comma', 'point'] }, tz: { type: 'string', maxLength: 64, default: 'UTC' },
  },
});

const parseEventsQuery = queryParser<{ device?: number; since?: number; type?: string; limit: number }>({
  type: 'object', additionalProperties: false,
  properties: {
    device: { type: 'integer', minimum: 1 }, since: TIME,
    type: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: LIMITS.events, default: 200 },
  },
});

async function seriesFor(store: Store, query: unknown, maxChannels: number) {
  const q = parseSeriesQuery(query);
  checkRange(q.from, q.to, LIMITS.seriesRangeMs);
  const refs = await resolveChannels(store, q.channels, maxChannels);
  const segments = await unitSegments(store, refs, q.from, q.to);
  const results = await Promise.all(segments.map((seg) => channelPoints(store, seg.ref, seg.from, seg.to, q.points, seg)));
  return { from: q.from, to: q.to, refs, segments, results };
}

/** The local-time formatter of the export, or a 400 for an unknown zone. */
function checkedTimeZone(timeZone: string): (ms: number) => string {
  try {
    return localTimeFormatter(timeZone);
  } catch {
    throw new HttpError(400, `unknown time zone "${timeZone}": use an IANA name such as Europe/Prague`);
  }
}

/** Decimal comma when the caller's first language writes 1,5 (then ";" separates fields, as Excel there expects). */
function decimalCommaFor(req: Request, asked: 'comma' | 'point' | undefined): boolean {
  if (asked) return asked === 'comma';
  const language = (req.get('accept-language') ?? 'en').split(',')[0].split(';')[0].trim() || 'en';
  try {
    return new Intl.NumberFormat(language).format(1.5).includes(',');
  } catch {
    return false;
  }
}

/**
 * Writes the CSV a day at a time so that a long export never sits in memory and each piece of work
 * on this thread (which also answers devices) stays short; the reads run on the reader worker.
 */
async function writeCsv(res: Response, store: Store, channelRefs: ChannelRef[], from: number, to: number, decimalComma: boolean, timeZone: string): Promise<void> {
  const sep = decimalComma ? ';' : ',';
  // One pair of columns per unit version: a channel whose unit changed in the range gets one per unit.
  const refs = await unitSegments(store, channelRefs, from, to);
  const header = ['time (UTC)', `time (${timeZone})`, ...refs.flatMap((r) => {
    const label = `${r.ref.device.name} ${r.quantity}`;
    const valid = splitByUnit(r) ? ` (${validityText(r)})` : '';
    return [`${label} [${r.unit}]${valid}`, `${label} state${valid}`];
  })];
  const write = (chunk: string) => (res.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => res.once('drain', () => resolve())));
  await write(`\uFEFF${header.map((h) => csvText(h, sep)).join(sep)}\r\n`);
  const channels = refs.map((r) => ({ deviceId: r.ref.device.id, channel: r.ref.channel.channel, from: r.from, to: r.to }));
  const WINDOW = DAY;
  let written = 0;
  for (let start = from; start < to && !res.destroyed; start += WINDOW) {
    const end = Math.min(start + WINDOW, to);
    const options = { decimalComma, timeZone, maxRows: LIMITS.exportRows - written };
    // Formatted where the samples are read (SQLite: the reader worker); here only when the store cannot.
    const day = store.csvRows ? await store.csvRows(channels, start, end, options)
      : csvRows(await Promise.all(channels.map((c) => (Math.max(start, c.from) < Math.min(end, c.to)
        ? store.samples(c.deviceId, c.channel, Math.max(start, c.from), Math.min(end, c.to), 10_000_000) : Promise.resolve([])))), options);
    written += day.rows;
    if (day.text) await write(day.text);
    if (day.truncated) {
      await write(`${csvText(`export stopped after ${LIMITS.exportRows} rows: choose a shorter range or fewer channels`, sep)}\r\n`);
      break;
    }
  }
  res.end();
}

/** Samples received per UTC day (from the hourly rollup) against what the device's interval promises. */
async function channelCompleteness(store: Store, ref: ChannelRef, from: number, to: number): Promise<DayCompleteness[]> {
  const d = ref.device;
  const perDay = await store.series({ deviceId: d.id, channel: ref.channel.channel, from, to, bucketMs: DAY });
  return dailyCompleteness(perDay, from, to, allowedIntervalS(d.family, d.allowedIntervalS, d.declaredIntervalS), Date.now(), d.createdAt);
}

const parseCompletenessQuery = queryParser<{ channels: string; from: number; to: number }>({
  type: 'object', additionalProperties: false, required: ['channels', 'from', 'to'],
  properties: { channels: { type: 'string', pattern: CHANNEL_LIST, maxLength: 400 }, from: TIME, to: TIME },
});

async function completenessFor(store: Store, query: unknown) {
  const q = parseCompletenessQuery(query);
  checkRange(q.from, q.to, LIMITS.exportRangeMs);
  const refs = await resolveChannels(store, q.channels, LIMITS.exportChannels);
  const days = await Promise.all(refs.map((ref) => channelCompleteness(store, ref, q.from, q.to)));
  return { q, refs, days };
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');

export function dataRouter(store: Store): Router {
  const router = Router();

  router.get('/series', async (req, res) => {
    const { from, to, segments, results } = await seriesFor(store, req.query, LIMITS.seriesChannels);
    res.json({ from, to, series: segments.map((seg, i) => ({ ...describeSegment(seg), ...columns(results[i].bucketMs, results[i].points) })) });
  });

  router.get('/report', async (req, res) => {
    const { from, to, refs, segments, results } = await seriesFor(store, req.query, LIMITS.seriesChannels);
    const deviceIds = [...new Set(refs.map((r) => r.device.id))];
    const events = (await Promise.all(deviceIds.map((deviceId) => store.events({ deviceId, since: from, limit: LIMITS.events }))))
      .flat().filter((e) => e.at < to).sort((a, b) => a.at - b.at);
    const completeness = await Promise.all(segments.map((seg) => channelCompleteness(store, seg.ref, seg.from, seg.to)));
    res.json({
      from, to, generatedAt: Date.now(), events,
      series: segments.map((seg, i) => ({
        ...describeSegment(seg), ...columns(results[i].bucketMs, results[i].points),
        summary: { ...summary(results[i].points), completeness: overallCompleteness(completeness[i]) },
      })),
    });
  });

  router.get('/samples', async (req, res) => {
    const q = parseTableQuery(req.query);
    checkRange(q.from, q.to, LIMITS.seriesRangeMs);
    const device = await store.getDevice(q.device);
    if (!device) throw new HttpError(404, `no device with id ${q.device}`);
    const channels = await store.listChannels(device.id);
    // limit + 1 rows per channel are enough to know the first limit + 1 distinct times
    const perChannel = await Promise.all(channels.map((c) => store.samples(device.id, c.channel, q.from, q.to, q.limit + 1)));
    const times = [...new Set(perChannel.flat().map((s) => s.time))].sort((a, b) => a - b);
    const page = new Set(times.slice(0, q.limit));
    // One column per unit version valid on this page: a value stays under the unit it was measured in.
    const shown = times.slice(0, q.limit);
    const columnsShown = await unitSegments(store, channels.map((channel) => ({ device, channel })),
      shown.length ? shown[0] : q.from, shown.length ? shown[shown.length - 1] + 1 : q.to);
    type Cell = { value: number | null; errorCode: number | null; alarm: string } | null;
    const byTime = new Map([...page].map((t) => [t, columnsShown.map((): Cell => null)]));
    perChannel.forEach((samples, i) => {
      for (const s of samples) {
        const row = byTime.get(s.time);
        const column = columnsShown.findIndex((seg) => seg.ref.channel === channels[i] && s.time >= seg.from && s.time < seg.to);
        if (row && column >= 0) row[column] = { value: s.value, errorCode: s.errorCode, alarm: s.alarm };
      }
    });
    res.json({
      device: { id: device.id, name: device.name },
      channels: columnsShown.map((seg) => ({ channel: seg.ref.channel.channel, quantity: seg.quantity, unit: seg.unit, unitFrom: seg.unitFrom, unitUntil: seg.unitUntil })),
      rows: [...byTime].map(([time, values]) => ({ time, values })),
      next: times.length > q.limit ? times[q.limit] : null,
    });
  });

  let exportsRunning = 0;
  router.get('/export.csv', async (req, res) => {
    const q = parseExportQuery(req.query);
    checkRange(q.from, q.to, LIMITS.exportRangeMs);
    const refs = await resolveChannels(store, q.channels, LIMITS.exportChannels);
    checkedTimeZone(q.tz);   // an unknown zone is a 400 before the download starts
    if (exportsRunning >= LIMITS.concurrentExports) {
      res.set('Retry-After', '10');
      throw new HttpError(503, `${LIMITS.concurrentExports} exports are running already: try again when one has finished`);
    }
    exportsRunning++;
    try {
      res.set({
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="inlet-export-${isoDay(q.from)}-${isoDay(q.to - 1)}.csv"`,
        'Cache-Control': 'no-store',
      });
      await writeCsv(res, store, refs, q.from, q.to, decimalCommaFor(req, q.decimal), q.tz);
    } finally {
      exportsRunning--;
    }
  });

  router.get('/completeness', async (req, res) => {
    const { q, refs, days } = await completenessFor(store, req.query);
    res.json({
      from: q.from, to: q.to,
      channels: refs.map((ref, i) => ({ ...describeChannel(ref), overall: overallCompleteness(days[i]), days: days[i] })),
    });
  });

  router.get('/completeness.csv', async (req, res) => {
    const { q, refs, days } = await completenessFor(store, req.query);
    const decimalComma = decimalCommaFor(req, undefined);
    const separator = decimalComma ? ';' : ',';
    const number = (n: number | null, digits: number) => (n === null ? '' : decimalComma ? n.toFixed(digits).replace('.', ',') : n.toFixed(digits));
    const lines = [['day (UTC)', 'device', 'location', 'channel', 'received', 'expected', 'completeness %'].join(separator)];
    refs.forEach((ref, i) => {
      for (const d of days[i]) {
        lines.push([new Date(d.day).toISOString().slice(0, 10), csvText(ref.device.name, separator), csvText(ref.device.location, separator),
          csvText(`${ref.channel.channel} ${ref.channel.quantity} [${ref.channel.unit}]`, separator), d.received, number(d.expected, 2),
          number(d.ratio === null ? null : d.ratio * 100, 1)].join(separator));
      }
    });
    res.set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="inlet-completeness-${isoDay(q.from)}-${isoDay(q.to - 1)}.csv"`,
      'Cache-Control': 'no-store',
    });
    res.send(`\uFEFF${lines.join('\r\n')}\r\n`);
  });

  router.get('/events', async (req, res) => {
    const q = parseEventsQuery(req.query);
    const visible = await visibleDeviceIds(store, res);
    res.json({ events: await store.events({ deviceId: q.device, since: q.since, type: q.type, limit: q.limit, deviceIds: visible === 'all' ? undefined : [...visible] }) });
  });
  return router;
}
