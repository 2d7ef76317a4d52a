// What a commit decides, independent of the database: the duplicate verdict, the upload's link in
// its device's hash chain, the event payload, and how quarantined readings are imported. Both
// adapters call these so that the same batch produces the same verdict and the same hash.
import type { Batch, CommitResult, EventRow, SampleRow, VerdictKind } from '../domain/types.ts';
import { samplesDigest, uploadHash, type ChainLinkKey, type ChainRecord } from '../domain/chain.ts';
import type { QuarantineEntry, ReleaseResult, Store, StoredUpload } from './store.ts';

export const RESEND_REASON = 'every sample was already stored (resend)';

export interface SealedUpload {
  verdict: VerdictKind;
  reason: string;
  hash: Uint8Array;
}

/**
 * An accepted upload none of whose samples was new is a resend: it is stored as 'duplicate'.
 * The hash covers the upload as stored and only the samples it newly stored.
 */
export function sealUpload(upload: Batch['upload'], id: number, submitted: number, stored: SampleRow[], prevHash: Uint8Array, key: ChainLinkKey): SealedUpload {
  return sealUploadWithDigest(upload, id, submitted, stored.length, samplesDigest(stored), prevHash, key);
}

/** sealUpload for a writer that digests the stored samples itself (samplesDigestOfColumns, or its hex). */
export function sealUploadWithDigest(
  upload: ChainRecordFields, id: number, submitted: number, storedCount: number, digestOfStored: Uint8Array | string, prevHash: Uint8Array, key: ChainLinkKey,
): SealedUpload {
  const duplicate = upload.verdict === 'accepted' && submitted > 0 && storedCount === 0;
  const verdict = duplicate ? 'duplicate' : upload.verdict;
  const reason = duplicate ? RESEND_REASON : upload.reason;
  // The record spelt out rather than spread: the apply seals every upload, and a spread of the writer's
  // row (a dozen properties) cost more than the rest of this function.
  const record: ChainRecord = {
    id, deviceId: upload.deviceId, family: upload.family, receivedAt: upload.receivedAt, verdict, reason,
    serial: upload.serial, counter: upload.counter, raw: upload.raw, rawSha256: upload.rawSha256,
    remoteAddress: upload.remoteAddress, contentType: upload.contentType,
  };
  return { verdict, reason, hash: uploadHash(prevHash, record, digestOfStored, key) };
}

/** What the hash covers of an upload, whichever form the writer holds it in. */
export type ChainRecordFields = Omit<ChainRecord, 'id' | 'verdict'> & { verdict: VerdictKind };

export function commitResult(uploadId: number, verdict: VerdictKind, submitted: number, stored: number): CommitResult {
  return { uploadId, verdict, samplesStored: stored, samplesDuplicate: submitted - stored };
}

/** Events written with a batch carry the id of the upload that caused them. */
export function eventDataJson(event: EventRow, uploadId: number): string {
  return JSON.stringify({ ...event.data, uploadId });
}

/** The batch that imports one quarantined upload's readings as a new accepted upload. */
export function quarantineImportBatch(entry: QuarantineEntry, original: StoredUpload | undefined, at: number): Batch {
  const deviceId = entry.deviceId;
  return {
    upload: {
      deviceId, family: (original?.family ?? 'unknown') as Batch['upload']['family'], receivedAt: at,
      remoteAddress: 'quarantine', contentType: original?.contentType ?? '', raw: original?.raw ?? Buffer.alloc(0),
      verdict: 'accepted', reason: `imported from quarantined upload #${entry.uploadId}`,
      serial: original?.serial ?? null, counter: original?.counter ?? null,
    },
    samples: entry.readings.map((r) => ({
      deviceId, channel: r.channel, time: r.sampleTime ?? entry.receivedAt, value: r.value, errorCode: r.errorCode, alarm: r.alarm,
    })),
    channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
  };
}

/**
 * Releases a device's quarantined uploads, importing their readings first when asked. Only the
 * entries read here are marked released (by upload id, which grows in commit order), so readings
 * quarantined while the import runs stay quarantined instead of being marked imported unseen.
 */
export async function releaseQuarantined(
  store: Pick<Store, 'quarantined' | 'uploads' | 'commit'>, deviceId: number, importData: boolean, at: number,
  markReleased: (throughUploadId: number) => Promise<void>,
): Promise<ReleaseResult> {
  const entries = await store.quarantined(deviceId);
  if (!entries.length) return { uploads: 0, samplesImported: 0 };
  let samplesImported = 0;
  if (importData) {
    const originals = new Map((await store.uploads({ deviceId, verdict: 'quarantined', limit: 100_000 })).map((u) => [u.id, u]));
    const results = await Promise.all(entries.map((entry) => store.commit(quarantineImportBatch(entry, originals.get(entry.uploadId), at))));
    samplesImported = results.reduce((n, r) => n + r.samplesStored, 0);
  }
  await markReleased(entries[entries.length - 1].uploadId);
  return { uploads: entries.length, samplesImported };
}
