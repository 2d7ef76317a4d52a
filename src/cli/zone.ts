// `inlet zone ...`: the zone tree (site → building → room) from the command line, and which zones a
// local user holds a role on. Every change is an event naming the operating-system user and a reason.
import os from 'node:os';
import { zoneNameProblem, splitZonePath, type Role } from '../domain/zones.ts';
import type { Store } from '../store/store.ts';
import { ZoneError, ensureZonePath, findZone, placeDevice, syncDeviceLocations, zoneTree } from '../admin/zones.ts';
import { UsageError, parse, required, requiredReason } from './args.ts';
import { cliSource } from './actor.ts';

const ROLES: Role[] = ['viewer', 'operator', 'administrator'];

const USAGE = `usage:
  inlet zone list
  inlet zone add --path "Site/Building/Room" --reason <text>         (missing levels are created)
  inlet zone rename --zone <path|id> --name <new name> --reason <text>
  inlet zone move --zone <path|id> --to <parent path|id|/> --reason <text>   ("/" = top level)
  inlet zone remove --zone <path|id> --reason <text>                  (only an empty zone)
  inlet zone place --serial <serial> --zone <path|id|/> --reason <text>     (put a device in a zone)
  inlet zone grant --username <name> --zone <path|id> --role ${ROLES.join('|')} --reason <text>
  inlet zone revoke --username <name> --zone <path|id> --reason <text>
  inlet zone global --username <name> --reason <text>                 (the user's role applies everywhere again)
A user holding roles on zones sees those zones and the zones below them, and nothing else.`;

/** Who a command-line change is recorded as: the operating-system account that ran it. */
function cliActor(reason: string | undefined) {
  return { by: `${os.userInfo().username} (command line)`, at: Date.now(), reason, source: cliSource() };
}

function reasonOf(values: Record<string, unknown>): string {
  const reason = required(values, 'reason').trim();
  if (reason.length < 3) throw new UsageError('--reason: say in a few words why (it is kept in the audit trail)');
  return reason;
}

async function zoneOrTop(store: Store, ref: string): Promise<number | null> {
  return ref === '/' ? null : (await findZone(store, ref)).id;
}

export async function zoneCommand(argv: string[], store: Store, out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    return await run(sub, rest, store, out);
  } catch (err) {
    if (err instanceof ZoneError) throw new UsageError(err.message);
    throw err;
  }
}

