// Zones and users' zone roles on SQL Server: each change and its event in one transaction. Deletes
// go through procedures (sql/mssql/023_zones.sql), since the service login is denied DELETE.
import sql from 'mssql';
import { ZoneTree, type Zone, type ZoneGrant } from '../../domain/zones.ts';
import type { ChangeActor, UserZoneRole } from '../store.ts';
import { ZoneError, userZonesChangedEvent, zoneAddedEvent, zoneChangedEvent, zoneRemovedEvent, type ZoneEvent } from '../zone-events.ts';
import { appendEvents, lockEventChain } from './event-chain.ts';

type Row = Record<string, unknown>;
type Inputs = Record<string, [sql.ISqlType | (() => sql.ISqlType), unknown]>;

/** What the zone functions need of the store: its query helper and its transaction helper. */
export interface MssqlZoneContext {
  query(text: string, inputs?: Inputs): Promise<sql.IResult<Row>>;
  inTransaction<T>(work: (tx: sql.Transaction) => Promise<T>): Promise<T>;
  /** The key events are linked under (event-chain.ts), and how long to wait for the event chain lock. */
  chainKey(): Uint8Array | null;
  eventLockTimeoutMs: number;
}

const utc = (ms: number) => new Date(ms);
const toZone = (r: Row): Zone => ({
  id: Number(r.id), parentId: r.parent_id === null ? null : Number(r.parent_id), name: r.name as string,
  createdAt: r.created_at instanceof Date ? r.created_at.getTime() : Number(r.created_at),
});

export async function listZones(ctx: MssqlZoneContext): Promise<Zone[]> {
  return (await ctx.query('SELECT id, parent_id, name, created_at FROM inlet.zones ORDER BY id')).recordset.map(toZone);
}

/** Who and from where, as the SQLite store records them for zone events. */
const eventActor = (event: ZoneEvent) => (typeof event.data.by === 'string' ? event.data.by : 'system');
const eventSource = (event: ZoneEvent) => (typeof event.data.source === 'string' ? event.data.source : null);

/** Appends the event linked into the audit chain. */
async function appendEvent(ctx: MssqlZoneContext, tx: sql.Transaction, at: number, event: ZoneEvent): Promise<void> {
  await appendEvents(tx, [{
    at, deviceId: null, type: event.type, level: 'info', message: event.message, data: event.data, actor: eventActor(event), source: eventSource(event),
  }], ctx.chainKey(), ctx.eventLockTimeoutMs);
}

/** Runs a zone procedure that writes an event, in a transaction that links the event (event-chain.ts). */
async function execLinked(ctx: MssqlZoneContext, procedure: string, inputs: Record<string, [sql.ISqlType | (() => sql.ISqlType), unknown]>): Promise<void> {
  await ctx.inTransaction(async (tx) => {
    await lockEventChain(tx, ctx.eventLockTimeoutMs);
    const request = tx.request();
    for (const [name, [type, value]] of Object.entries(inputs)) request.input(name, type, value);
    await request.execute(procedure);
    await appendEvents(tx, [], ctx.chainKey(), ctx.eventLockTimeoutMs);
  });
}

async function lockedTree(tx: sql.Transaction): Promise<ZoneTree> {
  // UPDLOCK, HOLDLOCK: two administrators moving zones at once see each other's result, not a cycle.
  const rows = (await tx.request().query<Row>('SELECT id, parent_id, name, created_at FROM inlet.zones WITH (UPDLOCK, HOLDLOCK) ORDER BY id')).recordset;
  return new ZoneTree(rows.map(toZone));
}

function sibling(tree: ZoneTree, parentId: number | null, name: string, exceptId: number): boolean {
  return tree.childrenOf(parentId).some((z) => z.name === name && z.id !== exceptId);
}

export async function addZone(ctx: MssqlZoneContext, zone: { parentId: number | null; name: string }, actor: ChangeActor): Promise<Zone> {
  return ctx.inTransaction(async (tx) => {
    const tree = await lockedTree(tx);
    if (zone.parentId !== null && !tree.get(zone.parentId)) throw new ZoneError(`no zone with id ${zone.parentId}`, false);
    if (sibling(tree, zone.parentId, zone.name, 0)) throw new ZoneError(`a zone "${zone.name}" already exists there`);
    const inserted = await tx.request().input('parent_id', sql.Int, zone.parentId).input('name', sql.NVarChar(100), zone.name)
      .input('at', sql.DateTime2(3), utc(actor.at))
      .query<Row>('INSERT INTO inlet.zones (parent_id, name, created_at) VALUES (@parent_id, @name, @at); SELECT CAST(SCOPE_IDENTITY() AS int) AS id;');
    const added: Zone = { id: Number(inserted.recordset[0].id), parentId: zone.parentId, name: zone.name, createdAt: actor.at };
    await appendEvent(ctx, tx, actor.at, zoneAddedEvent(added, zone.parentId === null ? null : tree.path(zone.parentId), actor));
    return added;
  });
}

