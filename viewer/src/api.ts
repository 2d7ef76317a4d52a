// Calls to the gateway's /api. State-changing calls carry the header the server's CSRF check
// wants; a 401 anywhere sends the user back to sign-in.
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export type Role = 'administrator' | 'operator' | 'viewer';
/** role: the highest held anywhere; globalRole: null when the user holds roles on zones only; display: a wall display's read-only session;
 * mustChangePassword: an administrator set the password, so the server refuses (403) everything but the password change. */
export interface Me { username: string; role: Role; idleMinutes: number; globalRole: Role | null; zoneRoles: { zoneId: number; role: Role }[]; display?: boolean; mustChangePassword?: boolean }

export interface ChannelValue { channel: number; quantity: string; unit: string; time: number | null; value: number | null; errorCode: number | null; alarm: 'no' | 'hi' | 'lo' }
export interface DeviceView {
  id: number; name: string; location: string; zoneId: number | null; serial: string; model: string; family: string; state: 'active' | 'suspended';
  suspendedReason: string | null; lastSeenAt: number | null; allowedIntervalS: number | null; declaredIntervalS: number | null;
  status: 'ok' | 'offline' | 'never-seen' | 'suspended' | 'retired'; retiredAt: number | null; intervalS: number; alarm: boolean; error: boolean; channels: ChannelValue[];
  /** The device's worst open alarm, with how many it has open. */
  openAlarm: { id: number; level: 'warning' | 'alarm'; message: string; acknowledged: boolean; cleared: boolean; count: number; unacknowledged: number } | null;
}
export interface OpenAlarmCount { total: number; unacknowledged: number; worstLevel: 'warning' | 'alarm' | null }
export interface DeviceTree { now: number; openAlarms: OpenAlarmCount; locations: { name: string; devices: DeviceView[] }[] }
export interface AlarmLimit { deviceId: number; channel: number; level: 'warning' | 'alarm'; high: number | null; low: number | null; delayS: number; hysteresis: number; updatedAt?: number }
export interface Series {
  deviceId: number; deviceName: string; location: string; channel: number; quantity: string; unit: string;
  bucketMs: number; time: number[]; avg: (number | null)[]; min?: (number | null)[]; max?: (number | null)[];
  /** The channel's unit changed inside the range: this series holds only the samples of `unit`, valid from/until these times. */
  unitFrom?: number | null; unitUntil?: number | null;
  /** completeness: samples received / expected from the device's interval over the range (null: nothing expected). */
  summary?: { min: number | null; max: number | null; avg: number | null; count: number; errors: number; completeness: number | null };
}
export interface StoredAlarm {
  id: number; deviceId: number | null; channel: number | null; source: 'limit' | 'system'; kind: 'offline' | 'integrity' | 'device' | 'sensor' | null; level: 'warning' | 'alarm';
  direction: 'high' | 'low' | null; raisedAt: number; value: number | null; message: string;
  acknowledgedAt: number | null; acknowledgedBy: string | null; ackComment: string | null; ackMeaning?: string | null; clearedAt: number | null; clearedValue: number | null;
}
export interface StoredEvent { id: number; at: number; deviceId: number | null; type: string; level: 'info' | 'warning' | 'alarm'; message: string }

let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void): void { onSignedOut = handler; }
let onPasswordChangeRequired: () => void = () => {};
/** The server answers 403 { mustChangePassword: true } to every other call until the user picks their own password. */
export function whenPasswordChangeRequired(handler: () => void): void { onPasswordChangeRequired = handler; }

/**
 * A 401 can answer a request that left with a session cookie renewed meanwhile (changing one's password
 * renews the session while another request of the page may be in flight): signed out only when the
 * session itself says so. (The live stream's end after a password change is the server's: live.ts.)
 */
async function confirmSignedOut(): Promise<void> {
  const res = await fetch('/api/session', { headers: { accept: 'application/json' }, credentials: 'same-origin' }).catch(() => null);
  if (!res || res.status === 401) onSignedOut();
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-inlet-request': '1', accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` })) as { error?: string; message?: string; mustChangePassword?: boolean };
  if (!res.ok) {
    if (res.status === 401 && path !== '/session') void confirmSignedOut();
    if (res.status === 403 && data.mustChangePassword === true) onPasswordChangeRequired();
    // a refusal may explain itself further (e.g. "reason required": what to give)
    throw new ApiError(res.status, data.error ? (typeof data.message === 'string' ? `${data.error}: ${data.message}` : data.error) : `${res.status} ${res.statusText}`);
  }
  return data as T;
}

export const query = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString();
