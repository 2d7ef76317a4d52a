// A printable report: the chart, minimum/average/maximum per channel and the events in the range.
import { api, query, type Series, type StoredEvent } from '../api.ts';
import { drawChart, seriesLabel, type ChartHandle, type ChartLimit } from '../chart.ts';
import { h, message, show } from '../dom.ts';
import { TIME_ZONE_NOTE, formatTime, formatValue } from '../format.ts';
import { rangeFromParams } from '../pickers.ts';
import { pdfReportTools } from './report-pdf.ts';


/** A4 is 210 mm wide; less the 12 mm margins of styles.css's @page that leaves 186 mm = 703 CSS px (96 px per inch). */
export const REPORT_CHART_WIDTH_PX = 680;

export async function renderReport(view: HTMLElement, params: URLSearchParams, username: string): Promise<() => void> {
  const range = rangeFromParams(params);
  const channels = params.get('channels') ?? '';
  let report: { generatedAt: number; series: Series[]; events: StoredEvent[] };
  try {
    report = await api('GET', `/report?${query({ channels, from: range.from, to: range.to, points: 1000 })}`);
  } catch (err) {
    show(view, message((err as Error).message, 'error'));
    return () => undefined;
  }
  const plot = h('div', { class: 'plot', role: 'img', 'aria-label': 'Chart of the reported channels' });
  show(view, h('div', { class: 'report' },
    h('div', { class: 'toolbar no-print' }, h('button', { type: 'button', class: 'primary', onclick: () => window.print() }, 'Print'), h('a', { href: `#/export?${query({ channels, from: range.from, to: range.to })}` }, 'Change'), pdfReportTools(channels, range)),
    h('h1', {}, 'Measurement report'),
    h('p', {}, `${formatTime(range.from)} – ${formatTime(range.to)} · made ${formatTime(report.generatedAt)} by ${username} · ${TIME_ZONE_NOTE}`),
    plot,
    h('table', { class: 'summary' },
      h('thead', {}, h('tr', {}, ['Channel', 'Minimum', 'Average', 'Maximum', 'Samples', 'Errors', 'Completeness'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, report.series.map((s) => h('tr', {},
        h('th', { scope: 'row' }, seriesLabel(s)),
        h('td', {}, formatValue(s.summary?.min ?? null, s.unit)), h('td', {}, formatValue(s.summary?.avg ?? null, s.unit)),
        h('td', {}, formatValue(s.summary?.max ?? null, s.unit)), h('td', {}, s.summary?.count ?? 0), h('td', {}, s.summary?.errors ?? 0),
        h('td', {}, s.summary?.completeness == null ? '–' : `${(s.summary.completeness * 100).toFixed(1)} %`))))),
    h('h2', {}, 'Events'),
    report.events.length ? h('table', { class: 'events' }, h('tbody', {}, report.events.map((e) => h('tr', { class: e.level },
      h('td', {}, formatTime(e.at)), h('td', {}, e.level), h('td', {}, e.message))))) : h('p', {}, 'No events in this range.')));
  const { limits } = await api<{ limits: ChartLimit[] }>('GET', '/alarm-limits').catch(() => ({ limits: [] as ChartLimit[] }));
  // A fixed width that fits an A4 page's printable width, on screen as on paper: a chart drawn for a
  // wide window is cut on the right when printed (newest data, the right-hand axis, the legend).
  const chart: ChartHandle = drawChart(plot, report.series, range, { width: REPORT_CHART_WIDTH_PX, liveLegend: false, limits });
  return () => chart.destroy();
}
