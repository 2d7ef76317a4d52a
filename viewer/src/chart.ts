// Drawing series with uPlot: one line per channel (average per bucket when downsampled, with a
// shaded min-max band), one y axis per unit. Loaded only by the pages that draw charts.
import uPlot, { type AlignedData, type Options } from 'uplot';
import type { Series } from './api.ts';
import { quantityLabel, unitLabel } from './format.ts';

const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7d8c', '#57606a'];

export function seriesLabel(s: Series): string {
  return `${s.deviceName} · ${quantityLabel(s.quantity)} (${unitLabel(s.unit)})`;
}

/** Aligns all channels on one time axis: per channel avg, and min/max when downsampled. */
function alignedData(series: Series[]): { data: AlignedData; columns: { series: Series; kind: 'avg' | 'min' | 'max' }[] } {
  const tables = series.map((s) => [s.time, s.avg, ...(s.min && s.max ? [s.min, s.max] : [])] as AlignedData);
  const columns = series.flatMap((s) => [{ series: s, kind: 'avg' as const }, ...(s.min && s.max ? [{ series: s, kind: 'min' as const }, { series: s, kind: 'max' as const }] : [])]);
  return { data: tables.length === 1 ? tables[0] : uPlot.join(tables), columns };
}

export interface ChartHandle { destroy(): void }

/** Draws the series over exactly the chosen range (not just where data happens to be). */
export function drawChart(target: HTMLElement, series: Series[], range: { from: number; to: number }, onZoom?: (from: number, to: number) => void): ChartHandle {
  const { data, columns } = alignedData(series);
  const units = [...new Set(series.map((s) => s.unit))];
  const options: Options = {
    width: Math.max(320, target.clientWidth || 800),
    height: 380,
    ms: 1,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true, range: () => [range.from, range.to] } },
    axes: [{}, ...units.map((unit, i) => ({ scale: unit, label: unitLabel(unit), side: i % 2 === 0 ? 3 : 1, grid: { show: i === 0 } }))],
    series: [{}, ...columns.map(({ series: s, kind }) => {
      const colour = COLOURS[series.indexOf(s) % COLOURS.length];
      return kind === 'avg'
        ? { label: seriesLabel(s), scale: s.unit, stroke: colour, width: 1.5, spanGaps: false }
        : { label: `${kind} ${seriesLabel(s)}`, scale: s.unit, stroke: `${colour}55`, width: 0.5, show: true };
    })],
    bands: columns.flatMap((c, i) => (c.kind === 'max' ? [{ series: [i + 1, i] as [number, number], fill: `${COLOURS[series.indexOf(c.series) % COLOURS.length]}22` }] : [])),
    hooks: onZoom ? {
      setSelect: [(u: uPlot) => {
        if (u.select.width < 5) return;
        const from = u.posToVal(u.select.left, 'x');
        const to = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        onZoom(Math.floor(from), Math.ceil(to));
      }],
    } : {},
  };
  const plot = new uPlot(options, data, target);
  const resize = () => plot.setSize({ width: Math.max(320, target.clientWidth), height: 380 });
  window.addEventListener('resize', resize);
  return { destroy() { window.removeEventListener('resize', resize); plot.destroy(); } };
}
