// WiFi sensor Wx7xx numbering (JsonType 2). Source: ATAL AWP-C manual, chapter "Cloud protocol - JSON"
// (OEM of the COMET WiFi line), spec §4.2-4.3. MsgType numbering differs from TAx6xx!
import type { MessageTypeEntry } from '../common/comet-json-object.ts';

export const WIFI_MESSAGE_TYPES: Record<number, MessageTypeEntry> = {
  0: { name: 'first after restart', kind: 'restart' },
  // A configuration change also wipes the device cache and may change the interval: same rules as restart.
  1: { name: 'first after configuration change', kind: 'restart' },
  2: { name: 'synchronous', kind: 'periodic' },
  3: { name: 'asynchronous', kind: 'async' },
  4: { name: 'test', kind: 'test' },
};

/** `MsgCache` reason codes (0 = sent directly). */
export const WIFI_CACHE_REASONS: Record<number, string> = {
  1: 'NO_WLAN',
  2: 'DNS_ERR',
  3: 'SOCK_ERR',
  4: 'CONNECTION_ERR',
  5: 'TRANSFER_ERR',
  6: 'RESULT_NO', // our reading: the server answered Result:false
  7: 'RESULT_CONFIRM', // our reading: the answer could not be read as a confirmation
};

/**
 * `Kind` -> model. The OEM names are verified; the COMET model in brackets is our inference from
 * COMET model numbering (spec §4.3) and is for display only.
 */
export const WIFI_MODELS: Record<number, string> = {
  1: 'AWP-T (W0710?)',
  2: 'AWP-T4P (W0741?)',
  3: 'AWP-TR (W3710?)',
  4: 'AWP-TR1D (W3711?)',
  5: 'AWP-TR2D (W3721?)',
  6: 'AWP-TR1D-T3P (W3745?)',
  7: 'AWP-TRP (W4710?)',
  8: 'AWP-TRCP (W5714?)',
  9: 'AWP-C (CO2 model)',
  11: 'AWP-T1P (W0711?)',
};
