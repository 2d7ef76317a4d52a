// Draws a report model as a PDF with pdfkit (pure JavaScript, no browser): title block, per
// channel a vector chart with the limits as lines and the gaps shaded, statistics, time beyond
// each limit, excursions, alarms, gaps and sensor errors, completeness per day; then the events
// and the approval. The standard 14 fonts only know WinAnsi, so text passes through winAnsi().
// Every page carries the verification code in its footer, and the document info names it.
import PDFDocument from 'pdfkit';
import type { ChannelSection, ReportModel } from './model.ts';
import type { ChartPoint } from './analysis.ts';
import { formatDuration, formatLocal, formatLocalDate, formatOffset, localDayStarts } from './time-zone.ts';

export interface Issue {
  code: string;
  generatedAt: number;
  generatedBy: string;
  /** Present on a signed copy. */
  signature: { by: string; at: number; meaning: string; signsCode: string } | null;
}

const PAGE = { width: 595.28, height: 841.89, margin: 42 };
const CONTENT_WIDTH = PAGE.width - 2 * PAGE.margin;
const BOTTOM = PAGE.height - PAGE.margin - 14;   // room for the footer
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const GREY = '#555555';
const COLORS = { line: '#1f4e9c', band: '#b9cbea', alarm: '#c62828', warning: '#e69500', gap: '#d9d9d9', error: '#f3c0c0', grid: '#e3e3e3' };

// WinAnsi (CP1252) beyond Latin-1: what the standard fonts can show besides U+0020..U+007E and U+00A0..U+00FF.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const REPLACEMENTS: Record<string, string> = {
  '₂': '2', '₃': '3', '≥': '>=', '≤': '<=', '≠': '!=', '−': '-', 'Δ': 'd', '→': '->', '←': '<-', '\u2009': ' ', '\u202f': ' ', 'ě': 'e', 'č': 'c', 'ř': 'r', 'ů': 'u', 'ň': 'n', 'ť': 't', 'ď': 'd', 'Ě': 'E', 'Č': 'C', 'Ř': 'R', 'Ů': 'U', 'Ň': 'N', 'Ť': 'T', 'Ď': 'D', 'ł': 'l', 'Ł': 'L', 'ő': 'o', 'ű': 'u',
};

/** Text the standard fonts can print: WinAnsi characters kept (°, µ, ², ³, ±, ä...), others replaced or '?'. */
export function winAnsi(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WIN_ANSI_EXTRA.has(ch)) out += ch;
    else if (ch === '\n') out += ch;
    else out += REPLACEMENTS[ch] ?? (ch.normalize('NFD')[0].codePointAt(0)! < 0x80 ? ch.normalize('NFD')[0] : '?');
  }
  return out;
}

export function unitLabel(unit: string): string {
  const u = unit.trim();
  if (u === 'C' || u === 'F') return `°${u}`;
  if (u === 'm3' || u === 'm^3') return 'm³';
  if (u === 'ug/m3' || u === 'µg/m3') return 'µg/m³';
  return u;
}

export function quantityLabel(q: string): string {
  const names: Record<string, string> = { temperature: 'Temperature', relative_humidity: 'Relative humidity', dew_point: 'Dew point', pressure: 'Pressure', co2: 'CO2', binary: 'Binary input' };
  return names[q] ?? q.replace(/_/g, ' ');
}

const fixed = (v: number | null, digits = 2) => (v === null ? '–' : v.toFixed(digits));
const withUnit = (v: number | null, unit: string, digits = 2) => (v === null ? '–' : `${v.toFixed(digits)} ${unitLabel(unit)}`);
/** Rounded down, so that 99.96 % never reads as a complete 100.0 %. */
const percent = (r: number | null) => (r === null ? '–' : `${(Math.floor(r * 1000 + 1e-9) / 10).toFixed(1)} %`);

type Doc = PDFKit.PDFDocument;

interface Column { title: string; width: number; align?: 'left' | 'right' }

class Layout {
  readonly doc: Doc;
  constructor(doc: Doc) { this.doc = doc; }

  get y(): number { return this.doc.y; }

  need(height: number): void {
    if (this.doc.y + height > BOTTOM) this.doc.addPage();
  }

