// The checks `inlet start` makes on a loaded configuration before it opens anything, in one place, so that
// `inlet config check` (and the installer's configure step) refuse exactly what start would refuse:
// a config that passes here does not crash-loop the service for a reason the check could have named.
import type { InletConfig } from './schema.ts';
import { dataPath } from './load.ts';
import { validateInstanceName } from '../service/control.ts';
import { parseConnectionString } from '../store/mssql/connection.ts';
import { loadTlsOptions } from '../tls.ts';

export interface PreflightResult {
  /** What was checked, for people: one line each. */
  checked: string[];
}

/** Throws the first problem, worded for the person who must fix it. */
export function preflight(config: InletConfig): PreflightResult {
  const checked: string[] = [];
  validateInstanceName(config.instanceName);
  checked.push(`instanceName "${config.instanceName}"`);
  if (config.store.kind === 'mssql') {
    const { describe } = parseConnectionString(config.store.mssql.connectionString);
    checked.push(`store.mssql.connectionString: ${describe}`);
  }
  if (config.https.enabled) {
    const tls = loadTlsOptions(config.https, (file) => dataPath(config, file));
    checked.push(`HTTPS certificate ${tls.certificate.subject}, valid to ${new Date(tls.certificate.validTo).toISOString()}`);
  }
  return { checked };
}
