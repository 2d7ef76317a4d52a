// Sign-in, sessions and the checks every API route passes: who is calling (401 when nobody),
// may their role do this (403), and did a state-changing request come from our own pages (CSRF).
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Store, UserRecord } from '../store/store.ts';
import { HttpError, bodyParser } from './http.ts';
import { PasswordHashBusyError, decoyPasswordHash, hashPassword, passwordWeakness, verifyPassword } from './passwords.ts';
import { localAccess } from './scope.ts';
import type { DirectoryAuthenticator } from './directory.ts';
import { ZoneTree, type Access } from '../domain/zones.ts';
import type { Role, Session, SessionStore } from './sessions.ts';
import { SignInGuard } from './sign-in-guard.ts';
import { SignInFailureFolder } from './sign-in-failures.ts';
import type { NewEvent } from '../store/store.ts';

export const SESSION_COOKIE = 'inlet_session';
/** Browsers send a custom header cross-site only after a CORS preflight, which we never grant. */
export const CSRF_HEADER = 'x-inlet-request';
/** Where sign-in events go: written off the ingest thread, batched (pipeline/refusals.ts). */
export interface SignInEventSink { recordEvent(event: NewEvent): void }

/**
 * Users whose password an administrator reset: until they choose their own, their sessions may only
 * read the session, change the password or sign out. Kept beside the sessions (one process serves the
 * viewer), filled at sign-in from the user's row.
 */
export class PasswordChangeRequired {
  private readonly userIds = new Set<number>();
  set(userId: number, required: boolean): void { if (required) this.userIds.add(userId); else this.userIds.delete(userId); }
  has(userId: number): boolean { return this.userIds.has(userId); }
}

/** Answers 403 to every request of a session whose password must be changed first. */
export function requirePasswordChanged(required: PasswordChangeRequired): RequestHandler {
  return (_req, res, next) => {
    if (required.has(sessionOf(res).userId)) {
      throw new HttpError(403, 'an administrator set your password: choose your own first (POST /api/session/password)', { mustChangePassword: true });
    }
    next();
  };
}

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

const parsePasswordChange = bodyParser<{ currentPassword: string; newPassword: string }>({
  type: 'object', additionalProperties: false, required: ['currentPassword', 'newPassword'],
  properties: { currentPassword: { type: 'string', minLength: 1, maxLength: 200 }, newPassword: { type: 'string', minLength: 1, maxLength: 200 } },
});

/** 503 with Retry-After when too many password hashes run already; the attempt costs the caller a slot of nothing. */
async function hashSlotOr503<T>(res: Response, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PasswordHashBusyError) {
      res.set('Retry-After', String(err.retryAfterS));
      throw new HttpError(503, err.message);
    }
    throw err;
  }
}

export interface SignInOptions {
  guard?: SignInGuard;
  events?: SignInEventSink;
  passwordChange?: PasswordChangeRequired;
  /** Folds failed sign-ins of unknown names per source (a test passes its own, with a short window). */
  unknownNames?: SignInFailureFolder;
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
async function directorySignIn(
  store: Store, directory: DirectoryAuthenticator, login: string, password: string, source: string, at: number, unknownNames: SignInFailureFolder, knownHere: boolean,
): Promise<{ user: UserRecord; access: Access }> {
  const outcome = await directory.authenticate(login, password, async () => new ZoneTree(await store.listZones()));
  const refuse = async (status: number, message: string, reason: string, extra: Record<string, unknown> = {}) => {
    await store.addEvent({ at, deviceId: null, type: 'user.signin.failed', level: 'warning', actor: login, source, message: `directory sign-in of "${login}" from ${source} refused: ${reason}`, data: { login, source, reason, directory: true, ...extra } });
    return new HttpError(status, message);
  };
  // A name that never signed in here and that the directory does not accept: folded per source (sign-in-failures.ts).
  const refuseUnknown = async (status: number, message: string, reason: string, extra: Record<string, unknown> = {}) => {
    if (knownHere) return refuse(status, message, reason, extra);
    unknownNames.failed({ at, source, username: login, reason, directory: true });
    return new HttpError(status, message);
  };
  switch (outcome.kind) {
    case 'wrong-credentials': throw await refuseUnknown(401, 'wrong user name or password', 'wrong user name or password');
    case 'disabled': throw await refuse(403, 'this account is disabled in the directory: ask IT', 'account disabled in the directory', { dn: outcome.dn });
    case 'unreachable': throw await refuseUnknown(503, 'the directory (Active Directory) does not answer: try again later; local accounts can still sign in', `directory unreachable: ${outcome.detail}`);
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
    at, deviceId: null, type: 'user.signin', level: 'info', actor: outcome.username, source,
    message: `${outcome.username} signed in through the directory from ${source}`,
    data: { username: outcome.username, source, directory: true, groups: outcome.groups, globalRole: outcome.access.globalRole, zoneRoles: outcome.access.grants, unknownZones: outcome.unknownZones },
  });
  return { user: { ...user, role: highest, scope }, access: outcome.access };
}

