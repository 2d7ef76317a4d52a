// DNS rebinding: a web page on the attacker's domain, once that name resolves to the gateway, is "same
// origin" to the browser and passes the Origin check. The Host header still names the attacker's
// domain, so the viewer answers only to the names it is known by.
import os from 'node:os';
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';

/** The names accepted besides IP literals: localhost, this computer's names, publicUrl's host and the configured ones. */
export function allowedHostNames(publicUrl: string, configured: string[]): Set<string> | null {
  if (configured.includes('*')) return null;
  const names = new Set(['localhost', ...configured.map((h) => h.toLowerCase())]);
  const hostname = os.hostname().toLowerCase();
  names.add(hostname);
  names.add(hostname.split('.')[0]);
  if (publicUrl) {
    try { names.add(new URL(publicUrl).hostname.toLowerCase()); } catch { /* checked by the config loader */ }
  }
  return names;
}

/** The host part of a Host header: without the port, IPv6 brackets removed, lower case, no trailing dot. */
export function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d+$/, '');
  return name.replace(/\.$/, '');
}

export function hostAllowList(publicUrl: string, configured: string[]): RequestHandler {
  const names = allowedHostNames(publicUrl, configured);
  return (req, res, next) => {
    if (!names) { next(); return; }
    const host = hostOf(req.headers.host ?? '');
    if (isIP(host) || names.has(host)) { next(); return; }
    res.status(421).json({
      error: `this gateway is not known by the name "${host.slice(0, 100)}": open it by its address or its own name, or add the name to security.allowedHosts`,
    });
  };
}
