// The journal's apply on SQL Server, in large sorted batches (sql/mssql/037_apply_journal_batches.sql,
// docs/sqlserver.md "How the journal is applied"). One transaction per batch, two procedure calls:
// 1. inlet.apply_upload_batch: the locks, replayed upload keys, the id range, the batch's samples
//    inserted in one statement sorted by key (the hourly rollup and the latest values are merged
//    by their triggers once per batch), and what sealing needs: samples already stored, chain heads,
//    channels as they are, the server's clock, the audit chain's head and the events waiting for a link;
// 2. inlet.write_upload_batch: every row the gateway computed from that, in one call.
// The upload chain (per device) and the audit chain are computed here, in memory, per batch: the
// hash of an upload covers the samples it newly stored, which only the first call can tell.
// buildApplyBatch and sealApplyBatch are pure, so that they are tested without a server.
import sql from 'mssql';
import type { Batch, Channel, CommitResult, VerdictKind } from '../../domain/types.ts';
import { GENESIS_HASH, chainKey } from '../../domain/chain.ts';
import { commitResult, eventDataJson, sealUpload } from '../commit-rules.ts';
import { channelRecord } from '../audit-records.ts';
import { unitVersionRecord } from '../zone-records.ts';
import { type EventToAppend, type UnlinkedEvent, eventLinkTable, linkEvents, linkedEventTable, toUnlinkedEvent } from './event-chain.ts';

type Row = Record<string, unknown>;

/** binary(32): mssql's Binary takes a length at run time, though its type declarations omit it. */
const BINARY_32 = (sql.Binary as unknown as (length: number) => sql.ISqlType)(32);

/** datetime2 spans years 1..9999; a time outside is clamped (as the store's utc() does). */
const FIRST_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
const LAST_MS = new Date('9999-12-31T23:59:59.999Z').getTime();
const utc = (ms: number) => new Date(Math.min(LAST_MS, Math.max(FIRST_MS, ms)));

/** One sample row of the batch, as sent: the first of its key in the batch. */
export interface ApplySample { batchIndex: number; sampleIndex: number; deviceId: number; channel: number; time: number; value: number | null; errorCode: number | null; alarm: string }

export interface ApplyBatch {
  /** Per batch: its upload key and whether it may be stored already (only those are looked up). */
  batches: { batchIndex: number; uploadKey: string | null; maybeStored: boolean }[];
  /** Samples sorted by (device, channel, time), one per key: the first batch that carries a key sends it. */
  samples: ApplySample[];
  /** Per batch, the positions of its samples a batch before it in this batch already carries. */
  repeatedInBatch: Set<number>[];
  devices: number[];
  withUnowned: boolean;
  /** The channels the batches name, for their current quantity and unit. */
  channels: { deviceId: number; channel: number }[];
}

/** Sorts and de-duplicates a batch's samples by key; pure. Ties (a key in two batches) keep the earlier batch's. */
export function buildApplyBatch(batches: readonly Batch[], maybeStored: readonly boolean[]): ApplyBatch {
  const all: ApplySample[] = [];
  batches.forEach((b, batchIndex) => b.samples.forEach((s, sampleIndex) => all.push({
    batchIndex, sampleIndex, deviceId: s.deviceId, channel: s.channel, time: s.time, value: s.value, errorCode: s.errorCode, alarm: s.alarm,
  })));
  all.sort((x, y) => (x.deviceId - y.deviceId) || (x.channel - y.channel) || (x.time - y.time) || (x.batchIndex - y.batchIndex) || (x.sampleIndex - y.sampleIndex));
  const samples: ApplySample[] = [];
  const repeatedInBatch = batches.map(() => new Set<number>());
  for (const s of all) {
    const p = samples[samples.length - 1];
    if (p && p.deviceId === s.deviceId && p.channel === s.channel && p.time === s.time) repeatedInBatch[s.batchIndex].add(s.sampleIndex);
    else samples.push(s);
  }
  const devices = new Set<number>();
  let withUnowned = false;
  const channels = new Map<string, { deviceId: number; channel: number }>();
  for (const b of batches) {
    if (b.upload.deviceId === null) withUnowned = true; else devices.add(b.upload.deviceId);
    for (const c of b.channels) channels.set(`${c.deviceId}|${c.channel}`, { deviceId: c.deviceId, channel: c.channel });
  }
  return {
    batches: batches.map((b, batchIndex) => ({ batchIndex, uploadKey: b.upload.uploadKey ?? null, maybeStored: maybeStored[batchIndex] ?? true })),
    samples, repeatedInBatch, devices: [...devices].sort((a, b) => a - b), withUnowned, channels: [...channels.values()],
  };
}

