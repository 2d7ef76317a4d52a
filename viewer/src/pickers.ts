// Choosing what to look at: a time range (presets from an hour to years, or exact times) and a
// set of channels from the device tree. Both read and write the page's URL parameters, so a
// view can be bookmarked or sent to a colleague.
import { api, type DeviceTree } from './api.ts';
import { field, h } from './dom.ts';
import { fromLocalInput, quantityLabel, toLocalInput, unitLabel } from './format.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const RANGE_PRESETS: [string, string, number][] = [
  ['1h', 'Last hour', HOUR], ['6h', 'Last 6 hours', 6 * HOUR], ['24h', 'Last 24 hours', DAY], ['7d', 'Last 7 days', 7 * DAY],
  ['30d', 'Last 30 days', 30 * DAY], ['1y', 'Last year', 365 * DAY], ['5y', 'Last 5 years', 5 * 365 * DAY],
];

export interface Range { from: number; to: number }

export function rangeFromParams(params: URLSearchParams, fallback = '24h'): Range {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (from > 0 && to > from) return { from, to };
  const preset = RANGE_PRESETS.find(([key]) => key === (params.get('range') ?? fallback)) ?? RANGE_PRESETS[2];
  const now = Date.now();
  return { from: now - preset[2], to: now + 1000 };
}

export type RangePicker = HTMLElement & { showRange(range: Range): void };

/** Preset buttons plus from/to fields; calls onChange with the chosen range. showRange() shows a range chosen elsewhere (a zoom). */
export function rangePicker(initial: Range, onChange: (range: Range) => void): RangePicker {
  const from = h('input', { type: 'datetime-local', value: toLocalInput(initial.from), required: true });
  const to = h('input', { type: 'datetime-local', value: toLocalInput(initial.to), required: true });
  const apply = (range: Range) => { from.value = toLocalInput(range.from); to.value = toLocalInput(range.to); onChange(range); };
  const picker = h('fieldset', { class: 'range' }, h('legend', {}, 'Time range'),
    h('div', { class: 'presets' }, RANGE_PRESETS.map(([key, label, span]) =>
      h('button', { type: 'button', 'data-range': key, onclick: () => { const now = Date.now(); apply({ from: now - span, to: now + 1000 }); } }, label))),
    h('div', { class: 'exact' }, field('From', from), field('To', to),
      h('button', { type: 'button', onclick: () => {
        const range = { from: fromLocalInput(from.value), to: fromLocalInput(to.value) };
        if (range.to > range.from) onChange(range);
      } }, 'Apply'))) as unknown as RangePicker;
  picker.showRange = (range) => { from.value = toLocalInput(range.from); to.value = toLocalInput(range.to); };
  return picker;
}

/** Checkboxes for every channel, grouped by device; `selected` holds "deviceId:channel" keys. */
export async function channelPicker(selected: Set<string>, onChange: (keys: string[]) => void, max: number): Promise<HTMLElement> {
  const tree = await api<DeviceTree>('GET', '/devices?retired=true');
  const boxes: HTMLInputElement[] = [];
  const chosen = () => boxes.filter((b) => b.checked).map((b) => b.value);
  const enforceMax = () => { const n = chosen().length; for (const b of boxes) b.disabled = !b.checked && n >= max; };
  const changed = () => { enforceMax(); onChange(chosen()); };
  const groups = tree.locations.flatMap((loc) => loc.devices.map((d) =>
    h('fieldset', { class: 'device-channels' }, h('legend', {}, `${loc.name ? `${loc.name} › ` : ''}${d.name}${d.retiredAt ? ' (retired)' : ''}`),
      d.channels.map((c) => {
        const key = `${d.id}:${c.channel}`;
        const box = h('input', { type: 'checkbox', value: key, checked: selected.has(key), onchange: changed });
        boxes.push(box);
        return h('label', { class: 'check' }, box, ` ${quantityLabel(c.quantity)} (${unitLabel(c.unit)})`);
      }))));
  enforceMax();
  return h('details', { class: 'channel-picker', open: selected.size === 0 },
    h('summary', {}, `Channels (up to ${max})`), groups.length ? groups : h('p', {}, 'No devices registered yet.'));
}