export async function updateZone(ctx: MssqlZoneContext, id: number, patch: { parentId?: number | null; name?: string }, actor: ChangeActor): Promise<Zone> {
  return ctx.inTransaction(async (tx) => {
    const before = await lockedTree(tx);
    const current = before.get(id);
    if (!current) throw new ZoneError(`no zone with id ${id}`, false);
    const next: Zone = { ...current, parentId: patch.parentId === undefined ? current.parentId : patch.parentId, name: patch.name ?? current.name };
    if (next.parentId !== null && !before.get(next.parentId)) throw new ZoneError(`no zone with id ${next.parentId}`, false);
    if (before.wouldCycle(id, next.parentId)) throw new ZoneError(`"${before.path(id)}" cannot be moved below itself`);
    if (sibling(before, next.parentId, next.name, id)) throw new ZoneError(`a zone "${next.name}" already exists there`);
    await tx.request().input('id', sql.Int, id).input('parent_id', sql.Int, next.parentId).input('name', sql.NVarChar(100), next.name)
      .query('UPDATE inlet.zones SET parent_id = @parent_id, name = @name WHERE id = @id');
    const after = new ZoneTree([...before.zones.values()].map((z) => (z.id === id ? next : z)));
    await appendEvent(ctx, tx, actor.at, zoneChangedEvent(current, next, { before: before.path(id), after: after.path(id) }, actor));
    return next;
  });
}

export async function removeZone(ctx: MssqlZoneContext, id: number, actor: ChangeActor): Promise<void> {
  const tree = new ZoneTree(await listZones(ctx));
  const zone = tree.get(id);
  if (!zone) throw new ZoneError(`no zone with id ${id}`, false);
  const path = tree.path(id);
  if (tree.childrenOf(id).length) throw new ZoneError(`"${path}" has sub-zones: move or remove them first`);
  const event = zoneRemovedEvent(zone, path, actor);
  try {
    await execLinked(ctx, 'inlet.remove_zone', {
      zone_id: [sql.Int, id], removed_at: [sql.DateTime2(3), utc(actor.at)],
      event_message: [sql.NVarChar(sql.MAX), event.message], event_data: [sql.NVarChar(sql.MAX), JSON.stringify(event.data)],
      event_actor: [sql.NVarChar(128), eventActor(event)], event_source: [sql.NVarChar(128), eventSource(event)],
    });
  } catch (err) {
    // 50030: devices or roles still on it (checked under lock in the procedure).
    if ((err as { number?: number }).number === 50030 || /not empty/.test((err as Error).message)) {
      throw new ZoneError(`"${path}" still holds devices or users' roles: move the devices and remove the roles first`);
    }
    throw err;
  }
}

export async function userZoneRoles(ctx: MssqlZoneContext, userId?: number): Promise<UserZoneRole[]> {
  const rows = (userId === undefined
    ? await ctx.query('SELECT user_id, zone_id, role FROM inlet.user_zone_roles ORDER BY user_id, zone_id')
    : await ctx.query('SELECT user_id, zone_id, role FROM inlet.user_zone_roles WHERE user_id = @user_id ORDER BY zone_id', { user_id: [sql.Int, userId] })).recordset;
  return rows.map((r) => ({ userId: Number(r.user_id), zoneId: Number(r.zone_id), role: r.role as ZoneGrant['role'] }));
}

export async function setUserZoneRoles(ctx: MssqlZoneContext, userId: number, grants: ZoneGrant[], actor: ChangeActor): Promise<void> {
  const user = (await ctx.query('SELECT username FROM inlet.users WHERE id = @id', { id: [sql.Int, userId] })).recordset[0];
  if (!user) throw new ZoneError(`no user with id ${userId}`, false);
  const tree = new ZoneTree(await listZones(ctx));
  for (const g of grants) if (!tree.get(g.zoneId)) throw new ZoneError(`no zone with id ${g.zoneId}`, false);
  const before = (await userZoneRoles(ctx, userId)).map(({ zoneId, role }) => ({ zoneId, role }));
  const describe = (g: ZoneGrant) => `${g.role} on "${tree.path(g.zoneId) || `zone ${g.zoneId}`}"`;
  const event = userZonesChangedEvent(user.username as string, before, grants, describe, actor, userId);
  await execLinked(ctx, 'inlet.set_user_zone_roles', {
    user_id: [sql.Int, userId], grants: [sql.NVarChar(sql.MAX), JSON.stringify(grants.map((g) => ({ zoneId: g.zoneId, role: g.role })))],
    granted_at: [sql.DateTime2(3), utc(actor.at)], granted_by: [sql.NVarChar(128), actor.by],
    event_message: [sql.NVarChar(sql.MAX), event.message], event_data: [sql.NVarChar(sql.MAX), JSON.stringify(event.data)],
    event_actor: [sql.NVarChar(128), eventActor(event)], event_source: [sql.NVarChar(128), eventSource(event)],
  });
}