/** Splits batches into runs whose rows and bytes stay within the limits; a batch larger than either goes alone. Pure. */
export function splitByLimits<T>(items: readonly T[], limits: { rows: number; bytes: number; count?: number }, weigh: (item: T) => { rows: number; bytes: number }): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let rows = 0;
  let bytes = 0;
  for (const item of items) {
    const w = weigh(item);
    if (run.length && (rows + w.rows > limits.rows || bytes + w.bytes > limits.bytes || run.length >= (limits.count ?? Number.POSITIVE_INFINITY))) {
      runs.push(run);
      run = [];
      rows = 0;
      bytes = 0;
    }
    run.push(item);
    rows += w.rows;
    bytes += w.bytes;
  }
  if (run.length) runs.push(run);
  return runs;
}

/** What inlet.apply_upload_batch answered. */
export interface ApplyResponse {
  stored: Map<number, { id: number; verdict: VerdictKind; samplesStored: number }>;
  firstId: number | null;
  serverNow: number;
  /** Samples of written batches that were already stored, as "batchIndex|channel|time". */
  alreadyStored: Set<string>;
  heads: Map<number, Uint8Array>;
  channels: Map<string, { quantity: string; unit: string }>;
  eventHead: Uint8Array | null;
  waiting: UnlinkedEvent[];
}

export interface SealedApply {
  results: CommitResult[];
  uploads: { id: number; batchIndex: number; verdict: VerdictKind; reason: string; prevHash: Buffer; hash: Buffer }[];
  links: ReturnType<typeof linkEvents>['links'];
  events: ReturnType<typeof linkEvents>['appended'];
  channelChanges: (Channel & { validFrom: number })[];
  quarantine: { uploadId: number; deviceId: number; receivedAt: number; readings: string }[];
  suspensions: Map<number, { reason: string; at: number }>;
  seen: Map<number, { at: number; declaredIntervalS: number | null }>;
}

/**
 * Seals the batch from the first call's answer, as writing the batches one by one would: ids in
 * batch order; each upload linked to its device's previous one over the samples it newly stored;
 * channel records first, then each upload's events, all linked after the events that were waiting. Pure.
 */
