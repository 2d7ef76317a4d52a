// The event log: device registrations, suspensions, refusals, alarms, newest first.
import { api, query, type DeviceTree, type StoredEvent } from '../api.ts';
import { field, h, message, show } from '../dom.ts';
import { formatTime } from '../format.ts';

export async function renderEvents(view: HTMLElement, params: URLSearchParams): Promise<void> {
  const tree = await api<DeviceTree>('GET', '/devices?retired=true');
  const devices = new Map(tree.locations.flatMap((l) => l.devices).map((d) => [d.id, d.name]));
  const select = h('select', { onchange: () => load() }, h('option', { value: '' }, 'All devices'),
    [...devices].map(([id, name]) => h('option', { value: id, selected: String(id) === params.get('device') }, name)));
  const output = h('div');

  /** Answers can arrive out of order (a slower, older request after a newer one): only the latest request's is shown. */
  let latestRequest = 0;

  async function load(): Promise<void> {
    const request = ++latestRequest;
    try {
      const { events } = await api<{ events: StoredEvent[] }>('GET', `/events?${query({ device: select.value || undefined, limit: 500 })}`);
      if (request !== latestRequest) return;
      show(output, events.length === 0 ? message('No events.') : h('table', { class: 'events' },
        h('thead', {}, h('tr', {}, ['Time', 'Level', 'Device', 'Event'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, events.map((e) => h('tr', { class: e.level },
          h('td', {}, formatTime(e.at)), h('td', {}, e.level), h('td', {}, e.deviceId === null ? '' : devices.get(e.deviceId) ?? `#${e.deviceId}`), h('td', {}, e.message))))));
    } catch (err) {
      if (request === latestRequest) show(output, message((err as Error).message, 'error'));
    }
  }
  show(view, h('h1', {}, 'Events'), field('Device', select), output);
  await load();
}
