// The events zone changes append, built once for both stores so that the audit trail reads the
// same whichever database holds it: who, when, what it was and what it became.
import type { Zone, ZoneGrant } from '../domain/zones.ts';
import type { ChangeActor } from './store.ts';
import { userZonesRecord, zoneRecord, zoneRemovedRecord } from './zone-records.ts';

export interface ZoneEvent {
  type: string;
  message: string;
  data: Record<string, unknown>;
}

const why = (actor: ChangeActor) => (actor.reason ? `; reason: ${actor.reason}` : '');

export function zoneAddedEvent(zone: Zone, parentPath: string | null, actor: ChangeActor): ZoneEvent {
  return {
    type: 'zone.added',
    message: `zone "${zone.name}" added ${parentPath ? `under "${parentPath}"` : 'at the top level'} (by ${actor.by})${why(actor)}`,
    data: { by: actor.by, source: actor.source ?? null, zoneId: zone.id, name: zone.name, parentId: zone.parentId, reason: actor.reason ?? null, records: [zoneRecord(zone)] },
  };
}

export function zoneChangedEvent(before: Zone, after: Zone, paths: { before: string; after: string }, actor: ChangeActor): ZoneEvent {
  const moved = before.parentId !== after.parentId;
  return {
    type: moved ? 'zone.moved' : 'zone.renamed',
    message: `zone "${paths.before}" ${moved ? 'moved' : 'renamed'} to "${paths.after}" (by ${actor.by})${why(actor)}`,
    data: {
      by: actor.by, source: actor.source ?? null, zoneId: before.id, reason: actor.reason ?? null,
      old: { name: before.name, parentId: before.parentId, path: paths.before },
      new: { name: after.name, parentId: after.parentId, path: paths.after },
      records: [zoneRecord(after)],
    },
  };
}

export function zoneRemovedEvent(zone: Zone, path: string, actor: ChangeActor): ZoneEvent {
  return {
    type: 'zone.removed',
    message: `zone "${path}" removed (by ${actor.by})${why(actor)}`,
    data: { by: actor.by, source: actor.source ?? null, zoneId: zone.id, name: zone.name, parentId: zone.parentId, path, reason: actor.reason ?? null, records: [zoneRemovedRecord(zone.id)] },
  };
}

export function userZonesChangedEvent(username: string, before: ZoneGrant[], after: ZoneGrant[], describe: (g: ZoneGrant) => string, actor: ChangeActor, userId?: number): ZoneEvent {
  const list = (grants: ZoneGrant[]) => (grants.length ? grants.map(describe).join(', ') : 'none');
  return {
    type: 'user.zones.changed',
    message: `zone roles of ${username} changed from ${list(before)} to ${list(after)} (by ${actor.by})${why(actor)}`,
    data: { by: actor.by, source: actor.source ?? null, username, old: before, new: after, reason: actor.reason ?? null, ...(userId === undefined ? {} : { records: [userZonesRecord(userId, after)] }) },
  };
}

/** Refusals a person can act on (the API answers them 409/400 with this text). */
export class ZoneError extends Error {
  readonly conflict: boolean;
  constructor(message: string, conflict = true) {
    super(message);
    this.conflict = conflict;
  }
}
