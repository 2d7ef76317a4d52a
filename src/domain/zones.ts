// Zones: the site's tree (site → building → room, any depth) that devices are placed in and that
// rights are scoped to. Pure rules here; the stores keep the rows, src/api/scope.ts applies them.
//
// A user holds a role either globally (every zone, and everything that belongs to no zone: system
// alarms, unplaced devices, user administration) or on one or more zones. A role on a zone covers
// its sub-zones; where several grants cover a zone, the highest role counts.

export type Role = 'viewer' | 'operator' | 'administrator';

export const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, administrator: 3 };

export interface Zone {
  id: number;
  parentId: number | null;
  name: string;
  createdAt: number;
}

export interface ZoneGrant {
  zoneId: number;
  role: Role;
}

/** What one signed-in user may see and do. */
export interface Access {
  /** A role on everything; null when the user holds roles on zones only. */
  globalRole: Role | null;
  /** Roles on zones (inherited downwards); ignored where globalRole is at least as high. */
  grants: ZoneGrant[];
}

/** The separator of zone paths as people type and read them: "Hospital/Pharmacy/Fridge room". */
export const ZONE_PATH_SEPARATOR = '/';

/** A zone's own name: no separator (it would make paths ambiguous), trimmed, not empty. */
export function zoneNameProblem(name: string): string | null {
  if (name.trim() !== name) return 'a zone name may not begin or end with spaces';
  if (!name) return 'a zone name may not be empty';
  if (name.includes(ZONE_PATH_SEPARATOR)) return `a zone name may not contain "${ZONE_PATH_SEPARATOR}" (it separates the levels of a path)`;
  if (name.length > 100) return 'a zone name is at most 100 characters';
  return null;
}

export function higherRole(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}

export function roleAtLeast(role: Role | null, minimum: Role): boolean {
  return role !== null && ROLE_RANK[role] >= ROLE_RANK[minimum];
}

/** The zone tree in memory: paths, ancestors and descendants, and what an Access allows in it. */
export class ZoneTree {
  readonly zones: ReadonlyMap<number, Zone>;
  private readonly children = new Map<number | null, Zone[]>();

  constructor(zones: Iterable<Zone>) {
    const byId = new Map<number, Zone>();
    for (const z of zones) byId.set(z.id, z);
    this.zones = byId;
    for (const z of byId.values()) {
      const list = this.children.get(z.parentId) ?? [];
      list.push(z);
      this.children.set(z.parentId, list);
    }
    for (const list of this.children.values()) list.sort((a, b) => naturalCompare(a.name, b.name));
  }

  get(id: number): Zone | undefined { return this.zones.get(id); }

  childrenOf(id: number | null): readonly Zone[] { return this.children.get(id) ?? []; }

  /** The zone and its parents up to the top, nearest first. Stops at a cycle (which the stores refuse). */
  ancestry(id: number): Zone[] {
    const chain: Zone[] = [];
    const seen = new Set<number>();
    for (let z = this.zones.get(id); z && !seen.has(z.id); z = z.parentId === null ? undefined : this.zones.get(z.parentId)) {
      seen.add(z.id);
      chain.push(z);
    }
    return chain;
  }

  path(id: number): string {
    return this.ancestry(id).reverse().map((z) => z.name).join(ZONE_PATH_SEPARATOR);
  }

  /** The zone a path names ("Hospital/Pharmacy"), or undefined. */
  find(path: string): Zone | undefined {
    let parent: number | null = null;
    let found: Zone | undefined;
    for (const name of splitZonePath(path)) {
      found = this.childrenOf(parent).find((z) => z.name === name);
      if (!found) return undefined;
      parent = found.id;
    }
    return found;
  }

  /** The zone and everything below it. */
  subtree(id: number): Set<number> {
    const ids = new Set<number>();
    const stack = [id];
    while (stack.length) {
      const next = stack.pop()!;
      if (ids.has(next) || !this.zones.has(next)) continue;
      ids.add(next);
      for (const c of this.childrenOf(next)) stack.push(c.id);
    }
    return ids;
  }

  /** Would moving `id` under `newParent` put it below itself? */
  wouldCycle(id: number, newParent: number | null): boolean {
    return newParent !== null && this.subtree(id).has(newParent);
  }

  /** The role an Access gives on a zone (null zone: things in no zone, which only global roles reach). */
  roleOn(access: Access, zoneId: number | null): Role | null {
    let role = access.globalRole;
    if (zoneId === null) return role;
    const above = new Set(this.ancestry(zoneId).map((z) => z.id));
    for (const g of access.grants) if (above.has(g.zoneId)) role = higherRole(role, g.role);
    return role;
  }

  /** Zones where an Access holds at least `minimum`; 'all' for a global role that high. */
  zonesWith(access: Access, minimum: Role): Set<number> | 'all' {
    if (roleAtLeast(access.globalRole, minimum)) return 'all';
    const ids = new Set<number>();
    for (const g of access.grants) if (roleAtLeast(g.role, minimum)) for (const id of this.subtree(g.zoneId)) ids.add(id);
    return ids;
  }

  /** Every zone as a row with its path and depth, in tree order, for lists and pickers. */
  flatten(): { id: number; parentId: number | null; name: string; path: string; depth: number }[] {
    const rows: { id: number; parentId: number | null; name: string; path: string; depth: number }[] = [];
    const walk = (parent: number | null, prefix: string, depth: number) => {
      for (const z of this.childrenOf(parent)) {
        const path = prefix ? `${prefix}${ZONE_PATH_SEPARATOR}${z.name}` : z.name;
        rows.push({ id: z.id, parentId: z.parentId, name: z.name, path, depth });
        walk(z.id, path, depth + 1);
      }
    };
    walk(null, '', 0);
    return rows;
  }
}

/** "Hospital / Pharmacy" and "Hospital/Pharmacy" name the same zone. */
export function splitZonePath(path: string): string[] {
  return path.split(ZONE_PATH_SEPARATOR).map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The highest role an Access holds anywhere: what the menu offers (each action is still checked on its zone). */
export function highestRole(access: Access): Role | null {
  return access.grants.reduce<Role | null>((best, g) => higherRole(best, g.role), access.globalRole);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
/** "Room 2" before "Room 10". */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}
