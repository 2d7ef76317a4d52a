// Retention: data older than retention.keepDays is purged, but only below an audited horizon that
// only moves forward (docs/retention.md). A run (1) works out the horizon the settings ask for,
// (2) refuses while an integrity alarm nobody has acknowledged is open, since purging could destroy
// the evidence, (3) advances the horizon when it moves (the store records who, when and why, anchors
// every chain it cuts and writes an event), and (4) purges below it in chunks, each its own short
// transaction, logging progress, until nothing is left. A run that stopped half-way (crash, stop)
// is finished by the next one: the horizon is already recorded.
import type { LogSink } from '../domain/log-sink.ts';
import type { PurgeChunk, RetentionHorizon, RetentionRequest, RetentionPreview, Store } from '../store/store.ts';
import { writeAuditBaseline } from '../store/audit-baseline.ts';

const DAY = 86_400_000;

export interface RetentionSettings {
  /** Uploads and samples received longer ago than this may be purged. */
  keepDays: number;
  /** Events and closed alarms older than this may be purged; 0 = the audit trail is kept. */
  auditKeepDays: number;
  /** Samples, events or alarms deleted per transaction; uploads, which carry their raw bodies, a hundredth of it. */
  chunkSize: number;
}

export interface RetentionPlan {
  /** The horizon the settings ask for, never before the recorded one. */
  dataBefore: number;
  auditBefore: number | null;
  current: RetentionHorizon | undefined;
  /** Whether the horizon would move. */
  advances: boolean;
  preview: RetentionPreview;
  /** Why nothing may be purged now, or null. */
  blocked: string | null;
}

export interface RetentionResult {
  plan: RetentionPlan;
  horizon: RetentionHorizon | undefined;
  purged: PurgeChunk;
  chunks: number;
}

type RetentionStore = Pick<Store, 'retentionHorizon' | 'previewRetention' | 'advanceRetentionHorizon' | 'purgeBelowHorizon' | 'alarms'> & Partial<Pick<Store, 'switchOutBelowHorizon'>>;

const NOTHING: PurgeChunk = { samples: 0, rollupHours: 0, uploads: 0, quarantined: 0, events: 0, alarms: 0 };

