// Server-side sessions. The cookie holds only a random id; the store keeps the SHA-256 of it (so a
// copy of the database lets nobody in) with the user and the last activity, so that a restart of
// the gateway signs nobody out. Lookups are answered from memory; the store is written behind:
// at sign-in, at sign-out, and at most once a minute per session for its activity.
// A wall display's session (display mode, an operator's decision) is read-only and stays signed in.
import { createHash, randomBytes } from 'node:crypto';
import type { Store, StoredSession, UserRecord } from '../store/store.ts';
import type { Access } from '../domain/zones.ts';

export type Role = UserRecord['role'];
const RANK: Record<Role, number> = { viewer: 1, operator: 2, administrator: 3 };

/** The highest role held anywhere (globally or on a zone). */
const highestRole = (access: Access): Role =>
  access.grants.reduce<Role | null>((best, g) => (best === null || RANK[g.role] > RANK[best] ? g.role : best), access.globalRole) ?? 'viewer';

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
  /** A wall display: read-only (viewer), no idle time-out. */
  display?: boolean;
}

export interface SessionSettings {
  /** Signed out after this long without a request. */
  idleMs: number;
  /** Signed out after this long however active, so a stolen cookie does not live forever. */
  absoluteMs: number;
  /** A wall display is signed out only after this long. */
  displayAbsoluteMs?: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000, displayAbsoluteMs: 90 * 86_400_000 };

/** How often at most a session's activity is written to the store. */
const ACTIVITY_WRITE_MS = 60_000;

export const hashSessionId = (id: string) => createHash('sha256').update(id).digest('hex');

export type SessionPersistence = Pick<Store, 'saveSession' | 'deleteSessions' | 'listSessions' | 'listUsers'>;

interface Entry { session: Session; persistedActivityAt: number }

export class SessionStore {
  /** By the SHA-256 of the id: sessions read back from the store are known only by it. */
  private readonly sessions = new Map<string, Entry>();
  /** Hashes of ids renewed by their own password change, with when; kept while the old session could have lived (its idle time). */
  private readonly renewedAt = new Map<string, number>();
  readonly settings: SessionSettings;
  private readonly now: () => number;
  private readonly persistence: SessionPersistence | null;
  private readonly onError: (message: string, error: Error) => void;

  constructor(settings: SessionSettings = DEFAULT_SESSION_SETTINGS, now: () => number = Date.now, persistence: SessionPersistence | null = null,
    onError: (message: string, error: Error) => void = () => {}) {
    this.settings = settings;
    this.now = now;
    this.persistence = persistence;
    this.onError = onError;
  }

  /** Reads the sessions kept in the store (at start): whoever was signed in before a restart still is. */
  async load(): Promise<number> {
    if (!this.persistence) return 0;
    const [stored, users] = await Promise.all([this.persistence.listSessions(), this.persistence.listUsers()]);
    const byId = new Map(users.map((u) => [u.id, u]));
    const gone: string[] = [];
    for (const s of stored) {
      const user = byId.get(s.userId);
      if (!user || user.disabled) { gone.push(s.idHash); continue; }
      this.sessions.set(s.idHash, {
        session: { id: '', userId: user.id, username: user.username, role: highestRole(s.access), access: s.access, createdAt: s.createdAt, lastActiveAt: s.lastActiveAt, display: s.display },
        persistedActivityAt: s.lastActiveAt,
      });
    }
    for (const [hash, entry] of this.sessions) if (this.expired(entry.session, this.now())) { this.sessions.delete(hash); gone.push(hash); }
    if (gone.length) await this.persistence.deleteSessions(gone);
    return this.sessions.size;
  }

  /** `access` defaults to the user's role on everything (a user of scope 'global'). */
  create(user: Pick<UserRecord, 'id' | 'username' | 'role'>, access: Access = { globalRole: user.role, grants: [] }): Session {
    this.sweep();
    const at = this.now();
    const session: Session = { id: randomBytes(32).toString('base64url'), userId: user.id, username: user.username, role: highestRole(access), access, createdAt: at, lastActiveAt: at };
    const hash = hashSessionId(session.id);
    this.sessions.set(hash, { session, persistedActivityAt: at });
    this.write(hash, session);
    return session;
  }