  heading(text: string, size = 13): void {
    this.need(size * 3);
    this.doc.moveDown(0.6).font(BOLD).fontSize(size).fillColor('black').text(winAnsi(text), PAGE.margin, this.doc.y, { width: CONTENT_WIDTH });
    this.doc.moveDown(0.25);
  }

  paragraph(text: string, options: { size?: number; color?: string; bold?: boolean } = {}): void {
    const size = options.size ?? 9;
    this.doc.font(options.bold ? BOLD : FONT).fontSize(size);
    const height = this.doc.heightOfString(winAnsi(text), { width: CONTENT_WIDTH });
    this.need(height);
    this.doc.fillColor(options.color ?? 'black').text(winAnsi(text), PAGE.margin, this.doc.y, { width: CONTENT_WIDTH });
  }

  /** Label/value pairs in two columns. */
  pairs(rows: [string, string][], labelWidth = 130): void {
    for (const [label, value] of rows) {
      this.doc.font(FONT).fontSize(9);
      const height = Math.max(this.doc.heightOfString(winAnsi(value), { width: CONTENT_WIDTH - labelWidth }), 11) + 2;
      this.need(height);
      const y = this.doc.y;
      this.doc.font(BOLD).fillColor(GREY).text(winAnsi(label), PAGE.margin, y, { width: labelWidth - 6 });
      this.doc.font(FONT).fillColor('black').text(winAnsi(value), PAGE.margin + labelWidth, y, { width: CONTENT_WIDTH - labelWidth });
      this.doc.y = y + height;
    }
  }

  /** A table that continues on the next page with its header repeated. */
  table(columns: Column[], rows: string[][], empty: string): void {
    const scale = CONTENT_WIDTH / columns.reduce((n, c) => n + c.width, 0);
    const widths = columns.map((c) => c.width * scale);
    const size = 8;
    const header = () => {
      this.doc.font(BOLD).fontSize(size);
      const height = Math.max(...columns.map((c, i) => this.doc.heightOfString(winAnsi(c.title), { width: widths[i] - 4 }))) + 4;
      this.need(height + 12);
      const y = this.doc.y;
      this.doc.rect(PAGE.margin, y, CONTENT_WIDTH, height).fill('#eef1f6');
      let x = PAGE.margin;
      columns.forEach((c, i) => {
        this.doc.fillColor('black').font(BOLD).fontSize(size).text(winAnsi(c.title), x + 2, y + 2, { width: widths[i] - 4, align: c.align ?? 'left' });
        x += widths[i];
      });
      this.doc.y = y + height;
    };
    if (!rows.length) { this.paragraph(empty, { color: GREY }); return; }
    header();
    for (const row of rows) {
      this.doc.font(FONT).fontSize(size);
      const height = Math.max(...row.map((cell, i) => this.doc.heightOfString(winAnsi(cell), { width: widths[i] - 4 }))) + 3;
      if (this.doc.y + height > BOTTOM) { this.doc.addPage(); header(); }
      const y = this.doc.y;
      let x = PAGE.margin;
      row.forEach((cell, i) => {
        this.doc.fillColor('black').font(FONT).fontSize(size).text(winAnsi(cell), x + 2, y + 1.5, { width: widths[i] - 4, align: columns[i].align ?? 'left' });
        x += widths[i];
      });
      this.doc.moveTo(PAGE.margin, y + height).lineTo(PAGE.margin + CONTENT_WIDTH, y + height).lineWidth(0.3).strokeColor('#d0d0d0').stroke();
      this.doc.y = y + height;
    }
    this.doc.moveDown(0.3);
  }
}

/** Round numbers for an axis: about `count` steps of 1, 2 or 5 times a power of ten. */
function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

