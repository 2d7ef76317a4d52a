// Integrity verification: walks every upload chain in id order and recomputes each upload's
// hash from its stored row and the samples stored under its id (src/domain/chain.ts). Anything
// changed, inserted or deleted outside Inlet shows as one of the problems below. After a retention
// purge each chain starts at its anchor (the last upload below the horizon, recorded before the
// purge): the first upload kept must link to the anchor's hash, and uploads still waiting below it
// are not checked. Read-only except for the checkpoints, events and integrity alarm it records
// afterwards (recordVerification).
import { GENESIS_HASH, chainKey, samplesDigest, toHex, uploadHash } from '../domain/chain.ts';
import type { ChainCheckpoint, Store, StoredAlarm, StoredUpload, UploadSample } from '../store/store.ts';
import type { ChainKey } from '../store/chain-key.ts';

export type IntegrityProblemKind =
  /** The recomputed hash differs: the upload row, or the samples stored under its id, were changed, added or removed. */
  | 'hash-mismatch'
  /** prev_hash is not the hash of the chain's previous upload: uploads between them were deleted or inserted. */
  | 'broken-link'
  /** Samples name an upload id that does not exist: forged rows, or leftovers of a deleted upload. */
  | 'orphan-samples'
  /** An upload that an earlier verification saw as the chain's head is gone or has a different hash: the chain was cut or rewritten. */
  | 'checkpoint-lost'
  /** A chain anchor lies at or above the retention horizon: anchors were added outside Inlet to hide deleted uploads. */
  | 'anchor-beyond-horizon';

export interface IntegrityProblem {
  kind: IntegrityProblemKind;
  /** Device id of the chain; 0 is the chain of uploads from no known device. */
  chain: number;
  uploadId: number;
  detail: string;
}

export interface VerifyProgress {
  checked: number;
  total: number;
  percent: number;
  rowsPerSecond: number;
}

export interface IntegrityReport {
  ok: boolean;
  startedAt: number;
  finishedAt: number;
  uploadsChecked: number;
  samplesChecked: number;
  /** Uploads below their chain's anchor, still stored while a purge is under way: not checked. */
  uploadsBelowHorizon: number;
  chains: number;
  /** The first MAX_LISTED_PROBLEMS problems; problemCount counts them all. */
  problems: IntegrityProblem[];
  problemCount: number;
  /** Each chain's last upload as this run saw it: checkpoints for the next run when ok. */
  heads: ChainCheckpoint[];
}

export interface VerifyOptions {
  /** The gateway's chain key: uploads from its keyedFromUploadId on must be linked under it. */
  chainKey?: Pick<ChainKey, 'key' | 'keyedFromUploadId'> | null;
  /** Uploads read per round trip. */
  pageSize?: number;
  onProgress?: (progress: VerifyProgress) => void;
  now?: () => number;
}

const MAX_LISTED_PROBLEMS = 1000;
const PREVIOUS_IN_CHAIN_NONE = 'the chain start';

export async function verifyIntegrity(store: Store, options: VerifyOptions = {}): Promise<IntegrityReport> {
  // A retention purge that advances the horizon while the walk runs deletes uploads the walk still
  // expects: what looks broken then is checked once more against the new anchors.
  const before = (await store.retentionHorizon())?.id;
  const report = await verifyOnce(store, options);
  if (report.ok || (await store.retentionHorizon())?.id === before) return report;
  return verifyOnce(store, options);
}

