// The audit trail for review (issue 18): every event with who did it, from where and when the store
// recorded it; filtered by user, type, device and period; paged through all of it (not only the
// newest); exported as CSV or PDF with the same filter; and a signed "reviewed by …" record.
import { api, query, type DeviceTree, type StoredEvent } from '../api.ts';
import { field, h, message, show } from '../dom.ts';
import { formatTime, fromLocalInput } from '../format.ts';
import { signatureInputs, signatureOf } from '../signature.ts';

type AuditEvent = StoredEvent & { actor?: string | null; source?: string | null; recordedAt?: number | null };

const TYPES: [string, string][] = [
  ['', 'All types'], ['user.', 'Users and sign-ins'], ['alarm.', 'Alarms and limits'], ['device.', 'Devices'], ['channel.', 'Channels and units'],
  ['zone.', 'Zones'], ['retention.', 'Retention'], ['integrity.', 'Integrity'], ['audit.', 'Reviews'], ['signature.', 'Signatures'], ['upload.', 'Uploads'],
];

export async function renderAudit(view: HTMLElement, params: URLSearchParams): Promise<void> {
  const tree = await api<DeviceTree>('GET', '/devices');
  const devices = new Map(tree.locations.flatMap((l) => l.devices).map((d) => [d.id, d.name]));
  const user = h('input', { type: 'text', name: 'actor', value: params.get('user') ?? '', placeholder: 'any', maxlength: 128 }) as HTMLInputElement;
  const type = h('select', { name: 'type' }, TYPES.map(([value, label]) => h('option', { value }, label))) as HTMLSelectElement;
  const device = h('select', { name: 'device' }, h('option', { value: '' }, 'All devices'),
    [...devices].map(([id, name]) => h('option', { value: id, selected: String(id) === params.get('device') }, name))) as HTMLSelectElement;
  const from = h('input', { type: 'datetime-local', name: 'from' }) as HTMLInputElement;
  const to = h('input', { type: 'datetime-local', name: 'to' }) as HTMLInputElement;
  const output = h('div');
  const more = h('div');
  const exports = h('p', { class: 'meta' });
  const reviews = h('div');
  let shown = 0;
  /** Answers can arrive out of order (the first, unfiltered page after a filtered one): only the latest request's is shown. */
  let latestRequest = 0;

  const filter = () => ({
    actor: user.value.trim() || undefined, type: type.value || undefined, device: device.value || undefined,
    from: from.value ? fromLocalInput(from.value) : undefined, to: to.value ? fromLocalInput(to.value) : undefined,
  });

  function row(e: AuditEvent): HTMLElement {
    return h('tr', { class: e.level, 'data-event': e.id },
      h('td', {}, String(e.id)), h('td', {}, formatTime(e.at)), h('td', {}, e.actor ?? 'system'), h('td', {}, e.source ?? ''),
      h('td', {}, e.deviceId === null ? '' : devices.get(e.deviceId) ?? `#${e.deviceId}`), h('td', {}, e.type), h('td', {}, e.message));
  }

  async function load(before?: number): Promise<void> {
    const request = ++latestRequest;
    const asked = filter();
    try {
      const page = await api<{ events: AuditEvent[]; nextBefore: number | null; reviews: AuditEvent[] }>('GET', `/audit?${query({ ...asked, before, limit: 200 })}`);
      if (request !== latestRequest) return;
      const body = output.querySelector('tbody');
      if (before === undefined || !body) {
        shown = 0;
        show(output, page.events.length === 0 ? message('No events match.') : h('table', { class: 'events audit' },
          h('thead', {}, h('tr', {}, ['#', 'Time', 'User', 'From', 'Device', 'Type', 'What'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, page.events.map(row))));
      } else {
        body.append(...page.events.map(row));
      }
      shown += page.events.length;
      show(more, page.nextBefore === null ? h('p', { class: 'meta' }, `${shown} event(s): the whole trail for this filter.`)
        : h('button', { type: 'button', onclick: () => load(page.nextBefore!) }, `Older events (${shown} shown)`));
      const q = query(asked);
      show(exports, 'Export this filter: ', h('a', { href: `/api/audit.csv?${q}` }, 'CSV'), ' · ', h('a', { href: `/api/audit.pdf?${q}` }, 'PDF'));
      show(reviews, page.reviews.length ? h('ul', { class: 'reviews' }, page.reviews.map((r) => h('li', {}, `${formatTime(r.at)}: ${r.message}`))) : message('Not reviewed yet.'));
    } catch (err) {
      if (request === latestRequest) show(output, message((err as Error).message, 'error'));
    }
  }

  const comment = h('input', { type: 'text', required: true, maxlength: 2000, placeholder: 'What was reviewed, and the outcome', 'aria-label': 'Review comment' }) as HTMLInputElement;
  const signature = signatureInputs('reviewed', 'the review');
  const reviewStatus = h('span', { class: 'meta', role: 'status' });
  const reviewForm = h('form', {
    class: 'inline', onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        await api('POST', '/audit/review', {
          ...Object.fromEntries(Object.entries(filter()).filter(([, v]) => v !== undefined).map(([k, v]) => [k, k === 'device' ? Number(v) : v])),
          comment: comment.value.trim(), signature: signatureOf({ signaturePassword: signature.password.value, signatureMeaning: signature.meaning.value }),
        });
        signature.password.value = '';
        reviewStatus.textContent = 'Review recorded with your signature.';
        await load();
      } catch (err) {
        reviewStatus.textContent = (err as Error).message;
      }
    },
  }, comment, signature.password, signature.meaning, h('button', { type: 'submit', class: 'primary' }, 'Sign review'), reviewStatus);

  const filters = h('form', { class: 'filters', onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    field('User', user), field('Type', type), field('Device', device), field('From', from), field('To', to),
    h('button', { type: 'submit', class: 'primary' }, 'Show'));
  show(view, h('h1', {}, 'Audit trail'), filters, exports, output, more,
    h('h2', {}, 'Review'), h('p', { class: 'meta' }, 'Record that you reviewed the trail shown above (this filter), signed with your password.'), reviewForm,
    h('h2', {}, 'Recent reviews'), reviews);
  await load();
}