/** Time axis ticks at local midnights: every day, or every n-th day / month start for long periods. */
function timeTicks(model: ReportModel): { at: number; label: string }[] {
  const span = model.to - model.from;
  const DAY = 86_400_000;
  if (span <= 2 * DAY) {
    const hours = span <= DAY ? 3 : 6;
    const ticks: { at: number; label: string }[] = [];
    for (let t = Math.ceil(model.from / (hours * 3_600_000)) * hours * 3_600_000; t <= model.to; t += hours * 3_600_000) ticks.push({ at: t, label: formatLocal(t, model.timeZone).slice(11) });
    return ticks;
  }
  const days = localDayStarts(model.from, model.to + 1, model.timeZone).filter((d) => d >= model.from);
  if (span <= 40 * DAY) {
    const every = Math.ceil(days.length / 10);
    return days.filter((_, i) => i % every === 0).map((d) => ({ at: d, label: formatLocalDate(d, model.timeZone).slice(5) }));
  }
  const months = days.filter((d) => formatLocalDate(d, model.timeZone).endsWith('-01'));
  const every = Math.ceil(months.length / 12);
  return months.filter((_, i) => i % every === 0).map((d) => ({ at: d, label: formatLocalDate(d, model.timeZone).slice(0, 7) }));
}

function drawChart(doc: Doc, model: ReportModel, section: ChannelSection, y0: number): number {
  const height = 170;
  const left = PAGE.margin + 38;
  const width = CONTENT_WIDTH - 38;
  const top = y0;
  const bottom = top + height;
  const a = section.analysis;
  const values: number[] = [];
  for (const p of a.chart) if (p) values.push(p.min, p.max);
  for (const l of section.limits) for (const v of [l.high, l.low]) if (v !== null) values.push(v);
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  const pad = (hi - lo) * 0.08 || 1;
  lo -= pad; hi += pad;
  const x = (t: number) => left + ((t - model.from) / (model.to - model.from)) * width;
  const y = (v: number) => bottom - ((v - lo) / (hi - lo)) * height;

  doc.save();
  // gaps and sensor errors first, as shaded bands under everything else
  for (const i of a.interruptions) {
    const x1 = Math.max(left, x(i.start));
    const x2 = Math.min(left + width, x(i.end));
    doc.rect(x1, top, Math.max(0.8, x2 - x1), height).fill(i.kind === 'gap' ? COLORS.gap : COLORS.error);
  }
  // grid and axes
  doc.lineWidth(0.4).strokeColor(COLORS.grid);
  doc.font(FONT).fontSize(7).fillColor(GREY);
  for (const v of niceTicks(lo, hi, 6)) {
    doc.moveTo(left, y(v)).lineTo(left + width, y(v)).stroke();
    doc.text(winAnsi(String(Number(v.toPrecision(6)))), PAGE.margin, y(v) - 3, { width: 34, align: 'right', lineBreak: false });
  }
  for (const tick of timeTicks(model)) {
    doc.moveTo(x(tick.at), top).lineTo(x(tick.at), bottom).strokeColor(COLORS.grid).stroke();
    doc.text(tick.label, x(tick.at) - 30, bottom + 3, { width: 60, align: 'center', lineBreak: false });
  }
  doc.rect(left, top, width, height).lineWidth(0.6).strokeColor('#888888').stroke();
  // data: the min-max band of each bucket, then the mean as a line, broken wherever data is missing
  const segments: ChartPoint[][] = [];
  let current: ChartPoint[] = [];
  for (const p of a.chart) {
    if (p) current.push(p);
    else if (current.length) { segments.push(current); current = []; }
  }
  if (current.length) segments.push(current);
  for (const seg of segments) {
    if (seg.length === 1) {
      doc.moveTo(x(seg[0].time), y(seg[0].max)).lineTo(x(seg[0].time), y(seg[0].min)).lineWidth(1).strokeColor(COLORS.line).stroke();
      doc.circle(x(seg[0].time), y(seg[0].avg), 1).fill(COLORS.line);
      continue;
    }
    if (seg.some((p) => p.max !== p.min)) {
      doc.moveTo(x(seg[0].time), y(seg[0].max));
      for (const p of seg.slice(1)) doc.lineTo(x(p.time), y(p.max));
      for (const p of [...seg].reverse()) doc.lineTo(x(p.time), y(p.min));
      doc.closePath().fill(COLORS.band);
    }
    doc.moveTo(x(seg[0].time), y(seg[0].avg));
    for (const p of seg.slice(1)) doc.lineTo(x(p.time), y(p.avg));
    doc.lineWidth(0.9).strokeColor(COLORS.line).stroke();
  }
  // limits as dashed lines, labelled at the right end
  for (const l of section.limits) {
    for (const [v, dir] of [[l.high, 'high'], [l.low, 'low']] as const) {
      if (v === null) continue;
      const color = l.level === 'alarm' ? COLORS.alarm : COLORS.warning;
      doc.moveTo(left, y(v)).lineTo(left + width, y(v)).lineWidth(0.9).dash(4, { space: 3 }).strokeColor(color).stroke().undash();
      doc.font(FONT).fontSize(6.5).fillColor(color).text(winAnsi(`${l.level} ${dir} ${v}`), left + width - 90, y(v) + (dir === 'high' ? -8 : 2), { width: 88, align: 'right', lineBreak: false });
    }
  }
  doc.restore();
  // legend
  const legendY = bottom + 14;
  doc.font(FONT).fontSize(7).fillColor(GREY);
  const legend: [string, string][] = [[COLORS.line, 'mean'], [COLORS.band, 'min-max'], [COLORS.alarm, 'alarm limit'], [COLORS.warning, 'warning limit'], [COLORS.gap, 'no data (gap)'], [COLORS.error, 'sensor error']];
  let lx = left;
  for (const [color, label] of legend) {
    doc.rect(lx, legendY + 1, 10, 5).fill(color);
    doc.fillColor(GREY).text(label, lx + 13, legendY, { lineBreak: false });
    lx += 16 + doc.widthOfString(label) + 10;
  }
  return legendY + 12;
}

