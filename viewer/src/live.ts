// One live connection per page load (Server-Sent Events, /api/live), shared by whoever listens: the
// menu's open-alarm count on every page, the Devices overview, the Alarms list. The server sends the
// device tree with the alarm counts whenever something changed.
import { api, type DeviceTree } from './api.ts';

type Listener = (tree: DeviceTree) => void;
type StatusListener = (connected: boolean) => void;

const listeners = new Set<Listener>();
const statusListeners = new Set<StatusListener>();
let source: EventSource | null = null;
let last: DeviceTree | null = null;
let onExpired: () => void = () => {};

function open(): void {
  if (source) return;
  source = new EventSource('/api/live');
  source.addEventListener('tree', (event) => {
    last = JSON.parse((event as MessageEvent<string>).data) as DeviceTree;
    for (const l of statusListeners) l(true);
    for (const l of listeners) l(last);
  });
  source.addEventListener('expired', () => { closeLive(); onExpired(); });
  source.addEventListener('error', () => {
    for (const l of statusListeners) l(false);
    // a refused stream (signed out, or the gateway restarted) is not retried by the browser: find out why
    if (source?.readyState === EventSource.CLOSED) {
      source = null;
      api('GET', '/session').then(() => setTimeout(() => { if (listeners.size) open(); }, 3000), () => undefined);
    }
  });
}

/** Calls `listener` with every tree (at once with the last one, if any); returns the unsubscribe. */
export function subscribeLive(listener: Listener, status?: StatusListener): () => void {
  listeners.add(listener);
  if (status) statusListeners.add(status);
  if (last) listener(last);
  open();
  return () => { listeners.delete(listener); if (status) statusListeners.delete(status); };
}

/**
 * After this browser's session was renewed (its own password change): the stream opened with the old
 * cookie is replaced at once by one with the new cookie, for whoever listens. (The server ends the old
 * one without "expired" anyway; this spares the reconnection's wait.)
 */
export function reopenLive(): void {
  if (!source) return;
  source.close();
  source = null;
  if (listeners.size) open();
}

/** At sign-out, or when the session expired. */
export function closeLive(): void {
  source?.close();
  source = null;
  last = null;
}

export function whenLiveExpired(handler: () => void): void { onExpired = handler; }
