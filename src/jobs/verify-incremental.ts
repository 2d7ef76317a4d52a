// Incremental verification (docs/retention.md and docs/sqlserver.md, "Incremental verification"):
// the nightly run does not re-read the whole archive. It verifies
// - every upload above the last verified one (verify_progress.verified_through), each chain linking
//   on from its last verified upload, whose id and hash must still be those of the chain's
//   checkpoint (so a cut or rewritten tail is found at once);
// - the next share of a rolling full pass: [rolling_cursor, rolling_end] is re-verified in
//   ROLLING_NIGHTS slices, so tampering in the already-verified range is found within that many
//   nights; `inlet verify` (a full pass) finds it at once;
// - the audit trail, the devices without a chain and the heads file as a full run does, and the
//   rollup's share of the night (ROLLUP_SHARES, the same number of nights).
// The progress row is chained under the chain key (an HMAC the database cannot compute): a forged or
// edited row is reported and the run falls back to a full pass. Without a chain key nothing could
// protect the row, so every run is a full pass.
import { createHmac } from 'node:crypto';
import type { ChainAnchor, ChainCheckpoint, Store, VerifyProgressRecord } from '../store/store.ts';
import { checkUpload, groupByUpload, reportOrphans, verifyIntegrity, type IntegrityProblem, type IntegrityReport, type VerifyOptions } from './verify.ts';
import { withPurgedBodies } from './purged-bodies.ts';
import { chainKey } from '../domain/chain.ts';

/** A rolling full pass takes at most this many nights (the rollup's shares are as many: jobs/index.ts). */
export const ROLLING_NIGHTS = 7;
const ZERO_MAC = Buffer.alloc(32);
const MAX_LISTED_PROBLEMS = 1000;

export type ProgressFields = Omit<VerifyProgressRecord, 'id' | 'mac' | 'prevMac'>;

/** The row's link: HMAC-SHA256 under the chain key over the previous row's mac and this row's values. */
export function progressMac(key: Uint8Array, prevMac: Uint8Array, p: ProgressFields): Buffer {
  const fields = JSON.stringify([1, p.at, p.mode, p.verifiedThrough, p.rollingCursor, p.rollingEnd, p.rollingNights]);
  return createHmac('sha256', key).update(prevMac).update(fields).digest();
}

export interface IncrementalReport extends IntegrityReport {
  mode: 'incremental' | 'full';
  /** Uploads [from, to] re-verified by the rolling pass this run; null on a full run. */
  rollingSlice: { from: number; to: number } | null;
  /** The progress row to append when the run is intact (recordVerifyProgress). */
  next: ProgressFields;
}

export interface IncrementalOptions extends VerifyOptions {
  /** Verify everything (inlet verify, or --full): also what the nightly runs would do when progress is missing or forged. */
  full?: boolean;
  rollingNights?: number;
}

/** Verifies from the last verified upload on, plus a share of the rolling pass; a full pass when asked, or when progress cannot be trusted. */
export async function verifyIncrementally(store: Store, options: IncrementalOptions): Promise<IncrementalReport> {
  const nights = options.rollingNights ?? ROLLING_NIGHTS;
  const at = (options.now ?? Date.now)();
  const key = options.chainKey?.key ?? null;
  const latest = await store.verifyProgress();
  const forged: IntegrityProblem[] = [];
  if (latest && key && !progressMac(key, latest.prevMac, latest).equals(latest.mac)) {
    forged.push({
      kind: 'progress-forged', chain: -1, uploadId: latest.verifiedThrough,
      detail: `verification progress row #${latest.id} (verified through upload #${latest.verifiedThrough}) does not carry its link under the chain key: ` +
        'it was written outside Inlet, perhaps to skip a range; this run verified everything',
    });
  }
  if (options.full || !key || !latest || forged.length) {
    const report = await verifyIntegrity(store, options);
    const through = Math.max(0, ...report.heads.map((h) => h.uploadId));
    return withProblems({
      ...report, mode: 'full', rollingSlice: null,
      next: { at, mode: 'full', verifiedThrough: through, rollingCursor: 1, rollingEnd: through, rollingNights: nights },
    }, forged);
  }

  const through = latest.verifiedThrough;
  const [seeds, checkpoints, anchors] = await Promise.all([store.lastUploadsBefore(through + 1), store.chainCheckpoints(), store.chainAnchors()]);
  const tailProblems = checkVerifiedTails(seeds, checkpoints, anchors, through);
  const report = await verifyIntegrity(store, { ...options, afterUploadId: through, seedHeads: seeds });
  // The rolling pass: a new one begins where the last ended, over what was verified by then.
  const restart = latest.rollingCursor > latest.rollingEnd;
  const cursor = restart ? 1 : latest.rollingCursor;
  const end = restart ? through : latest.rollingEnd;
  const slice = end >= cursor ? { from: cursor, to: Math.min(end, cursor + Math.ceil(end / nights) - 1) } : null;
  const sliceReport = slice ? await verifySlice(store, slice.from, slice.to, anchors, options) : { problems: [], problemCount: 0, checked: 0, samples: 0 };
  const newThrough = Math.max(through, ...report.heads.map((h) => h.uploadId));
  const merged = withProblems({
    ...report, mode: 'incremental', rollingSlice: slice,
    uploadsChecked: report.uploadsChecked + sliceReport.checked, samplesChecked: report.samplesChecked + sliceReport.samples,
    next: { at, mode: 'incremental', verifiedThrough: newThrough, rollingCursor: slice ? slice.to + 1 : cursor, rollingEnd: end, rollingNights: nights },
  }, [...tailProblems, ...sliceReport.problems], tailProblems.length + sliceReport.problemCount);
  return merged;
}

