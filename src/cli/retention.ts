// `inlet retention`: what retention would purge (--dry-run), a purge now, and the record of every
// horizon. The purge is the housekeeping job's, run by hand: the same horizon, checks and chunks.
import { userInfo } from 'node:os';
import type { InletConfig } from '../config/schema.ts';
import type { LogSink } from '../domain/log-sink.ts';
import { describeBodyRun, describePlan, describeRun, planRetention, runBodyRetention, runRetention } from '../jobs/retention.ts';
import type { Store } from '../store/store.ts';
import { UsageError, parse } from './args.ts';

const USAGE = `usage: inlet retention <command>
  status                       the settings and every horizon recorded so far (who, when, why)
  run --dry-run                what a purge now would remove; changes nothing
  run --reason <text>          advance the horizon to retention.keepDays and purge below it now
                               (as the nightly housekeeping job does; needs retention.enabled)`;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export async function retentionCommand(argv: string[], config: InletConfig, store: Store, out: (line: string) => void, now = Date.now): Promise<number> {
  const [sub, ...rest] = argv;
  const { retention } = config;
  const settings = `retention ${retention.enabled ? 'on' : 'off'}: keep data ${retention.keepDays || '(not set)'} days, ` +
    `audit trail ${retention.auditKeepDays ? `${retention.auditKeepDays} days` : 'kept for ever'}`;
  switch (sub) {
    case 'status': {
      parse(rest, {});
      out(settings);
      const horizons = await store.retentionHorizons();
      if (!horizons.length) { out('no retention horizon recorded: nothing has ever been purged'); return 0; }
      for (const h of horizons) {
        out(`#${h.id} ${iso(h.at)} by ${h.setBy}: data before ${iso(h.dataBefore)} (uploads below #${h.belowUploadId}), audit trail before ${iso(h.auditBefore)}; reason: ${h.reason}`);
      }
      return 0;
    }
    case 'run': {
      const { values } = parse(rest, { 'dry-run': { type: 'boolean' }, reason: { type: 'string' } });
      if (retention.keepDays < 1) throw new UsageError('"retention.keepDays" is not set in the configuration: nothing to work out');
      if (values['dry-run']) {
        out(`dry run, nothing is changed. ${settings}`);
        const plan = await planRetention(store, retention, now());
        out(describePlan(plan));
        if (plan.blocked) out(`a purge now would be refused: ${plan.blocked}`);
        return 0;
      }
      if (!retention.enabled) throw new UsageError('"retention.enabled" is false in the configuration: set it to true to purge (inlet retention run --dry-run shows what would go)');
      const reason = values.reason?.trim();
      if (!reason) throw new UsageError('--reason is required: it is recorded with the horizon for the auditors (e.g. --reason "annual purge, SOP QA-12")');
      const log: LogSink = { info: (m) => out(m), warn: (m) => out(m), error: (m) => out(m) };
      const result = await runRetention(store, retention, { now: now(), setBy: `${userInfo().username} (inlet retention run)`, reason, log, progressEveryMs: 2000 });
      out(describeRun(result));
      if (retention.bodyKeepDays > 0) {
        out(describeBodyRun(await runBodyRetention(store, retention, { now: now(), setBy: `${userInfo().username} (inlet retention run)`, reason, log, progressEveryMs: 2000 })));
      }
      return result.plan.blocked ? 1 : 0;
    }
    default:
      out(USAGE);
      return sub && sub !== 'help' ? 2 : 0;
  }
}
