// Sign-in against the customer's Active Directory (or another LDAP directory) over LDAPS or
// StartTLS: Inlet searches the account with a read-only service account, refuses a disabled one,
// checks the password by binding as the account, and turns the account's groups into roles on
// zones through directory.groups in the configuration. Nothing is cached: a disabled or removed
// account, or one taken out of its groups, is refused at its next sign-in.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Client } from 'ldapts';
import type { DirectoryConfig } from '../config/schema.ts';
import { ROLE_RANK, ZoneTree, higherRole, type Access, type Role, type ZoneGrant } from '../domain/zones.ts';

/**
 * ldapts, loaded on the first sign-in through the directory (or filter built), not with the viewer's
 * API: a gateway without a directory does without its memory. require(), as the filter escaping
 * is synchronous; every use in this file goes through it, so its classes are one and the same.
 */
let ldaptsModule: typeof import('ldapts') | null = null;
function ldapts(): typeof import('ldapts') {
  return (ldaptsModule ??= createRequire(import.meta.url)('ldapts') as typeof import('ldapts'));
}

export type DirectoryOutcome =
  | { kind: 'ok'; username: string; dn: string; groups: string[]; access: Access; unknownZones: string[] }
  /** No such account, or the wrong password: answered like a wrong local password. */
  | { kind: 'wrong-credentials' }
  | { kind: 'disabled'; dn: string }
  /** The password was right but none of the account's groups is mapped to a role. */
  | { kind: 'no-role'; username: string; groups: string[] }
  /** No domain controller answered (or the service account was refused): local accounts still work. */
  | { kind: 'unreachable'; detail: string };

/** AD's userAccountControl flag ACCOUNTDISABLE. */
const ACCOUNT_DISABLED = 0x2;

/** DNs compare case-insensitively and without the spaces people put after commas. */
export function normalizeDn(dn: string): string {
  return dn.split(',').map((part) => part.trim()).join(',').toLowerCase();
}

/** What a login typed as "jan.novak", "jan.novak@hospital.local" or "HOSPITAL\jan.novak" means to the filter. */
export function loginParts(login: string): { login: string; sam: string } {
  const trimmed = login.trim();
  const backslash = trimmed.lastIndexOf('\\');
  if (backslash >= 0) return { login: trimmed.slice(backslash + 1), sam: trimmed.slice(backslash + 1) };
  const at = trimmed.indexOf('@');
  return { login: trimmed, sam: at > 0 ? trimmed.slice(0, at) : trimmed };
}

/** Fills a configured filter's placeholders with escaped values (RFC 4515), so typed text cannot change the filter. */
export function fillFilter(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? ldapts().escapeFilter`${values[name]}` : whole));
}

/** Roles from the groups an account is in, as configured; zone paths this Inlet does not have are reported, not guessed. */
export function accessFromGroups(groups: string[], mappings: DirectoryConfig['groups'], tree: ZoneTree): { access: Access; matched: boolean; unknownZones: string[] } {
  const member = new Set(groups.map(normalizeDn));
  let globalRole: Role | null = null;
  const byZone = new Map<number, Role>();
  const unknownZones: string[] = [];
  let matched = false;
  for (const m of mappings) {
    if (!member.has(normalizeDn(m.group))) continue;
    matched = true;
    if (m.global) { globalRole = higherRole(globalRole, m.role); continue; }
    for (const path of m.zones) {
      const zone = tree.find(path);
      if (!zone) { unknownZones.push(path); continue; }
      byZone.set(zone.id, higherRole(byZone.get(zone.id) ?? null, m.role)!);
    }
  }
  const grants: ZoneGrant[] = [...byZone].map(([zoneId, role]) => ({ zoneId, role }))
    .filter((g) => globalRole === null || ROLE_RANK[g.role] > ROLE_RANK[globalRole]);
  return { access: { globalRole, grants }, matched: matched && (globalRole !== null || grants.length > 0), unknownZones };
}

function isNetworkError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code)
    || /timeout|timed out|connection|socket|certificate|self.signed|unable to verify|closed/i.test((err as Error).message ?? '');
}

export class DirectoryAuthenticator {
  private readonly config: DirectoryConfig;
  private readonly ca: Buffer | undefined;

