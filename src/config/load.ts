// Loads inlet.config.json (or the file named by INLET_CONFIG / --config), fills defaults,
// applies environment overrides and validates. Every error names the key and what to do.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { DEFAULT_CONFIG, type InletConfig } from './schema.ts';
import { decodeConfigText } from './text.ts';
import { installedConfigFile } from './installed.ts';
import { configValidator } from './validator.ts';

export class ConfigError extends Error {}

type Plain = Record<string, unknown>;

function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object'
      ? merge(base[k] as Plain, v as Plain) : v;
  }
  return out;
}

/** Environment variables that override single keys, for containers, CI and the installer. */
const ENV_OVERRIDES: [string, string, 'string' | 'integer' | 'boolean'][] = [
  ['INLET_DATA_DIR', 'dataDir', 'string'],
  ['INLET_PUBLIC_URL', 'publicUrl', 'string'],
  ['INLET_HTTP_HOST', 'http.host', 'string'],
  ['INLET_HTTP_PORT', 'http.port', 'integer'],
  ['INLET_HTTPS_ENABLED', 'https.enabled', 'boolean'],
  ['INLET_HTTPS_PORT', 'https.port', 'integer'],
  ['INLET_STORE', 'store.kind', 'string'],
  ['INLET_MSSQL_CONNECTION', 'store.mssql.connectionString', 'string'],
  ['INLET_LOG_LEVEL', 'log.level', 'string'],
  ['INLET_SMTP_PASSWORD', 'smtp.password', 'string'],
  ['INLET_DIRECTORY_PASSWORD', 'directory.bindPassword', 'string'],
  // off only for commissioning, benchmarks and the crash tests, which post faster than any device may
  ['INLET_THROTTLE_ENABLED', 'throttle.enabled', 'boolean'],
  // off only for tests and benchmarks whose simulated devices send readings older than their registration
  ['INLET_QUARANTINE_BACKFILL', 'security.quarantineBackfill', 'boolean'],
];

function setPath(target: Plain, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Plain;
  node[keys[keys.length - 1]] = value;
}

function describe(e: ErrorObject): string {
  const key = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key "${key === '(top level)' ? '' : `${key}.`}${(e.params as { additionalProperty: string }).additionalProperty}": remove it or check its spelling`;
    case 'enum':
      return `"${key}" must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `"${key}" must be of type ${(e.params as { type: string }).type}`;
    case 'format':
      return (e.params as { format: string }).format === 'cron'
        ? `"${key}" is not a cron expression: give minute hour day-of-month month day-of-week, e.g. "30 2 * * *" for 02:30 every day`
        : `"${key}" ${e.message ?? 'is invalid'}`;
    default:
      return `"${key}" ${e.message ?? 'is invalid'}`;
  }
}

export interface LoadedConfig { config: InletConfig; file: string | null }

export function resolveConfigFile(explicit?: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (explicit) return path.resolve(explicit);
  if (env.INLET_CONFIG) return path.resolve(env.INLET_CONFIG);
  const local = path.resolve('inlet.config.json');
  if (existsSync(local)) return local;
  // An installed copy (MSI) uses the service's configuration, never a second database under the current folder.
  return installedConfigFile(env);
}

/** Names where the missing file's name came from, so the advice fits: the option, or the variable. */
function missingConfigFileMessage(file: string, explicitFile: string | undefined, env: NodeJS.ProcessEnv): string {
  if (explicitFile) return `config file ${file} (given with --config) does not exist: check the path, or leave out --config to use ${env.INLET_CONFIG ? '$INLET_CONFIG' : './inlet.config.json or the built-in defaults'}`;
  return `config file ${file} (named by the environment variable INLET_CONFIG) does not exist: create it, or unset INLET_CONFIG to run with ./inlet.config.json or the built-in defaults`;
}

