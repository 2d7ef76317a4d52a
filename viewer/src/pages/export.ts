// Export: the chosen channels and range as a CSV file for Excel, or as a printable report.
import { query } from '../api.ts';
import { field, h, show } from '../dom.ts';
import { channelPicker, rangeFromParams, rangePicker } from '../pickers.ts';

export const MAX_EXPORT_CHANNELS = 16;

export async function renderExport(view: HTMLElement, params: URLSearchParams): Promise<void> {
  let channels = (params.get('channels') ?? '').split(',').filter(Boolean);
  let range = rangeFromParams(params);
  const decimal = h('select', { onchange: () => update() },
    h('option', { value: '' }, 'As this browser\'s language writes numbers'),
    h('option', { value: 'comma' }, 'Decimal comma, fields separated by ";" (German, Czech, French… Excel)'),
    h('option', { value: 'point' }, 'Decimal point, fields separated by "," (English Excel)'));
  const download = h('a', { class: 'button primary', download: '' }, 'Download CSV');
  const report = h('a', { class: 'button' }, 'Printable report');
  const completeness = h('a', { class: 'button', download: '' }, 'Completeness per day (CSV)');
  const hint = h('p', { class: 'meta' });

  function update(): void {
    const ready = channels.length > 0;
    const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    download.toggleAttribute('aria-disabled', !ready);
    report.toggleAttribute('aria-disabled', !ready);
    completeness.toggleAttribute('aria-disabled', !ready);
    completeness.href = ready ? `/api/completeness.csv?${query({ channels: channels.join(','), from: range.from, to: range.to })}` : '#/export';
    download.href = ready ? `/api/export.csv?${query({ channels: channels.join(','), from: range.from, to: range.to, tz: timeZone, decimal: decimal.value || undefined })}` : '#/export';
    report.href = ready ? `#/report?${query({ channels: channels.slice(0, 8).join(','), from: range.from, to: range.to })}` : '#/export';
    hint.textContent = ready ? `Every sample, times in UTC and in ${timeZone}. A report shows up to 8 channels.` : 'Choose one or more channels.';
  }

  const picker = await channelPicker(new Set(channels), (keys) => { channels = keys; update(); }, MAX_EXPORT_CHANNELS);
  show(view, h('h1', {}, 'Export and report'), picker, rangePicker(range, (r) => { range = r; update(); }),
    field('Number format', decimal), h('div', { class: 'toolbar' }, download, report, completeness), hint);
  update();
}
