// Sign-in, sessions and the checks every API route passes: who is calling (401 when nobody),
// may their role do this (403), and did a state-changing request come from our own pages (CSRF).
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Store, UserRecord } from '../store/store.ts';
import { HttpError, bodyParser } from './http.ts';
import { decoyPasswordHash, verifyPassword } from './passwords.ts';
import { localAccess } from './scope.ts';
import type { DirectoryAuthenticator } from './directory.ts';
import { ZoneTree, type Access } from '../domain/zones.ts';
import type { Role, Session, SessionStore } from './sessions.ts';

export const SESSION_COOKIE = 'inlet_session';
/** Browsers send a custom header cross-site only after a CORS preflight, which we never grant. */
export const CSRF_HEADER = 'x-inlet-request';
export const LOCKOUT = { failures: 5, lockMs: 15 * 60_000 };

const RANK: Record<Role, number> = { viewer: 1, operator: 2, administrator: 3 };

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function setSessionCookie(req: Request, res: Response, value: string, clear = false): void {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(req.secure ? ['Secure'] : []), ...(clear ? ['Max-Age=0'] : [])];
  res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${value}; ${attributes.join('; ')}`);
}

export function sessionOf(res: Response): Session {
  const session = res.locals.session as Session | undefined;
  if (!session) throw new Error('sessionOf() used on a route without authenticate');
  return session;
}

/**
 * Attaches the caller's session or answers 401. Live streams pass touch=false so that an open
 * dashboard does not keep an unattended session alive forever.
 */
export function authenticate(sessions: SessionStore, touch = true): RequestHandler {
  return (req, res, next) => {
    const id = readCookie(req, SESSION_COOKIE);
    const session = id ? sessions.get(id, touch) : undefined;
    if (!session) throw new HttpError(401, 'not signed in, or the session expired: sign in again');
    res.locals.session = session;
    next();
  };
}

/**
 * The caller's role must reach `minimum`: on the zone of the thing the request names when there is
 * one (res.locals.zoneTarget, set by scopeGuard in scope.ts: a device's zone, or null for things in no
 * zone), else anywhere (lists, which scopeGuard's callers filter by zone).
 */
export function requireRole(minimum: Role): RequestHandler {
  return (_req, res, next) => {
    const session = sessionOf(res);
    const target = res.locals.zoneTarget as number | null | undefined;
    const scope = res.locals.scope as { roleOnZone(zoneId: number | null): Role | null } | undefined;
    const role = target !== undefined && scope ? scope.roleOnZone(target) : session.role;
    if (role === null || RANK[role] < RANK[minimum]) {
      throw new HttpError(403, `this needs the ${minimum} role${target !== undefined ? ' on this zone' : ''}; you hold ${role ?? 'no role'} there`);
    }
    next();
  };
}

/** A role on everything (user administration, the zone tree): zone roles do not count. */
export function requireGlobalRole(minimum: Role): RequestHandler {
  return (_req, res, next) => {
    const { access } = sessionOf(res);
    if (access.globalRole === null || RANK[access.globalRole] < RANK[minimum]) {
      throw new HttpError(403, `this needs the ${minimum} role on everything (a global role); you hold ${access.globalRole ?? 'roles on zones only'}`);
    }
    next();
  };
}

/** State-changing requests must carry our custom header and, when the browser names an origin, come from this host. */
export const csrfGuard: RequestHandler = (req, _res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') { next(); return; }
  if (req.get(CSRF_HEADER) !== '1') throw new HttpError(403, `request refused: the ${CSRF_HEADER} header is missing (cross-site request?)`);
  const origin = req.get('origin');
  if (origin && origin !== 'null') {
    let host: string;
    try { host = new URL(origin).host; } catch { host = ''; }
    if (host !== req.get('host')) throw new HttpError(403, 'request refused: it came from another site');
  }
  next();
};

export function publicUser(u: UserRecord) {
  return { id: u.id, username: u.username, role: u.role, scope: u.scope, source: u.source, disabled: u.disabled, lockedUntil: u.lockedUntil, failedLogins: u.failedLogins, createdAt: u.createdAt };
}

const parseLogin = bodyParser<{ username: string; password: string }>({
  type: 'object', additionalProperties: false, required: ['username', 'password'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 200 } },
});

const parseDisplay = bodyParser<{ reason: string }>({
  type: 'object', additionalProperties: false, required: ['reason'],
  properties: { reason: { type: 'string', minLength: 3, maxLength: 200, pattern: '\\S' } },
});

/**
 * Signs a directory account in: checks it against the directory, keeps a user row for it (the audit
 * trail and acknowledgements name it) and records the sign-in or the refusal with its reason.
 */
async function directorySignIn(store: Store, directory: DirectoryAuthenticator, login: string, password: string, source: string, at: number): Promise<{ user: UserRecord; access: Access }> {
  const outcome = await directory.authenticate(login, password, async () => new ZoneTree(await store.listZones()));
  const refuse = async (status: number, message: string, reason: string, extra: Record<string, unknown> = {}) => {
    await store.addEvent({ at, deviceId: null, type: 'user.signin.failed', level: 'warning', message: `directory sign-in of "${login}" from ${source} refused: ${reason}`, data: { login, source, reason, directory: true, ...extra } });
    return new HttpError(status, message);
  };
  switch (outcome.kind) {
    case 'wrong-credentials': throw await refuse(401, 'wrong user name or password', 'wrong user name or password');
    case 'disabled': throw await refuse(403, 'this account is disabled in the directory: ask IT', 'account disabled in the directory', { dn: outcome.dn });
    case 'unreachable': throw await refuse(503, 'the directory (Active Directory) does not answer: try again later; local accounts can still sign in', `directory unreachable: ${outcome.detail}`);
    case 'no-role': throw await refuse(403, 'your directory account is in none of the groups that give a role in Inlet: ask an administrator', 'in no mapped directory group', { groups: outcome.groups });
    case 'ok': break;
  }
  let user = await store.findUser(outcome.username);
  if (user && user.source !== 'directory') throw await refuse(409, `a local Inlet account is also named ${outcome.username}: ask an administrator to rename or remove it`, 'name taken by a local account');
  const highest = outcome.access.grants.reduce<UserRecord['role']>((best, g) => (RANK[g.role] > RANK[best] ? g.role : best), outcome.access.globalRole ?? 'viewer');
  const scope = outcome.access.globalRole !== null ? 'global' : 'zones';
  if (!user) {
    user = await store.addUser({ username: outcome.username, role: highest, passwordHash: '!directory', scope, source: 'directory' }, at);
    await store.addEvent({ at, deviceId: null, type: 'user.added', level: 'info', message: `directory account ${outcome.username} signed in for the first time (${outcome.dn})`, data: { username: outcome.username, dn: outcome.dn, source: 'directory' } });
  } else if (user.disabled) {
    throw await refuse(403, 'this account is disabled in Inlet: ask an administrator', 'account disabled in Inlet');
  } else if (user.role !== highest || user.scope !== scope) {
    await store.updateUser(user.id, { role: highest, scope });
  }
  await store.addEvent({
    at, deviceId: null, type: 'user.signin', level: 'info',
    message: `${outcome.username} signed in through the directory from ${source}`,
    data: { username: outcome.username, source, directory: true, groups: outcome.groups, globalRole: outcome.access.globalRole, zoneRoles: outcome.access.grants, unknownZones: outcome.unknownZones },
  });
  return { user: { ...user, role: highest, scope }, access: outcome.access };
}

export function sessionRouter(store: Store, sessions: SessionStore, now: () => number = Date.now, directory?: DirectoryAuthenticator): Router {
  const router = Router();
  const describe = (s: Session) => ({
    username: s.username, role: s.role, idleMinutes: sessions.settings.idleMs / 60_000,
    globalRole: s.access.globalRole, zoneRoles: s.access.grants, display: s.display === true,
  });

  router.post('/session', async (req, res) => {
    const { username, password } = parseLogin(req.body);
    const user = await store.findUser(username);
    const at = now();
    // A local account (the emergency administrator above all) never depends on the directory.
    if (directory?.enabled && (!user || user.source === 'directory')) {
      const signedIn = await directorySignIn(store, directory, username, password, req.socket.remoteAddress ?? 'unknown', at);
      const previous = readCookie(req, SESSION_COOKIE);
      if (previous) sessions.delete(previous);
      const session = sessions.create(signedIn.user, signedIn.access);
      setSessionCookie(req, res, session.id);
      res.json(describe(session));
      return;
    }
    if (user?.lockedUntil && user.lockedUntil > at) {
      throw new HttpError(423, `too many failed sign-ins: this account is locked until ${new Date(user.lockedUntil).toISOString()}; try again later or ask an administrator to unlock it`, { lockedUntil: user.lockedUntil });
    }
    const ok = await verifyPassword(password, user?.passwordHash ?? await decoyPasswordHash());
    if (!user || !ok) {
      if (user) {
        const failures = user.failedLogins + 1;
        const locks = failures >= LOCKOUT.failures;
        await store.updateUser(user.id, locks ? { failedLogins: 0, lockedUntil: at + LOCKOUT.lockMs } : { failedLogins: failures });
        if (locks) throw new HttpError(423, `wrong user name or password, ${LOCKOUT.failures} times: this account is locked for ${LOCKOUT.lockMs / 60_000} minutes`, { lockedUntil: at + LOCKOUT.lockMs });
      }
      throw new HttpError(401, 'wrong user name or password');
    }
    if (user.disabled) throw new HttpError(403, 'this account is disabled: ask an administrator');
    if (user.failedLogins > 0 || user.lockedUntil !== null) await store.updateUser(user.id, { failedLogins: 0, lockedUntil: null });
    const previous = readCookie(req, SESSION_COOKIE);
    if (previous) sessions.delete(previous);   // a fresh id at every sign-in (no session fixation)
    const session = sessions.create(user, await localAccess(store, user));
    setSessionCookie(req, res, session.id);
    res.json(describe(session));
  });

  router.get('/session', authenticate(sessions), (_req, res) => {
    res.json(describe(sessionOf(res)));
  });

  // Display mode for a wall screen: this browser's session becomes read-only and stays signed in.
  // An operator's decision, recorded with who and why.
  router.post('/session/display', authenticate(sessions), requireRole('operator'), async (req, res) => {
    const { reason } = parseDisplay(req.body);
    const before = sessionOf(res);
    const session = sessions.makeDisplay(before.id);
    if (!session) throw new HttpError(401, 'not signed in, or the session expired: sign in again');
    const days = Math.round((sessions.settings.displayAbsoluteMs ?? 0) / 86_400_000);
    await store.addEvent({
      at: now(), deviceId: null, type: 'session.display', level: 'info',
      message: `wall display mode turned on for a browser at ${req.ip ?? 'an unknown address'}: read-only, signed in for ${days} days as ${before.username}'s display (by ${before.username}): ${reason}`,
      data: { by: before.username, role: before.role, reason, address: req.ip ?? null },
    });
    res.json(describe(session));
  });

  router.delete('/session', authenticate(sessions), (req, res) => {
    sessions.delete(sessionOf(res).id);
    setSessionCookie(req, res, '', true);
    res.status(204).end();
  });
  return router;
}
