// Zones: everyone sees the zones they hold a role on; a global administrator builds the tree
// (add, rename, move, remove an empty zone) and says which local users hold which role on which
// zones. Directory users' zones come from their directory groups (configuration), not from here.
import { api, type Me } from '../api.ts';
import { dialogForm, field, h, message, reasonField, show } from '../dom.ts';

interface ZoneRow { id: number; parentId: number | null; name: string; path: string; depth: number; role: Me['role'] }
interface User { id: number; username: string; role: Me['role']; scope?: 'global' | 'zones'; source?: 'local' | 'directory'; disabled: boolean }
interface Grants { scope: 'global' | 'zones'; role: Me['role']; source: 'local' | 'directory'; grants: { zoneId: number; role: Me['role']; path: string }[] }

const ROLES: Me['role'][] = ['viewer', 'operator', 'administrator'];
const input = (name: string, value = '', extra: Record<string, string | number | boolean> = {}) => h('input', { name, value, ...extra });

export async function renderZones(view: HTMLElement, me: Me): Promise<void> {
  const status = h('div');
  const treeArea = h('div');
  const usersArea = h('div');
  const globalAdmin = me.globalRole === 'administrator';
  let zones: ZoneRow[] = [];

  async function act(what: () => Promise<string | void>): Promise<void> {
    try {
      const done = await what();
      if (done) show(status, message(done));
      await load();
    } catch (err) {
      show(status, message((err as Error).message, 'error'));
    }
  }

  const parentSelect = (selected: number | null, except?: number) => h('select', { name: 'parentId' },
    h('option', { value: '', selected: selected === null }, '(top level)'),
    zones.filter((z) => except === undefined || !(z.id === except || z.path.startsWith(`${zones.find((x) => x.id === except)!.path}/`)))
      .map((z) => h('option', { value: z.id, selected: z.id === selected }, z.path)));

  async function addZone(parentId: number | null): Promise<void> {
    const values = await dialogForm('Add a zone', [
      field('Name', input('name', '', { required: true, maxlength: 100, pattern: '[^/]+' }), 'e.g. "Pharmacy" or "Fridge room 2"; no "/"'),
      field('Inside', parentSelect(parentId)), reasonField('e.g. new building')], 'Add');
    if (values) await act(async () => {
      await api('POST', '/zones', { name: values.name, parentId: values.parentId ? Number(values.parentId) : null, reason: values.reason });
      return `Zone ${values.name} added.`;
    });
  }

  async function changeZone(z: ZoneRow): Promise<void> {
    const values = await dialogForm(`Rename or move ${z.path}`, [
      field('Name', input('name', z.name, { required: true, maxlength: 100, pattern: '[^/]+' })), field('Inside', parentSelect(z.parentId, z.id)),
      field('Reason', input('reason', '', { required: true, minlength: 3 }), 'kept in the audit trail')], 'Save');
    if (values) await act(async () => {
      const r = await api<{ zone: { path: string }; devicesMoved: number }>('PATCH', `/zones/${z.id}`, { name: values.name, parentId: values.parentId ? Number(values.parentId) : null, reason: values.reason });
      return `${r.zone.path} saved${r.devicesMoved ? `; ${r.devicesMoved} device(s) follow` : ''}.`;
    });
  }

  async function removeZone(z: ZoneRow): Promise<void> {
    const values = await dialogForm(`Remove ${z.path}`, [h('p', {}, 'Only an empty zone can be removed: no sub-zones, no devices, no user roles on it.'),
      field('Reason', input('reason', '', { required: true, minlength: 3 }))], 'Remove');
    if (values) await act(async () => { await api('DELETE', `/zones/${z.id}`, { reason: values.reason }); return `${z.path} removed.`; });
  }

  async function editUser(u: User): Promise<void> {
    const current = await api<Grants>('GET', `/users/${u.id}/zones`);
    const roleOn = new Map(current.grants.map((g) => [g.zoneId, g.role]));
    const rows = zones.map((z) => h('div', { class: 'field zone-grant' },
      h('label', { for: `g-${z.id}` }, `${'  '.repeat(z.depth)}${z.path}`),
      h('select', { id: `g-${z.id}`, name: `zone-${z.id}` },
        h('option', { value: '' }, '—'), ROLES.map((r) => h('option', { value: r, selected: roleOn.get(z.id) === r }, r)))));
    const values = await dialogForm(`Zones of ${u.username}`, [
      field('Rights', h('select', { name: 'scope' },
        h('option', { value: 'global', selected: current.scope === 'global' }, `${current.role} on everything (global)`),
        h('option', { value: 'zones', selected: current.scope === 'zones' }, 'only the zones below'))),
      h('p', {}, 'A role on a zone covers the zones inside it.'), ...rows,
      field('Reason', input('reason', '', { required: true, minlength: 3 }), 'kept in the audit trail')], 'Save');
    if (!values) return;
    const grants = zones.filter((z) => values[`zone-${z.id}`]).map((z) => ({ zoneId: z.id, role: values[`zone-${z.id}`] }));
    await act(async () => {
      await api('PUT', `/users/${u.id}/zones`, { scope: values.scope, grants, reason: values.reason });
      return `${u.username}: rights saved; they apply from their next sign-in.`;
    });
  }

  async function load(): Promise<void> {
    zones = (await api<{ zones: ZoneRow[] }>('GET', '/zones')).zones;
    show(treeArea, h('h2', {}, 'Zone tree'),
      globalAdmin ? h('button', { type: 'button', class: 'primary', onclick: () => addZone(null) }, 'Add a zone') : null,
      zones.length ? h('table', { class: 'admin zones' },
        h('thead', {}, h('tr', {}, ['Zone', 'Your role', globalAdmin ? 'Actions' : null].filter(Boolean).map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, zones.map((z) => h('tr', { 'data-zone': z.id },
          // the level shown by indentation in the text (the page's content policy allows no inline styles)
          h('th', { scope: 'row' }, `${'\u2003'.repeat(z.depth)}${z.depth ? '\u2514 ' : ''}${z.name}`), h('td', {}, z.role),
          globalAdmin ? h('td', { class: 'actions' },
            h('button', { type: 'button', onclick: () => addZone(z.id) }, 'Add inside'),
            h('button', { type: 'button', onclick: () => changeZone(z) }, 'Rename / move'),
            h('button', { type: 'button', onclick: () => removeZone(z) }, 'Remove')) : null))))
        : h('p', {}, globalAdmin ? 'No zones yet. Add the site, then its buildings and rooms; devices are placed in them when registered or renamed.' : 'You hold a role on no zone.'));
    if (!globalAdmin) return;
    const { users } = await api<{ users: User[] }>('GET', '/users');
    show(usersArea, h('h2', {}, 'Who may see which zones'),
      h('table', { class: 'admin' },
        h('thead', {}, h('tr', {}, ['User', 'Rights', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, users.map((u) => h('tr', {},
          h('th', { scope: 'row' }, u.username),
          h('td', {}, u.source === 'directory' ? 'from directory groups' : u.scope === 'zones' ? `${u.role} at most, on chosen zones` : `${u.role} on everything`),
          h('td', { class: 'actions' }, u.source === 'directory' ? null : h('button', { type: 'button', onclick: () => editUser(u) }, 'Zones')))))));
  }

  show(view, h('h1', {}, 'Zones'), status, treeArea, usersArea);
  await act(async () => undefined);
}