export function sealApplyBatch(batches: readonly Batch[], built: ApplyBatch, response: ApplyResponse, key: Uint8Array | null): SealedApply {
  const results = new Array<CommitResult>(batches.length);
  const written: { batchIndex: number; id: number }[] = [];
  const firstWithKey = new Map<string, number>();
  const repeats = new Map<number, number>();
  let nextId = response.firstId ?? 0;
  batches.forEach((b, batchIndex) => {
    const k = b.upload.uploadKey;
    if (k !== undefined && firstWithKey.has(k)) { repeats.set(batchIndex, firstWithKey.get(k)!); return; }
    if (k !== undefined) firstWithKey.set(k, batchIndex);
    const earlier = response.stored.get(batchIndex);
    if (earlier) { results[batchIndex] = commitResult(earlier.id, earlier.verdict, b.samples.length, earlier.samplesStored); return; }
    written.push({ batchIndex, id: nextId++ });
  });
  const heads = new Map(response.heads);
  const channelsNow = new Map(response.channels);
  const channelChanges = new Map<string, Channel & { validFrom: number }>();
  const toAppend: EventToAppend[] = [];
  const appendOf = (e: Batch['events'][number], dataText: string | null, u: Batch['upload']): EventToAppend => ({
    at: e.at, recordedAt: response.serverNow, deviceId: e.deviceId, type: e.type, level: e.level, message: e.message, dataText,
    // As the SQLite writer does ({ actor: 'device', source, ...event }): a field the event states wins, even null.
    actor: e.actor !== undefined ? e.actor : 'device', source: e.source !== undefined ? e.source : u.remoteAddress,
  });
  // A channel's first appearance (or a quantity/unit the pipeline let through) is an audited change.
  for (const { batchIndex, id } of written) {
    const u = batches[batchIndex].upload;
    for (const c of batches[batchIndex].channels) {
      const k = `${c.deviceId}|${c.channel}`;
      const now = channelsNow.get(k);
      if (now && now.quantity === c.quantity && now.unit === c.unit) continue;
      channelsNow.set(k, { quantity: c.quantity, unit: c.unit });
      channelChanges.set(k, { ...c, validFrom: u.receivedAt });
      toAppend.push(appendOf({
        at: u.receivedAt, deviceId: c.deviceId, type: 'channel.recorded', level: 'info',
        message: `channel ${c.channel} recorded as ${c.quantity} in ${c.unit || '(no unit)'} from the device's upload`,
      // The version row write_upload_batch adds (valid from this upload) is recorded too, as on SQLite.
      }, JSON.stringify({ channel: c.channel, quantity: c.quantity, unit: c.unit, uploadId: id,
        records: [channelRecord(c), unitVersionRecord(c.deviceId, { ...c, validFrom: u.receivedAt })] }), u));
    }
  }
  const uploads: SealedApply['uploads'] = [];
  const quarantine: SealedApply['quarantine'] = [];
  const suspensions: SealedApply['suspensions'] = new Map();
  const seen: SealedApply['seen'] = new Map();
  for (const { batchIndex, id } of written) {
    const batch = batches[batchIndex];
    const u = batch.upload;
    const repeated = built.repeatedInBatch[batchIndex];
    const resent = response.alreadyStored.size > 0;
    const stored = batch.samples.filter((s, i) => !repeated.has(i) && !(resent && response.alreadyStored.has(`${batchIndex}|${s.channel}|${s.time}`)));
    const chain = chainKey(u.deviceId);
    const prev = Buffer.from(heads.get(chain) ?? GENESIS_HASH);
    const sealed = sealUpload(u, id, batch.samples.length, stored, prev, key);
    heads.set(chain, sealed.hash);
    uploads.push({ id, batchIndex, verdict: sealed.verdict, reason: sealed.reason, prevHash: prev, hash: Buffer.from(sealed.hash) });
    for (const e of batch.events) toAppend.push(appendOf(e, eventDataJson(e, id), u));
    if (batch.quarantine && u.deviceId !== null) quarantine.push({ uploadId: id, deviceId: u.deviceId, receivedAt: u.receivedAt, readings: JSON.stringify(batch.quarantine) });
    if (batch.suspend && !suspensions.has(batch.suspend.deviceId)) suspensions.set(batch.suspend.deviceId, { reason: batch.suspend.reason, at: batch.suspend.at });
    if (batch.deviceSeen) {
      // Several sightings of one device in a batch: the latest time, and the last interval stated.
      const s = batch.deviceSeen;
      const earlier = seen.get(s.deviceId);
      seen.set(s.deviceId, { at: Math.max(earlier?.at ?? s.at, s.at), declaredIntervalS: s.declaredIntervalS ?? earlier?.declaredIntervalS ?? null });
    }
    results[batchIndex] = commitResult(id, sealed.verdict, batch.samples.length, stored.length);
  }
  for (const [batchIndex, first] of repeats) {
    const r = results[first];
    results[batchIndex] = commitResult(r.uploadId, r.verdict, batches[batchIndex].samples.length, r.samplesStored);
  }
  const chained = linkEvents(response.eventHead, response.waiting, toAppend, key);
  return { results, uploads, links: chained.links, events: chained.appended, channelChanges: [...channelChanges.values()], quarantine, suspensions, seen };
}

