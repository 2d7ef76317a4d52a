// TAx6xx/PAx6xx Web Sensor numbering (JsonType 5). Source: COMET SDK Cloud/json-description.txt v1.0
// (2026-03-11), spec §3.2-3.3. MsgType numbering differs from WiFi!
import type { MessageTypeEntry } from '../common/comet-json-object.ts';

export const WEBSENSOR_MESSAGE_TYPES: Record<number, MessageTypeEntry> = {
  0: { name: 'first after restart', kind: 'restart' },
  1: { name: 'synchronous', kind: 'periodic' },
  2: { name: 'asynchronous', kind: 'async' },
  4: { name: 'test', kind: 'test' },
  5: { name: 'test started from the web UI', kind: 'test' },
};

/** `MsgCache` reason codes (0 = sent directly; 8 is not defined by the SDK). */
export const WEBSENSOR_CACHE_REASONS: Record<number, string> = {
  1: 'NO_NET',
  2: 'DNS_ERR',
  3: 'SOCK_ERR',
  4: 'SSL_ERR',
  5: 'BIND_ERR',
  6: 'CONNECTION_ERR',
  7: 'TLS_ERR',
  9: 'TRANSFER_ERR',
  10: 'WRONG_HTTP_CODE',
};

export const WEBSENSOR_MODELS: Record<number, string> = {
  1: 'TA3610',
  2: 'TA3611',
  3: 'TA7610',
  4: 'TA4611',
  5: 'TA0610',
  7: 'TA7611',
  8: 'TA5640',
  9: 'TA4621',
  10: 'TA3621',
  11: 'TA3645',
  12: 'TA7640',
  128: 'PA8652',
  129: 'PA8611',
  130: 'PA8641',
  131: 'PA8610',
};
