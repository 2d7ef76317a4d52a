// Alarm limits per channel: every channel with the limits in force, for everyone signed in.
// Operators and administrators select one channel or many and set one set of limits on all of them
// at once (a template: every fridge 2–8 °C), signed with their password. The server checks role and
// signature; the chart draws the limits in force as lines and bands.
import { api, type AlarmLimit, type DeviceTree, type Me } from '../api.ts';
import { dialogForm, field, h, message, reasonField, show } from '../dom.ts';
import { formatNumber, formatTime, naturalCompare, quantityLabel, unitLabel } from '../format.ts';
import { signatureFields, signatureFrom } from '../signature.ts';

interface Row { key: string; deviceId: number; deviceName: string; location: string; channel: number; quantity: string; unit: string }

const LEVELS = ['alarm', 'warning'] as const;

function describe(l: AlarmLimit | undefined, unit: string): string {
  if (!l) return '—';
  const value = (v: number | null) => (v === null ? '…' : formatNumber(v, unit));
  return `${value(l.low)} – ${value(l.high)} ${unitLabel(unit)}`;
}

/** Reads the dialog's number fields; an empty field is "no limit". Decimal commas are accepted. */
function numberField(values: Record<string, string>, name: string): number | null {
  const text = (values[name] ?? '').trim().replace(',', '.');
  if (!text) return null;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`"${values[name]}" is not a number`);
  return n;
}