/** At most one slow-down event per (name, source) in this window; the next one says how many were refused meanwhile. */
const SLOWED_EVENT_WINDOW_MS = 10 * 60_000;

export function sessionRouter(store: Store, sessions: SessionStore, now: () => number = Date.now, directory?: DirectoryAuthenticator, options: SignInOptions = {}): Router {
  const router = Router();
  const guard = options.guard ?? new SignInGuard();
  const passwordChange = options.passwordChange ?? new PasswordChangeRequired();
  const slowedEvents = new Map<string, { at: number; folded: number }>();
  const record = (event: NewEvent) => {
    if (options.events) options.events.recordEvent(event);
    else store.addEvent(event).catch(() => undefined);
  };
  const unknownNames = options.unknownNames ?? new SignInFailureFolder(record);
  const describe = (s: Session) => ({
    username: s.username, role: s.role, idleMinutes: sessions.settings.idleMs / 60_000,
    globalRole: s.access.globalRole, zoneRoles: s.access.grants, display: s.display === true, mustChangePassword: passwordChange.has(s.userId),
  });

  /** Refuses (429) while this name and source must wait; otherwise counts the attempt as a failure until it succeeds. */
  function admit(res: Response, username: string, source: string, at: number): number {
    const admission = guard.admit(username, source, at);
    if (admission.allowed) return admission.failures;
    const key = `${username}\u0000${source}`;
    const last = slowedEvents.get(key);
    if (last && at - last.at < SLOWED_EVENT_WINDOW_MS) last.folded++;
    else {
      if (slowedEvents.size > 10_000) slowedEvents.clear();
      slowedEvents.set(key, { at, folded: 0 });
      record({
        at, deviceId: null, type: 'user.signin.slowed', level: 'warning',
        message: `sign-in as "${username}" from ${source} slowed down after ${admission.failures} failed attempts` +
          (last?.folded ? ` (${last.folded} more refused since the last such event)` : ''),
        data: { username, source, failures: admission.failures, retryAfterMs: admission.retryAfterMs, refusedSinceLastEvent: last?.folded ?? 0 },
      });
    }
    const retryAfterS = Math.ceil(admission.retryAfterMs / 1000);
    res.set('Retry-After', String(retryAfterS));
    throw new HttpError(429, `too many failed sign-ins for this user name from your address: wait ${retryAfterS} s and try again`, { retryAfterS });
  }

  router.post('/session', async (req, res) => {
    const { username, password } = parseLogin(req.body);
    const source = req.socket.remoteAddress ?? '';
    const at = now();
    // Counted before the password is checked (locally or by the directory), so parallel guesses cannot
    // all pass before the first failure is known.
    const failures = admit(res, username, source, at);
    const user = await store.findUser(username);
    // A local account (the emergency administrator above all) never depends on the directory.
    if (directory?.enabled && (!user || user.source === 'directory')) {
      const signedIn = await directorySignIn(store, directory, username, password, source, at, unknownNames, user !== undefined);
      guard.succeeded(username, source);
      const previous = readCookie(req, SESSION_COOKIE);
      if (previous) sessions.delete(previous);
      const session = sessions.create(signedIn.user, signedIn.access);
      setSessionCookie(req, res, session.id);
      res.json(describe(session));
      return;
    }
    // Unknown names verify against a decoy hash: same work, same time, same answer as a wrong password.
    // There is no account lock-out any more (lockedUntil of older versions is ignored), so a locked
    // name cannot be told from an unknown one either.
    let ok: boolean;
    try {
      ok = await hashSlotOr503(res, async () => verifyPassword(password, user?.passwordHash ?? await decoyPasswordHash()));
    } catch (err) {
      // a 503 (no hash slot) checked nothing: it must not slow the user down later
      if (err instanceof HttpError && err.status === 503) guard.uncount(username, source);
      throw err;
    }
    if (!user) {
      unknownNames.failed({ at, source, username, reason: 'wrong user name or password', directory: false });
      throw new HttpError(401, 'wrong user name or password');
    }
    if (!ok) {
      record({
        at, deviceId: null, type: 'user.signin.failed', level: 'warning', actor: username, source,
        message: `failed sign-in as "${username}" from ${source} (${failures} in a row from there)`,
        data: { username, source, failures, knownUser: Boolean(user) },
      });
      throw new HttpError(401, 'wrong user name or password');
    }
    guard.succeeded(username, source);
    if (user.disabled) throw new HttpError(403, 'this account is disabled: ask an administrator');
    if (user.failedLogins > 0 || user.lockedUntil !== null) await store.updateUser(user.id, { failedLogins: 0, lockedUntil: null });
    const previous = readCookie(req, SESSION_COOKIE);
    if (previous) sessions.delete(previous);   // a fresh id at every sign-in (no session fixation)
    const session = sessions.create(user, await localAccess(store, user));
    passwordChange.set(user.id, user.mustChangePassword);
    setSessionCookie(req, res, session.id);
    record({
      at, deviceId: null, type: 'user.signin', level: 'info', actor: user.username, source, message: `${user.username} signed in from ${source}`,
      data: { username: user.username, source, role: user.role, mustChangePassword: user.mustChangePassword },
    });
    res.json(describe(session));
  });

  router.get('/session', authenticate(sessions), (_req, res) => {
    res.json(describe(sessionOf(res)));
  });

  /** A user changes their own password: the current one is checked (and slowed down like a sign-in). */
  router.post('/session/password', authenticate(sessions), async (req, res) => {
    const { currentPassword, newPassword } = parsePasswordChange(req.body);
    const session = sessionOf(res);
    const source = req.socket.remoteAddress ?? '';
    const at = now();
    admit(res, session.username, source, at);
    const user = await store.findUser(session.username);
    if (!user || user.id !== session.userId) throw new HttpError(401, 'this account no longer exists: sign in again');
    if (!await hashSlotOr503(res, () => verifyPassword(currentPassword, user.passwordHash))) {
      record({
        at, deviceId: null, type: 'user.password.change-failed', level: 'warning', actor: user.username, source,
        message: `${user.username} gave a wrong current password when changing it, from ${source}`, data: { username: user.username, source },
      });
      throw new HttpError(403, 'the current password is wrong');
    }
    guard.succeeded(session.username, source);
    if (newPassword === currentPassword) throw new HttpError(400, 'the new password must differ from the current one');
    const weakness = await passwordWeakness(newPassword, user.username);
    if (weakness) throw new HttpError(400, weakness);
    const passwordHash = await hashSlotOr503(res, () => hashPassword(newPassword));
    await store.updateUser(user.id, { passwordHash, mustChangePassword: false, failedLogins: 0, lockedUntil: null });
    passwordChange.set(user.id, false);
    // Every other session of the user ends (a stolen cookie dies with the old password); this one is renewed.
    const renewed = sessions.renew(session.id, user, await localAccess(store, user));
    setSessionCookie(req, res, renewed.id);
    record({
      at, deviceId: null, type: 'user.password.changed', level: 'info', actor: user.username, source, message: `${user.username} changed their own password, from ${source}`,
      data: { username: user.username, actor: user.username, source, wasRequired: user.mustChangePassword },
    });
    res.json(describe(renewed));
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
      at: now(), deviceId: null, type: 'session.display', level: 'info', actor: before.username, source: req.socket.remoteAddress ?? null,
      message: `wall display mode turned on for a browser at ${req.ip ?? 'an unknown address'}: read-only, signed in for ${days} days as ${before.username}'s display (by ${before.username}): ${reason}`,
      data: { by: before.username, role: before.role, reason, address: req.ip ?? null },
    });
    res.json(describe(session));
  });

  router.delete('/session', authenticate(sessions), (req, res) => {
    const session = sessionOf(res);
    const source = req.socket.remoteAddress ?? '';
    record({
      at: now(), deviceId: null, type: 'user.signout', level: 'info', actor: session.username, source,
      message: `${session.username} signed out from ${source}`, data: { username: session.username, source },
    });
    sessions.delete(session.id);
    setSessionCookie(req, res, '', true);
    res.status(204).end();
  });
  return router;
}
