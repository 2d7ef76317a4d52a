// The raw samples of one device as a table, a page at a time (oldest first within the range).
import { api, query, type DeviceTree } from '../api.ts';
import { field, h, message, show } from '../dom.ts';
import { formatTime, formatValue, quantityLabel, unitLabel, unitValidity } from '../format.ts';
import { rangeFromParams, rangePicker } from '../pickers.ts';

interface TablePage {
  /** One column per channel and unit version: a channel whose unit changed on this page has a column per unit. */
  channels: { channel: number; quantity: string; unit: string; unitFrom?: number | null; unitUntil?: number | null }[];
  rows: { time: number; values: ({ value: number | null; errorCode: number | null; alarm: string } | null)[] }[];
  next: number | null;
}

const PAGE_ROWS = 100;

export async function renderTable(view: HTMLElement, params: URLSearchParams): Promise<void> {
  const tree = await api<DeviceTree>('GET', '/devices?retired=true');
  const devices = tree.locations.flatMap((l) => l.devices);
  let range = rangeFromParams(params);
  const select = h('select', { onchange: () => restart() }, devices.map((d) => h('option', { value: d.id, selected: String(d.id) === params.get('device') }, `${d.name}${d.retiredAt ? ` (retired, serial ${d.serial})` : ''}`)));
  const output = h('div');
  const pageStarts: number[] = [];
  const restart = () => { pageStarts.length = 0; pageStarts.push(range.from); load(); };

  /** Answers can arrive out of order (a slower, older request after a newer one): only the latest request's is shown. */
  let latestRequest = 0;

  async function load(): Promise<void> {
    const request = ++latestRequest;
    if (!select.value) { show(output, message('No devices registered yet.')); return; }
    const from = pageStarts[pageStarts.length - 1];
    try {
      const page = await api<TablePage>('GET', `/samples?${query({ device: select.value, from, to: range.to, limit: PAGE_ROWS })}`);
      if (request !== latestRequest) return;
      const cell = (v: TablePage['rows'][number]['values'][number], unit: string) =>
        v === null ? h('td', {}, '') : h('td', { class: v.errorCode !== null ? 'error' : v.alarm !== 'no' ? 'alarm' : '' },
          v.errorCode !== null ? `sensor error ${v.errorCode}` : `${formatValue(v.value, unit)}${v.alarm !== 'no' ? ` (${v.alarm === 'hi' ? 'high' : 'low'} alarm)` : ''}`);
      show(output,
        page.rows.length === 0 ? message('No samples in this range.') : h('table', { class: 'samples' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), page.channels.map((c) => h('th', { scope: 'col' }, `${quantityLabel(c.quantity)} (${unitLabel(c.unit)}${unitValidity(c)})`)))),
          h('tbody', {}, page.rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, formatTime(r.time)), r.values.map((v, i) => cell(v, page.channels[i].unit)))))),
        h('div', { class: 'toolbar' },
          h('button', { type: 'button', disabled: pageStarts.length < 2, onclick: () => { pageStarts.pop(); load(); } }, 'Previous page'),
          h('span', {}, `Page ${pageStarts.length}`),
          h('button', { type: 'button', disabled: page.next === null, onclick: () => { pageStarts.push(page.next!); load(); } }, 'Next page')));
    } catch (err) {
      if (request === latestRequest) show(output, message((err as Error).message, 'error'));
    }
  }

  show(view, h('h1', {}, 'Table'), field('Device', select), rangePicker(range, (r) => { range = r; restart(); }), output);
  restart();
}