async function verifyOnce(store: Store, options: VerifyOptions): Promise<IntegrityReport> {
  const now = options.now ?? Date.now;
  const pageSize = options.pageSize ?? 1000;
  const startedAt = now();
  const { count: total } = await store.uploadStats();
  const checkpoints = new Map((await store.chainCheckpoints()).map((c) => [c.chain, c]));
  const horizon = await store.retentionHorizon();
  const anchors = await store.chainAnchors();
  // Each chain continues from its anchor, as the writer does.
  const heads = new Map<number, { uploadId: number; hash: Buffer }>(anchors.map((a) => [a.chain, { uploadId: a.uploadId, hash: a.hash }]));
  const anchoredAt = new Map(anchors.map((a) => [a.chain, a.uploadId]));
  const problems: IntegrityProblem[] = [];
  let problemCount = 0;
  const report = (p: IntegrityProblem) => { problemCount++; if (problems.length < MAX_LISTED_PROBLEMS) problems.push(p); };
  for (const a of anchors) {
    if (!horizon || a.uploadId >= horizon.belowUploadId) {
      report({
        kind: 'anchor-beyond-horizon', chain: a.chain, uploadId: a.uploadId,
        detail: `the chain's anchor at upload #${a.uploadId} is not below the retention horizon (${horizon ? `upload #${horizon.belowUploadId}` : 'none recorded'}): anchors were added outside Inlet`,
      });
    }
  }
  let uploadsBelowHorizon = 0;
  let uploadsChecked = 0;
  let samplesChecked = 0;
  let lastId = 0;

  for (;;) {
    const page = await store.uploads({ afterId: lastId, limit: pageSize });
    if (!page.length) break;
    const pageLastId = page[page.length - 1].id;
    // Ids are handed out in increasing order under the write lock, so every sample of an upload
    // up to pageLastId is already committed: no race with uploads arriving meanwhile.
    const samples = groupByUpload(await store.uploadSamples(lastId + 1, pageLastId));
    for (const upload of page) {
      const stored = samples.get(upload.id) ?? [];
      samples.delete(upload.id);
      if (upload.id <= (anchoredAt.get(chainKey(upload.deviceId)) ?? 0)) { uploadsBelowHorizon++; continue; }
      samplesChecked += stored.length;
      checkUpload(upload, stored, heads, checkpoints, options.chainKey ?? null, report);
    }
    for (const [uploadId, orphans] of samples) reportOrphans(uploadId, orphans, report);
    uploadsChecked += page.length;
    lastId = pageLastId;
    options.onProgress?.(progress(uploadsChecked, total, startedAt, now()));
  }
  // Samples above the last upload seen: read them first, then the uploads that arrived since,
  // so a sample counts as an orphan only if its upload is missing after the sample was read.
  const tail = groupByUpload(await store.uploadSamples(lastId + 1, null));
  if (tail.size) {
    const arrived = new Set((await store.uploads({ afterId: lastId, limit: 100_000 })).map((u) => u.id));
    for (const [uploadId, orphans] of tail) if (!arrived.has(uploadId)) reportOrphans(uploadId, orphans, report);
  }
  for (const [chain, checkpoint] of checkpoints) {
    if (!heads.has(chain) || heads.get(chain)!.uploadId < checkpoint.uploadId) {
      report({
        kind: 'checkpoint-lost', chain, uploadId: checkpoint.uploadId,
        detail: `upload #${checkpoint.uploadId}, the last upload of this chain when it was verified on ${new Date(checkpoint.at).toISOString()}, no longer exists: uploads were deleted from the end of the chain`,
      });
    }
  }
  return {
    ok: problemCount === 0, startedAt, finishedAt: now(), uploadsChecked: uploadsChecked - uploadsBelowHorizon, samplesChecked, uploadsBelowHorizon, chains: heads.size,
    problems, problemCount,
    heads: [...heads].map(([chain, h]) => ({ at: startedAt, chain, uploadId: h.uploadId, hash: h.hash })),
  };
}

function checkUpload(
  upload: StoredUpload, stored: UploadSample[], heads: Map<number, { uploadId: number; hash: Buffer }>,
  checkpoints: Map<number, ChainCheckpoint>, gatewayKey: VerifyOptions['chainKey'], report: (p: IntegrityProblem) => void,
): void {
  const chain = chainKey(upload.deviceId);
  const previous = heads.get(chain);
  const expectedPrev = previous?.hash ?? GENESIS_HASH;
  if (!upload.prevHash.equals(expectedPrev)) {
    const after = previous ? `upload #${previous.uploadId}` : PREVIOUS_IN_CHAIN_NONE;
    report({
      kind: 'broken-link', chain, uploadId: upload.id,
      detail: `prev_hash does not match the hash of ${after}, the previous upload of this chain: uploads between ${after} and #${upload.id} were deleted or inserted outside Inlet`,
    });
  }
  // Recomputed from the upload's own prev_hash, so that one deleted upload is one broken link,
  // not a mismatch on every later row as well.
  const linkKey = gatewayKey && upload.id >= gatewayKey.keyedFromUploadId ? gatewayKey.key : null;
  const recomputed = uploadHash(upload.prevHash, upload, samplesDigest(stored), linkKey);
  if (!upload.hash.equals(recomputed)) {
    report({
      kind: 'hash-mismatch', chain, uploadId: upload.id,
      detail: `stored hash ${upload.hash.toString('hex').slice(0, 16)}… differs from the recomputed ${toHex(recomputed).slice(0, 16)}…: ` +
        `the upload row or the ${stored.length} sample(s) stored under it were changed, added or removed outside Inlet`,
    });
  }
  const checkpoint = checkpoints.get(chain);
  if (checkpoint?.uploadId === upload.id && !checkpoint.hash.equals(upload.hash)) {
    report({
      kind: 'checkpoint-lost', chain, uploadId: upload.id,
      detail: `upload #${upload.id} had hash ${checkpoint.hash.toString('hex').slice(0, 16)}… when verified on ${new Date(checkpoint.at).toISOString()}; now it has ${upload.hash.toString('hex').slice(0, 16)}…: the chain was rewritten`,
    });
  }
  heads.set(chain, { uploadId: upload.id, hash: upload.hash });
}

