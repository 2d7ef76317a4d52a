// Administration. Operators rename, suspend and resume devices; administrators also register
// devices, set intervals, see entry points and manage users. The server enforces the same
// rules; the buttons only spare people a refusal.
import { api, type DeviceTree, type DeviceView, type Me } from '../api.ts';
import { dialogForm, field, h, message, show } from '../dom.ts';
import { STATUS_LABELS } from '../format.ts';
import { signatureFields, signatureOf } from '../signature.ts';
import { renderReportSchedules } from './report-schedules.ts';

interface User { id: number; username: string; role: Me['role']; disabled: boolean; lockedUntil: number | null }

const ROLES: Me['role'][] = ['viewer', 'operator', 'administrator'];

const text = (name: string, value = '', extra: Record<string, string | number | boolean> = {}) => h('input', { name, value, ...extra });
/** The families a device can be registered in; '' lets the server tell it from the model name. */
const FAMILY_CHOICES: [string, string][] = [
  ['', 'From the model name'], ['soap', 'Web Sensor, SOAP (T, H and P lines)'], ['websensor-json', 'Web Sensor, JSON (TAx6xx, PAx6xx)'],
  ['wifi', 'WiFi sensor (Wx7xx)'], ['logger', 'GSM/LTE data logger (Uxxxx)'],
];
const familySelect = () => h('select', { name: 'family' }, FAMILY_CHOICES.map(([value, label]) => h('option', { value }, label)));
const roleSelect = (selected: string) => h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r, selected: r === selected }, r)));

