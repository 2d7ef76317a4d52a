// The device tree with live values: the server pushes the whole tree over Server-Sent Events
// whenever something changed (viewer/src/live.ts), and this page redraws it. Each card shows the
// device's worst open alarm, so nothing unacknowledged hides behind a green card.
import type { DeviceTree, DeviceView } from '../api.ts';
import { h, message, show } from '../dom.ts';
import { STATUS_LABELS, ago, formatTime, formatValue, quantityLabel } from '../format.ts';
import { subscribeLive } from '../live.ts';

function channelRow(c: DeviceView['channels'][number]): HTMLElement {
  const state = c.errorCode !== null ? `Sensor error ${c.errorCode}` : c.alarm === 'hi' ? 'High alarm' : c.alarm === 'lo' ? 'Low alarm' : '';
  return h('tr', { class: c.errorCode !== null ? 'error' : c.alarm !== 'no' ? 'alarm' : '' },
    h('th', { scope: 'row' }, quantityLabel(c.quantity), state ? h('small', { class: 'state' }, state) : null),
    h('td', { class: 'value', 'data-channel': c.channel }, formatValue(c.value, c.unit)),
    h('td', { class: 'time' }, formatTime(c.time)));
}

function alarmLine(d: DeviceView): HTMLElement | null {
  const a = d.openAlarm;
  if (!a) return null;
  const more = a.count > 1 ? ` (+${a.count - 1} more open)` : '';
  const how = a.acknowledged ? 'acknowledged' : a.cleared ? 'cleared, not acknowledged' : 'not acknowledged';
  return h('a', { class: `open-alarm ${a.acknowledged ? 'acknowledged' : a.level}`, href: '#/alarms', 'data-open-alarm': a.id },
    h('strong', {}, a.level === 'alarm' ? 'Alarm' : 'Warning'), ` · ${how}${more}: `, a.message);
}

function deviceCard(d: DeviceView, now: number): HTMLElement {
  const channels = d.channels.map((c) => `${d.id}:${c.channel}`).join(',');
  const worst = d.openAlarm && !d.openAlarm.acknowledged ? ` open-${d.openAlarm.level}` : '';
  return h('article', { class: `device status-${d.status}${d.alarm ? ' has-alarm' : ''}${worst}`, 'data-device': d.id },
    h('header', {},
      h('h3', {}, d.name),
      h('span', { class: `badge ${d.status}` }, STATUS_LABELS[d.status]),
      d.alarm ? h('span', { class: 'badge alarm' }, 'Alarm') : null,
      d.error ? h('span', { class: 'badge error' }, 'Sensor error') : null),
    h('p', { class: 'meta' }, `${d.model} · serial ${d.serial} · last upload ${ago(d.lastSeenAt, now)} · every ${d.intervalS} s`),
    d.status === 'suspended' ? h('p', { class: 'meta' }, d.suspendedReason ?? 'suspended') : null,
    alarmLine(d),
    d.channels.length
      ? h('table', { class: 'values' }, h('caption', { class: 'sr-only' }, `Latest values of ${d.name}`), h('tbody', {}, d.channels.map(channelRow)))
      : h('p', {}, 'No values yet.'),
    h('nav', { class: 'links', 'aria-label': `Views of ${d.name}` },
      d.channels.length ? h('a', { href: `#/chart?channels=${channels}&range=24h` }, 'Chart') : null,
      h('a', { href: `#/table?device=${d.id}&range=24h` }, 'Table'),
      h('a', { href: `#/events?device=${d.id}` }, 'Events'),
      d.channels.length ? h('a', { href: `#/limits?channels=${channels}` }, 'Limits') : null));
}

export function renderDevices(view: HTMLElement, _signedOut: () => void): () => void {
  const updated = h('p', { class: 'meta', role: 'status' }, 'Connecting…');
  const content = h('div');
  show(view, h('h1', {}, 'Devices'), updated, content);
  return subscribeLive((tree: DeviceTree) => {
    updated.textContent = `Live · updated ${formatTime(tree.now)}`;
    show(content, tree.locations.length === 0
      ? message('No devices registered yet. An administrator adds them on the Admin page.')
      : tree.locations.map((loc) => h('section', { class: 'location' },
        h('h2', {}, loc.name || 'No location'), h('div', { class: 'cards' }, loc.devices.map((d) => deviceCard(d, tree.now))))));
  }, (connected) => { if (!connected) updated.textContent = 'Connection lost; reconnecting…'; });
}