function add(a: PurgeChunk, b: PurgeChunk): PurgeChunk {
  return {
    samples: a.samples + b.samples, rollupHours: a.rollupHours + b.rollupHours, uploads: a.uploads + b.uploads,
    quarantined: a.quarantined + b.quarantined, events: a.events + b.events, alarms: a.alarms + b.alarms,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What the settings ask for at `now`, and what lies below it; changes nothing. */
export async function planRetention(store: RetentionStore, settings: RetentionSettings, now: number): Promise<RetentionPlan> {
  const current = await store.retentionHorizon();
  // The horizon never moves back: a longer period set later keeps what is left, it cannot restore.
  const dataBefore = Math.max(now - settings.keepDays * DAY, current?.dataBefore ?? -Infinity);
  const wantedAudit = settings.auditKeepDays > 0 ? now - settings.auditKeepDays * DAY : null;
  const auditBefore = current?.auditBefore != null ? Math.max(current.auditBefore, wantedAudit ?? -Infinity) : wantedAudit;
  const preview = await store.previewRetention(dataBefore, auditBefore);
  // Recorded only when it lets more be purged: no horizon (and no event) on a store younger than the period.
  const advances = preview.belowUploadId > (current?.belowUploadId ?? 1)
    || ((auditBefore ?? -Infinity) > (current?.auditBefore ?? -Infinity) && preview.events + preview.alarms > 0);
  const unacknowledged = (await store.alarms({ kind: 'integrity', uncleared: true, limit: 100 })).filter((a) => a.acknowledgedAt === null);
  const blocked = unacknowledged.length
    ? `an integrity alarm (#${unacknowledged.map((a) => a.id).join(', #')}) is open and not acknowledged: purging now could destroy the evidence. ` +
      'Investigate it, then acknowledge it in the viewer; retention resumes on the next run'
    : null;
  return { dataBefore, auditBefore, current, advances, preview, blocked };
}

export function describePlan(plan: RetentionPlan): string {
  const p = plan.preview;
  const horizon = plan.advances
    ? `horizon would move to ${iso(plan.dataBefore)} (uploads below #${p.belowUploadId})${plan.current ? `, from ${iso(plan.current.dataBefore)}` : ''}`
    : plan.current ? `horizon stays at ${iso(plan.current.dataBefore)} (uploads below #${plan.current.belowUploadId})` : 'no horizon yet, and none needed';
  const audit = plan.auditBefore === null ? 'events and alarms kept' : `${p.events} events and ${p.alarms} closed alarms before ${iso(plan.auditBefore)}`;
  return `${horizon}; below it: ${p.uploads} uploads (${p.quarantined} quarantined) in ${p.chains} chains, ${p.samples} samples; ${audit}`;
}

export function describePurge(purged: PurgeChunk): string {
  return `${purged.samples} samples, ${purged.uploads} uploads (${purged.quarantined} quarantined), ${purged.events} events, ` +
    `${purged.alarms} closed alarms purged; ${purged.rollupHours} hourly rollups rebuilt`;
}

export interface RetentionRunOptions {
  now: number;
  /** Who advances the horizon ('housekeeping job', or the operating-system user of `inlet retention run`). */
  setBy: string;
  reason: string;
  /** A purge ordered by a person is signed by them (`inlet retention run`); the scheduled job acts under a signed policy instead. */
  signature?: RetentionRequest['signature'];
  /** The scheduled job's authority: the signed retention policy (retention-policy.ts). */
  policy?: RetentionRequest['policy'];
  source?: string | null;
  log: LogSink;
  /** Progress lines at most this often (ms). */
  progressEveryMs?: number;
}

/** Advances the horizon when it moves and purges everything below it, chunk by chunk. */
export async function runRetention(store: RetentionStore, settings: RetentionSettings, options: RetentionRunOptions): Promise<RetentionResult> {
  const plan = await planRetention(store, settings, options.now);
  if (plan.blocked) return { plan, horizon: plan.current, purged: NOTHING, chunks: 0 };
  let horizon = plan.current;
  if (plan.advances) {
    horizon = await store.advanceRetentionHorizon({
      at: options.now, dataBefore: plan.dataBefore, auditBefore: plan.auditBefore, setBy: options.setBy, reason: options.reason,
      ...(options.signature ? { signature: options.signature } : {}), ...(options.source ? { source: options.source } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
    });
    // The store keeps the latest horizon when it already covers this one (another process recorded it first).
    const recordedHere = horizon.at === options.now && horizon.setBy === options.setBy;
    // The purge removes the events that recorded older states of users, alarms, limits and channels:
    // their current states are recorded again first, so verification still has something to compare with.
    if (recordedHere && horizon.auditBefore !== null && 'listUsers' in store) {
      await writeAuditBaseline(store as unknown as Parameters<typeof writeAuditBaseline>[0], options.now, `before purging the audit trail older than ${iso(horizon.auditBefore)}`);
    }
    options.log.info(`retention horizon ${recordedHere ? 'advanced to' : 'already at'} ${iso(horizon.dataBefore)} (uploads below #${horizon.belowUploadId})`, {
      auditBefore: horizon.auditBefore === null ? null : iso(horizon.auditBefore), setBy: horizon.setBy, reason: horizon.reason,
    });
  }
  let purged = NOTHING;
  let chunks = 0;
  const every = options.progressEveryMs ?? 5000;
  let lastProgress = performance.now();
  const limits = { rows: settings.chunkSize, uploads: Math.max(1, Math.floor(settings.chunkSize / 100)) };
  // SQL Server (migration 032): whole partitions below the horizon are switched out first, one per
  // transaction; the row deletes below then only finish the partition the horizon cuts.
  while (store.switchOutBelowHorizon) {
    const switched = await store.switchOutBelowHorizon(1);
    if (!switched.partitions) break;
    purged = add(purged, { ...NOTHING, uploads: switched.uploads, samples: switched.samples });
    chunks++;
    options.log.info(`retention: ${switched.partitions} upload partition(s) switched out (${switched.uploads} uploads, ${switched.samples} samples)`);
  }
  for (;;) {
    const chunk = await store.purgeBelowHorizon(limits);
    if (Object.values(chunk).every((n) => n === 0)) break;
    purged = add(purged, chunk);
    chunks++;
    if (performance.now() - lastProgress >= every) {
      lastProgress = performance.now();
      options.log.info(`retention purge in progress: ${describePurge(purged)} so far (${chunks} chunks)`);
    }
    // Between chunks the writer and the viewer get the database (and, for SQLite, the event loop).
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { plan, horizon, purged, chunks };
}

/** The job's one line. */
export function describeRun(result: RetentionResult): string {
  if (result.plan.blocked) return `retention skipped: ${result.plan.blocked}`;
  const h = result.horizon;
  const where = h ? `${result.plan.advances ? 'horizon advanced to' : 'horizon unchanged at'} ${iso(h.dataBefore)} (uploads below #${h.belowUploadId})` : 'no horizon';
  return `retention: ${where}; ${result.chunks ? `${describePurge(result.purged)} in ${result.chunks} chunks` : 'nothing to purge'}`;
}

export interface BodyRetentionResult {
  /** Bodies of uploads received before this were purged (the store's floor may have kept more). */
  before: number;
  bodies: number;
  bytes: number;
  chunks: number;
}

/**
 * The raw-body retention (retention.bodyKeepDays, migration 031): empties the stored bodies of
 * uploads received longer ago than bodyKeepDays, chunk by chunk, each chunk its own transaction with
 * its 'retention.bodies.purged' event. Each body's SHA-256 stays, which is what the chain covers, so
 * verification is unaffected. Nothing is done while an integrity alarm nobody acknowledged is open:
 * a body can be evidence too.
 */
export async function runBodyRetention(
  store: Pick<Store, 'purgeUploadBodies' | 'alarms'>, settings: Pick<RetentionSettings, 'chunkSize'> & { bodyKeepDays: number }, options: RetentionRunOptions,
): Promise<BodyRetentionResult | { blocked: string }> {
  const unacknowledged = (await store.alarms({ kind: 'integrity', uncleared: true, limit: 100 })).filter((a) => a.acknowledgedAt === null);
  if (unacknowledged.length) return { blocked: `an integrity alarm (#${unacknowledged.map((a) => a.id).join(', #')}) is open and not acknowledged` };
  const before = options.now - settings.bodyKeepDays * DAY;
  // Bodies are up to a logger backlog's 10 MB: a hundredth of the row chunk per transaction.
  const limit = Math.max(1, Math.floor(settings.chunkSize / 100));
  const result = { before, bodies: 0, bytes: 0, chunks: 0 };
  let lastProgress = performance.now();
  for (;;) {
    const chunk = await store.purgeUploadBodies({ before, limit, at: options.now, setBy: options.setBy, reason: options.reason });
    if (!chunk.bodies) break;
    result.bodies += chunk.bodies;
    result.bytes += chunk.bytes;
    result.chunks++;
    if (performance.now() - lastProgress >= (options.progressEveryMs ?? 5000)) {
      lastProgress = performance.now();
      options.log.info(`raw-body purge in progress: ${result.bodies} bodies (${result.bytes} bytes) so far`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return result;
}

export function describeBodyRun(result: BodyRetentionResult | { blocked: string }): string {
  if ('blocked' in result) return `raw-body retention skipped: ${result.blocked}`;
  return result.bodies
    ? `raw bodies received before ${iso(result.before)}: ${result.bodies} purged (${result.bytes} bytes) in ${result.chunks} chunks, their SHA-256 kept`
    : `raw bodies received before ${iso(result.before)}: none left to purge`;
}
