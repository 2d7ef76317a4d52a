// Alarms: the ones still open first (raised and not both acknowledged and cleared), each with an
// acknowledgement form for operators and administrators: a comment is required, as the audit trail
// needs a reason. Viewers see the list only; the API refuses their acknowledgements anyway.
import { api, query, type DeviceTree, type Me, type StoredAlarm } from '../api.ts';
import { h, message, show } from '../dom.ts';
import { formatTime, formatValue } from '../format.ts';
import { signatureInputs, signatureOf } from '../signature.ts';

function state(a: StoredAlarm): string {
  if (a.clearedAt !== null && a.acknowledgedAt !== null) return 'closed';
  if (a.acknowledgedAt !== null) return 'acknowledged, still active';
  if (a.clearedAt !== null) return 'cleared, not acknowledged';
  return 'active, not acknowledged';
}

/** Limit alarms by their direction; system alarms by what raised them (offline, integrity). */
function typeOf(a: StoredAlarm): string {
  return a.source === 'limit' ? `${a.direction ?? ''} limit`.trim() : a.kind ?? 'system';
}

export async function renderAlarms(view: HTMLElement, me: Me): Promise<void> {
  const tree = await api<DeviceTree>('GET', '/devices');
  const devices = new Map(tree.locations.flatMap((l) => l.devices).map((d) => [d.id, `${d.name}${d.location ? ` (${d.location})` : ''}`]));
  const mayAcknowledge = me.role !== 'viewer';
  const output = h('div');

  function acknowledgeForm(alarm: StoredAlarm): HTMLElement {
    const comment = h('input', { type: 'text', required: true, maxlength: 500, placeholder: 'What was done, or why it is acceptable', 'aria-label': `Comment for alarm ${alarm.id}` }) as HTMLInputElement;
    const status = h('span', { class: 'meta', role: 'status' });
    const signature = signatureInputs('acknowledged', `the acknowledgement of alarm ${alarm.id}`);
    signature.password.placeholder = 'Your password (signature)';
    return h('form', {
      class: 'inline', onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!comment.value.trim()) { status.textContent = 'A comment is required.'; return; }
        try {
          await api('POST', `/alarms/${alarm.id}/acknowledge`, {
            comment: comment.value.trim(), signature: signatureOf({ signaturePassword: signature.password.value, signatureMeaning: signature.meaning.value }),
          });
          await load();
        } catch (err) {
          status.textContent = (err as Error).message;
        }
      },
    }, comment, signature.password, signature.meaning, h('button', { type: 'submit', class: 'primary' }, 'Sign and acknowledge'), status);
  }

  function row(a: StoredAlarm): HTMLElement {
    const where = a.deviceId === null ? 'Inlet' : `${devices.get(a.deviceId) ?? `#${a.deviceId}`}${a.channel === null ? '' : `, channel ${a.channel}`}`;
    return h('tr', { class: a.level, 'data-alarm': a.id },
      h('td', {}, formatTime(a.raisedAt)), h('td', {}, a.level), h('td', {}, typeOf(a)), h('td', {}, where), h('td', {}, a.message),
      h('td', {}, a.value === null ? '' : formatValue(a.value, '')), h('td', {}, state(a)),
      h('td', {}, a.acknowledgedAt !== null ? `${a.acknowledgedBy}${a.ackMeaning ? ` (signed: ${a.ackMeaning})` : ''}, ${formatTime(a.acknowledgedAt)}: ${a.ackComment}`
        : mayAcknowledge ? acknowledgeForm(a) : 'not yet'));
  }

  async function load(): Promise<void> {
    try {
      const [open, recent] = await Promise.all([
        api<{ alarms: StoredAlarm[] }>('GET', `/alarms?${query({ open: 'true', limit: 500 })}`),
        api<{ alarms: StoredAlarm[] }>('GET', `/alarms?${query({ open: 'false', limit: 200 })}`),
      ]);
      const wanted = (a: StoredAlarm) => !typeFilter.value || (typeFilter.value === 'limit' ? a.source === 'limit' : a.kind === typeFilter.value);
      const openIds = new Set(open.alarms.map((a) => a.id));
      const closed = recent.alarms.filter((a) => !openIds.has(a.id) && wanted(a));
      const shownOpen = open.alarms.filter(wanted);
      const table = (alarms: StoredAlarm[]) => h('table', { class: 'events alarms' },
        h('thead', {}, h('tr', {}, ['Raised', 'Level', 'Type', 'Where', 'Alarm', 'Value', 'State', 'Acknowledgement'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, alarms.map(row)));
      show(output,
        h('h2', {}, `Open (${shownOpen.length})`), shownOpen.length ? table(shownOpen) : message('No open alarms.'),
        h('h2', {}, 'Recently closed'), closed.length ? table(closed) : message('None.'));
    } catch (err) {
      show(output, message((err as Error).message, 'error'));
    }
  }
  // Which alarms to list: a site with many sensors offline after a network change wants to see the rest.
  const typeFilter = h('select', { 'aria-label': 'Alarm type', onchange: () => load() },
    [['', 'All types'], ['limit', 'Limit alarms'], ['offline', 'Offline'], ['integrity', 'Integrity']].map(([value, label]) => h('option', { value }, label)));
  show(view, h('h1', {}, 'Alarms'), h('p', {}, h('label', {}, 'Show ', typeFilter)), output);
  await load();
}