export async function renderAdmin(view: HTMLElement, me: Me): Promise<void> {
  const isAdmin = me.role === 'administrator';
  // user administration needs the administrator role on everything, not on some zones
  const isGlobalAdmin = me.globalRole === 'administrator';
  /** Zone paths the user may place devices in, offered as suggestions for the Location field. */
  const zonePaths = h('datalist', { id: 'zone-paths' });
  const zoneField = (value = '') => text('location', value, { list: 'zone-paths', placeholder: 'Site/Building/Room' });
  const status = h('div');
  const devicesArea = h('div');
  const usersArea = h('div');

  /** Runs an action and reports its outcome; the lists are redrawn after every change. */
  async function act(what: () => Promise<string | void>): Promise<void> {
    try {
      const done = await what();
      if (done) show(status, message(done));
      await Promise.all([loadDevices(), isGlobalAdmin ? loadUsers() : undefined, loadZonePaths()]);
    } catch (err) {
      show(status, message((err as Error).message, 'error'));
    }
  }

  async function addDevice(): Promise<void> {
    let result: { entryUrl: string; device: DeviceView } | null = null;
    // a refusal (a mistyped model) is shown in the dialog, which stays open with what was typed
    const values = await dialogForm('Register a device', [
      field('Serial number', text('serial', '', { required: true, pattern: '\\d{1,8}', inputmode: 'numeric' }), 'as on the device label, up to 8 digits'),
      field('Model', text('model', '', { required: true, placeholder: 'T3510' })),
      field('Family', familySelect(), 'only for a model newer than Inlet\'s list'),
      field('Name', text('name', '', { required: true })), field('Zone', zoneField(), 'a zone path; a global administrator may name a new one'),
    ], 'Register', async (typed) => {
      result = await api<{ entryUrl: string; device: DeviceView }>('POST', '/devices', {
        serial: typed.serial, model: typed.model, name: typed.name, location: typed.location, family: typed.family || undefined,
      });
    });
    if (!values || !result) return;
    const registered: { entryUrl: string; device: DeviceView } = result;
    await act(async () => {
      const result = registered;
      await dialogForm(`${result.device.name} registered`, [
        h('p', {}, 'Enter this URL in the device\'s server settings. Keep it secret: it is the device\'s key.'),
        h('output', { class: 'entry-url' }, result.entryUrl)], 'Done');
      return `${result.device.name} registered.`;
    });
  }

  function deviceActions(d: DeviceView): HTMLElement[] {
    const buttons = [
      h('button', { type: 'button', onclick: async () => {
        const values = await dialogForm(`Rename ${d.name}`, [field('Name', text('name', d.name, { required: true })), field('Zone', zoneField(d.location), 'moving to another zone needs the administrator role on both')], 'Save');
        if (values) await act(async () => { await api('PATCH', `/devices/${d.id}`, { name: values.name, location: values.location }); return `${values.name} saved.`; });
      } }, 'Rename'),
      d.state === 'active'
        ? h('button', { type: 'button', onclick: async () => {
          const values = await dialogForm(`Suspend ${d.name}`, [field('Reason', text('reason', '', { required: true }))], 'Suspend');
          if (values) await act(async () => { await api('POST', `/devices/${d.id}/suspend`, { reason: values.reason }); return `${d.name} suspended; its uploads are kept aside.`; });
        } }, 'Suspend')
        : h('button', { type: 'button', onclick: async () => {
          const waiting = await api<{ uploads: number; readings: number }>('GET', `/devices/${d.id}/quarantine`);
          const values = await dialogForm(`Resume ${d.name}`, [
            h('p', {}, `${waiting.uploads} upload(s) with ${waiting.readings} reading(s) were kept aside while it was suspended.`),
            h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'importData' }), ' Import them into the data'),
            ...signatureFields('released')], 'Sign and resume');
          if (values) await act(async () => { await api('POST', `/devices/${d.id}/resume`, { importData: values.importData === 'on', signature: signatureOf(values) }); return `${d.name} resumed.`; });
        } }, 'Resume'),
    ];
    if (d.retiredAt) {
      // out of use: only an administrator puts it back (with a new entry point to type into the device)
      return isAdmin ? [h('button', { type: 'button', onclick: async () => {
        let entry = '';
        const values = await dialogForm(`Put ${d.name} back in use`, [field('Reason', text('reason', '', { required: true }))], 'Reinstate',
          async (typed) => { entry = (await api<{ entryUrl: string }>('POST', `/devices/${d.id}/reinstate`, { reason: typed.reason })).entryUrl; });
        if (values) await act(async () => {
          await dialogForm(`${d.name} is back in use`, [h('p', {}, 'It has a new entry point: enter this URL in the device. It is shown only this once.'), h('output', { class: 'entry-url' }, entry)], 'Done');
          return `${d.name} reinstated.`;
        });
      } }, 'Reinstate')] : [];
    }
    buttons.push(h('button', { type: 'button', onclick: async () => {
      const values = await dialogForm(`Retire ${d.name}`, [
        h('p', {}, 'A retired device keeps its data and its hash chain, raises no offline alarm and is hidden from the overview. Its entry point stops working.'),
        field('Reason', text('reason', '', { required: true, placeholder: 'e.g. test device, removed from the cold room' }))], 'Retire',
      async (typed) => { await api('POST', `/devices/${d.id}/retire`, { reason: typed.reason }); });
      if (values) await act(async () => `${d.name} retired.`);
    } }, 'Retire'));
    if (isAdmin) {
      buttons.push(
        h('button', { type: 'button', onclick: async () => {
          let replaced: { entryUrl: string; device: DeviceView } | null = null;
          const values = await dialogForm(`Replace ${d.name}`, [
            h('p', {}, `A new device (probe) at ${d.location || 'the same place'}, under the same name; ${d.name} (serial ${d.serial}) is retired, its history kept.`),
            field('New serial number', text('serial', '', { required: true, pattern: '\\d{1,8}', inputmode: 'numeric' })),
            field('Model', text('model', d.model, { required: true })), field('Family', familySelect(), 'only for a model newer than Inlet\'s list'),
            field('Reason', text('reason', '', { required: true, placeholder: 'e.g. probe failed, calibration due' }))], 'Replace',
          async (typed) => {
            replaced = await api<{ entryUrl: string; device: DeviceView }>('POST', `/devices/${d.id}/replace`, { serial: typed.serial, model: typed.model, family: typed.family || undefined, reason: typed.reason });
          });
          if (!values || !replaced) return;
          const done: { entryUrl: string; device: DeviceView } = replaced;
          await act(async () => {
            await dialogForm(`${done.device.name} replaced`, [h('p', {}, 'Enter this URL in the new device\'s server settings. Keep it secret: it is the device\'s key.'), h('output', { class: 'entry-url' }, done.entryUrl)], 'Done');
            return `${d.name}: serial ${d.serial} replaced by ${done.device.serial}.`;
          });
        } }, 'Replace'),
        h('button', { type: 'button', onclick: async () => {
          const values = await dialogForm(`Upload interval of ${d.name}`, [field('Allowed interval in seconds', text('seconds', String(d.allowedIntervalS ?? ''), { type: 'number', min: 1, max: 86400 }), 'empty = follow what the device declares')], 'Save');
          if (values) await act(async () => { await api('PUT', `/devices/${d.id}/interval`, { allowedIntervalS: values.seconds ? Number(values.seconds) : null }); return `${d.name}: interval saved.`; });
        } }, 'Interval'),
        // Inlet keeps only a hash of each entry point, so it cannot be shown again: a new one is issued.
        h('button', { type: 'button', onclick: async () => {
          let entry = '';
          const values = await dialogForm(`New entry point for ${d.name}`, [
            h('p', {}, 'Inlet keeps only a hash of each entry point, so the current one cannot be shown again. A new one is made and shown once; the old one stops working at once, so enter the new URL in the device.'),
            field('Reason', text('reason', '', { required: true, placeholder: 'e.g. URL lost, device reconfigured' }))], 'Issue a new entry point',
          async (typed) => { entry = (await api<{ entryUrl: string }>('POST', `/devices/${d.id}/entry-point`, { reason: typed.reason })).entryUrl; });
          if (values) await act(async () => {
            await dialogForm(`New entry point of ${d.name}`, [h('p', {}, 'Enter this URL in the device now: it is shown only this once. Keep it secret: it is the device\'s key.'), h('output', { class: 'entry-url' }, entry)], 'Done');
            return `${d.name}: new entry point issued.`;
          });
        } }, 'New entry point'));
    }
    return buttons;
  }

  const showRetired = h('input', { type: 'checkbox', onchange: () => { loadDevices(); } });
  async function loadDevices(): Promise<void> {
    const tree = await api<DeviceTree>('GET', `/devices${showRetired.checked ? '?retired=true' : ''}`);
    const devices = tree.locations.flatMap((l) => l.devices);
    show(devicesArea, h('h2', {}, 'Devices'),
      h('div', { class: 'toolbar' },
        isAdmin ? h('button', { type: 'button', class: 'primary', onclick: addDevice }, 'Register a device') : null,
        h('label', { class: 'check' }, showRetired, ' Show retired devices')),
      h('table', { class: 'admin' },
        h('thead', {}, h('tr', {}, ['Name', 'Zone', 'Model · serial', 'Status', 'Interval', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, devices.map((d) => h('tr', { 'data-device': d.id },
          h('th', { scope: 'row' }, d.name), h('td', {}, d.location), h('td', {}, `${d.model} · ${d.serial}`),
          h('td', {}, STATUS_LABELS[d.status]), h('td', {}, `${d.intervalS} s${d.allowedIntervalS === null ? '' : ' (set)'}`),
          h('td', { class: 'actions' }, deviceActions(d)))))));
  }

  async function loadZonePaths(): Promise<void> {
    const { zones } = await api<{ zones: { path: string; role: Me['role'] }[] }>('GET', '/zones');
    show(zonePaths, zones.filter((z) => z.role === 'administrator').map((z) => h('option', { value: z.path })));
  }

  async function loadUsers(): Promise<void> {
    const { users } = await api<{ users: User[] }>('GET', '/users');
    const now = Date.now();
    show(usersArea, h('h2', {}, 'Users'),
      h('button', { type: 'button', class: 'primary', onclick: async () => {
        const values = await dialogForm('Add a user', [field('User name', text('username', '', { required: true, autocomplete: 'off' })), field('Role', roleSelect('viewer')),
          field('Password', text('password', '', { type: 'password', required: true, minlength: 10, autocomplete: 'new-password' }), 'at least 10 characters')], 'Add');
        if (values) await act(async () => { await api('POST', '/users', values); return `User ${values.username} added.`; });
      } }, 'Add a user'),
      h('table', { class: 'admin' },
        h('thead', {}, h('tr', {}, ['User', 'Role', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, users.map((u) => {
          const locked = u.lockedUntil !== null && u.lockedUntil > now;
          const patch = (body: Record<string, unknown>, done: string) => act(async () => { await api('PATCH', `/users/${u.id}`, body); return done; });
          return h('tr', {}, h('th', { scope: 'row' }, u.username), h('td', {}, u.role),
            h('td', {}, [u.disabled ? 'disabled' : 'active', locked ? 'locked' : ''].filter(Boolean).join(', ')),
            h('td', { class: 'actions' },
              h('button', { type: 'button', onclick: async () => {
                const values = await dialogForm(`Role of ${u.username}`, [field('Role', roleSelect(u.role))], 'Save');
                if (values) await patch({ role: values.role }, `${u.username} is now ${values.role}.`);
              } }, 'Role'),
              h('button', { type: 'button', onclick: () => patch({ disabled: !u.disabled }, `${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`) }, u.disabled ? 'Enable' : 'Disable'),
              locked ? h('button', { type: 'button', onclick: () => patch({ unlock: true }, `${u.username} unlocked.`) }, 'Unlock') : null,
              h('button', { type: 'button', onclick: async () => {
                const values = await dialogForm(`New password for ${u.username}`, [field('Password', text('password', '', { type: 'password', required: true, minlength: 10, autocomplete: 'new-password' }))], 'Save');
                if (values) await patch({ password: values.password }, `Password of ${u.username} changed.`);
              } }, 'Password')));
        }))));
  }

  const schedulesArea = h('div', { class: 'report-schedules' });
  show(view, h('h1', {}, 'Administration'), status, zonePaths, devicesArea, isGlobalAdmin ? usersArea : null, isGlobalAdmin ? schedulesArea : null);
  await act(async () => undefined);
  if (isGlobalAdmin) await renderReportSchedules(schedulesArea).catch((err: Error) => show(schedulesArea, message(err.message, 'error')));
}
