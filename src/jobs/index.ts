// The gateway's scheduled jobs, built from the jobs.* configuration.
import type { InletConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { ChainKey } from '../store/chain-key.ts';
import { OfflineDetector } from './offline.ts';
import { JobScheduler, type Job, type JobLogger } from './scheduler.ts';
import { describeProblem, exportHeads, recordVerification, type IntegrityReport, type VerifyOptions } from './verify.ts';
import { ROLLING_NIGHTS, recordVerifyProgress, verifyIncrementally, type IncrementalReport } from './verify-incremental.ts';
import { exportHeadsToSyslog } from './syslog-heads.ts';
import { NotificationJob, createTransport } from './notify.ts';
import { runNightlyRetention } from './retention-policy.ts';
import { runScheduledReports } from '../report/schedule.ts';
import { INLET_VERSION } from '../report/version.ts';
import { drawInWorker } from '../report/draw.ts';

export interface JobsDeps {
  store: Store;
  /** The store the offline sweep reads and writes through; default `store`. */
  offlineStore?: Store;
  /** Whether any device is registered, answered without the read side (the offline sweep skips an empty fleet). */
  anyDevice?: () => Promise<boolean>;
  config: InletConfig;
  log: JobLogger;
  now?: () => number;
  /** The gateway's chain key, once known (an offline start learns it when the database answers). */
  chainKey?: () => ChainKey | null;
  /** Where the signed heads file lives (beside chain.key); verification compares with it and rewrites it when intact. */
  headsFile?: string;
  /**
   * Runs the verification walk away from the thread that answers devices (SQLite: a worker thread on
   * its own connection, verify-in-worker.ts); absent, it runs here on `store`.
   */
  verifyElsewhere?: (options: Pick<VerifyOptions, 'chainKey' | 'rollup' | 'headsFile'> & { nowAt?: number }) => Promise<IncrementalReport>;
}

/** The nightly verification recomputes the rollup of one device in ROLLUP_SHARES per night (device id modulo), as many nights as the rolling pass over the uploads takes; a full pass is `inlet verify`. */
export const ROLLUP_SHARES = ROLLING_NIGHTS;

export function rollupShareOf(at: number): { part: number; of: number } {
  return { part: Math.floor(at / 86_400_000) % ROLLUP_SHARES, of: ROLLUP_SHARES };
}

export function createJobScheduler({ store, offlineStore, anyDevice, config, log, now, chainKey, headsFile, verifyElsewhere }: JobsDeps): JobScheduler {
  const jobs: Job[] = [];
  const { verify, offline, housekeeping } = config.jobs;
  // Verification and housekeeping (which purges) never run at the same time: a purge under a
  // running verification would only make it walk twice.
  let storeWork: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = storeWork.then(work, work);
    storeWork = run.catch(() => undefined);
    return run;
  };
  /** A copy of the heads on another machine after every verification (audit.syslog); a failed send is logged. */
  const toSyslog = async (report: IntegrityReport, key: Uint8Array | null) => {
    const { syslog } = config.audit;
    if (!syslog.enabled) return;
    try {
      await exportHeadsToSyslog(syslog, report, key);
    } catch (err) {
      log.warn('the chain heads could not be sent to syslog', { host: syslog.host, port: syslog.port, protocol: syslog.protocol, error: (err as Error).message });
    }
  };
  if (verify.enabled) {
    jobs.push({
      name: 'verify', schedule: verify.schedule,
      run: () => oneAtATime(async () => {
        const key = chainKey?.() ?? null;
        // From the last verified upload on, plus a share of the rolling full pass (verify-incremental.ts).
        const options = { chainKey: key, rollup: rollupShareOf((now ?? Date.now)()), headsFile: key ? headsFile : undefined };
        const report = verifyElsewhere ? await verifyElsewhere({ ...options, nowAt: now?.() }) : await verifyIncrementally(store, { ...options, now });
        if (!report.ok) {
          for (const p of report.problems.slice(0, 20)) log.error('integrity problem', { problem: describeProblem(p) });
          const { raised } = await recordVerification(store, report);
          await recordVerifyProgress(store, key?.key ?? null, report); // only after a full pass that found nothing but a forged progress row
          await toSyslog(report, key?.key ?? null);
          return `INTEGRITY BROKEN: ${report.problemCount} problem(s) in ${report.uploadsChecked} uploads; ${raised ? `integrity alarm #${raised.id} raised` : 'its integrity alarm is already open'}`;
        }
        const { cleared } = await recordVerification(store, report);
        await recordVerifyProgress(store, key?.key ?? null, report);
        if (key && headsFile) exportHeads(headsFile, key.key, report);
        await toSyslog(report, key?.key ?? null);
        return `intact (${report.mode === 'incremental' ? `incremental${report.rollingSlice ? `, rolling pass #${report.rollingSlice.from}-#${report.rollingSlice.to}` : ''}` : 'full'}): ${report.uploadsChecked} uploads, ${report.samplesChecked} samples, ${report.chains} chains` +
          `${report.uploadsBelowHorizon ? `, ${report.uploadsBelowHorizon} uploads below the retention horizon awaiting purge` : ''}` +
          `${cleared ? `; ${cleared} integrity alarm(s) cleared` : ''}`;
      }),
    });
  }
  if (offline.enabled) {
    const detector = new OfflineDetector(offlineStore ?? store, { missedIntervals: offline.missedIntervals }, now, anyDevice ?? null);
    jobs.push({ name: 'offline', schedule: offline.schedule, run: () => detector.sweep() });
  }
  if (housekeeping.enabled) {
    const { retention } = config;
    jobs.push({
      name: 'housekeeping', schedule: housekeeping.schedule,
      run: () => oneAtATime(async () => {
        // Retention first: the WAL checkpoint and statistics of maintain() then see the space it freed.
        // Only under a retention policy an administrator signed (retention-policy.ts); withheld otherwise.
        const purge = await runNightlyRetention(store, retention, { now: (now ?? Date.now)(), log });
        return `${purge}; ${await store.maintain()}`;
      }),
    });
  }
  if (config.notifications.enabled) {
    const notifier = new NotificationJob(store, config, createTransport(config.smtp), now);
    jobs.push({ name: 'notify', schedule: config.notifications.schedule, run: () => notifier.run() });
  }
  // Always scheduled: an administrator may add a schedule in the viewer at any time.
  let reportTransport: ReturnType<typeof createTransport> | null = null;
  jobs.push({
    name: 'reports', schedule: config.reports.schedule,
    run: () => runScheduledReports({
      store, config, version: INLET_VERSION, now, transport: () => (reportTransport ??= createTransport(config.smtp)), draw: drawInWorker(config, store),
    }),
  });
  return new JobScheduler(jobs, log, config.jobs.timezone);
}
