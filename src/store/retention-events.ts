// The event an advance of the retention horizon appends, composed once for both adapters.
import type { RetentionRequest } from './store.ts';

export function horizonAdvancedEvent(r: RetentionRequest) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    at: r.at, deviceId: null, type: 'retention.horizon.advanced' as const, level: 'warning' as const,
    message: `retention horizon advanced by ${r.setBy}: uploads and samples received before ${iso(r.dataBefore)} may be purged; ` +
      `${r.auditBefore === null ? 'events and alarms are kept' : `events and closed alarms before ${iso(r.auditBefore)} too`}. Reason: ${r.reason}`,
    data: { dataBefore: r.dataBefore, auditBefore: r.auditBefore, setBy: r.setBy, reason: r.reason },
  };
}
