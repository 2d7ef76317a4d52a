// Live values over Server-Sent Events: one timer for all viewers re-reads the device tree only
// while someone listens, and sends it to everyone when it changed. A stream ends when its
// session expires (the stream itself does not count as activity) and the page asks to sign in.
import { Router, type Response } from 'express';
import type { Store } from '../store/store.ts';
import { authenticate, sessionOf } from './auth.ts';
import { deviceTree, openAlarmCount } from './devices.ts';
import type { SessionStore } from './sessions.ts';
import { ZoneTree } from '../domain/zones.ts';

export interface LiveSettings {
  /** How often the tree is re-read while anyone listens. */
  pollMs: number;
  /** A comment line this often keeps proxies and idle timeouts from closing the stream. */
  heartbeatMs: number;
}

export const DEFAULT_LIVE_SETTINGS: LiveSettings = { pollMs: 2000, heartbeatMs: 25_000 };

/** One open stream: what was last sent to it, since each caller sees only their zones' devices. */
interface Listener { res: Response; sessionId: string; lastSent: string }

export function liveRouter(store: Store, sessions: SessionStore, offlineAfterIntervals: number, settings: LiveSettings = DEFAULT_LIVE_SETTINGS, now: () => number = Date.now): Router {
  const listeners = new Set<Listener>();
  let timer: NodeJS.Timeout | null = null;
  let lastHeartbeat = 0;

  // The tree carries "now"; only its locations are compared, so that only real changes are sent.
  // It is read once per tick for everyone and cut to each listener's zones.
  async function readTrees(targets: Listener[]): Promise<Map<Listener, { message: string; content: string }>> {
    const [tree, zones] = await Promise.all([deviceTree(store, now(), offlineAfterIntervals), store.listZones()]);
    const zoneTree = new ZoneTree(zones);
    const out = new Map<Listener, { message: string; content: string }>();
    for (const l of targets) {
      const session = sessions.get(l.sessionId, false);
      if (!session) continue;
      const locations = tree.locations
        .map((loc) => ({ ...loc, devices: loc.devices.filter((d) => zoneTree.roleOn(session.access, d.zoneId) !== null) }))
        .filter((loc) => loc.devices.length > 0);
      // the menu's count: the open alarms of the devices in sight, and of no device (integrity) for a global role
      const openAlarms = openAlarmCount(locations.flatMap((loc) => loc.devices), session.access.globalRole !== null ? tree.systemAlarms : null);
      const mine = { ...tree, locations, openAlarms, systemAlarms: undefined };
      out.set(l, { message: `event: tree\ndata: ${JSON.stringify(mine)}\n\n`, content: JSON.stringify([locations, openAlarms]) });
    }
    return out;
  }

  async function tick(): Promise<void> {
    for (const l of listeners) {
      if (sessions.get(l.sessionId, false)) continue;
      // A session renewed by its own password change is not signed out: the stream just ends, and the
      // browser's EventSource reconnects with the renewed cookie it now holds (an old copy of the
      // cookie gets 401 there). Any other ended session is told to sign in again.
      if (!sessions.wasRenewed(l.sessionId)) l.res.write('event: expired\ndata: {}\n\n');
      l.res.end();
      listeners.delete(l);
    }
    if (!listeners.size) { stop(); return; }
    const trees = await readTrees([...listeners]);
    const heartbeat = now() - lastHeartbeat > settings.heartbeatMs;
    if (heartbeat) lastHeartbeat = now();
    for (const l of listeners) {
      const tree = trees.get(l);
      if (!tree) continue;
      if (tree.content !== l.lastSent) { l.lastSent = tree.content; l.res.write(tree.message); }
      else if (heartbeat) l.res.write(': still here\n\n');
    }
  }

  function start(): void {
    if (timer) return;
    timer = setInterval(() => { tick().catch(() => undefined); }, settings.pollMs);
    timer.unref();
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }

  const router = Router();
  router.get('/live', authenticate(sessions, false), async (req, res) => {
    const listener: Listener = { res, sessionId: sessionOf(res).id, lastSent: '' };
    const first = (await readTrees([listener])).get(listener)!;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.write(`retry: 3000\n${first.message}`);
    listener.lastSent = first.content;
    listeners.add(listener);
    req.on('close', () => { listeners.delete(listener); if (!listeners.size) stop(); });
    start();
  });

  return router;
}