function withProblems(report: IncrementalReport, extra: IntegrityProblem[], extraCount = extra.length): IncrementalReport {
  if (!extraCount) return report;
  const problems = [...extra, ...report.problems].slice(0, MAX_LISTED_PROBLEMS);
  return { ...report, ok: false, problems, problemCount: report.problemCount + extraCount };
}

/**
 * Each chain's last upload at or below the verified range must be the one its checkpoint recorded,
 * with the same hash: otherwise uploads were cut off, rewritten or inserted there since.
 */
function checkVerifiedTails(
  seeds: { chain: number; uploadId: number; hash: Buffer }[], checkpoints: ChainCheckpoint[], anchors: ChainAnchor[], through: number,
): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  const anchoredAt = new Map(anchors.map((a) => [a.chain, a.uploadId]));
  const bySeed = new Map(seeds.map((s) => [s.chain, s]));
  const checkpointed = new Map(checkpoints.map((c) => [c.chain, c]));
  for (const c of checkpoints) {
    if (c.uploadId <= (anchoredAt.get(c.chain) ?? 0) || c.uploadId > through) continue; // purged since, or beyond the range
    const seed = bySeed.get(c.chain);
    if (!seed || seed.uploadId !== c.uploadId || !seed.hash.equals(c.hash)) {
      problems.push({
        kind: 'checkpoint-lost', chain: c.chain, uploadId: c.uploadId,
        detail: `upload #${c.uploadId}, the last of this chain when verified on ${new Date(c.at).toISOString()}, ` +
          `${!seed ? 'no longer exists' : seed.uploadId !== c.uploadId ? `is no longer the chain's last upload up to #${through} (#${seed.uploadId} is)` : 'has a different hash now'}: ` +
          'the chain was cut, rewritten or extended outside Inlet',
      });
    }
  }
  for (const s of seeds) {
    if (checkpointed.has(s.chain) || s.uploadId <= (anchoredAt.get(s.chain) ?? 0)) continue;
    problems.push({
      kind: 'checkpoint-lost', chain: s.chain, uploadId: s.uploadId,
      detail: `upload #${s.uploadId} lies in the verified range (up to #${through}) but no verification recorded its chain: inserted outside Inlet`,
    });
  }
  return problems;
}

/** Re-verifies uploads [from, to]: each link, each hash, and the samples stored under those ids. */
async function verifySlice(
  store: Store, from: number, to: number, anchors: ChainAnchor[], options: VerifyOptions,
): Promise<{ problems: IntegrityProblem[]; problemCount: number; checked: number; samples: number }> {
  const problems: IntegrityProblem[] = [];
  let problemCount = 0;
  const report = (p: IntegrityProblem) => { problemCount++; if (problems.length < MAX_LISTED_PROBLEMS) problems.push(p); };
  const anchoredAt = new Map(anchors.map((a) => [a.chain, a.uploadId]));
  // Each chain links on from its stored upload before the slice (verified by an earlier slice), else its anchor.
  const heads = new Map<number, { uploadId: number; hash: Buffer }>(anchors.map((a) => [a.chain, { uploadId: a.uploadId, hash: a.hash }]));
  for (const s of await store.lastUploadsBefore(from)) {
    if (s.uploadId > (anchoredAt.get(s.chain) ?? 0)) heads.set(s.chain, { uploadId: s.uploadId, hash: s.hash });
  }
  const noCheckpoints = new Map<number, ChainCheckpoint>();
  const pageSize = options.pageSize ?? 1000;
  let lastId = from - 1;
  let checked = 0;
  let samples = 0;
  while (lastId < to) {
    const page = (await withPurgedBodies(store, await store.uploads({ afterId: lastId, limit: pageSize }))).filter((u) => u.id <= to);
    const pageLastId = page.length ? page[page.length - 1].id : to;
    const stored = groupByUpload(await store.uploadSamples(lastId + 1, pageLastId));
    for (const upload of page) {
      const own = stored.get(upload.id) ?? [];
      stored.delete(upload.id);
      if (upload.id <= (anchoredAt.get(chainKey(upload.deviceId)) ?? 0)) continue;
      samples += own.length;
      checked++;
      checkUpload(upload, own, heads, noCheckpoints, options.chainKey ?? null, report);
    }
    for (const [uploadId, orphans] of stored) reportOrphans(uploadId, orphans, report);
    if (!page.length) break;
    lastId = pageLastId;
  }
  return { problems, problemCount, checked, samples };
}

/**
 * Appends the run's progress row, linked to the latest one, once the run was intact (after
 * recordVerification). A full pass that found nothing but a forged progress row has verified
 * everything itself: its row is appended too (linked to the forged one, which stays as evidence), so
 * that the nights after it are incremental again; the forged row was reported and alarmed.
 */
export async function recordVerifyProgress(store: Pick<Store, 'verifyProgress' | 'addVerifyProgress'>, key: Uint8Array | null, report: IncrementalReport): Promise<void> {
  const onlyForgedProgress = report.mode === 'full' && report.problemCount > 0 && report.problemCount === report.problems.length
    && report.problems.every((p) => p.kind === 'progress-forged');
  if ((!report.ok && !onlyForgedProgress) || !key) return;
  const latest = await store.verifyProgress();
  const prevMac = latest?.mac ?? ZERO_MAC;
  await store.addVerifyProgress({ ...report.next, prevMac, mac: progressMac(key, prevMac, report.next) });
}
