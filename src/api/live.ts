// Live values over Server-Sent Events: one timer for all viewers re-reads the device tree only
// while someone listens, and sends it to everyone when it changed. A stream ends when its
// session expires (the stream itself does not count as activity) and the page asks to sign in.
import { Router, type Response } from 'express';
import type { Store } from '../store/store.ts';
import { authenticate, sessionOf } from './auth.ts';
import { deviceTree } from './devices.ts';
import type { SessionStore } from './sessions.ts';

export interface LiveSettings {
  /** How often the tree is re-read while anyone listens. */
  pollMs: number;
  /** A comment line this often keeps proxies and idle timeouts from closing the stream. */
  heartbeatMs: number;
}

export const DEFAULT_LIVE_SETTINGS: LiveSettings = { pollMs: 2000, heartbeatMs: 25_000 };

interface Listener { res: Response; sessionId: string }

export function liveRouter(store: Store, sessions: SessionStore, offlineAfterIntervals: number, settings: LiveSettings = DEFAULT_LIVE_SETTINGS, now: () => number = Date.now): Router {
  const listeners = new Set<Listener>();
  let timer: NodeJS.Timeout | null = null;
  let lastSent = '';
  let lastHeartbeat = 0;

  // the tree carries "now"; only its locations and alarm counts are compared, so that only real changes are sent
  async function readTree(): Promise<{ message: string; content: string }> {
    const tree = await deviceTree(store, now(), offlineAfterIntervals);
    return { message: `event: tree\ndata: ${JSON.stringify(tree)}\n\n`, content: JSON.stringify([tree.locations, tree.openAlarms]) };
  }

  async function tick(): Promise<void> {
    for (const l of listeners) {
      if (!sessions.get(l.sessionId, false)) { l.res.write('event: expired\ndata: {}\n\n'); l.res.end(); listeners.delete(l); }
    }
    if (!listeners.size) { stop(); return; }
    const { message, content } = await readTree();
    const changed = content !== lastSent;
    lastSent = content;
    const heartbeat = now() - lastHeartbeat > settings.heartbeatMs;
    if (heartbeat) lastHeartbeat = now();
    for (const l of listeners) {
      if (changed) l.res.write(message);
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
    lastSent = '';
  }

  const router = Router();
  router.get('/live', authenticate(sessions, false), async (req, res) => {
    const first = await readTree();
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.write(`retry: 3000\n${first.message}`);
    if (!listeners.size) lastSent = first.content;
    const listener = { res, sessionId: sessionOf(res).id };
    listeners.add(listener);
    req.on('close', () => { listeners.delete(listener); if (!listeners.size) stop(); });
    start();
  });

  return router;
}