function channelTitle(model: ReportModel, s: ChannelSection): string {
  const d = model.devices.find((x) => x.id === s.deviceId)!;
  return `${d.name}${d.location ? ` (${d.location})` : ''} – channel ${s.channel}: ${quantityLabel(s.quantity)} [${unitLabel(s.unit)}]${unitPeriod(model, s)}`;
}

/** " – in °F from … until …" when the channel's unit changed in the period and this section holds one unit's samples. */
function unitPeriod(model: ReportModel, s: ChannelSection): string {
  if (s.unitFrom == null && s.unitUntil == null) return '';
  const at = (ms: number) => formatLocal(ms, model.timeZone).slice(0, 16);
  return ` – unit changed: ${unitLabel(s.unit)}${s.unitFrom != null ? ` from ${at(s.unitFrom)}` : ''}${s.unitUntil != null ? ` until ${at(s.unitUntil)}` : ''}`;
}

function limitText(s: ChannelSection): string {
  if (!s.limits.length) return 'none set';
  return s.limits.map((l) => `${l.level}: ${l.low === null ? '' : `low ${l.low}`}${l.low !== null && l.high !== null ? ', ' : ''}${l.high === null ? '' : `high ${l.high}`} ${unitLabel(s.unit)}` +
    `${l.delayS ? `, delay ${l.delayS} s` : ''}${l.hysteresis ? `, hysteresis ${l.hysteresis}` : ''}`).join('; ');
}

