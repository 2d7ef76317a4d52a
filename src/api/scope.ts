// Rights scoped to zones, applied on the server for every route: which devices, alarms and
// events a caller may see, and which role they hold on a given device's zone. Something a caller
// may not see answers 404, as if it did not exist, so that ids and counts of other zones do not leak.
import type { Response } from 'express';
import type { Device } from '../domain/types.ts';
import { ROLE_RANK, ZoneTree, roleAtLeast, type Access, type Role } from '../domain/zones.ts';
import type { Store, StoredAlarm, StoredEvent, UserRecord } from '../store/store.ts';
import { sessionOf } from './auth.ts';
import { HttpError } from './http.ts';

/** What one request may reach: its caller's access and the zone tree as it is now. */
export class Scope {
  readonly access: Access;
  readonly tree: ZoneTree;
  constructor(access: Access, tree: ZoneTree) {
    this.access = access;
    this.tree = tree;
  }

  get isGlobal(): boolean { return this.access.globalRole !== null; }

  roleOnDevice(device: Pick<Device, 'zoneId'>): Role | null {
    return this.tree.roleOn(this.access, device.zoneId);
  }

  canSee(device: Pick<Device, 'zoneId'>): boolean {
    return this.roleOnDevice(device) !== null;
  }

  /** The caller's role on the zone (null: things outside every zone, global roles only). */
  roleOnZone(zoneId: number | null): Role | null {
    return this.tree.roleOn(this.access, zoneId);
  }

  /** Throws 404 when the device is out of sight, 403 when the caller's role there is too low. */
  require(device: Device | undefined, minimum: Role, what = 'device'): Device {
    const role = device ? this.roleOnDevice(device) : null;
    if (!device || role === null) throw new HttpError(404, `no such ${what}, or not in your zones`);
    if (ROLE_RANK[role] < ROLE_RANK[minimum]) throw new HttpError(403, `this needs the ${minimum} role on "${device.location || 'no zone'}"; you hold ${role} there`);
    return device;
  }

  /** 404 for a zone out of sight (its name is not told), 403 when the caller's role there is too low. */
  requireZone(zoneId: number | null, minimum: Role): void {
    const role = this.roleOnZone(zoneId);
    if (role === null && zoneId !== null) throw new HttpError(404, `no zone with id ${zoneId}, or not in your zones`);
    const where = zoneId === null ? 'everything (a global role)' : `"${this.tree.path(zoneId)}"`;
    if (!roleAtLeast(role, minimum)) throw new HttpError(403, `this needs the ${minimum} role on ${where}`);
  }
}

/** The access a local user's rows give (directory users' comes from their groups: directory.ts). */
export async function localAccess(store: Store, user: UserRecord): Promise<Access> {
  if (user.scope === 'global') return { globalRole: user.role, grants: [] };
  return { globalRole: null, grants: (await store.userZoneRoles(user.id)).map(({ zoneId, role }) => ({ zoneId, role })) };
}

/** The request's scope; the zone tree is read per request (a small table) so that CLI changes count at once. */
export async function scopeOf(store: Store, res: Response): Promise<Scope> {
  const cached = res.locals.scope as Scope | undefined;
  if (cached) return cached;
  const scope = new Scope(sessionOf(res).access, new ZoneTree(await store.listZones()));
  res.locals.scope = scope;
  return scope;
}

/** A device by id as the caller may see it, with at least `minimum` on its zone (404 / 403 otherwise). */
export async function scopedDevice(store: Store, res: Response, id: number, minimum: Role = 'viewer'): Promise<Device> {
  const scope = await scopeOf(store, res);
  return scope.require(await store.getDevice(id), minimum);
}

/** Ids of the devices the caller sees; 'all' for a global role (which also sees unplaced devices). */
export async function visibleDeviceIds(store: Store, res: Response): Promise<Set<number> | 'all'> {
  const scope = await scopeOf(store, res);
  if (scope.isGlobal) return 'all';
  return new Set((await store.listDevices()).filter((d) => scope.canSee(d)).map((d) => d.id));
}

/** Alarms and events of devices in sight; those of no device (integrity, system) for global roles only. */
export function inSight<T extends Pick<StoredAlarm | StoredEvent, 'deviceId'>>(rows: T[], visible: Set<number> | 'all'): T[] {
  if (visible === 'all') return rows;
  return rows.filter((r) => r.deviceId !== null && visible.has(r.deviceId));
}

/** Device ids named in a query string: `device=3`, `devices=3,4` and `channels=3:1,4:2`. */
function devicesNamedIn(query: Record<string, unknown>): number[] {
  const ids: number[] = [];
  if (typeof query.device === 'string' && /^\d+$/.test(query.device)) ids.push(Number(query.device));
  if (typeof query.devices === 'string') for (const id of query.devices.split(',')) if (/^\d+$/.test(id)) ids.push(Number(id));
  if (typeof query.channels === 'string') {
    for (const pair of query.channels.split(',')) {
      const id = Number(pair.split(':')[0]);
      if (Number.isInteger(id) && id > 0) ids.push(id);
    }
  }
  return ids;
}

/**
 * Runs after authenticate for every API route: attaches the caller's scope, answers 404 for a
 * device or alarm out of the caller's zones (by path or by query), and names the zone of the thing
 * a route acts on (res.locals.zoneTarget) so that requireRole checks the role held there.
 */
export function scopeGuard(store: Store) {
  return async (req: { path: string; query: Record<string, unknown> }, res: Response, next: (err?: unknown) => void) => {
    try {
      const scope = await scopeOf(store, res);
      const deviceInPath = /^\/devices\/(\d+)(?:\/|$)/.exec(req.path);
      if (deviceInPath) {
        const device = scope.require(await store.getDevice(Number(deviceInPath[1])), 'viewer');
        res.locals.zoneTarget = device.zoneId;
      }
      const alarmInPath = /^\/alarms\/(\d+)(?:\/|$)/.exec(req.path);
      if (alarmInPath) {
        const [alarm] = await store.alarms({ id: Number(alarmInPath[1]), limit: 1 });
        const device = alarm?.deviceId == null ? undefined : await store.getDevice(alarm.deviceId);
        const zoneId = device ? device.zoneId : null;
        if (!alarm || (device === undefined && alarm.deviceId !== null) || scope.roleOnZone(zoneId) === null) {
          throw new HttpError(404, `no alarm with id ${alarmInPath[1]}, or not in your zones`);
        }
        res.locals.zoneTarget = zoneId;
      }
      if (!scope.isGlobal) {
        const named = devicesNamedIn(req.query);
        if (named.length) {
          const devices = new Map((await store.listDevices()).map((d) => [d.id, d]));
          for (const id of named) {
            const device = devices.get(id);
            if (!device || !scope.canSee(device)) throw new HttpError(404, `no device with id ${id}, or not in your zones`);
          }
        }
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
