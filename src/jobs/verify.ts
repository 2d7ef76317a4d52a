// Integrity verification: walks every upload chain in id order and recomputes each upload's
// hash from its stored row and the samples stored under its id (src/domain/chain.ts). Anything
// changed, inserted or deleted outside Inlet shows as one of the problems below. After a retention
// purge each chain starts at its anchor (the last upload below the horizon, recorded before the
// purge): the first upload kept must link to the anchor's hash, and uploads still waiting below it
// are not checked. Read-only except for the checkpoints, events and integrity alarm it records
// afterwards (recordVerification).
import { GENESIS_HASH, chainKey, samplesDigest, toHex, uploadHash } from '../domain/chain.ts';
import { canonicalState, eventHash } from '../domain/audit-chain.ts';
import { UnlinkedEventWatch, everyEventLinkedAfter, type UnlinkedEventSeen } from '../store/event-links.ts';
import type { ChainCheckpoint, ChainedEvent, Store, StoredAlarm, StoredUpload, UploadSample } from '../store/store.ts';
import type { ChainKey } from '../store/chain-key.ts';
import { currentRecords } from '../store/audit-records.ts';
import { readHeadsFile, writeHeadsFile, type ExportedHeads } from '../store/heads-file.ts';
import { withPurgedBodies } from './purged-bodies.ts';

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
  | 'anchor-beyond-horizon'
  /** An event's recomputed link differs: its text, data, actor, time or level was changed outside Inlet. */
  | 'event-hash-mismatch'
  /** An event does not link to the one before it: events were deleted or inserted outside Inlet. */
  | 'event-broken-link'
  /** An event without a link after the audit chain began: inserted outside Inlet. */
  | 'event-unchained'
  /** A user, alarm, alarm limit or channel row differs from the state its last event recorded: changed outside Inlet. */
  | 'record-changed'
  /** A user, alarm or channel row that no event ever recorded: inserted outside Inlet (a backdoor account). */
  | 'record-unrecorded'
  /** A row an event recorded is gone: deleted outside Inlet. */
  | 'record-missing'
  /** An hour of the rollup (what charts and reports over long ranges read) differs from its samples. */
  | 'rollup-mismatch'
  /** A device that was heard from has no upload chain at all: its uploads were deleted with their samples. */
  | 'chain-missing'
  /** A head in the signed heads file (outside the database) is gone or changed: the newest rows were cut off or rewritten. */
  | 'heads-file-lost'
  /** The heads file's signature is wrong: the file was edited. */
  | 'heads-file-forged'
  /** The latest verification progress row (migration 033) does not carry its mac under the chain key: written outside Inlet to skip a range. */
  | 'progress-forged';

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
  eventsChecked?: number;
  recordsChecked?: number;
  /** How much of the rollup was recomputed: 'all', 'share p/n' (a nightly rolling share), or 'skipped'. */
  rollupChecked?: string;
  /** The audit chain's last event as this run saw it. */
  eventsHead?: { id: number; hash: Buffer } | null;
  /** The store kind: on SQL Server an event may wait unlinked until the gateway's next write (docs/sqlserver.md). */
  storeKind?: string;
}

export interface VerifyOptions {
  /** The gateway's chain key: uploads from its keyedFromUploadId on must be linked under it. */
  chainKey?: Pick<ChainKey, 'key' | 'keyedFromUploadId'> & Partial<Pick<ChainKey, 'allColumnsFromUploadId'>> | null;
  /** Uploads read per round trip. */
  pageSize?: number;
  onProgress?: (progress: VerifyProgress) => void;
  now?: () => number;
  /** Recompute the rollup for all devices (default), a rolling share, or not at all. */
  rollup?: 'all' | { part: number; of: number } | 'skip';
  /** The signed heads file to compare with (heads-file.ts); needs chainKey. */
  headsFile?: string;
  /**
   * Incremental verification (verify-incremental.ts): walk only the uploads above this id, each
   * chain linking on from its upload in `seedHeads` (the last one at or below it, checked against
   * the chain's checkpoint by the caller).
   */
  afterUploadId?: number;
  seedHeads?: { chain: number; uploadId: number; hash: Buffer }[];
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
  for (const seed of options.seedHeads ?? []) {
    if (seed.uploadId > (anchoredAt.get(seed.chain) ?? 0)) heads.set(seed.chain, { uploadId: seed.uploadId, hash: seed.hash });
  }
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
  const seenUploads = new Map<number, { chain: number; hash: Buffer }>();
  for (const seed of options.seedHeads ?? []) seenUploads.set(seed.uploadId, { chain: seed.chain, hash: seed.hash });
  let uploadsBelowHorizon = 0;
  let uploadsChecked = 0;
  let samplesChecked = 0;
  let lastId = options.afterUploadId ?? 0;

