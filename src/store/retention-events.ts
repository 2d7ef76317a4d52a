// The event an advance of the retention horizon appends, composed once for both adapters, and when
// an advance would record nothing new.
import type { RetentionHorizon, RetentionRequest } from './store.ts';

/**
 * True when the latest horizon already covers the request: it is not behind it in any respect (a
 * backward request goes on to be refused by the store), lets no more uploads be purged
 * (`below`: the first upload the request would keep) and no more audit rows (`auditRowsAdded`:
 * events and closed alarms between the two audit horizons). Two processes that plan the same run
 * at once then record one horizon, not two.
 */
export function recordsNothingNew(latest: RetentionHorizon, request: RetentionRequest, below: number, auditRowsAdded: number): boolean {
  const notBehind = request.dataBefore >= latest.dataBefore
    && (latest.auditBefore === null || (request.auditBefore !== null && request.auditBefore >= latest.auditBefore));
  return notBehind && below <= latest.belowUploadId && auditRowsAdded === 0;
}

export function horizonAdvancedEvent(r: RetentionRequest) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    at: r.at, deviceId: null, type: 'retention.horizon.advanced' as const, level: 'warning' as const, actor: r.setBy, source: r.source ?? null,
    message: `retention horizon advanced by ${r.setBy}: uploads and samples received before ${iso(r.dataBefore)} may be purged; ` +
      `${r.auditBefore === null ? 'events and alarms are kept' : `events and closed alarms before ${iso(r.auditBefore)} too`}. Reason: ${r.reason}` +
      (r.signature ? `; electronic signature: ${r.signature.by} (${r.signature.meaning}) at ${iso(r.signature.at)}` : '') +
      (r.policy ? `; under the retention policy of event #${r.policy.eventId}, signed by ${r.policy.signature.by} (${r.policy.signature.meaning}) at ${iso(r.policy.signature.at)}` : ''),
    data: {
      dataBefore: r.dataBefore, auditBefore: r.auditBefore, setBy: r.setBy, reason: r.reason, ...(r.signature ? { signature: r.signature } : {}),
      ...(r.policy ? { policyEventId: r.policy.eventId, policySignature: r.policy.signature } : {}),
    },
  };
}

/** The event each chunk of the raw-body retention appends (migration 031), in the purge's transaction. */
export function bodiesPurgedEvent(r: { at: number; before: number; setBy: string; reason: string }, chunk: { bodies: number; bytes: number; firstUploadId: number | null; lastUploadId: number | null }) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    at: r.at, deviceId: null, type: 'retention.bodies.purged' as const, level: 'info' as const, actor: r.setBy, source: null,
    message: `raw bodies purged by ${r.setBy}: ${chunk.bodies} bodies (${chunk.bytes} bytes) of uploads #${chunk.firstUploadId}-#${chunk.lastUploadId}, ` +
      `received before ${iso(r.before)}; their SHA-256 is kept, so the chains still verify. Reason: ${r.reason}`,
    data: { before: r.before, bodies: chunk.bodies, bytes: chunk.bytes, firstUploadId: chunk.firstUploadId, lastUploadId: chunk.lastUploadId, setBy: r.setBy, reason: r.reason },
  };
}
