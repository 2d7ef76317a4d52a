// User administration for administrators: list, add, change role, disable, unlock, set password.
// A new role, password or disabling signs the user out everywhere, so that it takes effect at once.
import { Router } from 'express';
import type { Store, UserRecord } from '../store/store.ts';
import { HttpError, bodyParser, idParam } from './http.ts';
import { requireReason } from './reason.ts';
import { publicUser, sessionOf } from './auth.ts';
import { hashPassword, passwordWeakness } from './passwords.ts';
import type { SessionStore } from './sessions.ts';

export const ROLES: readonly UserRecord['role'][] = ['administrator', 'operator', 'viewer'];
export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{2,64}$/;

const REASON = { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } as const;

const parseNewUser = bodyParser<{ username: string; role: UserRecord['role']; password: string; reason: string }>({
  type: 'object', additionalProperties: false, required: ['username', 'role', 'password', 'reason'],
  properties: {
    reason: REASON,
    username: { type: 'string', pattern: USERNAME_PATTERN.source }, role: { type: 'string', enum: [...ROLES] },
    password: { type: 'string', maxLength: 200 },
  },
});

const parseUserPatch = bodyParser<{ role?: UserRecord['role']; disabled?: boolean; password?: string; unlock?: boolean; reason: string }>({
  type: 'object', additionalProperties: false, minProperties: 1, required: ['reason'],
  properties: {
    reason: REASON,
    role: { type: 'string', enum: [...ROLES] }, disabled: { type: 'boolean' },
    password: { type: 'string', maxLength: 200 }, unlock: { type: 'boolean', const: true },
  },
});

export function usersRouter(store: Store, sessions: SessionStore, now: () => number = Date.now): Router {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ users: (await store.listUsers()).map(publicUser) });
  });

  router.post('/', async (req, res) => {
    requireReason(req.body);
    const { username, role, password, reason } = parseNewUser(req.body);
    const weakness = await passwordWeakness(password, username);
    if (weakness) throw new HttpError(400, weakness);
    if (await store.findUser(username)) throw new HttpError(409, `user ${username} already exists`);
    const user = await store.addUser({ username, role, passwordHash: await hashPassword(password) }, now(), { actor: sessionOf(res).username, source: req.ip ?? null, reason });
    res.status(201).json({ user: publicUser(user) });
  });

  router.patch('/:id', async (req, res) => {
    requireReason(req.body);
    const id = idParam(req.params.id, 'user');
    const users = await store.listUsers();
    const user = users.find((u) => u.id === id);
    if (!user) throw new HttpError(404, `no user with id ${id}`);
    const patch = parseUserPatch(req.body);
    const losesAdmin = user.role === 'administrator' && !user.disabled && ((patch.role && patch.role !== 'administrator') || patch.disabled === true);
    if (losesAdmin && !users.some((u) => u.id !== id && u.role === 'administrator' && !u.disabled)) {
      throw new HttpError(409, `${user.username} is the only active administrator: make someone else administrator first`);
    }
    const change: Parameters<Store['updateUser']>[1] = { role: patch.role, disabled: patch.disabled };
    if (patch.password !== undefined) {
      const weakness = await passwordWeakness(patch.password, user.username);
      if (weakness) throw new HttpError(400, weakness);
      change.passwordHash = await hashPassword(patch.password);
      // A password set by an administrator for someone else is known to two people: its user must replace it.
      change.mustChangePassword = id !== sessionOf(res).userId;
    }
    if (patch.unlock) Object.assign(change, { failedLogins: 0, lockedUntil: null });
    await store.updateUser(id, change, { actor: sessionOf(res).username, source: req.ip ?? null, reason: patch.reason });
    if (patch.role !== undefined || patch.disabled || patch.password !== undefined) sessions.deleteUser(id);
    res.json({ user: publicUser((await store.findUser(user.username))!) });
  });
  return router;
}