  /** The live session for this id; `touch` counts the request as activity (live streams do not). */
  get(id: string, touch: boolean): Session | undefined {
    const hash = hashSessionId(id);
    const entry = this.sessions.get(hash);
    if (!entry) return undefined;
    const { session } = entry;
    const at = this.now();
    if (this.expired(session, at)) {
      this.remove([hash]);
      return undefined;
    }
    session.id = id;   // the cookie proves it; a session read back from the store knew only the hash
    if (touch) {
      session.lastActiveAt = at;
      if (at - entry.persistedActivityAt >= ACTIVITY_WRITE_MS) { entry.persistedActivityAt = at; this.write(hash, session); }
    }
    return session;
  }

  /** Turns a session into a wall display's: read-only, and signed in until displayAbsoluteMs after now. */
  makeDisplay(id: string): Session | undefined {
    const hash = hashSessionId(id);
    const entry = this.sessions.get(hash);
    if (!entry) return undefined;
    const at = this.now();
    // read-only wherever the user could see: every role held becomes viewer
    const access: Access = { globalRole: entry.session.access.globalRole === null ? null : 'viewer', grants: entry.session.access.grants.map((g) => ({ ...g, role: 'viewer' as const })) };
    entry.session = { ...entry.session, id, role: 'viewer', access, display: true, createdAt: at, lastActiveAt: at };
    this.write(hash, entry.session);
    return entry.session;
  }

  delete(id: string): void {
    this.remove([hashSessionId(id)]);
  }

  /**
   * A user changed their own password with session `id`: every session of theirs ends, and `id`'s browser
   * gets the new session (its cookie comes with the answer). `id` is remembered as renewed, not signed
   * out, so that a live stream opened with it ends quietly and the browser reconnects with its new cookie
   * rather than being told to sign in again. Synchronous, so no live tick runs between the end and the renewal.
   */
  renew(id: string, user: Pick<UserRecord, 'id' | 'username' | 'role'>, access: Access): Session {
    this.deleteUser(user.id);
    this.renewedAt.set(hashSessionId(id), this.now());
    return this.create(user, access);
  }

  /** Whether the session `id` ended because its own browser renewed it (renew), rather than signed out or expired. */
  wasRenewed(id: string): boolean {
    return this.renewedAt.has(hashSessionId(id));
  }

  /** Signs a user out everywhere: after a role, password or disabled change. */
  deleteUser(userId: number): void {
    this.remove([...this.sessions].filter(([, e]) => e.session.userId === userId).map(([hash]) => hash));
  }

  private expired(s: Session, at: number): boolean {
    if (s.display) return at - s.createdAt > (this.settings.displayAbsoluteMs ?? DEFAULT_SESSION_SETTINGS.displayAbsoluteMs!);
    return at - s.lastActiveAt > this.settings.idleMs || at - s.createdAt > this.settings.absoluteMs;
  }

  private remove(hashes: string[]): void {
    for (const hash of hashes) this.sessions.delete(hash);
    if (hashes.length && this.persistence) this.persistence.deleteSessions(hashes).catch((err: Error) => this.onError('could not remove a session from the store', err));
  }

  private write(hash: string, s: Session): void {
    if (!this.persistence) return;
    const stored: StoredSession = { idHash: hash, userId: s.userId, createdAt: s.createdAt, lastActiveAt: s.lastActiveAt, display: s.display === true, access: s.access };
    this.persistence.saveSession(stored).catch((err: Error) => this.onError('could not keep a session in the store (it lasts until the next restart)', err));
  }

  private sweep(): void {
    const at = this.now();
    // a stream of a renewed session ends at the next live tick; none can outlast the idle time of the session it was opened with
    for (const [hash, renewedAt] of this.renewedAt) if (at - renewedAt > this.settings.idleMs) this.renewedAt.delete(hash);
    this.remove([...this.sessions].filter(([, e]) => this.expired(e.session, at)).map(([hash]) => hash));
  }
}