  for (;;) {
    const page = await withPurgedBodies(store, await store.uploads({ afterId: lastId, limit: pageSize }));
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
      seenUploads.set(upload.id, { chain: chainKey(upload.deviceId), hash: upload.hash });
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
  const audit = await verifyAuditTrail(store, options, horizon, report);
  const rollupChecked = await verifyRollup(store, options.rollup ?? 'all', report);
  for (const deviceId of await store.devicesWithoutChain()) {
    report({ kind: 'chain-missing', chain: deviceId, uploadId: 0, detail: `device ${deviceId} was heard from but has no upload and no chain anchor: its uploads were deleted outside Inlet` });
  }
  if (options.headsFile && options.chainKey) checkHeadsFile(options.headsFile, options.chainKey.key, seenUploads, anchoredAt, audit.seenEvents, report);
  return {
    ok: problemCount === 0, startedAt, finishedAt: now(), uploadsChecked: uploadsChecked - uploadsBelowHorizon, samplesChecked, uploadsBelowHorizon, chains: heads.size,
    problems, problemCount,
    heads: [...heads].map(([chain, h]) => ({ at: startedAt, chain, uploadId: h.uploadId, hash: h.hash })),
    eventsChecked: audit.eventsChecked, recordsChecked: audit.recordsChecked, rollupChecked, eventsHead: audit.head, storeKind: store.kind,
  };
}

/**
 * Walks the audit chain (every event, in id order) and compares the audited rows with the last state
 * the events recorded for them. Events from before the audit chain (no hash) are not checked, but
 * their recorded states count; an unlinked event after the first linked one was inserted by hand.
 */
async function verifyAuditTrail(
  store: Store, options: VerifyOptions, horizon: Awaited<ReturnType<Store['retentionHorizon']>>, report: (p: IntegrityProblem) => void,
): Promise<{ eventsChecked: number; recordsChecked: number; head: { id: number; hash: Buffer } | null; seenEvents: Map<number, Buffer> }> {
  const key = options.chainKey?.key ?? null;
  const expected = new Map<string, { state: unknown; eventId: number }>();
  const seenEvents = new Map<number, Buffer>();
  let head: { id: number; hash: Buffer } | null = null;
  let eventsChecked = 0;
  let keyedSeen = false;
  let afterId = 0;
  // On SQLite every writer links its events, the refusal archive and sign-in records included, from
  // the marker event on (src/store/event-links.ts): an unlinked event after it was inserted by hand.
  // On SQL Server the gateway links the database's events afterwards, at its next write (migration 038),
  // so an event after the chain's last link may still be waiting for it: reported only when a linked
  // event follows it, which the linking never leaves behind (docs/sqlserver.md).
  const linkedAfter = await everyEventLinkedAfter(store);
  const unlinkedWatch = new UnlinkedEventWatch(linkedAfter, store.kind !== 'sqlite');
  const reportUnchained = (events: UnlinkedEventSeen[]) => {
    for (const u of events) {
      report({ kind: 'event-unchained', chain: -1, uploadId: u.id, detail: `event #${u.id} (${u.type}: "${u.message.slice(0, 80)}") has no link although every event after #${linkedAfter} is linked: inserted outside Inlet` });
    }
  };
  for (;;) {
    const page = await store.chainedEvents(afterId, options.pageSize ?? 1000);
    if (!page.length) break;
    for (const e of page) {
      afterId = e.id;
      // Every event that records a row's state is linked when it is written (on SQL Server the gateway
      // links what procedures wrote in the same transaction), so an unlinked event after the chain
      // began is no evidence of a row's state: else one inserted by hand could vouch for a backdoor account.
      const vouches = (e.hash && e.prevHash) || !head;
      if (vouches) for (const r of recordsOf(e)) expected.set(r.key, { state: r.state, eventId: e.id });
      if (!e.hash || !e.prevHash) {
        reportUnchained(unlinkedWatch.unlinked(e));
        continue;
      }
      reportUnchained(unlinkedWatch.linked());
      eventsChecked++;
      const expectedPrev = head?.hash ?? GENESIS_HASH;
      // A purge below the audit horizon removes the oldest events: the first event kept, and events
      // recorded before the horizon was set, may follow a removed one.
      const purgeExplains = horizon?.auditBefore != null && (head === null || (e.recordedAt ?? e.at) < horizon.at);
      if (!e.prevHash.equals(expectedPrev) && !purgeExplains) {
        report({
          kind: 'event-broken-link', chain: -1, uploadId: e.id,
          detail: `event #${e.id} does not link to ${head ? `event #${head.id}` : 'the start of the audit chain'}: events between them were deleted or inserted outside Inlet`,
        });
      }
      const fields = { ...e, recordedAt: e.recordedAt ?? 0 };
      let recomputed = eventHash(e.prevHash, fields, key);
      // Events written by a process that had no chain key yet (before the gateway first made one) are
      // unkeyed; once an event is keyed every later one must be, so an unkeyed rewrite of recent events is still found.
      if (key && !keyedSeen && !recomputed.equals(e.hash)) {
        const unkeyed = eventHash(e.prevHash, fields, null);
        if (unkeyed.equals(e.hash)) recomputed = unkeyed;
      } else if (key && recomputed.equals(e.hash)) {
        keyedSeen = true;
      }
      if (!recomputed.equals(e.hash)) {
        report({
          kind: 'event-hash-mismatch', chain: -1, uploadId: e.id,
          detail: `event #${e.id} (${e.type}) was changed outside Inlet: its stored link ${e.hash.toString('hex').slice(0, 16)}… differs from the recomputed ${recomputed.toString('hex').slice(0, 16)}…`,
        });
      }
      head = { id: e.id, hash: e.hash };
      seenEvents.set(e.id, e.hash);
    }
  }
  let recordsChecked = 0;
  const found = new Set<string>();
  for (const r of await currentRecords(store)) {
    recordsChecked++;
    found.add(r.key);
    const recorded = expected.get(r.key);
    if (!recorded) {
      // An alarm purged with its events below the audit horizon is fine; a row nobody recorded is not.
      report({ kind: 'record-unrecorded', chain: -1, uploadId: 0, detail: `${describeKey(r.key)} exists (${canonicalState(r.state).slice(0, 160)}) but no event ever recorded it: inserted outside Inlet` });
    } else if (canonicalState(recorded.state) !== canonicalState(r.state)) {
      report({
        kind: 'record-changed', chain: -1, uploadId: 0,
        detail: `${describeKey(r.key)} is ${canonicalState(r.state).slice(0, 200)} but event #${recorded.eventId} recorded ${canonicalState(recorded.state).slice(0, 200)}: changed outside Inlet`,
      });
    }
  }
  for (const [k, recorded] of expected) {
    if (found.has(k) || recorded.state === null) continue;
    if (k.startsWith('alarm:') && horizon?.auditBefore != null && isClosedBefore(recorded.state, horizon.auditBefore)) continue;
    report({ kind: 'record-missing', chain: -1, uploadId: 0, detail: `${describeKey(k)}, recorded by event #${recorded.eventId}, no longer exists: deleted outside Inlet` });
  }
  return { eventsChecked, recordsChecked, head, seenEvents };
}

function recordsOf(e: ChainedEvent): { key: string; state: unknown }[] {
  const records = (e.data as { records?: unknown } | null)?.records;
  return Array.isArray(records) ? records.filter((r): r is { key: string; state: unknown } => typeof r?.key === 'string') : [];
}

function isClosedBefore(state: unknown, before: number): boolean {
  const a = state as { raisedAt?: number; acknowledgedAt?: number | null; clearedAt?: number | null };
  return a.acknowledgedAt != null && a.clearedAt != null && Math.max(a.raisedAt ?? 0, a.acknowledgedAt, a.clearedAt) < before;
}

function describeKey(key: string): string {
  const [kind, a, b] = key.split(':');
  switch (kind) {
    case 'user': return `user #${a}`;
    case 'alarm': return `alarm #${a}`;
    case 'limits': return `the alarm limits of device ${a} channel ${b}`;
    case 'channel': return `channel ${b} of device ${a} (quantity and unit)`;
    case 'zone': return `zone #${a}`;
    case 'zones-of-user': return `the zone roles of user #${a}`;
    case 'device': return `device #${a} (name and zone)`;
    case 'unit-version': return `the unit version of device ${a} channel ${b} from ${new Date(Number(key.split(':')[3])).toISOString()}`;
    default: return key;
  }
}

const MAX_ROLLUP_MISMATCHES = 100;

async function verifyRollup(store: Store, rollup: NonNullable<VerifyOptions['rollup']>, report: (p: IntegrityProblem) => void): Promise<string> {
  if (rollup === 'skip') return 'skipped';
  const share = rollup === 'all' ? null : rollup;
  for (const m of await store.rollupMismatches(share, MAX_ROLLUP_MISMATCHES)) {
    report({
      kind: 'rollup-mismatch', chain: m.deviceId, uploadId: 0,
      detail: `the hourly rollup of device ${m.deviceId} channel ${m.channel} at ${new Date(m.hourStart).toISOString()} holds ${m.stored}, but its samples give ${m.recomputed}: ` +
        'charts and reports over long ranges read the rollup, which was changed outside Inlet',
    });
  }
  return share ? `share ${share.part + 1}/${share.of}` : 'all';
}

function checkHeadsFile(
  file: string, key: Uint8Array, seenUploads: Map<number, { chain: number; hash: Buffer }>, anchoredAt: Map<number, number>,
  seenEvents: Map<number, Buffer>, report: (p: IntegrityProblem) => void,
): void {
  let exported: ExportedHeads | null;
  try {
    exported = readHeadsFile(file, key);
  } catch (err) {
    report({ kind: 'heads-file-forged', chain: -1, uploadId: 0, detail: (err as Error).message });
    return;
  }
  if (!exported) return;
  const when = new Date(exported.writtenAt).toISOString();
  for (const h of exported.uploads) {
    if (h.uploadId <= (anchoredAt.get(h.chain) ?? 0)) continue; // purged below a retention horizon since
    const seen = seenUploads.get(h.uploadId);
    if (!seen || seen.chain !== h.chain || seen.hash.toString('hex') !== h.hash) {
      report({
        kind: 'heads-file-lost', chain: h.chain, uploadId: h.uploadId,
        detail: `upload #${h.uploadId}, the last of this chain when verified on ${when} (recorded in ${file}), ${seen ? 'has a different hash now: the chain was rewritten' : 'no longer exists: uploads were cut off the end of the chain, checkpoints included'}`,
      });
    }
  }
  if (exported.events) {
    const seen = seenEvents.get(exported.events.id);
    if (!seen || seen.toString('hex') !== exported.events.hash) {
      report({
        kind: 'heads-file-lost', chain: -1, uploadId: exported.events.id,
        detail: `event #${exported.events.id}, the last of the audit chain when verified on ${when}, ${seen ? 'has a different hash now: events were rewritten' : 'no longer exists: the newest events were deleted'}`,
      });
    }
  }
}

/** Writes the heads of an intact store to the heads file, for the next verification to compare with. */
export function exportHeads(file: string, key: Uint8Array, report: IntegrityReport): void {
  writeHeadsFile(file, key, {
    writtenAt: report.finishedAt,
    uploads: report.heads.map((h) => ({ chain: h.chain, uploadId: h.uploadId, hash: h.hash.toString('hex') })),
    events: report.eventsHead ? { id: report.eventsHead.id, hash: report.eventsHead.hash.toString('hex') } : null,
  });
}

export function checkUpload(
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
  const allColumns = linkKey !== null && upload.id >= (gatewayKey?.allColumnsFromUploadId ?? Number.POSITIVE_INFINITY);
  const recomputed = uploadHash(upload.prevHash, upload, samplesDigest(stored), linkKey, allColumns);
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

export function reportOrphans(uploadId: number, orphans: UploadSample[], report: (p: IntegrityProblem) => void): void {
  const first = orphans[0];
  report({
    kind: 'orphan-samples', chain: first.deviceId, uploadId,
    detail: `${orphans.length} sample(s) (device ${first.deviceId}, channel ${first.channel}, time ${new Date(first.time).toISOString()}${orphans.length > 1 ? ', …' : ''}) name upload #${uploadId}, which does not exist: inserted outside Inlet, or left from a deleted upload`,
  });
}

export function groupByUpload(samples: UploadSample[]): Map<number, UploadSample[]> {
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
  if (p.chain === -1) return `${p.kind}: ${p.detail}`;
  if (p.uploadId === 0) return `${p.kind} (device ${p.chain}): ${p.detail}`;
  return `${p.kind} in chain ${p.chain} (${p.chain === 0 ? 'uploads of no known device' : `device ${p.chain}`}) at upload #${p.uploadId}: ${p.detail}`;
}