async function run(sub: string | undefined, rest: string[], store: Store, out: (line: string) => void): Promise<number> {
  switch (sub) {
    case 'list': {
      parse(rest, {});
      const tree = await zoneTree(store);
      const devices = await store.listDevices();
      const grants = await store.userZoneRoles();
      const users = new Map((await store.listUsers()).map((u) => [u.id, u.username]));
      const rows = tree.flatten();
      if (!rows.length) out('no zones yet; add one with: inlet zone add --path "Site/Building/Room"');
      for (const z of rows) {
        const count = devices.filter((d) => d.zoneId === z.id).length;
        const roles = grants.filter((g) => g.zoneId === z.id).map((g) => `${users.get(g.userId) ?? g.userId}: ${g.role}`);
        out(`${String(z.id).padStart(4)}  ${'  '.repeat(z.depth)}${z.name}${count ? `  (${count} device${count === 1 ? '' : 's'})` : ''}${roles.length ? `  [${roles.join(', ')}]` : ''}`);
      }
      const unplaced = devices.filter((d) => d.zoneId === null).length;
      if (unplaced) out(`${unplaced} device(s) in no zone (seen by users with a global role only)`);
      return 0;
    }
    case 'add': {
      const { values } = parse(rest, { path: { type: 'string' }, reason: { type: 'string' } });
      requiredReason(values);
      const path = required(values, 'path');
      for (const name of splitZonePath(path)) {
        const problem = zoneNameProblem(name);
        if (problem) throw new UsageError(`"${name}": ${problem}`);
      }
      const zone = await ensureZonePath(store, path, cliActor(values.reason));
      out(`zone ${zone.id}: ${(await zoneTree(store)).path(zone.id)}`);
      return 0;
    }
    case 'rename': {
      const { values } = parse(rest, { zone: { type: 'string' }, name: { type: 'string' }, reason: { type: 'string' } });
      const zone = await findZone(store, required(values, 'zone'));
      const name = required(values, 'name');
      const problem = zoneNameProblem(name);
      if (problem) throw new UsageError(problem);
      const actor = cliActor(reasonOf(values));
      await store.updateZone(zone.id, { name }, actor);
      const moved = await syncDeviceLocations(store, actor);
      out(`zone ${zone.id} is now "${(await zoneTree(store)).path(zone.id)}"${moved ? `; ${moved} device(s) follow` : ''}`);
      return 0;
    }
    case 'move': {
      const { values } = parse(rest, { zone: { type: 'string' }, to: { type: 'string' }, reason: { type: 'string' } });
      const zone = await findZone(store, required(values, 'zone'));
      const parentId = await zoneOrTop(store, required(values, 'to'));
      const actor = cliActor(reasonOf(values));
      await store.updateZone(zone.id, { parentId }, actor);
      const moved = await syncDeviceLocations(store, actor);
      out(`zone ${zone.id} is now "${(await zoneTree(store)).path(zone.id)}"${moved ? `; ${moved} device(s) follow` : ''}`);
      return 0;
    }
    case 'remove': {
      const { values } = parse(rest, { zone: { type: 'string' }, reason: { type: 'string' } });
      const zone = await findZone(store, required(values, 'zone'));
      await store.removeZone(zone.id, cliActor(reasonOf(values)));
      out(`zone ${zone.id} (${zone.name}) removed`);
      return 0;
    }
    case 'place': {
      const { values } = parse(rest, { serial: { type: 'string' }, zone: { type: 'string' }, reason: { type: 'string' } });
      const serial = required(values, 'serial');
      const matches = (await store.listDevices()).filter((d) => d.serial === serial);
      if (!matches.length) throw new UsageError(`no device with serial ${serial}; see 'inlet device list'`);
      if (matches.length > 1) throw new UsageError(`several devices have serial ${serial} (${matches.map((d) => d.family).join(', ')}); place them in the viewer`);
      const zoneId = await zoneOrTop(store, required(values, 'zone'));
      const device = await placeDevice(store, matches[0], zoneId, cliActor(reasonOf(values)));
      out(`${device.name} is in "${device.location || 'no zone'}"`);
      return 0;
    }
    case 'grant':
    case 'revoke':
    case 'global': {
      const { values } = parse(rest, { username: { type: 'string' }, zone: { type: 'string' }, role: { type: 'string' }, reason: { type: 'string' } });
      const username = required(values, 'username');
      const user = await store.findUser(username);
      if (!user) throw new UsageError(`no user ${username}; see 'inlet user list'`);
      if (user.source === 'directory') throw new UsageError(`${username} signs in through the directory: their zones come from directory.groups in the configuration`);
      const actor = cliActor(reasonOf(values));
      const current = (await store.userZoneRoles(user.id)).map(({ zoneId, role }) => ({ zoneId, role }));
      if (sub === 'global') {
        await store.setUserZoneRoles(user.id, [], actor);
        await store.updateUser(user.id, { scope: 'global' }, { actor: actor.by, source: actor.source, reason: actor.reason ?? null });
        await store.addEvent({ at: actor.at, deviceId: null, type: 'user.scope.changed', level: 'info', actor: actor.by, source: actor.source, message: `${username}: rights changed from ${user.scope} to global (by ${actor.by}); reason: ${actor.reason}`, data: { by: actor.by, username, old: user.scope, new: 'global', reason: actor.reason } });
        out(`${username} is ${user.role} on everything again`);
        return 0;
      }
      const zone = await findZone(store, required(values, 'zone'));
      let next = current.filter((g) => g.zoneId !== zone.id);
      if (sub === 'grant') {
        const role = required(values, 'role') as Role;
        if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        next = [...next, { zoneId: zone.id, role }];
      } else if (next.length === current.length) {
        throw new UsageError(`${username} holds no role on that zone`);
      }
      if (user.scope === 'global' && user.role === 'administrator' && sub === 'grant') {
        const others = (await store.listUsers()).filter((u) => u.id !== user.id && u.scope === 'global' && u.role === 'administrator' && !u.disabled);
        if (!others.length) throw new UsageError(`${username} is the only global administrator: make someone else global administrator first`);
      }
      await store.setUserZoneRoles(user.id, next, actor);
      const highest = next.reduce<Role>((best, g) => (ROLES.indexOf(g.role) > ROLES.indexOf(best) ? g.role : best), 'viewer');
      if (user.scope !== 'zones' || user.role !== highest) {
        await store.updateUser(user.id, { scope: 'zones', role: highest }, { actor: actor.by, source: actor.source, reason: actor.reason ?? null });
        if (user.scope !== 'zones') {
          await store.addEvent({ at: actor.at, deviceId: null, type: 'user.scope.changed', level: 'info', actor: actor.by, source: actor.source, message: `${username}: rights changed from global to zones (by ${actor.by}); reason: ${actor.reason}`, data: { by: actor.by, username, old: user.scope, new: 'zones', reason: actor.reason } });
        }
      }
      const tree = await zoneTree(store);
      out(`${username}: ${next.length ? next.map((g) => `${g.role} on "${tree.path(g.zoneId)}"`).join(', ') : 'no zone roles (cannot see anything until given one, or made global)'}`);
      out('A user already signed in gets the new rights at their next sign-in.');
      return 0;
    }
    default:
      out(USAGE);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}
