// Zones and users' zone roles in the embedded store: each change and its event in one transaction.
import type { DatabaseSync } from 'node:sqlite';
import { ZoneTree, type Zone, type ZoneGrant } from '../../domain/zones.ts';
import type { ChangeActor, UserZoneRole } from '../store.ts';
import { ZoneError, userZonesChangedEvent, zoneAddedEvent, zoneChangedEvent, zoneRemovedEvent, type ZoneEvent } from '../zone-events.ts';

type Row = Record<string, unknown>;

const toZone = (r: Row): Zone => ({ id: Number(r.id), parentId: r.parent_id === null ? null : Number(r.parent_id), name: r.name as string, createdAt: Number(r.created_at) });

export function listZones(db: DatabaseSync): Zone[] {
  return (db.prepare('SELECT id, parent_id, name, created_at FROM zones ORDER BY id').all() as Row[]).map(toZone);
}

function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/** How the store links events into its audit chain (sqlite-store.ts registers it for its connection). */
const chainedAppenders = new WeakMap<DatabaseSync, (at: number, event: ZoneEvent) => void>();

export function linkZoneEvents(db: DatabaseSync, append: (at: number, event: ZoneEvent) => void): void {
  chainedAppenders.set(db, append);
}

function appendEvent(db: DatabaseSync, at: number, event: ZoneEvent): void {
  const chained = chainedAppenders.get(db);
  if (chained) { chained(at, event); return; }
  db.prepare('INSERT INTO events (at, device_id, type, level, message, data) VALUES (?, NULL, ?, ?, ?, ?)')
    .run(at, event.type, 'info', event.message, JSON.stringify(event.data));
}

function siblingExists(db: DatabaseSync, parentId: number | null, name: string, exceptId: number): boolean {
  return db.prepare('SELECT 1 FROM zones WHERE ifnull(parent_id, 0) = ? AND name = ? AND id <> ?').get(parentId ?? 0, name, exceptId) !== undefined;
}

export function addZone(db: DatabaseSync, zone: { parentId: number | null; name: string }, actor: ChangeActor): Zone {
  return inTransaction(db, () => {
    const tree = new ZoneTree(listZones(db));
    if (zone.parentId !== null && !tree.get(zone.parentId)) throw new ZoneError(`no zone with id ${zone.parentId}`, false);
    if (siblingExists(db, zone.parentId, zone.name, 0)) throw new ZoneError(`a zone "${zone.name}" already exists there`);
    const { lastInsertRowid } = db.prepare('INSERT INTO zones (parent_id, name, created_at) VALUES (?, ?, ?)').run(zone.parentId, zone.name, actor.at);
    const added: Zone = { id: Number(lastInsertRowid), parentId: zone.parentId, name: zone.name, createdAt: actor.at };
    appendEvent(db, actor.at, zoneAddedEvent(added, zone.parentId === null ? null : tree.path(zone.parentId), actor));
    return added;
  });
}

export function updateZone(db: DatabaseSync, id: number, patch: { parentId?: number | null; name?: string }, actor: ChangeActor): Zone {
  return inTransaction(db, () => {
    const zones = listZones(db);
    const before = new ZoneTree(zones);
    const current = before.get(id);
    if (!current) throw new ZoneError(`no zone with id ${id}`, false);
    const next: Zone = { ...current, parentId: patch.parentId === undefined ? current.parentId : patch.parentId, name: patch.name ?? current.name };
    if (next.parentId !== null && !before.get(next.parentId)) throw new ZoneError(`no zone with id ${next.parentId}`, false);
    if (before.wouldCycle(id, next.parentId)) throw new ZoneError(`"${before.path(id)}" cannot be moved below itself`);
    if (siblingExists(db, next.parentId, next.name, id)) throw new ZoneError(`a zone "${next.name}" already exists there`);
    db.prepare('UPDATE zones SET parent_id = ?, name = ? WHERE id = ?').run(next.parentId, next.name, id);
    const after = new ZoneTree(zones.map((z) => (z.id === id ? next : z)));
    appendEvent(db, actor.at, zoneChangedEvent(current, next, { before: before.path(id), after: after.path(id) }, actor));
    return next;
  });
}

export function removeZone(db: DatabaseSync, id: number, actor: ChangeActor): void {
  inTransaction(db, () => {
    const tree = new ZoneTree(listZones(db));
    const zone = tree.get(id);
    if (!zone) throw new ZoneError(`no zone with id ${id}`, false);
    const path = tree.path(id);
    if (tree.childrenOf(id).length) throw new ZoneError(`"${path}" has sub-zones: move or remove them first`);
    if (db.prepare('SELECT 1 FROM devices WHERE zone_id = ?').get(id)) throw new ZoneError(`"${path}" holds devices: move them to another zone first`);
    if (db.prepare('SELECT 1 FROM user_zone_roles WHERE zone_id = ?').get(id)) throw new ZoneError(`users hold roles on "${path}": remove those roles first`);
    db.prepare('DELETE FROM zones WHERE id = ?').run(id);
    appendEvent(db, actor.at, zoneRemovedEvent(zone, path, actor));
  });
}

export function userZoneRoles(db: DatabaseSync, userId?: number): UserZoneRole[] {
  const rows = (userId === undefined
    ? db.prepare('SELECT user_id, zone_id, role FROM user_zone_roles ORDER BY user_id, zone_id').all()
    : db.prepare('SELECT user_id, zone_id, role FROM user_zone_roles WHERE user_id = ? ORDER BY zone_id').all(userId)) as Row[];
  return rows.map((r) => ({ userId: Number(r.user_id), zoneId: Number(r.zone_id), role: r.role as ZoneGrant['role'] }));
}

export function setUserZoneRoles(db: DatabaseSync, userId: number, grants: ZoneGrant[], actor: ChangeActor): void {
  inTransaction(db, () => {
    const user = db.prepare('SELECT username FROM users WHERE id = ?').get(userId) as Row | undefined;
    if (!user) throw new ZoneError(`no user with id ${userId}`, false);
    const tree = new ZoneTree(listZones(db));
    for (const g of grants) if (!tree.get(g.zoneId)) throw new ZoneError(`no zone with id ${g.zoneId}`, false);
    const before = userZoneRoles(db, userId).map(({ zoneId, role }) => ({ zoneId, role }));
    db.prepare('DELETE FROM user_zone_roles WHERE user_id = ?').run(userId);
    const insert = db.prepare('INSERT INTO user_zone_roles (user_id, zone_id, role, granted_at, granted_by) VALUES (?, ?, ?, ?, ?)');
    for (const g of grants) insert.run(userId, g.zoneId, g.role, actor.at, actor.by);
    const describe = (g: ZoneGrant) => `${g.role} on "${tree.path(g.zoneId) || `zone ${g.zoneId}`}"`;
    appendEvent(db, actor.at, userZonesChangedEvent(user.username as string, before, grants, describe, actor, userId));
  });
}
