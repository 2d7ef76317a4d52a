// Alarms: the ones still open first (raised and not both acknowledged and cleared), then the recently
// closed. The list follows the live stream by itself, with an optional sound for new alarms (a wall
// display). Operators and administrators acknowledge one alarm, or select many and acknowledge them
// with one comment (each alarm still gets its own record), signing with their password; the comment
// is required, as the audit trail needs a reason. Viewers see the list only; the API refuses them anyway.
import { api, query, type DeviceTree, type Me, type OpenAlarmCount, type StoredAlarm } from '../api.ts';
import { dialogForm, field, h, message, show } from '../dom.ts';
import { formatTime, quantityLabel } from '../format.ts';
import { subscribeLive } from '../live.ts';
import { signatureFields, signatureFrom } from '../signature.ts';

function state(a: StoredAlarm): string {
  if (a.clearedAt !== null && a.acknowledgedAt !== null) return 'closed';
  if (a.acknowledgedAt !== null) return 'acknowledged, still active';
  if (a.clearedAt !== null) return 'cleared, not acknowledged';
  return 'active, not acknowledged';
}

const KIND_LABELS: Record<string, string> = { offline: 'offline', integrity: 'integrity', device: 'device alarm', sensor: 'sensor error' };

/** Limit alarms by their direction; the others by what raised them (offline, integrity, the device, a sensor error). */
function typeOf(a: StoredAlarm): string {
  return a.source === 'limit' ? `${a.direction ?? ''} limit`.trim() : KIND_LABELS[a.kind ?? ''] ?? 'system';
}

const SOUND_KEY = 'inlet.alarmSound';

/** A short two-tone beep made in the browser: nothing to download. */
function beep(context: AudioContext): void {
  for (const [i, frequency] of [880, 660].entries()) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.value = 0.2;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(context.currentTime + i * 0.25);
    oscillator.stop(context.currentTime + i * 0.25 + 0.2);
  }
}