function channelPages(layout: Layout, model: ReportModel, s: ChannelSection): void {
  const doc = layout.doc;
  const a = s.analysis;
  const tz = model.timeZone;
  const time = (ms: number | null) => (ms === null ? '–' : formatLocal(ms, tz));
  const intervalS = model.devices.find((d) => d.id === s.deviceId)!.intervalS;
  doc.addPage();
  layout.heading(channelTitle(model, s), 12);
  layout.paragraph(`Limits in force when the report was made: ${limitText(s)}. Changes of limits during the period are listed among the events.`, { size: 8, color: GREY });
  doc.moveDown(0.4);
  const chartTop = doc.y + 4;
  doc.y = drawChart(doc, model, s, chartTop) + 4;

  layout.heading('Statistics', 10);
  const beyond = a.beyond.filter((b) => b.ms > 0 || true).map((b): [string, string] => [
    `Time ${b.direction === 'high' ? 'above' : 'below'} ${b.level} ${b.direction === 'high' ? 'high' : 'low'} (${b.limit})`,
    `${formatDuration(b.ms)} (${a.coveredMs ? ((b.ms / a.coveredMs) * 100).toFixed(2) : '0.00'} % of the time with data)`,
  ]);
  const noData = Math.max(0, model.end - model.from - a.coveredMs);
  layout.pairs([
    ['Minimum', a.min === null ? '–' : `${withUnit(a.min, s.unit)} at ${time(a.minAt)}`],
    ['Maximum', a.max === null ? '–' : `${withUnit(a.max, s.unit)} at ${time(a.maxAt)}`],
    ['Mean (arithmetic)', withUnit(a.mean, s.unit)],
    ...(s.quantity === 'temperature' ? [['Mean kinetic temperature', a.mkt === null ? '–' : `${withUnit(a.mkt, s.unit)} (USP <1079>, activation energy ${model.activationEnergyKJPerMol} kJ/mol, from ${a.valid} samples)`] as [string, string]] : []),
    ['Samples', `${a.received} received, ${a.valid} valid, ${a.errors} sensor error${a.errors === 1 ? '' : 's'}; device interval ${intervalS} s`],
    ['Completeness', `${percent(a.completeness)} of the samples the interval promises`],
    ['Time within all limits', `${formatDuration(a.inRangeMs)}${s.limits.length ? '' : ' (no limits set)'}`],
    ...beyond,
    ['Time without valid data', `${formatDuration(noData)} (gaps and sensor errors; never filled in)`],
  ], 150);

  layout.heading(`Excursions (${s.excursions.length})`, 10);
  layout.table(
    [{ title: 'Limit', width: 70 }, { title: 'Start', width: 70 }, { title: 'End', width: 70 }, { title: 'Duration', width: 55 }, { title: 'Peak', width: 85 }, { title: 'Alarm and acknowledgement', width: 165 }],
    s.excursions.slice(0, 500).map((e) => [
      `${e.level} ${e.direction} ${e.limit}`, time(e.start),
      e.end === null ? 'still beyond at the end' : `${time(e.end)}${e.endedBy === 'return' ? '' : ` (${e.endedBy}: data stopped)`}`,
      formatDuration(e.durationMs), `${withUnit(e.peak, s.unit)} at ${time(e.peakAt).slice(11)}`,
      e.alarm === null ? 'no alarm raised (delay not reached or no alarm then)'
        : `alarm #${e.alarm.id} raised ${time(e.alarm.raisedAt)}; ${e.alarm.acknowledgedAt === null ? 'NOT acknowledged' : `acknowledged ${time(e.alarm.acknowledgedAt)} by ${e.alarm.acknowledgedBy}: "${e.alarm.ackComment}"`}`,
    ]),
    s.limits.length ? 'No excursion beyond the limits in this period.' : 'No limits are set for this channel, so there are no excursions.',
  );
  if (s.excursions.length > 500) layout.paragraph(`… and ${s.excursions.length - 500} more excursions.`, { size: 8, color: GREY });

  layout.heading(`Alarms (${s.alarms.length})`, 10);
  layout.table(
    [{ title: '#', width: 28 }, { title: 'Raised', width: 70 }, { title: 'Level', width: 40 }, { title: 'Message', width: 150 }, { title: 'Acknowledged (by, comment)', width: 145 }, { title: 'Cleared', width: 70 }],
    s.alarms.map((al) => [String(al.id), time(al.raisedAt), al.level, al.message,
      al.acknowledgedAt === null ? 'not acknowledged' : `${time(al.acknowledgedAt)} by ${al.acknowledgedBy}: "${al.ackComment}"`,
      al.clearedAt === null ? 'not cleared' : time(al.clearedAt)]),
    'No alarms of this channel in this period.',
  );

  layout.heading(`Gaps and sensor errors (${a.interruptions.length})`, 10);
  layout.table(
    [{ title: 'Kind', width: 60 }, { title: 'From', width: 80 }, { title: 'To', width: 80 }, { title: 'Duration', width: 70 }, { title: 'Detail', width: 150 }],
    a.interruptions.slice(0, 500).map((i) => [i.kind, time(i.start), time(i.end), formatDuration(i.end - i.start),
      i.kind === 'gap' ? 'no sample from the device (from: last sample before; to: next sample)' : `${i.samples} error reading${i.samples === 1 ? '' : 's'}${i.errorCodes.length ? `, code ${i.errorCodes.join(', ')}` : ''}`]),
    'No gaps and no sensor errors: every expected sample arrived with a value.',
  );
  if (a.interruptions.length > 500) layout.paragraph(`… and ${a.interruptions.length - 500} more.`, { size: 8, color: GREY });

  layout.heading('Completeness per day', 10);
  layout.table(
    [{ title: `Day (${tz})`, width: 80 }, { title: 'Received', width: 60, align: 'right' }, { title: 'Valid', width: 60, align: 'right' }, { title: 'Errors', width: 60, align: 'right' }, { title: 'Expected', width: 60, align: 'right' }, { title: 'Completeness', width: 70, align: 'right' }],
    a.days.map((d) => [formatLocalDate(Math.max(d.start, model.from), tz), String(d.received), String(d.valid), String(d.errors), fixed(d.expected, 1), percent(d.ratio)]),
    'No days in this period.',
  );
}

