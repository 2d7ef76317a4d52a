// Runs the gateway's scheduled jobs on node-cron. A job never overlaps itself: a tick that comes
// while the previous run is still busy is skipped and logged, because two verifications or two
// offline sweeps at once would only double the load and the events. stop() waits for runs in
// progress, so the store is never closed under a job.
import type { LogSink } from '../domain/log-sink.ts';
import cron, { type ScheduledTask } from 'node-cron';

export interface Job {
  name: string;
  /** Cron expression (node-cron syntax, optional seconds field). */
  schedule: string;
  /** Does the work and says what it did, in one line for the log. */
  run(): Promise<string>;
}

/** The logger this module writes to. */
export type JobLogger = LogSink;

export type JobOutcome = { ran: true; summary: string } | { ran: false; reason: 'busy' | 'failed'; error?: string };

export class JobScheduler {
  private readonly jobs: Map<string, Job>;
  private readonly log: JobLogger;
  private readonly timezone: string | undefined;
  private readonly running = new Map<string, Promise<JobOutcome>>();
  private tasks: ScheduledTask[] = [];

  constructor(jobs: Job[], log: JobLogger, timezone?: string) {
    this.jobs = new Map(jobs.map((j) => [j.name, j]));
    this.log = log;
    this.timezone = timezone || undefined;
  }

  start(): void {
    for (const job of this.jobs.values()) {
      // node-cron's own messages go to our log, in our format: by default it prints coloured
      // "missed execution" warnings on the console, which read like a fault on a busy machine.
      const task = cron.schedule(job.schedule, () => this.runNow(job.name), { name: job.name, timezone: this.timezone, logger: this.cronLogger(job.name) });
      task.on('execution:missed', (context) => {
        this.log.warn(`job ${job.name}: the run due at ${context.date.toISOString()} was skipped because the process was busy at that moment; it runs at its next scheduled time`);
      });
      this.tasks.push(task);
    }
    if (this.jobs.size) this.log.info('scheduled jobs started', { jobs: [...this.jobs.values()].map((j) => `${j.name} (${j.schedule})`) });
  }

  private cronLogger(jobName: string) {
    const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
    return {
      info: (message: string) => this.log.info(`job ${jobName}: ${text(message)}`),
      warn: (message: string) => this.log.warn(`job ${jobName}: ${text(message)}`),
      error: (message: string | Error, err?: Error) => this.log.error(`job ${jobName}: ${text(message)}`, err ? { error: err.message } : undefined),
      debug: () => {},
    };
  }

  /** Runs a job now unless it is already running; the cron ticks and tests both come through here. */
  runNow(name: string): Promise<JobOutcome> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no scheduled job named "${name}"`);
    if (this.running.has(name)) {
      this.log.warn(`job ${name} skipped: its previous run is still going`);
      return Promise.resolve({ ran: false, reason: 'busy' });
    }
    const started = performance.now();
    const run = job.run().then(
      (summary): JobOutcome => {
        this.log.info(`job ${name} done in ${Math.round(performance.now() - started)} ms: ${summary}`);
        return { ran: true, summary };
      },
      (err: Error): JobOutcome => {
        this.log.error(`job ${name} failed`, { error: err.message });
        return { ran: false, reason: 'failed', error: err.message };
      },
    ).finally(() => this.running.delete(name));
    this.running.set(name, run);
    return run;
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.destroy();
    this.tasks = [];
    await Promise.all(this.running.values());
  }
}
