// The gateway's scheduled jobs, built from the jobs.* configuration.
import type { InletConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { OfflineDetector } from './offline.ts';
import { JobScheduler, type Job, type JobLogger } from './scheduler.ts';
import { describeProblem, recordVerification, verifyIntegrity } from './verify.ts';
import { NotificationJob, createTransport } from './notify.ts';

export interface JobsDeps {
  store: Store;
  config: InletConfig;
  log: JobLogger;
  now?: () => number;
}

export function createJobScheduler({ store, config, log, now }: JobsDeps): JobScheduler {
  const jobs: Job[] = [];
  const { verify, offline, housekeeping } = config.jobs;
  if (verify.enabled) {
    jobs.push({
      name: 'verify', schedule: verify.schedule,
      async run() {
        const report = await verifyIntegrity(store, { now });
        await recordVerification(store, report);
        if (!report.ok) {
          for (const p of report.problems.slice(0, 20)) log.error('integrity problem', { problem: describeProblem(p) });
          return `INTEGRITY BROKEN: ${report.problemCount} problem(s) in ${report.uploadsChecked} uploads; system alarm raised`;
        }
        return `intact: ${report.uploadsChecked} uploads, ${report.samplesChecked} samples, ${report.chains} chains`;
      },
    });
  }
  if (offline.enabled) {
    const detector = new OfflineDetector(store, { missedIntervals: offline.missedIntervals }, now);
    jobs.push({ name: 'offline', schedule: offline.schedule, run: () => detector.sweep() });
  }
  if (housekeeping.enabled) {
    jobs.push({ name: 'housekeeping', schedule: housekeeping.schedule, run: () => store.maintain() });
  }
  if (config.notifications.enabled) {
    const notifier = new NotificationJob(store, config, createTransport(config.smtp), now);
    jobs.push({ name: 'notify', schedule: config.notifications.schedule, run: () => notifier.run() });
  }
  return new JobScheduler(jobs, log, config.jobs.timezone);
}