export function renderReportPdf(model: ReportModel, issue: Issue): Promise<Buffer> {
  const tz = model.timeZone;
  const doc = new PDFDocument({
    size: 'A4', margin: PAGE.margin, bufferPages: true, autoFirstPage: true,
    info: {
      Title: winAnsi(`Measurement report ${model.title}`), Author: 'Inlet', Creator: `Inlet ${model.version}`, Producer: 'Inlet (pdfkit)',
      Subject: winAnsi(`${formatLocal(model.from, tz)} – ${formatLocal(model.to, tz)} (${tz})`),
      Keywords: `inlet-verification-code:${issue.code}`, CreationDate: new Date(issue.generatedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => { doc.on('end', () => resolve(Buffer.concat(chunks))); doc.on('error', reject); });
  const layout = new Layout(doc);

  // ---- title block ----
  doc.font(BOLD).fontSize(18).fillColor('black').text(winAnsi(`Measurement report: ${model.title}`), { width: CONTENT_WIDTH });
  if (model.site) doc.font(FONT).fontSize(11).fillColor(GREY).text(winAnsi(model.site));
  doc.moveDown(0.6);
  const locations = [...new Set(model.devices.map((d) => d.location).filter(Boolean))];
  layout.pairs([
    ['Site', model.site || '–'],
    ['Location', locations.join(', ') || '–'],
    ['Period', `${formatLocal(model.from, tz)} – ${formatLocal(model.to, tz)} (end exclusive)${model.end < model.to ? `; data up to ${formatLocal(model.end, tz)}, when the report was made` : ''}`],
    ['Time zone', `${tz} (${formatOffset(model.from, tz)} at the start${formatOffset(model.from, tz) === formatOffset(model.to, tz) ? '' : `, ${formatOffset(model.to, tz)} at the end`}); every time in this report is in this zone`],
    ['Generated', `${formatLocal(issue.generatedAt, tz, true)} by ${issue.generatedBy}, Inlet ${model.version}`],
    ['Verification code', `${issue.code}   (check with: inlet report verify <file.pdf>)`],
    ['Mean kinetic temperature', `USP <1079>: MKT = (dH/R) / (-ln((e^(-dH/(R*T1)) + ... + e^(-dH/(R*Tn))) / n)), dH = ${model.activationEnergyKJPerMol} kJ/mol, R = 8.3144 J/(mol*K), T in kelvin, from every valid sample`],
  ]);
  layout.heading('Devices', 11);
  layout.table(
    [{ title: 'Name', width: 120 }, { title: 'Location', width: 90 }, { title: 'Model', width: 70 }, { title: 'Serial number', width: 80 }, { title: 'Interval', width: 50, align: 'right' }, { title: 'Channels in this report', width: 110 }],
    model.devices.map((d) => [d.name, d.location || '–', d.model, d.serial, `${d.intervalS} s`,
      model.channels.filter((c) => c.deviceId === d.id).map((c) => `${c.channel} ${quantityLabel(c.quantity)} [${unitLabel(c.unit)}]`).join(', ')]),
    'No devices.',
  );
  layout.heading('Summary', 11);
  layout.table(
    [{ title: 'Channel', width: 150 }, { title: 'Min', width: 50, align: 'right' }, { title: 'Mean', width: 50, align: 'right' }, { title: 'Max', width: 50, align: 'right' }, { title: 'MKT', width: 50, align: 'right' }, { title: 'Excursions', width: 55, align: 'right' }, { title: 'Completeness', width: 60, align: 'right' }],
    model.channels.map((s) => {
      const d = model.devices.find((x) => x.id === s.deviceId)!;
      return [`${d.name} ch ${s.channel} ${quantityLabel(s.quantity)} [${unitLabel(s.unit)}]${unitPeriod(model, s)}`, fixed(s.analysis.min), fixed(s.analysis.mean), fixed(s.analysis.max),
        s.quantity === 'temperature' ? fixed(s.analysis.mkt) : '–', String(s.excursions.length), percent(s.analysis.completeness)];
    }),
    'No channels.',
  );
  approval(layout, model, issue);

  for (const s of model.channels) channelPages(layout, model, s);

  // ---- events ----
  doc.addPage();
  layout.heading(`Events of the period (${model.events.length + model.eventsLeftOut})`, 12);
  const names = new Map(model.devices.map((d) => [d.id, d.name]));
  layout.table(
    [{ title: 'Time', width: 75 }, { title: 'Device', width: 80 }, { title: 'Level', width: 40 }, { title: 'Type', width: 90 }, { title: 'Message', width: 230 }],
    model.events.map((e) => [formatLocal(e.at, tz, true), e.deviceId === null ? '–' : names.get(e.deviceId) ?? String(e.deviceId), e.level, e.type, e.message]),
    'No events in this period.',
  );
  if (model.eventsLeftOut) layout.paragraph(`… and ${model.eventsLeftOut} more events, left out of this report: see the event list in the viewer.`, { size: 8, color: GREY });

  // ---- footer on every page ----
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;   // writing below the margin would otherwise open a new page
    doc.font(FONT).fontSize(7).fillColor(GREY).text(
      winAnsi(`Inlet measurement report · ${model.title} · ${formatLocalDate(model.from, tz)} – ${formatLocalDate(model.to - 1, tz)} · verification code ${issue.code}${issue.signature ? ' · signed' : ''} · page ${i - range.start + 1} of ${range.count}`),
      PAGE.margin, PAGE.height - PAGE.margin + 8, { width: CONTENT_WIDTH, align: 'center', lineBreak: false },
    );
    doc.page.margins.bottom = bottomMargin;
  }
  doc.end();
  return done;
}

function approval(layout: Layout, model: ReportModel, issue: Issue): void {
  const doc = layout.doc;
  layout.heading('Approval', 11);
  layout.need(60);
  const y = doc.y;
  if (issue.signature) {
    const sig = issue.signature;
    doc.rect(PAGE.margin, y, CONTENT_WIDTH, 52).lineWidth(1).strokeColor('#2e7d32').stroke();
    doc.font(BOLD).fontSize(10).fillColor('#2e7d32').text(winAnsi(`Electronically signed: ${sig.meaning.toUpperCase()}`), PAGE.margin + 8, y + 7, { width: CONTENT_WIDTH - 16 });
    doc.font(FONT).fontSize(9).fillColor('black').text(winAnsi(`Signed by ${sig.by} on ${formatLocal(sig.at, model.timeZone, true)} (${model.timeZone}), re-entering their password, with the meaning "${sig.meaning}". ` +
      `The signature applies to report ${sig.signsCode}, whose content this copy repeats unchanged.`), PAGE.margin + 8, y + 22, { width: CONTENT_WIDTH - 16 });
    doc.y = y + 58;
  } else {
    doc.rect(PAGE.margin, y, CONTENT_WIDTH, 40).lineWidth(0.6).strokeColor('#999999').stroke();
    doc.font(FONT).fontSize(9).fillColor(GREY).text('Not signed. An approver signs this report in the Inlet viewer (Report, Sign), re-entering their password; the signed copy then shows the signature here.',
      PAGE.margin + 8, y + 8, { width: CONTENT_WIDTH - 16 });
    doc.y = y + 46;
  }
  doc.fillColor('black');
}
