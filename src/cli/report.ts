// `inlet report`: makes the same PDF as the viewer's button and /api/report.pdf, on the server,
// from the command line; `inlet report verify <file.pdf>` tells whether a PDF was made by this
// Inlet and is unchanged (exit 0), or not (exit 1).
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { InletConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { UsageError, parse, required } from './args.ts';
import { cliSource } from './actor.ts';
import { makeReport, reportSettings, reportTimeZone, verifyReportPdf } from '../report/issue.ts';
import { ReportRequestError } from '../report/model.ts';
import { isTimeZone, localTime, formatLocal } from '../report/time-zone.ts';

export const REPORT_USAGE = `usage:
  inlet report --devices <id,id...> --from <when> --to <when> --out <file.pdf>
               [--channels <device:channel,...>] [--tz <IANA zone>] [--title <text>]
      The report names the operating-system account that made it, and the machine.
      <when> is a date (2026-11-01) or a local time (2026-11-01T06:00) in the report's time zone,
      or an ISO time with its offset (2026-11-01T05:00Z); --to is exclusive.
      The time zone is --tz, else reports.timezone, else jobs.timezone, else UTC.
  inlet report verify <file.pdf>
      exit 0: made by this Inlet and unchanged; 1: changed, or not made here`;

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/;

/** A date or local time in the zone, or an ISO time with an explicit offset. */
export function parseWhen(text: string, timeZone: string, option: string): number {
  const local = LOCAL.exec(text);
  if (local) {
    const [, y, mo, d, h, mi] = local.map(Number);
    return localTime(timeZone, y, mo, d, Number.isNaN(h) ? 0 : h, Number.isNaN(mi) ? 0 : mi);
  }
  if (/(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`--${option} "${text}" is not a date: give 2026-11-01, 2026-11-01T06:00 (in ${timeZone}) or an ISO time with its offset such as 2026-11-01T05:00Z`);
}

function idList(text: string, option: string): number[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!ids.length || ids.some((n) => !Number.isSafeInteger(n) || n <= 0)) throw new UsageError(`--${option} takes device ids separated by commas, e.g. --${option} 1,4 (inlet device list shows them)`);
  return ids;
}

export async function reportCommand(argv: string[], config: InletConfig, version: string, store: () => Promise<Store>, out: (line: string) => void): Promise<number> {
  if (argv[0] === 'help' || argv[0] === '--help' || !argv.length) { out(REPORT_USAGE); return argv.length ? 0 : 2; }
  if (argv[0] === 'verify') {
    const { positionals } = parse(argv.slice(1), {});
    if (positionals.length !== 1) throw new UsageError('usage: inlet report verify <file.pdf>');
    let pdf: Buffer;
    try { pdf = readFileSync(positionals[0]); } catch (err) { throw new UsageError(`cannot read ${positionals[0]}: ${(err as Error).message}`); }
    const result = await verifyReportPdf(await store(), pdf);
    const tz = reportTimeZone(config);
    if (result.verdict === 'authentic') {
      const r = result.issued;
      out(`AUTHENTIC: ${positionals[0]} is report ${r.code}, made by this Inlet on ${formatLocal(r.generatedAt, tz)} (${tz}) by ${r.generatedBy}, and is unchanged.`);
      if (r.signature) out(`It is signed: ${r.signature.meaning} by ${r.signature.by} on ${formatLocal(r.signature.at, tz)}, for report ${r.signature.signsCode}.`);
      return 0;
    }
    if (result.verdict === 'altered') {
      out(result.issued
        ? `CHANGED: ${positionals[0]} names report ${result.code} (made ${formatLocal(result.issued.generatedAt, tz)} by ${result.issued.generatedBy}), but its content is not the file that was issued: it was altered after it left Inlet. Ask for a fresh copy.`
        : `NOT ISSUED HERE: ${positionals[0]} names verification code ${result.code}, which this Inlet never issued (or its database is another one).`);
      return 1;
    }
    out(`NOT ISSUED HERE: ${positionals[0]} carries no Inlet verification code this Inlet knows: it was not made by this Inlet.`);
    return 1;
  }
  const { values, positionals } = parse(argv, {
    devices: { type: 'string' }, channels: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' },
    tz: { type: 'string' }, title: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected "${positionals[0]}"\n${REPORT_USAGE}`);
  const timeZone = values.tz ?? reportTimeZone(config);
  if (!isTimeZone(timeZone)) throw new UsageError(`--tz "${timeZone}" is not a time zone this system knows: use an IANA name such as Europe/Prague`);
  const deviceIds = idList(required(values, 'devices'), 'devices');
  const channels = values.channels?.split(',').map((s) => s.trim()).filter(Boolean);
  if (channels?.some((c) => !/^\d+:\d+$/.test(c))) throw new UsageError('--channels takes device:channel pairs separated by commas, e.g. --channels 1:1,1:2');
  const from = parseWhen(required(values, 'from'), timeZone, 'from');
  const to = parseWhen(required(values, 'to'), timeZone, 'to');
  const file = required(values, 'out');
  // Who made it is the account that ran the command, never a name typed on it (nothing verifies one).
  let account = 'unknown account';
  try { account = os.userInfo().username; } catch { /* no passwd entry (containers): keep the placeholder */ }
  const by = `${account} (inlet report on ${os.hostname()})`;
  try {
    const made = await makeReport(await store(), { deviceIds, channels, from, to, timeZone, title: values.title }, reportSettings(config, version), by, Date.now(), undefined, cliSource());
    try {
      writeFileSync(file, made.pdf);
    } catch (err) {
      throw new UsageError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'its folder does not exist' : (err as Error).message} (report ${made.issued.code} was recorded; run the command again)`);
    }
    out(`wrote ${file}: report ${made.issued.code}, ${made.model.channels.length} channel(s), ${formatLocal(from, timeZone)} – ${formatLocal(to, timeZone)} (${timeZone})`);
    return 0;
  } catch (err) {
    if (err instanceof ReportRequestError) throw new UsageError(err.message);
    throw err;
  }
}
