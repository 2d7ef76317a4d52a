// Drawing series with uPlot: one line per channel (average per bucket when downsampled, with a
// shaded min-max band), one y axis per unit. Loaded only by the pages that draw charts.
import uPlot, { type AlignedData, type Options } from 'uplot';
import type { Series } from './api.ts';
import { formatClock, formatDate, formatDayAndTime, formatTime, formatValue, quantityLabel, unitLabel, unitValidity } from './format.ts';

const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7d8c', '#57606a'];

export function seriesLabel(s: Series): string {
  return `${s.deviceName} · ${quantityLabel(s.quantity)} (${unitLabel(s.unit)}${unitValidity(s)})`;
}

/**
 * A gap in a channel's data (no sample for more than three of its own steps) is drawn as a gap:
 * a null is put one step after the last sample before it, so that no line is drawn across.
 */
function withGaps(s: Series): (number | null)[][] {
  const columns = [s.avg, ...(s.min && s.max ? [s.min, s.max] : [])];
  const step = stepOf(s);
  const time: number[] = [];
  const out: (number | null)[][] = columns.map(() => []);
  s.time.forEach((t, i) => {
    if (i > 0 && t - s.time[i - 1] > 3 * step) {
      time.push(s.time[i - 1] + step);
      for (const column of out) column.push(null);
    }
    time.push(t);
    columns.forEach((column, c) => out[c].push(column[i]));
  });
  return [time, ...out];
}

/** Aligns all channels on one time axis: per channel avg, and min/max when downsampled. */
function alignedData(series: Series[]): { data: AlignedData; columns: { series: Series; kind: 'avg' | 'min' | 'max' }[] } {
  const tables = series.map((s) => withGaps(s) as AlignedData);
  const columns = series.flatMap((s) => [{ series: s, kind: 'avg' as const }, ...(s.min && s.max ? [{ series: s, kind: 'min' as const }, { series: s, kind: 'max' as const }] : [])]);
  // NULL_EXPAND (2): a gap's null also covers the other channels' sample times inside it, else the
  // line would be drawn across the gap through those alignment points
  const nullModes = tables.map((t) => t.map((_, i) => (i === 0 ? 0 : 2)) as uPlot.JoinNullMode[]);
  return { data: tables.length === 1 ? tables[0] : uPlot.join(tables, nullModes), columns };
}

export interface ChartHandle { destroy(): void }

/** An alarm limit in force on a drawn channel: a dashed line, and the range beyond it shaded. */
export interface ChartLimit { deviceId: number; channel: number; level: 'warning' | 'alarm'; high: number | null; low: number | null }

export interface ChartOptions {
  onZoom?: (from: number, to: number) => void;
  /** A fixed width in CSS pixels (the printed report: it must fit the page), else the target's width, following the window. */
  width?: number;
  /** false: the legend names the series without values (print has no cursor; it would print "--"). */
  liveLegend?: boolean;
  limits?: ChartLimit[];
}

const LIMIT_COLOURS = { warning: '#9a6700', alarm: '#cf222e' } as const;

/** The series' own spacing in ms: its bucket, or the median gap between its samples. */
function stepOf(s: Series): number {
  if (s.bucketMs > 0) return s.bucketMs;
  const gaps = s.time.slice(1).map((t, i) => t - s.time[i]).sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor(gaps.length / 2)] : 60_000;
}