/** The first call: locks, replays, ids, samples; returns what sealing needs. Exported for the wire test (test/e2e/mssql-apply-wire.test.ts). */
export async function applySamples(tx: sql.Transaction, built: ApplyBatch, lockTimeoutMs: number): Promise<ApplyResponse> {
  const batchRows = new sql.Table('inlet.apply_batch_rows');
  for (const [name, type, nullable] of [
    ['batch_index', sql.Int, false], ['upload_key', sql.VarChar(64), true], ['maybe_stored', sql.Bit, false],
  ] as const) batchRows.columns.add(name, type, { nullable });
  for (const b of built.batches) batchRows.rows.add(b.batchIndex, b.uploadKey, b.maybeStored);
  const sampleRows = new sql.Table('inlet.apply_sample_rows');
  for (const [name, type, nullable] of [
    ['batch_index', sql.Int, false], ['device_id', sql.Int, false], ['channel', sql.Int, false], ['sample_time', sql.DateTime2(3), false],
    ['value', sql.Float, true], ['error_code', sql.Int, true], ['alarm', sql.Char(2), false],
  ] as const) sampleRows.columns.add(name, type, { nullable });
  for (const s of built.samples) sampleRows.rows.add(s.batchIndex, s.deviceId, s.channel, utc(s.time), s.value, s.errorCode, s.alarm);
  const devices = new sql.Table('inlet.device_id_list');
  devices.columns.add('device_id', sql.Int, { nullable: false });
  for (const d of built.devices) devices.rows.add(d);
  const channels = new sql.Table('inlet.channel_key_rows');
  channels.columns.add('device_id', sql.Int, { nullable: false });
  channels.columns.add('channel', sql.Int, { nullable: false });
  for (const c of built.channels) channels.rows.add(c.deviceId, c.channel);
  const result = await tx.request().input('batches', batchRows).input('samples', sampleRows).input('devices', devices).input('channels', channels)
    .input('with_unowned', sql.Bit, built.withUnowned).input('lock_timeout_ms', sql.Int, lockTimeoutMs)
    .execute<Row>('inlet.apply_upload_batch');
  const [stored, [first], already, deviceHeads, unowned, channelRows, eventHead, waiting] = result.recordsets as unknown as Row[][];
  const heads = new Map<number, Uint8Array>(deviceHeads.map((r) => [Number(r.device_id), r.hash as Buffer]));
  if (unowned.length) heads.set(chainKey(null), unowned[0].hash as Buffer);
  return {
    stored: new Map(stored.map((r) => [Number(r.batch_index), { id: Number(r.id), verdict: r.verdict as VerdictKind, samplesStored: Number(r.samples_stored) }])),
    firstId: first.first_id === null ? null : Number(first.first_id),
    serverNow: (first.server_now as Date).getTime(),
    alreadyStored: new Set(already.map((r) => `${Number(r.batch_index)}|${Number(r.channel)}|${(r.sample_time as Date).getTime()}`)),
    heads,
    channels: new Map(channelRows.map((r) => [`${Number(r.device_id)}|${Number(r.channel)}`, { quantity: r.quantity as string, unit: r.unit as string }])),
    eventHead: eventHead.length ? Buffer.from(eventHead[0].hash as Uint8Array) : null,
    waiting: waiting.map(toUnlinkedEvent),
  };
}

