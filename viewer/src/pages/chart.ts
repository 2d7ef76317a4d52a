// Chart page: pick channels and a range; drag across the chart to zoom in (the server sends
// finer buckets for the narrower range), "Back" returns to the previous range.
import { api, query, type Series } from '../api.ts';
import { drawChart, type ChartHandle, type ChartLimit } from '../chart.ts';
import { h, message, show } from '../dom.ts';
import { formatTime } from '../format.ts';
import { channelPicker, rangeFromParams, rangePicker, type Range } from '../pickers.ts';

export const MAX_CHART_CHANNELS = 8;

export async function renderChart(view: HTMLElement, params: URLSearchParams): Promise<() => void> {
  let channels = (params.get('channels') ?? '').split(',').filter(Boolean);
  let range = rangeFromParams(params);
  const zoomStack: Range[] = [];
  let chart: ChartHandle | null = null;
  const plotArea = h('div', { class: 'plot', role: 'img', 'aria-label': 'Chart of the chosen channels' });
  const status = h('div');
  const back = h('button', { type: 'button', disabled: true, onclick: () => { const previous = zoomStack.pop(); if (previous) { range = previous; picker.showRange(range); load(); } } }, 'Back (zoom out)');

  /** Answers can arrive out of order (a slower, older request after a newer one): only the latest request's is shown. */
  let latestRequest = 0;

  async function load(): Promise<void> {
    const request = ++latestRequest;
    back.disabled = zoomStack.length === 0;
    // keep the URL in step so the view can be bookmarked
    history.replaceState(null, '', `#/chart?${query({ channels: channels.join(','), from: range.from, to: range.to })}`);
    if (!channels.length) { chart?.destroy(); chart = null; plotArea.hidden = true; show(status, message('Choose one or more channels.')); return; }
    show(status, message('Loading…'));
    try {
      const [result, { limits }] = await Promise.all([
        api<{ series: Series[] }>('GET', `/series?${query({ channels: channels.join(','), from: range.from, to: range.to })}`),
        api<{ limits: ChartLimit[] }>('GET', '/alarm-limits'),
      ]);
      if (request !== latestRequest) return;
      chart?.destroy();
      plotArea.replaceChildren();
      plotArea.hidden = false;
      chart = drawChart(plotArea, result.series, range, {
        limits,
        onZoom: (from, to) => { zoomStack.push(range); range = { from, to }; picker.showRange(range); load(); },
      });
      const points = result.series.reduce((n, s) => n + s.time.length, 0);
      const buckets = [...new Set(result.series.map((s) => s.bucketMs))];
      show(status, message(`${formatTime(range.from)} – ${formatTime(range.to)} · ${points} points · ${buckets.map((b) => (b === 0 ? 'every sample' : `min/avg/max per ${b / 60_000 >= 60 ? `${b / 3_600_000} h` : `${b / 60_000} min`}`)).join(', ')}. Drag across the chart to zoom in.`));
    } catch (err) {
      if (request === latestRequest) show(status, message((err as Error).message, 'error'));
    }
  }

  const channelChoice = await channelPicker(new Set(channels), (keys) => { channels = keys; load(); }, MAX_CHART_CHANNELS);
  const picker = rangePicker(range, (r) => { zoomStack.push(range); range = r; load(); });
  show(view, h('h1', {}, 'Chart'), channelChoice, picker, h('div', { class: 'toolbar' }, back), status, plotArea);
  await load();
  return () => chart?.destroy();
}
