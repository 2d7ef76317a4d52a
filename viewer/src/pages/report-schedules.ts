// Scheduled reports, for administrators: one PDF per location or list of devices for each past
// day, week or month, mailed and/or written to a folder. Every change asks for a reason, which
// the audit trail keeps with the old and new settings. Schedules in the config file are listed too.
import { api } from '../api.ts';
import { dialogForm, field, h, message, show } from '../dom.ts';

interface Schedule {
  id: number; name: string; scope: 'location' | 'devices'; location: string; deviceIds: number[]; period: string;
  mailTo: string[]; folder: string; enabled: boolean; updatedAt: number; updatedBy: string;
}
interface FromConfig { name: string; location: string | null; deviceIds: number[] | null; period: string; mailTo: string[]; folder: string }

const input = (name: string, value = '', extra: Record<string, string | number | boolean> = {}) => h('input', { name, value, ...extra });
const list = (text: string) => text.split(/[,;\s]+/).map((s) => s.trim()).filter(Boolean);

async function scheduleForm(title: string, s?: Schedule): Promise<Record<string, unknown> | null> {
  const values = await dialogForm(title, [
    field('Name', input('name', s?.name ?? '', { required: true, maxlength: 100 })),
    field('Location', input('location', s?.scope === 'devices' ? '' : s?.location ?? ''), 'every device at this location; or leave empty and give device ids'),
    field('Device ids', input('deviceIds', s?.scope === 'devices' ? s.deviceIds.join(', ') : ''), 'e.g. 1, 4'),
    field('Period', h('select', { name: 'period' }, ['daily', 'weekly', 'monthly'].map((p) => h('option', { value: p, selected: p === (s?.period ?? 'monthly') }, p)))),
    field('Mail to', input('mailTo', s?.mailTo.join(', ') ?? ''), 'addresses, separated by commas'),
    field('Folder', input('folder', s?.folder ?? ''), 'e.g. \\\\fileserver\\qa\\reports (the service account must be allowed to write there)'),
    field('Enabled', h('select', { name: 'enabled' }, h('option', { value: 'true', selected: s?.enabled !== false }, 'yes'), h('option', { value: 'false', selected: s?.enabled === false }, 'no'))),
    field('Reason for the change', input('reason', '', { required: true, maxlength: 500 })),
  ], 'Save');
  if (!values) return null;
  const byDevices = !values.location && values.deviceIds;
  return {
    name: values.name, scope: byDevices ? 'devices' : 'location', location: byDevices ? '' : values.location,
    deviceIds: byDevices ? list(values.deviceIds).map(Number) : [], period: values.period, mailTo: list(values.mailTo), folder: values.folder,
    enabled: values.enabled === 'true', reason: values.reason,
  };
}

export async function renderReportSchedules(area: HTMLElement): Promise<void> {
  const status = h('div');
  async function act(what: () => Promise<string>): Promise<void> {
    try {
      const done = await what();
      await load();
      show(status, message(done));
    } catch (err) {
      show(status, message((err as Error).message, 'error'));
    }
  }
  async function load(): Promise<void> {
    const data = await api<{ timeZone: string; schedule: string; schedules: Schedule[]; fromConfig: FromConfig[] }>('GET', '/report-schedules');
    const where = (s: { location: string | null; deviceIds: number[] | null; scope?: string }) =>
      (s.scope ? s.scope === 'location' : s.location !== null) ? `location ${s.location}` : `devices ${(s.deviceIds ?? []).join(', ')}`;
    const goes = (s: { mailTo: string[]; folder: string }) => [s.mailTo.length ? `mail ${s.mailTo.join(', ')}` : '', s.folder ? `folder ${s.folder}` : ''].filter(Boolean).join('; ');
    show(area, h('h2', {}, 'Scheduled reports'),
      h('p', { class: 'meta' }, `Made when the day, week (from Monday) or month is over in ${data.timeZone}, by the job "${data.schedule}".`),
      status,
      h('button', { type: 'button', class: 'primary', onclick: async () => {
        const body = await scheduleForm('Add a scheduled report');
        if (body) await act(async () => { await api('POST', '/report-schedules', body); return `Scheduled report ${String(body.name)} added.`; });
      } }, 'Add a scheduled report'),
      h('table', { class: 'admin' },
        h('thead', {}, h('tr', {}, ['Name', 'Of', 'Period', 'Goes to', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {},
          data.schedules.map((s) => h('tr', {}, h('th', { scope: 'row' }, s.name), h('td', {}, where(s)), h('td', {}, s.period), h('td', {}, goes(s)),
            h('td', {}, s.enabled ? 'enabled' : 'disabled'),
            h('td', { class: 'actions' },
              h('button', { type: 'button', onclick: async () => {
                const body = await scheduleForm(`Change ${s.name}`, s);
                if (body) await act(async () => { await api('PUT', `/report-schedules/${s.id}`, body); return `${s.name} saved.`; });
              } }, 'Change'),
              h('button', { type: 'button', onclick: async () => {
                const values = await dialogForm(`Remove ${s.name}`, [field('Reason', input('reason', '', { required: true, maxlength: 500 }))], 'Remove');
                if (values) await act(async () => { await api('DELETE', `/report-schedules/${s.id}`, { reason: values.reason }); return `${s.name} removed.`; });
              } }, 'Remove')))),
          data.fromConfig.map((s) => h('tr', {}, h('th', { scope: 'row' }, s.name), h('td', {}, where(s)), h('td', {}, s.period), h('td', {}, goes(s)),
            h('td', {}, 'in the config file'), h('td', {}, '')))),
      ));
  }
  await load();
}
