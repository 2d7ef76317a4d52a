// The zone tree in the viewer: everyone sees the zones they hold a role on (with that role); global
// administrators add, rename, move and remove zones and give local users roles on them. Every
// change is an event naming who did it, old → new, and the reason given.
import { Router } from 'express';
import { ROLE_RANK, zoneNameProblem, type ZoneGrant } from '../domain/zones.ts';
import type { Store } from '../store/store.ts';
import { ZoneError, syncDeviceLocations, zoneTree } from '../admin/zones.ts';
import { requireGlobalRole, sessionOf } from './auth.ts';
import { HttpError, bodyParser, idParam } from './http.ts';
import { requireReason } from './reason.ts';
import { scopeOf } from './scope.ts';
import type { SessionStore } from './sessions.ts';

const NAME = { type: 'string', minLength: 1, maxLength: 100 } as const;
const REASON = { type: 'string', maxLength: 500 } as const;
const ROLE = { type: 'string', enum: ['viewer', 'operator', 'administrator'] } as const;

const parseNewZone = bodyParser<{ name: string; parentId: number | null; reason: string }>({
  type: 'object', additionalProperties: false, required: ['name', 'reason'],
  properties: { name: NAME, parentId: { type: 'integer', minimum: 1, nullable: true, default: null }, reason: REASON },
});
const parseZonePatch = bodyParser<{ name?: string; parentId?: number | null; reason: string }>({
  type: 'object', additionalProperties: false, required: ['reason'],
  properties: { name: NAME, parentId: { type: 'integer', minimum: 1, nullable: true }, reason: { ...REASON, minLength: 3 } },
});
const parseRemoval = bodyParser<{ reason: string }>({
  type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { ...REASON, minLength: 3 } },
});
const parseGrants = bodyParser<{ scope: 'global' | 'zones'; grants: ZoneGrant[]; reason: string }>({
  type: 'object', additionalProperties: false, required: ['scope', 'grants', 'reason'],
  properties: {
    scope: { type: 'string', enum: ['global', 'zones'] },
    grants: { type: 'array', maxItems: 200, items: { type: 'object', additionalProperties: false, required: ['zoneId', 'role'], properties: { zoneId: { type: 'integer', minimum: 1 }, role: ROLE } } },
    reason: { ...REASON, minLength: 3 },
  },
});

function zoneProblem(err: unknown): never {
  if (err instanceof ZoneError) throw new HttpError(err.conflict ? 409 : 400, err.message);
  throw err;
}

export function zonesRouter(store: Store, sessions: SessionStore, now: () => number = Date.now): Router {
  const router = Router();

  router.get('/zones', async (_req, res) => {
    const scope = await scopeOf(store, res);
    const zones = scope.tree.flatten()
      .map((z) => ({ ...z, role: scope.roleOnZone(z.id) }))
      .filter((z) => z.role !== null);
    res.json({ zones, global: scope.access.globalRole });
  });

  router.post('/zones', requireGlobalRole('administrator'), async (req, res) => {
    requireReason(req.body);
    const body = parseNewZone(req.body);
    const problem = zoneNameProblem(body.name);
    if (problem) throw new HttpError(400, problem);
    const zone = await store.addZone({ name: body.name, parentId: body.parentId }, { by: sessionOf(res).username, at: now(), reason: body.reason, source: req.ip ?? null }).catch(zoneProblem);
    res.status(201).json({ zone: { ...zone, path: (await zoneTree(store)).path(zone.id) } });
  });

  router.patch('/zones/:id', requireGlobalRole('administrator'), async (req, res) => {
    requireReason(req.body);
    const id = idParam(req.params.id, 'zone');
    const body = parseZonePatch(req.body);
    if (body.name !== undefined) {
      const problem = zoneNameProblem(body.name);
      if (problem) throw new HttpError(400, problem);
    }
    const actor = { by: sessionOf(res).username, at: now(), reason: body.reason, source: req.ip ?? null };
    const zone = await store.updateZone(id, { name: body.name, parentId: body.parentId }, actor).catch(zoneProblem);
    const devicesMoved = await syncDeviceLocations(store, actor);
    res.json({ zone: { ...zone, path: (await zoneTree(store)).path(zone.id) }, devicesMoved });
  });

  router.delete('/zones/:id', requireGlobalRole('administrator'), async (req, res) => {
    requireReason(req.body);
    const id = idParam(req.params.id, 'zone');
    const { reason } = parseRemoval(req.body);
    await store.removeZone(id, { by: sessionOf(res).username, at: now(), reason, source: req.ip ?? null }).catch(zoneProblem);
    res.status(204).end();
  });

  router.get('/users/:id/zones', requireGlobalRole('administrator'), async (req, res) => {
    const id = idParam(req.params.id, 'user');
    const user = (await store.listUsers()).find((u) => u.id === id);
    if (!user) throw new HttpError(404, `no user with id ${id}`);
    const tree = await zoneTree(store);
    const grants = (await store.userZoneRoles(id)).map((g) => ({ zoneId: g.zoneId, role: g.role, path: tree.path(g.zoneId) }));
    res.json({ scope: user.scope, role: user.role, source: user.source, grants });
  });

  /** Makes a local user global (their `role` on everything) or zone-scoped (only these grants). */
  router.put('/users/:id/zones', requireGlobalRole('administrator'), async (req, res) => {
    requireReason(req.body);
    const id = idParam(req.params.id, 'user');
    const body = parseGrants(req.body);
    const users = await store.listUsers();
    const user = users.find((u) => u.id === id);
    if (!user) throw new HttpError(404, `no user with id ${id}`);
    if (user.source === 'directory') throw new HttpError(409, `${user.username} signs in through the directory: their zones come from their directory groups (directory.groups in the configuration)`);
    if (new Set(body.grants.map((g) => g.zoneId)).size !== body.grants.length) throw new HttpError(400, 'give each zone at most once');
    if (body.scope === 'zones' && !body.grants.length) throw new HttpError(400, 'a user limited to zones needs a role on at least one zone');
    const losesGlobalAdmin = user.scope === 'global' && user.role === 'administrator' && !user.disabled && body.scope === 'zones';
    if (losesGlobalAdmin && !users.some((u) => u.id !== id && u.scope === 'global' && u.role === 'administrator' && !u.disabled)) {
      throw new HttpError(409, `${user.username} is the only active global administrator: make someone else global administrator first`);
    }
    const actor = { by: sessionOf(res).username, at: now(), reason: body.reason, source: req.ip ?? null };
    await store.setUserZoneRoles(id, body.scope === 'zones' ? body.grants : [], actor).catch(zoneProblem);
    if (body.scope !== user.scope) {
      // The user's role column keeps the highest zone role, so that lists show what they can do at most.
      const highest = body.grants.reduce((best, g) => (ROLE_RANK[g.role] > ROLE_RANK[best] ? g.role : best), 'viewer' as ZoneGrant['role']);
      await store.updateUser(id, { scope: body.scope, ...(body.scope === 'zones' ? { role: highest } : {}) }, { actor: actor.by, source: actor.source, reason: body.reason });
      await store.addEvent({
        at: actor.at, deviceId: null, type: 'user.scope.changed', level: 'info', actor: actor.by, source: actor.source,
        message: `${user.username}: rights changed from ${user.scope} to ${body.scope} (by ${actor.by}); reason: ${body.reason}`,
        data: { by: actor.by, username: user.username, old: user.scope, new: body.scope, reason: body.reason },
      });
    }
    sessions.deleteUser(id);   // new rights take effect at the next sign-in, now
    res.json({ ok: true });
  });
  return router;
}
