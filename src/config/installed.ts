// Where the installed service's configuration is, for the `inlet` command of an installed copy.
//
// The MSI's payload carries app/installed.json (written by installer/build.sh), e.g.
//   { "config": { "underEnv": "ProgramData", "path": ["Inlet", "inlet.config.json"] } }
// so that `inlet user add ...` typed in any folder on the server works on the service's own configuration
// and database instead of silently creating a second one under the current folder. A source checkout has no
// such file and keeps the old rule (./inlet.config.json, else defaults).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** app/installed.json in a payload (this module is bundled as app/dist/cli/inlet.js, its URL relocated to app/dist/config/). */
export const INSTALLED_MARKER = fileURLToPath(new URL('../../installed.json', import.meta.url));

export interface InstalledMarker { config: { underEnv: string; path: string[] } }

/** The installed configuration file, or null when this copy was not installed by the MSI. */
export function installedConfigFile(env: NodeJS.ProcessEnv = process.env, marker = INSTALLED_MARKER): string | null {
  if (!existsSync(marker)) return null;
  const parsed = JSON.parse(readFileSync(marker, 'utf8')) as InstalledMarker;
  const base = env[parsed.config.underEnv] ?? (parsed.config.underEnv === 'ProgramData' ? 'C:\\ProgramData' : undefined);
  if (!base) throw new Error(`${marker} names the environment variable ${parsed.config.underEnv}, which is not set`);
  return path.join(base, ...parsed.config.path);
}
