// Pure helpers for what the installer asks of Windows: the service account's SID for the data folder's ACL,
// the start type IT chose, and the firewall rule. Each returns the command line; the callers run it.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * The SID of a virtual service account "NT SERVICE\<name>": S-1-5-80- followed by the SHA-1 of the upper-cased
 * service name in UTF-16LE, as five little-endian 32-bit numbers. Computed rather than looked up, because the
 * installer grants it access before the service (and so the account) exists.
 */
export function virtualAccountSid(serviceName: string): string {
  const digest = createHash('sha1').update(Buffer.from(serviceName.toUpperCase(), 'utf16le')).digest();
  const parts = [0, 4, 8, 12, 16].map((o) => digest.readUInt32LE(o));
  return `S-1-5-80-${parts.join('-')}`;
}

/** The icacls principal for an account name: a SID where Windows would not resolve the name yet, else the name. */
export function aclPrincipal(account: string): string | null {
  const a = account.trim();
  if (a === '' || /^(\.\\)?localsystem$/i.test(a) || /^nt authority\\system$/i.test(a)) return null; // SYSTEM has full control already
  const virtual = /^nt service\\(.+)$/i.exec(a);
  if (virtual) return `*${virtualAccountSid(virtual[1])}`;
  return a;
}

/** icacls arguments that give the service account Modify on the data folder (inherited by what is created in it). */
export function grantModifyArgs(dataDir: string, account: string): string[] | null {
  const principal = aclPrincipal(account);
  return principal ? [dataDir, '/grant', `${principal}:(OI)(CI)M`, '/Q'] : null;
}

/**
 * The start type the service had before an upgrade, from the registry value Start that the MSI read (REG_DWORD,
 * given as "#2"), as `sc.exe config` wants it; null for automatic (what the MSI registers) or unknown.
 */
export function scStartType(registryValue: string | undefined): 'demand' | 'disabled' | null {
  const n = Number((registryValue ?? '').replace(/^#/, ''));
  if (n === 3) return 'demand';
  if (n === 4) return 'disabled';
  return null;
}

export const FIREWALL_RULE_NAME = 'Inlet (devices and viewer)';

/**
 * netsh's remoteip list: "LocalSubnet", "Any", addresses, CIDR ranges or a-b ranges, comma-separated.
 * Refuses anything else with the item that is wrong, so a typo does not open the port to everyone.
 */
export function parseRemoteAddresses(text: string): string {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error('FIREWALL_REMOTE is empty: give LocalSubnet, Any, or addresses/ranges such as 10.1.0.0/16,192.168.5.20');
  for (const item of items) {
    if (/^(localsubnet|any|dns|dhcp|wins|defaultgateway)$/i.test(item)) continue;
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(item);
    if (cidr && isIP(cidr[1]) && Number(cidr[2]) <= (isIP(cidr[1]) === 4 ? 32 : 128)) continue;
    const range = /^([^-]+)-([^-]+)$/.exec(item);
    if (range && isIP(range[1]) && isIP(range[1]) === isIP(range[2])) continue;
    if (isIP(item)) continue;
    throw new Error(`FIREWALL_REMOTE: "${item}" is not an address, a range (a.b.c.d/nn or a-b) nor LocalSubnet/Any`);
  }
  return items.join(',');
}

/** netsh commands: delete any earlier rule of ours, then allow the given TCP ports from the given addresses to node.exe. */
export function firewallCommands(ports: number[], remote: string, program: string): string[][] {
  const del = ['advfirewall', 'firewall', 'delete', 'rule', `name=${FIREWALL_RULE_NAME}`];
  if (ports.length === 0) return [del];
  return [del, ['advfirewall', 'firewall', 'add', 'rule', `name=${FIREWALL_RULE_NAME}`, 'dir=in', 'action=allow', 'protocol=TCP',
    `localport=${[...new Set(ports)].join(',')}`, `remoteip=${parseRemoteAddresses(remote)}`, `program=${program}`, 'profile=any', 'enable=yes']];
}
