// Server-side sessions, kept in memory: a restart signs everyone out, and one gateway process
// serves the viewer, so nothing is shared between processes. The cookie holds only a random id.
import { randomBytes } from 'node:crypto';
import type { UserRecord } from '../store/store.ts';
import type { Access } from '../domain/zones.ts';

export type Role = UserRecord['role'];
const RANK: Record<Role, number> = { viewer: 1, operator: 2, administrator: 3 };

export interface Session {
  id: string;
  userId: number;
  username: string;
  /** The highest role the user holds anywhere: what the menu offers. Each action is checked on its zone (scope.ts). */
  role: Role;
  /** Global role and zone roles, fixed at sign-in (a change signs the user out). */
  access: Access;
  createdAt: number;
  lastActiveAt: number;
}

export interface SessionSettings {
  /** Signed out after this long without a request. */
  idleMs: number;
  /** Signed out after this long however active, so a stolen cookie does not live forever. */
  absoluteMs: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  readonly settings: SessionSettings;
  private readonly now: () => number;

  constructor(settings: SessionSettings = DEFAULT_SESSION_SETTINGS, now: () => number = Date.now) {
    this.settings = settings;
    this.now = now;
  }

  /** `access` defaults to the user's role on everything (a user of scope 'global'). */
  create(user: Pick<UserRecord, 'id' | 'username' | 'role'>, access: Access = { globalRole: user.role, grants: [] }): Session {
    this.sweep();
    const at = this.now();
    const role = access.grants.reduce<Role | null>((best, g) => (best === null || RANK[g.role] > RANK[best] ? g.role : best), access.globalRole) ?? 'viewer';
    const session = { id: randomBytes(32).toString('base64url'), userId: user.id, username: user.username, role, access, createdAt: at, lastActiveAt: at };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for this id; `touch` counts the request as activity (live streams do not). */
  get(id: string, touch: boolean): Session | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const at = this.now();
    if (at - session.lastActiveAt > this.settings.idleMs || at - session.createdAt > this.settings.absoluteMs) {
      this.sessions.delete(id);
      return undefined;
    }
    if (touch) session.lastActiveAt = at;
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Signs a user out everywhere: after a role, password or disabled change. */
  deleteUser(userId: number): void {
    for (const [id, s] of this.sessions) if (s.userId === userId) this.sessions.delete(id);
  }

  private sweep(): void {
    for (const [id] of this.sessions) this.get(id, false);
  }
}
