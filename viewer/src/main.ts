// The viewer's shell: checks the session, draws the navigation for the user's role and shows
// the page named in the URL's hash (#/chart?...). Chart and report pages load on demand, so
// the first load carries no charting code.
import { api, whenPasswordChangeRequired, whenSignedOut, type Me, type OpenAlarmCount } from './api.ts';
import { dialogForm, field, h, message, show } from './dom.ts';
import { TIME_ZONE_NOTE } from './format.ts';
import { closeLive, subscribeLive, whenLiveExpired } from './live.ts';
import { renderLimits } from './pages/limits.ts';
import { renderAdmin } from './pages/admin.ts';
import { renderDevices } from './pages/devices.ts';
import { renderEvents } from './pages/events.ts';
import { renderAudit } from './pages/audit.ts';
import { renderAlarms } from './pages/alarms.ts';
import { renderExport } from './pages/export.ts';
import { renderLogin } from './pages/login.ts';
import { changePasswordDialog, renderRequiredPasswordChange } from './pages/password.ts';
import { renderTable } from './pages/table.ts';
import { renderZones } from './pages/zones.ts';

type Cleanup = (() => void) | void;

const NAVIGATION: [string, string, Me['role'][]][] = [
  ['#/', 'Devices', ['viewer', 'operator', 'administrator']],
  ['#/chart', 'Chart', ['viewer', 'operator', 'administrator']],
  ['#/table', 'Table', ['viewer', 'operator', 'administrator']],
  ['#/export', 'Export', ['viewer', 'operator', 'administrator']],
  ['#/alarms', 'Alarms', ['viewer', 'operator', 'administrator']],
  ['#/limits', 'Limits', ['viewer', 'operator', 'administrator']],
  ['#/events', 'Events', ['viewer', 'operator', 'administrator']],
  ['#/audit', 'Audit trail', ['operator', 'administrator']],
  ['#/zones', 'Zones', ['viewer', 'operator', 'administrator']],
  ['#/admin', 'Admin', ['operator', 'administrator']],
];

const root = document.getElementById('app')!;
let me: Me | null = null;
let cleanup: Cleanup;

let stopAlarmCount: (() => void) | null = null;

function signedOut(): void {
  me = null;
  stopAlarmCount?.();
  stopAlarmCount = null;
  closeLive();
  route();
}

/** The menu's open-alarm count, on every page, kept live. */
function alarmBadge(): HTMLElement {
  const badge = h('span', { class: 'count', hidden: true, 'data-open-alarms': '' });
  const draw = (open: OpenAlarmCount) => {
    badge.hidden = open.total === 0;
    badge.textContent = String(open.total);
    badge.className = `count ${open.unacknowledged ? open.worstLevel ?? 'warning' : 'acknowledged'}`;
    badge.title = `${open.total} open alarm(s), ${open.unacknowledged} not acknowledged`;
  };
  stopAlarmCount?.();
  stopAlarmCount = subscribeLive((tree) => draw(tree.openAlarms));
  return badge;
}

async function signOut(): Promise<void> {
  await api('DELETE', '/session').catch(() => undefined);
  signedOut();
}

/** Display mode: this browser stays signed in, read-only, for a wall screen (recorded as the operator's decision). */
async function startDisplay(): Promise<void> {
  let turnedOn: Me | null = null;
  await dialogForm('Use this browser as a wall display', [
    h('p', {}, 'This browser then stays signed in, read-only: it shows devices, charts and alarms, and changes nothing. Anyone at the screen sees what a viewer sees. Sign out to end it.'),
    field('Why, and where is the screen?', h('input', { name: 'reason', required: true, minlength: 3, maxlength: 200 })),
  ], 'Turn on display mode', async (values) => { turnedOn = await api<Me>('POST', '/session/display', { reason: values.reason }); });
  if (!turnedOn) return;
  me = turnedOn;
  if (location.hash === '#/' || location.hash === '') route(); else location.hash = '#/';
}

/** The header's "Change password": the server renews this session, so the renewed one replaces it. */
async function changeOwnPassword(): Promise<void> {
  const renewed = await changePasswordDialog();
  if (!renewed) return;
  me = renewed;
  document.getElementById('view')?.prepend(message('Your password was changed. Your other sessions were signed out.'));
}

function shell(path: string): HTMLElement {
  const view = h('main', { id: 'view', tabindex: -1 });
  show(root,
    h('a', { class: 'skip', href: '#view', onclick: (e: Event) => { e.preventDefault(); view.focus(); } }, 'Skip to content'),
    h('header', { class: 'top no-print' },
      h('span', { class: 'brand' }, 'Inlet'),
      h('nav', { 'aria-label': 'Main' }, NAVIGATION.filter(([, , roles]) => roles.includes(me!.role)).map(([href, label]) =>
        h('a', { href, 'aria-current': path === href.slice(1) ? 'page' : false }, label, href === '#/alarms' ? [' ', alarmBadge()] : null))),
      h('span', { class: 'zone', title: 'Times on every page are in this time zone' }, TIME_ZONE_NOTE),
      h('span', { class: 'user' }, me!.display ? `Wall display of ${me!.username} · read-only` : `${me!.username} (${me!.role})`),
      me!.role !== 'viewer' && !me!.display ? h('button', { type: 'button', onclick: startDisplay }, 'Wall display') : null,
      !me!.display ? h('button', { type: 'button', onclick: changeOwnPassword }, 'Change password') : null,
      h('button', { type: 'button', onclick: signOut }, 'Sign out')),
    view);
  return view;
}

async function page(path: string, params: URLSearchParams, view: HTMLElement): Promise<Cleanup> {
  switch (path) {
    case '/': return renderDevices(view, signedOut);
    case '/chart': return (await import('./pages/chart.ts')).renderChart(view, params);
    case '/report': return (await import('./pages/report.ts')).renderReport(view, params, me!.username);
    case '/table': return renderTable(view, params);
    case '/export': return renderExport(view, params);
    case '/alarms': return renderAlarms(view, me!);
    case '/events': return renderEvents(view, params);
    case '/audit': return renderAudit(view, params);
    case '/limits': return renderLimits(view, me!, params);
    case '/admin':
      if (me!.role === 'viewer') { show(view, h('h1', {}, 'Administration'), message('Administration needs the operator or administrator role; you are signed in as a viewer.', 'error')); return; }
      return renderAdmin(view, me!);
    case '/zones': return renderZones(view, me!);
    default: show(view, message(`There is no page "${path}".`, 'error'));
  }
}

async function route(): Promise<void> {
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  if (!me) {
    const view = h('main', { id: 'view' });
    show(root, view);
    renderLogin(view, (signedIn) => { me = signedIn; route(); });
    return;
  }
  if (me.mustChangePassword) {
    const view = h('main', { id: 'view' });
    show(root, view);
    renderRequiredPasswordChange(view, me, (renewed) => { me = renewed; route(); }, signOut);
    return;
  }
  const [path, search = ''] = (location.hash.slice(1) || '/').split('?');
  const view = shell(path);
  try {
    cleanup = await page(path, new URLSearchParams(search), view);
  } catch (err) {
    show(view, message((err as Error).message, 'error'));
  }
}

whenSignedOut(signedOut);
// An administrator reset the password while this page was open: only the change form is left.
whenPasswordChangeRequired(() => { if (me && !me.mustChangePassword) { me = { ...me, mustChangePassword: true }; route(); } });
whenLiveExpired(signedOut);
window.addEventListener('hashchange', () => { route(); });
api<Me>('GET', '/session').then((session) => { me = session; }, () => { me = null; }).finally(() => { route(); });