function reportOrphans(uploadId: number, orphans: UploadSample[], report: (p: IntegrityProblem) => void): void {
  const first = orphans[0];
  report({
    kind: 'orphan-samples', chain: first.deviceId, uploadId,
    detail: `${orphans.length} sample(s) (device ${first.deviceId}, channel ${first.channel}, time ${new Date(first.time).toISOString()}${orphans.length > 1 ? ', …' : ''}) name upload #${uploadId}, which does not exist: inserted outside Inlet, or left from a deleted upload`,
  });
}

function groupByUpload(samples: UploadSample[]): Map<number, UploadSample[]> {
  const byUpload = new Map<number, UploadSample[]>();
  for (const s of samples) {
    const list = byUpload.get(s.uploadId);
    if (list) list.push(s); else byUpload.set(s.uploadId, [s]);
  }
  return byUpload;
}

/**
 * `total` is the count when the walk began; uploads arriving while it runs (the gateway keeps
 * ingesting) are checked too, so the total grows with them rather than reading "237/235".
 */
export function progress(checked: number, totalAtStart: number, startedAt: number, at: number): VerifyProgress {
  const seconds = Math.max(at - startedAt, 1) / 1000;
  const total = Math.max(totalAtStart, checked);
  return { checked, total, percent: total ? (100 * checked) / total : 100, rowsPerSecond: Math.round(checked / seconds) };
}

/**
 * What a verification leaves behind: an intact store gets new checkpoints (each chain's head), an
 * info event, and any uncleared integrity alarm cleared (the damage was repaired, e.g. restored from
 * a backup). A broken one gets an 'integrity.broken' event naming the first problems and a system
 * alarm of kind 'integrity' (no device) whose value is the number of problems, unless an uncleared
 * one already counts at least as many: the same broken state is not raised again every night, more
 * damage is. The alarm stays uncleared while the damage is there; acknowledging it stops the mails.
 * No checkpoints are written over a broken chain, so the damage stays visible to every later run.
 */
export async function recordVerification(
  store: Pick<Store, 'addChainCheckpoints' | 'addEvent' | 'alarms' | 'raiseAlarm' | 'clearAlarm'>, report: IntegrityReport,
): Promise<{ raised: StoredAlarm | null; cleared: number }> {
  const open = await store.alarms({ kind: 'integrity', uncleared: true, limit: 1000 });
  if (report.ok) {
    if (report.heads.length) await store.addChainCheckpoints(report.heads);
    await store.addEvent({
      at: report.finishedAt, deviceId: null, type: 'integrity.verified', level: 'info',
      message: `integrity verified: ${report.uploadsChecked} uploads and ${report.samplesChecked} samples in ${report.chains} chains are intact`,
      data: { uploadsChecked: report.uploadsChecked, samplesChecked: report.samplesChecked, chains: report.chains },
    });
    for (const alarm of open) await store.clearAlarm(alarm.id, report.finishedAt, 0);
    return { raised: null, cleared: open.length };
  }
  const message = `integrity verification found ${report.problemCount} problem(s): stored data was changed, inserted or deleted outside Inlet. First: ${describeProblem(report.problems[0])}`;
  await store.addEvent({
    at: report.finishedAt, deviceId: null, type: 'integrity.broken', level: 'alarm', message,
    data: { problemCount: report.problemCount, problems: report.problems.slice(0, 20) },
  });
  if (open.some((a) => (a.value ?? 0) >= report.problemCount)) return { raised: null, cleared: 0 };
  const raised = await store.raiseAlarm({
    deviceId: null, channel: null, source: 'system', kind: 'integrity', level: 'alarm', direction: null,
    raisedAt: report.finishedAt, value: report.problemCount, message: message.length > 1000 ? `${message.slice(0, 999)}…` : message,
  });
  return { raised, cleared: 0 };
}

export function describeProblem(p: IntegrityProblem): string {
  return `${p.kind} in chain ${p.chain} (${p.chain === 0 ? 'uploads of no known device' : `device ${p.chain}`}) at upload #${p.uploadId}: ${p.detail}`;
}
