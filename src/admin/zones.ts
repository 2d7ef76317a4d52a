// Zone changes shared by the CLI and the viewer's API: placing devices, creating a path's missing
// levels, and keeping each device's location text (its zone's path) in step with the tree.
import type { Device } from '../domain/types.ts';
import { ZoneTree, splitZonePath, zoneNameProblem, type Zone } from '../domain/zones.ts';
import type { ChangeActor, Store } from '../store/store.ts';
import { ZoneError } from '../store/zone-events.ts';
import { deviceRecord } from '../store/zone-records.ts';

export { ZoneError };

export async function zoneTree(store: Store): Promise<ZoneTree> {
  return new ZoneTree(await store.listZones());
}

/** The zone a path names, creating the levels that are missing (each an event). */
export async function ensureZonePath(store: Store, path: string, actor: ChangeActor): Promise<Zone> {
  const names = splitZonePath(path);
  if (!names.length) throw new ZoneError('name a zone, e.g. "Hospital/Pharmacy"', false);
  let tree = await zoneTree(store);
  let parent: Zone | undefined;
  for (const name of names) {
    const problem = zoneNameProblem(name);
    if (problem) throw new ZoneError(`"${name}": ${problem}`, false);
    let next = tree.childrenOf(parent?.id ?? null).find((z) => z.name === name);
    if (!next) {
      next = await store.addZone({ parentId: parent?.id ?? null, name }, actor);
      tree = await zoneTree(store);
    }
    parent = next;
  }
  return parent!;
}

/** A zone by path or id as typed on a command line or sent by the viewer. */
export async function findZone(store: Store, ref: string | number): Promise<Zone> {
  const tree = await zoneTree(store);
  const zone = typeof ref === 'number' || /^\d+$/.test(ref) ? tree.get(Number(ref)) : tree.find(ref);
  if (!zone) throw new ZoneError(`no zone "${ref}": \`inlet zone list\` shows them`, false);
  return zone;
}

/**
 * Sets each device's location text to its zone's path where they differ (after a zone was renamed
 * or moved), with one event per device; returns how many changed.
 */
export async function syncDeviceLocations(store: Store, actor: ChangeActor): Promise<number> {
  const tree = await zoneTree(store);
  let changed = 0;
  for (const d of await store.listDevices()) {
    const path = d.zoneId === null ? d.location : tree.path(d.zoneId);
    if (path === d.location) continue;
    const updated = await store.updateDevice(d.id, { location: path }, actor.at);
    await store.addEvent({
      at: actor.at, deviceId: d.id, type: 'device.zone.path', level: 'info', actor: actor.by, source: actor.source ?? null,
      message: `${d.name}: zone path "${d.location}" is now "${path}" (zone renamed or moved by ${actor.by})`,
      data: { by: actor.by, old: d.location, new: path, records: [deviceRecord(updated)] },
    });
    changed++;
  }
  return changed;
}

/** Places a device in a zone (or none), recording old → new. */
export async function placeDevice(store: Store, device: Device, zoneId: number | null, actor: ChangeActor): Promise<Device> {
  const tree = await zoneTree(store);
  if (zoneId !== null && !tree.get(zoneId)) throw new ZoneError(`no zone with id ${zoneId}`, false);
  const path = zoneId === null ? '' : tree.path(zoneId);
  const updated = await store.updateDevice(device.id, { zoneId, location: path }, actor.at);
  await store.addEvent({
    at: actor.at, deviceId: device.id, type: 'device.zone', level: 'info', actor: actor.by, source: actor.source ?? null,
    message: `${device.name} moved from "${device.location || 'no zone'}" to "${path || 'no zone'}" (by ${actor.by})${actor.reason ? `; reason: ${actor.reason}` : ''}`,
    data: { by: actor.by, old: { zoneId: device.zoneId, path: device.location }, new: { zoneId, path }, reason: actor.reason ?? null, records: [deviceRecord(updated)] },
  });
  return updated;
}
