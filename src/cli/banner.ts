// The line `inlet start` prints once the gateway listens.
import type { InletConfig } from '../config/schema.ts';
import { publicBaseUrl } from '../admin/devices.ts';
import { VERSION } from '../version.ts';

/**
 * The first line a person reads: the address devices and browsers should use (the one the entry
 * points printed by `inlet device add` use), then where the gateway listens.
 */
export function startBanner(config: InletConfig, gateway: { port: number; httpsUrl: string | null; store: { kind: string } }, asService: boolean): string {
  const host = config.http.host;
  const everywhere = host === '0.0.0.0' || host === '::';
  const listening = everywhere ? `all interfaces, port ${gateway.port}` : `http://${host.includes(':') ? `[${host}]` : host}:${gateway.port}`;
  const base = publicBaseUrl({ ...config, http: { ...config.http, port: gateway.port } });
  return `Inlet ${VERSION}: devices and browsers use ${base}/ (listening on ${listening}${gateway.httpsUrl ? `; also ${gateway.httpsUrl}` : ''}), ` +
    `store ${gateway.store.kind}, data in ${config.dataDir}${asService ? ', as a service' : ''}`;
}