export async function renderAlarms(view: HTMLElement, me: Me): Promise<() => void> {
  const tree = await api<DeviceTree>('GET', '/devices?retired=true');
  const devices = new Map(tree.locations.flatMap((l) => l.devices).map((d) => [d.id, d]));
  const mayAcknowledge = me.role !== 'viewer';
  const output = h('div');
  const status = h('div');
  const selected = new Set<number>();
  const bulkButton = h('button', { type: 'button', class: 'primary', disabled: true, onclick: () => acknowledge([...selected]) }, 'Acknowledge selected');
  let audio: AudioContext | null = null;
  let knownUnacknowledged: Set<number> | null = null;

  function refreshBulk(): void {
    bulkButton.disabled = selected.size === 0;
    bulkButton.textContent = selected.size ? `Acknowledge ${selected.size} selected` : 'Acknowledge selected';
  }

  /** One alarm or many, one comment, one signature; each alarm gets its own acknowledgement record. */
  async function acknowledge(ids: number[]): Promise<void> {
    if (!ids.length) return;
    const done = await dialogForm(ids.length === 1 ? `Acknowledge alarm ${ids[0]}` : `Acknowledge ${ids.length} alarms`, [
      ids.length > 1 ? h('p', { class: 'meta' }, 'The comment is recorded on each alarm.') : null,
      field('Comment', h('input', { name: 'comment', required: true, minlength: 3, maxlength: 1000, placeholder: 'What was done, or why it is acceptable' })),
      ...signatureFields('acknowledged'),
    ], 'Acknowledge', async (values) => {
      const body = { comment: values.comment.trim(), signature: signatureFrom(values) };
      if (ids.length === 1) await api('POST', `/alarms/${ids[0]}/acknowledge`, body);
      else {
        const result = await api<{ acknowledged: number[]; skipped: number[] }>('POST', '/alarms/acknowledge', { ...body, ids });
        if (result.skipped.length) show(status, message(`${result.skipped.length} alarm(s) were acknowledged by someone else meanwhile.`));
      }
    });
    if (!done) return;
    for (const id of ids) selected.delete(id);
    refreshBulk();
    await load();
  }

  function where(a: StoredAlarm): HTMLElement {
    if (a.deviceId === null) return h('span', {}, 'Inlet');
    const d = devices.get(a.deviceId);
    const channel = a.channel === null ? null : d?.channels.find((c) => c.channel === a.channel);
    return h('span', {}, d?.name ?? `#${a.deviceId}`, d?.location ? h('small', { class: 'meta' }, ` · ${d.location}`) : null,
      a.channel === null ? null : h('br'), a.channel === null ? null : h('small', {}, `channel ${a.channel}${channel ? ` · ${quantityLabel(channel.quantity)}` : ''}`));
  }

  function row(a: StoredAlarm, open: boolean): HTMLElement {
    const selectable = open && mayAcknowledge && a.acknowledgedAt === null;
    const box = selectable ? h('input', { type: 'checkbox', checked: selected.has(a.id), 'aria-label': `Select alarm ${a.id}`,
      onchange: (e: Event) => { if ((e.target as HTMLInputElement).checked) selected.add(a.id); else selected.delete(a.id); refreshBulk(); } }) : null;
    return h('tr', { class: open ? `open ${a.level}` : 'closed', 'data-alarm': a.id },
      mayAcknowledge ? h('td', { class: 'select' }, box) : null,
      h('td', { class: 'time' }, formatTime(a.raisedAt), h('small', { class: 'state' }, state(a))),
      h('td', {}, h('span', { class: `badge ${a.level}` }, a.level), ' ', h('span', { class: 'type' }, typeOf(a))),
      h('td', { class: 'where' }, where(a)),
      h('td', { class: 'text' }, a.message),
      h('td', { class: 'text' }, a.acknowledgedAt !== null ? `${a.acknowledgedBy}, ${formatTime(a.acknowledgedAt)}: ${a.ackComment}`
        : mayAcknowledge ? h('button', { type: 'button', class: 'primary', onclick: () => acknowledge([a.id]) }, 'Acknowledge') : 'not yet'));
  }

  /** Answers can arrive out of order (a live-triggered load that left before an acknowledgement, answering after
   * the one that followed it): only the latest request's is shown, or the list would fall back to the older state. */
  let latestRequest = 0;

  async function load(): Promise<void> {
    const request = ++latestRequest;
    try {
      const [open, recent] = await Promise.all([
        api<{ alarms: StoredAlarm[] }>('GET', `/alarms?${query({ open: 'true', limit: 500 })}`),
        api<{ alarms: StoredAlarm[] }>('GET', `/alarms?${query({ open: 'false', limit: 200 })}`),
      ]);
      if (request !== latestRequest) return;
      const wanted = (a: StoredAlarm) => !typeFilter.value || (typeFilter.value === 'limit' ? a.source === 'limit' : a.kind === typeFilter.value);
      const openIds = new Set(open.alarms.map((a) => a.id));
      for (const id of [...selected]) if (!openIds.has(id)) selected.delete(id);
      const closed = recent.alarms.filter((a) => !openIds.has(a.id) && wanted(a));
      const shownOpen = open.alarms.filter(wanted);
      const unacknowledged = new Set(open.alarms.filter((a) => a.acknowledgedAt === null).map((a) => a.id));
      if (knownUnacknowledged && audio && [...unacknowledged].some((id) => !knownUnacknowledged!.has(id))) beep(audio);
      knownUnacknowledged = unacknowledged;
      const selectAll = mayAcknowledge ? h('input', { type: 'checkbox', 'aria-label': 'Select every open alarm not acknowledged', onchange: (e: Event) => {
        const on = (e.target as HTMLInputElement).checked;
        for (const a of shownOpen) if (a.acknowledgedAt === null) { if (on) selected.add(a.id); else selected.delete(a.id); }
        refreshBulk();
        load();
      } }) : null;
      const table = (alarms: StoredAlarm[], isOpen: boolean) => h('table', { class: 'events alarms' },
        h('thead', {}, h('tr', {}, mayAcknowledge ? h('th', { scope: 'col', class: 'select' }, isOpen ? selectAll : null) : null,
          ['Raised · state', 'Level', 'Where', 'Alarm', 'Acknowledgement'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, alarms.map((a) => row(a, isOpen))));
      show(output,
        h('h2', {}, `Open (${shownOpen.length})`), shownOpen.length ? table(shownOpen, true) : message('No open alarms.'),
        h('h2', {}, 'Recently closed'), closed.length ? table(closed, false) : message('None.'));
      refreshBulk();
    } catch (err) {
      if (request === latestRequest) show(output, message((err as Error).message, 'error'));
    }
  }
  // Which alarms to list: a site with many sensors offline after a network change wants to see the rest.
  const typeFilter = h('select', { 'aria-label': 'Alarm type', onchange: () => load() },
    [['', 'All types'], ['limit', 'Limit alarms'], ['device', 'Device alarms'], ['sensor', 'Sensor errors'], ['offline', 'Offline'], ['integrity', 'Integrity']]
      .map(([value, label]) => h('option', { value }, label)));
  const sound = h('input', { type: 'checkbox', checked: localStorage.getItem(SOUND_KEY) === 'on', onchange: () => {
    localStorage.setItem(SOUND_KEY, sound.checked ? 'on' : 'off');
    audio = sound.checked ? new AudioContext() : null;
  } });
  // a browser plays sound only after a click on the page: a remembered choice starts with the first one
  if (sound.checked) document.addEventListener('click', () => { if (sound.checked && !audio) audio = new AudioContext(); }, { once: true });
  const live = h('span', { class: 'meta', role: 'status' }, 'Connecting…');
  show(view, h('h1', {}, 'Alarms'),
    h('div', { class: 'toolbar' }, h('label', {}, 'Show ', typeFilter), h('label', { class: 'check' }, sound, ' Sound for new alarms'), live),
    mayAcknowledge ? h('div', { class: 'toolbar' }, bulkButton, h('span', { class: 'meta' }, 'Select alarms to acknowledge them with one comment.')) : null,
    status, output);
  await load();
  let lastCount = '';
  const stop = subscribeLive((t) => {
    live.textContent = `Live · updated ${formatTime(t.now)}`;
    const count = JSON.stringify(t.openAlarms satisfies OpenAlarmCount) + JSON.stringify(t.locations.map((l) => l.devices.map((d) => d.openAlarm)));
    if (lastCount && count !== lastCount) load();
    lastCount = count;
  }, (connected) => { if (!connected) live.textContent = 'Connection lost; reconnecting…'; });
  return stop;
}