export async function renderLimits(view: HTMLElement, me: Me, params: URLSearchParams): Promise<void> {
  const mayEdit = me.role !== 'viewer';
  const status = h('div');
  const output = h('div');
  const selected = new Set((params.get('channels') ?? '').split(',').filter(Boolean));
  const setButton = h('button', { type: 'button', class: 'primary', disabled: true, onclick: () => edit([...selected]) }, 'Set limits for the selected channels');

  let rows: Row[] = [];
  let limits: AlarmLimit[] = [];
  const limitOf = (key: string, level: string) => limits.find((l) => `${l.deviceId}:${l.channel}` === key && l.level === level);

  function refreshButton(): void {
    setButton.disabled = selected.size === 0;
    setButton.textContent = selected.size > 1 ? `Set one set of limits for the ${selected.size} selected channels` : 'Set limits for the selected channel';
  }

  async function edit(keys: string[]): Promise<void> {
    const chosen = rows.filter((r) => keys.includes(r.key));
    if (!chosen.length) return;
    const units = [...new Set(chosen.map((r) => unitLabel(r.unit)))];
    const first = chosen[0].key;
    const input = (name: string, value: number | null | undefined, extra: Record<string, string | number | boolean> = {}) =>
      h('input', { name, value: value === null || value === undefined ? '' : String(value), inputmode: 'decimal', autocomplete: 'off', ...extra });
    const values = await dialogForm(chosen.length > 1 ? `Limits for ${chosen.length} channels` : `Limits of ${chosen[0].deviceName}, ${quantityLabel(chosen[0].quantity)}`, [
      h('p', { class: 'meta' }, chosen.length > 1 ? `One set for: ${chosen.map((r) => `${r.deviceName} ${quantityLabel(r.quantity)}`).join(', ')}.` : `Channel ${chosen[0].channel}, in ${unitLabel(chosen[0].unit)}.`),
      units.length > 1 ? message(`The selected channels measure in different units (${units.join(', ')}): one set of numbers rarely fits them all.`, 'error') : null,
      h('div', { class: 'limit-grid' },
        LEVELS.map((level) => h('fieldset', {}, h('legend', {}, level === 'alarm' ? 'Alarm' : 'Warning'),
          field(`Low (${units.join('/')})`, input(`${level}Low`, limitOf(first, level)?.low)),
          field(`High (${units.join('/')})`, input(`${level}High`, limitOf(first, level)?.high)),
          field('Delay (s)', input(`${level}Delay`, limitOf(first, level)?.delayS ?? 0, { type: 'number', min: 0, max: 86400, inputmode: 'numeric' }), 'the breach must last this long'),
          field('Hysteresis', input(`${level}Hysteresis`, limitOf(first, level)?.hysteresis ?? 0), 'clears this far back inside')))),
      h('p', { class: 'meta' }, 'Leave low and high empty to remove that level\'s limits.'),
      reasonField('e.g. SOP 12 rev. 3'),
      ...signatureFields('approved'),
    ], 'Save limits', async (values) => {
      const set = LEVELS.flatMap((level) => {
        const low = numberField(values, `${level}Low`);
        const high = numberField(values, `${level}High`);
        if (low === null && high === null) return [];
        return [{ level, low, high, delayS: Math.round(numberField(values, `${level}Delay`) ?? 0), hysteresis: numberField(values, `${level}Hysteresis`) ?? 0 }];
      });
      await api('PUT', '/alarm-limits', { channels: chosen.map((r) => r.key), limits: set, reason: values.reason, signature: signatureFrom(values) });
    });
    if (!values) return;
    show(status, message(`Limits saved for ${chosen.length} channel(s).`));
    await load();
  }

  async function load(): Promise<void> {
    const [tree, result] = await Promise.all([api<DeviceTree>('GET', '/devices'), api<{ limits: AlarmLimit[] }>('GET', '/alarm-limits')]);
    limits = result.limits;
    rows = tree.locations.flatMap((loc) => loc.devices.flatMap((d) => d.channels.map((c) => ({
      key: `${d.id}:${c.channel}`, deviceId: d.id, deviceName: d.name, location: loc.name, channel: c.channel, quantity: c.quantity, unit: c.unit,
    })))).sort((a, b) => naturalCompare(a.location, b.location) || naturalCompare(a.deviceName, b.deviceName) || a.channel - b.channel);
    const updated = (key: string) => {
      const times = LEVELS.map((l) => limitOf(key, l)?.updatedAt).filter((t): t is number => t !== undefined);
      return times.length ? formatTime(Math.max(...times)) : '';
    };
    show(output, rows.length === 0 ? message('No channels yet: they appear with a device\'s first upload.') : h('table', { class: 'limits' },
      h('thead', {}, h('tr', {},
        mayEdit ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Select')) : null,
        ['Device', 'Channel', 'Alarm (low – high)', 'Warning (low – high)', 'Delay', 'Set'].map((t) => h('th', { scope: 'col' }, t)),
        mayEdit ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Edit')) : null)),
      h('tbody', {}, rows.map((r) => {
        const alarm = limitOf(r.key, 'alarm');
        const warning = limitOf(r.key, 'warning');
        const delays = [alarm, warning].filter(Boolean).map((l) => `${l!.delayS} s`);
        const box = h('input', { type: 'checkbox', checked: selected.has(r.key), 'aria-label': `Select ${r.deviceName} ${quantityLabel(r.quantity)}`,
          onchange: (e: Event) => { if ((e.target as HTMLInputElement).checked) selected.add(r.key); else selected.delete(r.key); refreshButton(); } });
        return h('tr', { 'data-channel': r.key },
          mayEdit ? h('td', {}, box) : null,
          h('th', { scope: 'row' }, r.deviceName, r.location ? h('small', { class: 'meta' }, ` · ${r.location}`) : null),
          h('td', {}, `${r.channel} · ${quantityLabel(r.quantity)}`),
          h('td', { class: alarm ? 'limit alarm-limit' : '' }, describe(alarm, r.unit)),
          h('td', { class: warning ? 'limit warning-limit' : '' }, describe(warning, r.unit)),
          h('td', {}, delays.join(' / ') || '—'),
          h('td', { class: 'time' }, updated(r.key)),
          mayEdit ? h('td', {}, h('button', { type: 'button', onclick: () => edit([r.key]) }, 'Edit')) : null);
      }))));
    refreshButton();
  }

  show(view, h('h1', {}, 'Alarm limits'),
    h('p', { class: 'meta' }, 'A reading beyond a limit for longer than its delay raises an alarm; it clears once the readings are back inside by the hysteresis. The chart draws the limits in force.'),
    mayEdit ? h('div', { class: 'toolbar' }, setButton, h('span', { class: 'meta' }, 'Select channels to give them all the same limits.')) : message('Operators and administrators set limits.'),
    status, h('div', { class: 'scroll' }, output));
  await load();
}
