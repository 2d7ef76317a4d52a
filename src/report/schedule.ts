// Scheduled reports: for each schedule (from the configuration file, or added by an administrator
// in the viewer), once the day, week (Monday to Monday) or month is over in the reports' time zone,
// one PDF of that period is made, mailed through the configured SMTP server as an attachment and/or
// written to a folder (a network share on Windows). Each run is a 'report.scheduled' event; a
// period whose delivery failed is tried again at the next run, one already delivered is not.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { InletConfig } from '../config/schema.ts';
import type { Device } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { ReportPeriod } from '../store/report-records.ts';
import { makeReport, reportSettings, reportTimeZone } from './issue.ts';
import type { DrawReport } from './draw.ts';
import { formatLocalDate, localParts, localTime } from './time-zone.ts';

export const SCHEDULED_EVENT = 'report.scheduled';

export interface ScheduleSpec {
  /** 'config:<name>' or 'db:<id>': what the run events name. */
  key: string;
  name: string;
  source: 'config' | 'viewer';
  location: string | null;
  deviceIds: number[] | null;
  period: ReportPeriod;
  mailTo: string[];
  folder: string;
  enabled: boolean;
}

/** The last whole day, week (from Monday) or month before `now`, in the zone. */
export function previousPeriod(period: ReportPeriod, now: number, timeZone: string): { from: number; to: number } {
  const p = localParts(now, timeZone);
  if (period === 'daily') return { from: localTime(timeZone, p.year, p.month, p.day - 1), to: localTime(timeZone, p.year, p.month, p.day) };
  if (period === 'monthly') return { from: localTime(timeZone, p.year, p.month - 1, 1), to: localTime(timeZone, p.year, p.month, 1) };
  const weekday = (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7;   // Monday 0
  return { from: localTime(timeZone, p.year, p.month, p.day - weekday - 7), to: localTime(timeZone, p.year, p.month, p.day - weekday) };
}

export async function allSchedules(config: InletConfig, store: Pick<Store, 'listReportSchedules'>): Promise<ScheduleSpec[]> {
  const fromConfig = config.reports.schedules.map((s): ScheduleSpec => ({
    key: `config:${s.name}`, name: s.name, source: 'config', location: s.location ?? null, deviceIds: s.devices ?? null,
    period: s.period, mailTo: s.mailTo, folder: s.folder, enabled: true,
  }));
  const fromViewer = (await store.listReportSchedules()).map((s): ScheduleSpec => ({
    key: `db:${s.id}`, name: s.name, source: 'viewer', location: s.scope === 'location' ? s.location : null, deviceIds: s.scope === 'devices' ? s.deviceIds : null,
    period: s.period, mailTo: s.mailTo, folder: s.folder, enabled: s.enabled,
  }));
  return [...fromConfig, ...fromViewer];
}

function devicesOf(spec: ScheduleSpec, devices: Device[]): number[] {
  // a location is a zone path ("Site/Building"): the devices in it and in the zones inside it
  if (spec.location !== null) return devices.filter((d) => d.location === spec.location || d.location.startsWith(`${spec.location}/`)).map((d) => d.id);
  const known = new Set(devices.map((d) => d.id));
  return (spec.deviceIds ?? []).filter((id) => known.has(id));
}

export function reportFileName(spec: ScheduleSpec, from: number, to: number, timeZone: string): string {
  const slug = spec.name.normalize('NFD').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'report';
  const first = formatLocalDate(from, timeZone);
  const last = formatLocalDate(to - 1, timeZone);
  return `inlet-report-${slug}-${first === last ? first : `${first}_${last}`}.pdf`;
}

export interface ScheduledRunDeps {
  store: Store;
  config: InletConfig;
  version: string;
  /** Made on first use (a schedule with addresses): none is needed while no schedule mails. */
  transport: () => Transporter;
  now?: () => number;
  /** Where reports are drawn; this thread when absent. */
  draw?: DrawReport;
}

/** One pass over every schedule; says what it did in one line. */
export async function runScheduledReports(deps: ScheduledRunDeps): Promise<string> {
  const { store, config } = deps;
  const now = (deps.now ?? Date.now)();
  const timeZone = reportTimeZone(config);
  const specs = (await allSchedules(config, store)).filter((s) => s.enabled);
  if (!specs.length) return 'no scheduled reports';
  const done = await store.events({ type: SCHEDULED_EVENT, limit: 10_000 });
  const devices = await store.listDevices();
  const outcomes: string[] = [];
  let failures = 0;
  for (const spec of specs) {
    const { from, to } = previousPeriod(spec.period, now, timeZone);
    if (done.some((e) => e.data?.schedule === spec.key && e.data?.from === from && e.data?.delivered === true)) continue;
    const deviceIds = devicesOf(spec, devices);
    const where = spec.location !== null ? `location "${spec.location}"` : `devices ${(spec.deviceIds ?? []).join(', ')}`;
    const base = { schedule: spec.key, name: spec.name, period: spec.period, from, to };
    if (!deviceIds.length) {
      failures++;
      await store.addEvent({ at: now, deviceId: null, type: SCHEDULED_EVENT, level: 'warning', message: `scheduled report "${spec.name}" not made: no device at ${where}`, data: { ...base, delivered: false, errors: [`no device at ${where}`] } });
      outcomes.push(`${spec.name}: no devices`);
      continue;
    }
    const errors: string[] = [];
    let code: string | null = null;
    const writtenTo: string[] = [];
    const mailedTo: string[] = [];
    try {
      const made = await makeReport(store, { deviceIds, from, to, timeZone, title: spec.name }, reportSettings(config, deps.version), `scheduled report "${spec.name}"`, now, deps.draw);
      code = made.issued.code;
      const fileName = reportFileName(spec, from, to, timeZone);
      if (spec.folder) {
        try {
          mkdirSync(spec.folder, { recursive: true });
          const file = path.join(spec.folder, fileName);
          writeFileSync(file, made.pdf);
          writtenTo.push(file);
        } catch (err) {
          errors.push(`writing to ${spec.folder}: ${(err as Error).message}`);
        }
      }
      if (spec.mailTo.length) {
        try {
          await deps.transport().sendMail({
            from: config.smtp.from, to: spec.mailTo.join(', '),
            subject: `[Inlet report] ${spec.name}, ${formatLocalDate(from, timeZone)} – ${formatLocalDate(to - 1, timeZone)}`.slice(0, 200),
            text: [`The ${spec.period} report "${spec.name}" (${where}) for ${formatLocalDate(from, timeZone)} – ${formatLocalDate(to - 1, timeZone)} (${timeZone}) is attached.`,
              `Verification code: ${made.issued.code} (inlet report verify <file.pdf> checks that the file is unchanged).`,
              'An approver signs it in the Inlet viewer.'].join('\n'),
            attachments: [{ filename: fileName, content: made.pdf, contentType: 'application/pdf' }],
          });
          mailedTo.push(...spec.mailTo);
        } catch (err) {
          errors.push(`mailing to ${spec.mailTo.join(', ')}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      errors.push(`making the report: ${(err as Error).message}`);
    }
    const delivered = errors.length === 0;
    if (!delivered) failures++;
    await store.addEvent({
      at: now, deviceId: null, type: SCHEDULED_EVENT, level: delivered ? 'info' : 'warning',
      message: `scheduled report "${spec.name}" ${formatLocalDate(from, timeZone)} – ${formatLocalDate(to - 1, timeZone)}: ${delivered ? `report ${code}` : `FAILED (${errors.join('; ')})`}` +
        `${writtenTo.length ? `, written to ${writtenTo.join(', ')}` : ''}${mailedTo.length ? `, mailed to ${mailedTo.join(', ')}` : ''}`,
      data: { ...base, code, delivered, writtenTo, mailedTo, errors },
    });
    outcomes.push(`${spec.name}: ${delivered ? code : 'failed'}`);
  }
  if (failures) throw new Error(`${failures} scheduled report(s) failed (see the events): ${outcomes.join('; ')}`);
  return outcomes.length ? `scheduled reports made: ${outcomes.join('; ')}` : 'scheduled reports: nothing due';
}