/** The second call: every row sealing produced. Exported for the wire test. */
export async function writeSealed(tx: sql.Transaction, batches: readonly Batch[], sealed: SealedApply): Promise<void> {
  const uploads = new sql.Table('inlet.upload_rows');
  for (const [name, type, nullable] of [
    ['id', sql.BigInt, false], ['device_id', sql.Int, true], ['family', sql.VarChar(20), false], ['received_at', sql.DateTime2(3), false],
    ['remote_address', sql.NVarChar(128), false], ['content_type', sql.NVarChar(sql.MAX), false], ['raw', sql.VarBinary(sql.MAX), false],
    ['verdict', sql.VarChar(12), false], ['reason', sql.NVarChar(sql.MAX), false], ['serial', sql.NVarChar(sql.MAX), true],
    ['counter', sql.BigInt, true], ['prev_hash', BINARY_32, false], ['hash', BINARY_32, false], ['upload_key', sql.VarChar(64), true],
  ] as const) uploads.columns.add(name, type, { nullable });
  for (const s of sealed.uploads) {
    const u = batches[s.batchIndex].upload;
    uploads.rows.add(s.id, u.deviceId, u.family, utc(u.receivedAt), u.remoteAddress, u.contentType, Buffer.from(u.raw), s.verdict, s.reason,
      u.serial, u.counter, s.prevHash, s.hash, u.uploadKey ?? null);
  }
  const seen = new sql.Table('inlet.device_seen_rows');
  for (const [name, type, nullable] of [
    ['device_id', sql.Int, false], ['seen_at', sql.DateTime2(3), false], ['declared_interval_s', sql.Int, true],
  ] as const) seen.columns.add(name, type, { nullable });
  for (const [deviceId, s] of sealed.seen) seen.rows.add(deviceId, utc(s.at), s.declaredIntervalS);
  const channels = new sql.Table('inlet.channel_change_rows');
  for (const [name, type, nullable] of [
    ['device_id', sql.Int, false], ['channel', sql.Int, false], ['quantity', sql.NVarChar(200), false], ['unit', sql.NVarChar(50), false],
    ['valid_from', sql.DateTime2(3), false],
  ] as const) channels.columns.add(name, type, { nullable });
  for (const c of sealed.channelChanges) channels.rows.add(c.deviceId, c.channel, c.quantity, c.unit, utc(c.validFrom));
  const quarantine = new sql.Table('inlet.quarantine_rows');
  for (const [name, type, nullable] of [
    ['upload_id', sql.BigInt, false], ['device_id', sql.Int, false], ['received_at', sql.DateTime2(3), false], ['readings', sql.NVarChar(sql.MAX), false],
  ] as const) quarantine.columns.add(name, type, { nullable });
  for (const q of sealed.quarantine) quarantine.rows.add(q.uploadId, q.deviceId, utc(q.receivedAt), q.readings);
  const suspensions = new sql.Table('inlet.suspension_rows');
  for (const [name, type, nullable] of [
    ['device_id', sql.Int, false], ['reason', sql.NVarChar(1000), false], ['suspended_at', sql.DateTime2(3), false],
  ] as const) suspensions.columns.add(name, type, { nullable });
  for (const [deviceId, s] of sealed.suspensions) suspensions.rows.add(deviceId, s.reason, utc(s.at));
  await tx.request().input('uploads', uploads).input('events', linkedEventTable(sealed.events)).input('links', eventLinkTable(sealed.links))
    .input('seen', seen).input('channels', channels).input('quarantine', quarantine).input('suspensions', suspensions)
    .execute('inlet.write_upload_batch');
}

/** Applies a batch inside the caller's transaction; results in the order of the batches. */
export async function applyUploadBatch(tx: sql.Transaction, batches: readonly Batch[], maybeStored: readonly boolean[],
  key: Uint8Array | null, lockTimeoutMs: number): Promise<CommitResult[]> {
  const built = buildApplyBatch(batches, maybeStored);
  const response = await applySamples(tx, built, lockTimeoutMs);
  const sealed = sealApplyBatch(batches, built, response, key);
  if (sealed.uploads.length || sealed.links.length || sealed.events.length) await writeSealed(tx, batches, sealed);
  return sealed.results;
}