  constructor(config: DirectoryConfig) {
    this.config = config;
    // Read once at start: a missing CA file is a configuration error found then, not at the first sign-in.
    this.ca = config.caFile ? readFileSync(config.caFile) : undefined;
  }

  get enabled(): boolean { return this.config.enabled; }

  private async connect(url: string): Promise<Client> {
    const tlsOptions = { ...(this.ca ? { ca: [this.ca] } : {}), minVersion: 'TLSv1.2' as const };
    const client = new (ldapts().Client)({ url, timeout: this.config.timeoutMs, connectTimeout: this.config.timeoutMs, tlsOptions, strictDN: false });
    if (this.config.startTls && url.startsWith('ldap://')) await client.startTLS(tlsOptions);
    return client;
  }

  /** Checks a login and password against the directory; never throws for a directory's answer. */
  async authenticate(typedLogin: string, password: string, zones: () => Promise<ZoneTree>): Promise<DirectoryOutcome> {
    // An empty password is an "unauthenticated bind" that LDAP servers accept: never let it through.
    if (!password) return { kind: 'wrong-credentials' };
    let lastProblem = 'no directory URL configured';
    for (const url of this.config.urls) {
      let client: Client | undefined;
      try {
        client = await this.connect(url);
        return await this.check(client, typedLogin, password, zones);
      } catch (err) {
        if (!isNetworkError(err) && !(err instanceof ServiceAccountError)) throw err;
        lastProblem = `${url}: ${(err as Error).message}`;
      } finally {
        await client?.unbind().catch(() => undefined);
      }
    }
    return { kind: 'unreachable', detail: lastProblem };
  }

  private async check(client: Client, typedLogin: string, password: string, zones: () => Promise<ZoneTree>): Promise<DirectoryOutcome> {
    const c = this.config;
    const serviceBind = async () => {
      if (!c.bindDn) return;
      try {
        await client.bind(c.bindDn, c.bindPassword);
      } catch (err) {
        if (err instanceof ldapts().InvalidCredentialsError) throw new ServiceAccountError('the directory refused Inlet\'s service account (directory.bindDn / bindPassword)');
        throw err;
      }
    };
    await serviceBind();
    const parts = loginParts(typedLogin);
    const filter = fillFilter(c.userFilter, parts);
    const { searchEntries } = await client.search(c.baseDn, {
      scope: 'sub', filter, sizeLimit: 2,
      attributes: ['dn', 'userAccountControl', 'sAMAccountName', 'userPrincipalName', 'uid'],
    });
    if (searchEntries.length !== 1) return { kind: 'wrong-credentials' };
    const entry = searchEntries[0];
    const dn = entry.dn;
    const uac = Number(entry.userAccountControl ?? 0);
    if (Number.isFinite(uac) && (uac & ACCOUNT_DISABLED) !== 0) return { kind: 'disabled', dn };
    if (c.disabledFilter) {
      const disabled = await client.search(c.baseDn, { scope: 'sub', filter: `(&${filter}${c.disabledFilter})`, sizeLimit: 1, attributes: ['dn'] });
      if (disabled.searchEntries.length) return { kind: 'disabled', dn };
    }
    try {
      await client.bind(dn, password);
    } catch (err) {
      if (err instanceof ldapts().InvalidCredentialsError) return { kind: 'wrong-credentials' };
      throw err;
    }
    // Groups are read with the service account again: an ordinary account may not be allowed to search them.
    await serviceBind();
    const groupSearch = await client.search(c.groupBaseDn || c.baseDn, { scope: 'sub', filter: fillFilter(c.groupFilter, { dn }), attributes: ['dn'] });
    const groups = groupSearch.searchEntries.map((g) => g.dn);
    const first = (v: unknown) => (Array.isArray(v) ? v[0] : v) as string | undefined;
    const username = (first(entry.sAMAccountName) ?? first(entry.uid) ?? parts.sam).toString();
    const { access, matched, unknownZones } = accessFromGroups(groups, c.groups, await zones());
    if (!matched) return { kind: 'no-role', username, groups };
    return { kind: 'ok', username, dn, groups, access, unknownZones };
  }
}

class ServiceAccountError extends Error {}
