// Rows of the two report tables (migrations 021 and 022), the events their changes append, and
// the row mapping both adapters share (SQLite gives ms numbers, SQL Server gives Dates).
import type { EventLevel } from '../domain/types.ts';

export type ReportPeriod = 'daily' | 'weekly' | 'monthly';

export interface ReportScheduleInput {
  name: string;
  /** 'location': every device at `location`; 'devices': the devices in deviceIds. */
  scope: 'location' | 'devices';
  location: string;
  deviceIds: number[];
  period: ReportPeriod;
  mailTo: string[];
  /** Folder (a network share on Windows) the PDF is written to; '' = none. */
  folder: string;
  enabled: boolean;
}

export interface ReportSchedule extends ReportScheduleInput {
  id: number;
  updatedAt: number;
  updatedBy: string;
}

/** One PDF handed out, as recorded in issued_reports. */
export interface IssuedReport {
  /** The verification code printed on every page, e.g. "7KQ2-M9XD-4TBE-HW3A". */
  code: string;
  fileSha256: string;
  contentSha256: string;
  generatedAt: number;
  generatedBy: string;
  request: Record<string, unknown>;
  /** Set on a signed report: who signed the report `signsCode`, when, meaning what. */
  signature: { by: string; at: number; meaning: string; signsCode: string } | null;
}

export interface ReportEvent { at: number; deviceId: null; type: string; level: EventLevel; message: string; data: Record<string, unknown>; actor?: string; source?: string | null }

/** `source`: where the report was asked for (the client's address, or the command line's machine). */
export function issuedEvent(r: IssuedReport, source: string | null = null): ReportEvent {
  const what = `${String(r.request.title ?? 'report')} ${String(r.request.period ?? '')}`.trim();
  return r.signature
    ? {
      at: r.generatedAt, deviceId: null, type: 'report.signed', level: 'info', actor: r.signature.by, source,
      message: `report ${r.signature.signsCode} signed by ${r.signature.by} (meaning: ${r.signature.meaning}); signed copy ${r.code}`,
      data: { code: r.code, signsCode: r.signature.signsCode, by: r.signature.by, meaning: r.signature.meaning, fileSha256: r.fileSha256, contentSha256: r.contentSha256 },
    }
    : {
      at: r.generatedAt, deviceId: null, type: 'report.issued', level: 'info', actor: r.generatedBy, source,
      message: `report ${r.code} made by ${r.generatedBy}: ${what}`,
      data: { code: r.code, by: r.generatedBy, fileSha256: r.fileSha256, contentSha256: r.contentSha256, request: r.request },
    };
}

const describeSchedule = (s: ReportScheduleInput) => ({
  name: s.name, scope: s.scope, location: s.location, deviceIds: s.deviceIds, period: s.period, mailTo: s.mailTo, folder: s.folder, enabled: s.enabled,
});

/** old → new of a schedule change; `old` null for a new one, `next` null for a removal. */
export function scheduleChangedEvent(old: ReportSchedule | null, next: ReportScheduleInput | null, by: string, at: number, reason: string, source: string | null = null): ReportEvent {
  const name = (next ?? old)!.name;
  const verb = old === null ? 'added' : next === null ? 'removed' : 'changed';
  return {
    at, deviceId: null, type: 'report.schedule.changed', level: 'info', actor: by, source,
    message: `scheduled report "${name}" ${verb} by ${by}${reason ? `: ${reason}` : ''}`,
    data: { id: old?.id ?? null, by, reason, old: old && describeSchedule(old), new: next && describeSchedule(next) },
  };
}

type Row = Record<string, unknown>;
const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Number(v));
const json = <T>(v: unknown, fallback: T): T => {
  try { return typeof v === 'string' ? JSON.parse(v) as T : fallback; } catch { return fallback; }
};

export const REPORT_SCHEDULE_COLUMNS = 'id, name, scope, location, device_ids, period, mail_to, folder, enabled, updated_at, updated_by';

export function toReportSchedule(r: Row): ReportSchedule {
  return {
    id: Number(r.id), name: String(r.name), scope: r.scope as ReportSchedule['scope'], location: String(r.location ?? ''),
    deviceIds: json<number[]>(r.device_ids, []), period: r.period as ReportPeriod, mailTo: json<string[]>(r.mail_to, []),
    folder: String(r.folder ?? ''), enabled: r.enabled === true || Number(r.enabled) === 1, updatedAt: ms(r.updated_at), updatedBy: String(r.updated_by),
  };
}

export const ISSUED_REPORT_COLUMNS = 'code, file_sha256, content_sha256, generated_at, generated_by, request, signed_by, signed_at, meaning, signs_code';

export function toIssuedReport(r: Row): IssuedReport {
  return {
    code: String(r.code), fileSha256: String(r.file_sha256), contentSha256: String(r.content_sha256), generatedAt: ms(r.generated_at),
    generatedBy: String(r.generated_by), request: json<Record<string, unknown>>(r.request, {}),
    signature: r.signed_by == null ? null : { by: String(r.signed_by), at: ms(r.signed_at), meaning: String(r.meaning), signsCode: String(r.signs_code) },
  };
}