/** Draws the series over exactly the chosen range (not just where data happens to be). */
export function drawChart(target: HTMLElement, series: Series[], range: { from: number; to: number }, chartOptions: ChartOptions = {}): ChartHandle {
  const { onZoom, liveLegend = true } = chartOptions;
  const { data, columns } = alignedData(series);
  const units = [...new Set(series.map((s) => s.unit))];
  const limits = (chartOptions.limits ?? []).flatMap((l) => {
    // limits are set in the channel's current unit: the series of its latest unit version
    const s = series.findLast((x) => x.deviceId === l.deviceId && x.channel === l.channel);
    return s ? [{ ...l, unit: s.unit }] : [];
  });
  const steps = columns.map(({ series: s }) => stepOf(s));
  const widthNow = () => chartOptions.width ?? Math.max(320, target.clientWidth || 800);
  const options: Options = {
    width: widthNow(),
    height: 380,
    ms: 1,
    legend: { live: liveLegend },
    cursor: {
      drag: { x: true, y: false },
      // The readout shows a channel's value only within one of its own steps of the pointer: where a
      // device has no data (a gap, or another device's sample times) it shows nothing, not the nearest value.
      hover: {
        prox: (u: uPlot, seriesIdx: number) => {
          if (seriesIdx === 0) return null;
          const x0 = u.scales.x.min ?? range.from;
          return Math.max(3, u.valToPos(x0 + steps[seriesIdx - 1], 'x') - u.valToPos(x0, 'x'));
        },
      },
    },
    scales: {
      x: { time: true, range: () => [range.from, range.to] },
      // each unit's axis also spans its limits, so that the lines are on the chart
      ...Object.fromEntries(units.map((unit) => [unit, {
        range: (_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
          const marks = limits.filter((l) => l.unit === unit).flatMap((l) => [l.high, l.low]).filter((v): v is number => v !== null);
          const values = [min, max, ...marks].filter((v): v is number => v !== null && Number.isFinite(v));
          if (!values.length) return [0, 1];
          return uPlot.rangeNum(Math.min(...values), Math.max(...values), 0.1, true);
        },
      }])),
    },
    // times as on every other page: the browser's locale and clock (uPlot's own are US style)
    axes: [{ values: (_u: uPlot, splits: number[]) => splits.map(timeTick(range.to - range.from, splits.length > 1 ? splits[1] - splits[0] : 86_400_000)), space: 80 },
      ...units.map((unit, i) => ({ scale: unit, label: unitLabel(unit), side: i % 2 === 0 ? 3 : 1, grid: { show: i === 0 } }))],
    series: [{ label: 'Time', value: (_u: uPlot, v: number | null) => (v == null ? '' : formatTime(v)) }, ...columns.map(({ series: s, kind }) => {
      const colour = COLOURS[series.indexOf(s) % COLOURS.length];
      return kind === 'avg'
        ? { label: seriesLabel(s), scale: s.unit, stroke: colour, width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v == null ? '—' : formatValue(v, s.unit)) }
        // min/max only shape the band: the legend lists each channel once (styles.css hides these rows)
        : { label: `${kind} ${seriesLabel(s)}`, scale: s.unit, stroke: `${colour}55`, width: 0.5, show: true, class: 'minmax' };
    })],
    bands: columns.flatMap((c, i) => (c.kind === 'max' ? [{ series: [i + 1, i] as [number, number], fill: `${COLOURS[series.indexOf(c.series) % COLOURS.length]}22` }] : [])),
    hooks: {
      ...(onZoom ? {
        setSelect: [(u: uPlot) => {
          if (u.select.width < 5) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          onZoom(Math.floor(from), Math.ceil(to));
        }],
      } : {}),
      drawAxes: [(u: uPlot) => drawLimits(u, limits)],
      // what is drawn, for people's tools and the browser tests (a canvas has no text to read)
      draw: [(u: uPlot) => {
        target.dataset.scales = JSON.stringify(Object.fromEntries(units.map((unit) => [unit, [u.scales[unit]?.min ?? null, u.scales[unit]?.max ?? null]])));
        target.dataset.limits = String(limits.length);
      }],
    },
  };
  const plot = new uPlot(options, data, target);
  const resize = () => plot.setSize({ width: widthNow(), height: 380 });
  if (chartOptions.width === undefined) window.addEventListener('resize', resize);
  return { destroy() { window.removeEventListener('resize', resize); plot.destroy(); } };
}

/** Axis labels: clock times within a day and a half, dates when the ticks are whole days apart, else day and time. */
function timeTick(spanMs: number, stepMs: number): (ms: number) => string {
  if (spanMs <= 36 * 3_600_000) return (ms) => formatClock(ms, spanMs <= 5 * 60_000);
  if (stepMs >= 86_400_000) return formatDate;
  return formatDayAndTime;
}

/** Limits under the data: the range beyond each limit lightly shaded, the limit itself a dashed line. */
function drawLimits(u: uPlot, limits: (ChartLimit & { unit: string })[]): void {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const l of limits) {
    const colour = LIMIT_COLOURS[l.level];
    for (const [value, beyond] of [[l.high, top], [l.low, top + height]] as [number | null, number][]) {
      if (value === null) continue;
      const y = u.valToPos(value, l.unit, true);
      ctx.fillStyle = `${colour}14`;
      ctx.fillRect(left, Math.min(y, beyond), width, Math.abs(beyond - y));
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
    }
  }
  ctx.restore();
}