export function loadConfig(explicitFile?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const file = resolveConfigFile(explicitFile, env);
  let fromFile: Plain = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(missingConfigFileMessage(file, explicitFile, env));
    try {
      fromFile = JSON.parse(decodeConfigText(readFileSync(file))) as Plain;
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (!fromFile || typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  // A copy: merge() shares the sections the file does not mention, and env overrides write into them.
  const merged = merge(structuredClone(DEFAULT_CONFIG) as unknown as Plain, fromFile);
  for (const [name, key, type] of ENV_OVERRIDES) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (type === 'integer') {
      value = Number(raw);
      if (!Number.isInteger(value)) throw new ConfigError(`environment variable ${name}="${raw}" must be a whole number (it sets "${key}")`);
    } else if (type === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(`environment variable ${name}="${raw}" must be true or false (it sets "${key}")`);
      value = raw === 'true' || raw === '1';
    }
    setPath(merged, key, value);
  }
  const validateConfig = configValidator();
  if (!validateConfig(merged)) {
    const problems = (validateConfig.errors ?? []).map(describe);
    throw new ConfigError(`configuration${file ? ` in ${file}` : ''} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  const config = merged as unknown as InletConfig;
  if (config.store.kind === 'mssql' && !config.store.mssql.connectionString) {
    throw new ConfigError('"store.kind" is "mssql" but "store.mssql.connectionString" is empty: set it (or INLET_MSSQL_CONNECTION)');
  }
  if (config.audit.syslog.enabled && !config.audit.syslog.host.trim()) {
    throw new ConfigError('"audit.syslog.enabled" is true but "audit.syslog.host" is empty: name the syslog server the chain heads go to (docs/retention.md)');
  }
  if (config.https.enabled && (!config.https.certFile || !config.https.keyFile)) {
    throw new ConfigError('"https.enabled" is true but "https.certFile" or "https.keyFile" is empty: give the PEM files');
  }
  if (config.security.viewerHttpsOnly && !config.https.enabled) {
    throw new ConfigError('"security.viewerHttpsOnly" is true but "https.enabled" is false: enable HTTPS (docs/https.md) or set viewerHttpsOnly to false');
  }
  const { retention } = config;
  if (retention.enabled && retention.keepDays < 1) {
    throw new ConfigError('"retention.enabled" is true but "retention.keepDays" is not set: give the number of days data must be kept before it may be purged (e.g. 3650 for ten years), or set "retention.enabled" to false');
  }
  if (retention.auditKeepDays > 0 && retention.auditKeepDays < retention.keepDays) {
    throw new ConfigError(`"retention.auditKeepDays" (${retention.auditKeepDays}) is shorter than "retention.keepDays" (${retention.keepDays}): the audit trail must be kept at least as long as the data it explains; raise it, or set 0 to keep events and alarms for ever`);
  }
  if (config.jobs.timezone && !isTimeZone(config.jobs.timezone)) {
    throw new ConfigError(`"jobs.timezone" is "${config.jobs.timezone}", not a time zone this system knows: use an IANA name such as "Europe/Prague", or "" for the server's own`);
  }
  if (config.reports.timezone && !isTimeZone(config.reports.timezone)) {
    throw new ConfigError(`"reports.timezone" is "${config.reports.timezone}", not a time zone this system knows: use an IANA name such as "Europe/Prague", or "" for jobs.timezone`);
  }
  for (const s of config.reports.schedules) {
    s.mailTo ??= [];   // the validator fills in no defaults
    s.folder ??= '';
    if ((s.location === undefined) === (s.devices === undefined)) {
      throw new ConfigError(`scheduled report "${s.name}" in "reports.schedules" needs either "location" or "devices" (one of them)`);
    }
    if (!s.mailTo.length && !s.folder) {
      throw new ConfigError(`scheduled report "${s.name}" in "reports.schedules" goes nowhere: give "mailTo" addresses, a "folder", or both`);
    }
  }
  const { directory } = config;
  if (directory.enabled) {
    if (!directory.urls.length) throw new ConfigError('"directory.enabled" is true but "directory.urls" is empty: give the domain controllers, e.g. ["ldaps://dc1.example.local"]');
    if (!directory.baseDn) throw new ConfigError('"directory.enabled" is true but "directory.baseDn" is empty: give where accounts are searched, e.g. "DC=example,DC=local"');
    if (!directory.groups.length) throw new ConfigError('"directory.enabled" is true but "directory.groups" is empty: map at least one directory group to a role, or nobody from the directory can sign in');
    for (const g of directory.groups) {
      // The schema's defaults are not applied by this validator: a global group may leave "zones" out.
      g.zones ??= [];
      g.global ??= false;
      if (g.global && g.zones.length) throw new ConfigError(`"directory.groups": ${g.group} has both "global": true and zones; choose one`);
      if (!g.global && !g.zones.length) throw new ConfigError(`"directory.groups": ${g.group} names no zones: add "zones": ["Site/Building"] or "global": true`);
    }
  }
  const base = file ? path.dirname(file) : process.cwd();
  config.dataDir = path.resolve(base, config.dataDir);
  if (directory.caFile) directory.caFile = path.resolve(base, directory.caFile);
  return { config, file };
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function dataPath(config: InletConfig, relative: string): string {
  return path.resolve(config.dataDir, relative);
}
