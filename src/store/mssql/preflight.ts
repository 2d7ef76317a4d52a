// The preflight a DBA reads before signing off a database for Inlet (`inlet migrate --check`, and
// /health): what the server and the database are, judged against what Inlet needs. The facts come
// from one read-only query that any user of the database may run; the judgement is a pure function.

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface PreflightCheck {
  name: 'version' | 'edition' | 'compatibility level' | 'read committed snapshot' | 'recovery model' | 'collation' | 'free space';
  level: CheckLevel;
  detail: string;
}

export interface PreflightReport {
  at: string;
  /** fail: Inlet refuses this database (the bootstrap stops on the first two); warn: works, but read the detail. */
  level: CheckLevel;
  checks: PreflightCheck[];
}

/** One row of PREFLIGHT_SQL. Sizes in 8 KB pages; maxPages -1 when a file may grow without limit. */
export interface PreflightFacts {
  productVersion: string;
  productLevel: string;
  edition: string;
  engineEdition: number;
  compatibilityLevel: number;
  readCommittedSnapshot: boolean;
  recoveryModel: string;
  collation: string;
  usedPages: number;
  allocatedPages: number;
  maxPages: number;
}

/** Read-only, public metadata only (SERVERPROPERTY, sys.databases, sys.database_files, FILEPROPERTY). */
export const PREFLIGHT_SQL = `SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
    CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)) AS product_level,
    CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
    CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition,
    d.compatibility_level, d.is_read_committed_snapshot_on, d.recovery_model_desc, d.collation_name,
    f.used_pages, f.allocated_pages, f.max_pages
  FROM sys.databases AS d
  CROSS JOIN (SELECT SUM(CAST(FILEPROPERTY(df.name, 'SpaceUsed') AS bigint)) AS used_pages,
                     SUM(CAST(df.size AS bigint)) AS allocated_pages,
                     CASE WHEN MIN(df.max_size) = -1 THEN -1 ELSE SUM(CAST(df.max_size AS bigint)) END AS max_pages
              FROM sys.database_files AS df
              WHERE df.type = 0) AS f
  WHERE d.database_id = DB_ID();`;

/** SQL Server 2016 SP1: CREATE OR ALTER, STRING_ESCAPE at level 130, page compression in every edition. */
export const MINIMUM_VERSION = { major: 13, build: 4001, name: 'SQL Server 2016 SP1 (13.0.4001)' };
const AZURE_ENGINE_EDITIONS = new Set([5, 8]);
const EXPRESS_ENGINE_EDITION = 4;
const EXPRESS_DATA_LIMIT_PAGES = 10 * 1024 * 1024 / 8; // 10 GB in 8 KB pages

const mb = (pages: number) => Math.round(pages * 8 / 1024);

export function evaluatePreflight(f: PreflightFacts, now = new Date()): PreflightReport {
  const checks: PreflightCheck[] = [];
  const [major, , build] = f.productVersion.split('.').map(Number);
  const azure = AZURE_ENGINE_EDITIONS.has(f.engineEdition);
  const versionOk = azure || major > MINIMUM_VERSION.major || (major === MINIMUM_VERSION.major && build >= MINIMUM_VERSION.build);
  checks.push({
    name: 'version', level: versionOk ? 'ok' : 'fail',
    detail: `${f.productVersion} ${f.productLevel}${versionOk ? '' : `: Inlet needs ${MINIMUM_VERSION.name} or later; apply the service pack or upgrade`}`,
  });

  const express = f.engineEdition === EXPRESS_ENGINE_EDITION;
  checks.push({
    name: 'edition', level: express ? 'warn' : 'ok',
    detail: express
      ? `${f.edition}: 10 GB of data per database, 1 socket / 4 cores, no SQL Server Agent for backups; plan raw-body retention (docs/sqlserver.md)`
      : f.edition,
  });

  checks.push({
    name: 'compatibility level', level: f.compatibilityLevel >= 130 ? 'ok' : 'fail',
    detail: f.compatibilityLevel >= 130 ? String(f.compatibilityLevel)
      : `${f.compatibilityLevel}: Inlet needs 130 or higher (STRING_ESCAPE, the 2016 optimizer): ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = 130`,
  });

  checks.push({
    name: 'read committed snapshot', level: f.readCommittedSnapshot ? 'ok' : 'warn',
    detail: f.readCommittedSnapshot ? 'on'
      : 'off: viewer reads wait for group commits and can block them; ALTER DATABASE <db> SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE',
  });

  const recovery = f.recoveryModel.toUpperCase();
  checks.push({
    name: 'recovery model', level: recovery === 'FULL' || azure ? 'ok' : 'warn',
    detail: recovery === 'FULL' || azure ? `${recovery} (take log backups, e.g. every 15 minutes)`
      : `${recovery}: a restore loses every acknowledged reading since the last full or differential backup; use FULL with log backups (docs/sqlserver.md)`,
  });

  checks.push({ name: 'collation', level: 'ok', detail: `${f.collation} (Inlet sets its own collation where case or bytes matter)` });

  const limitPages = [f.maxPages > 0 ? f.maxPages : Infinity, express ? EXPRESS_DATA_LIMIT_PAGES : Infinity].reduce((a, b) => Math.min(a, b));
  const share = Number.isFinite(limitPages) ? f.usedPages / limitPages : 0;
  checks.push({
    name: 'free space', level: share >= 0.95 ? 'fail' : share >= 0.8 ? 'warn' : 'ok',
    detail: `data files: ${mb(f.usedPages)} MB used of ${mb(f.allocatedPages)} MB allocated` +
      (Number.isFinite(limitPages) ? `, limit ${mb(limitPages)} MB (${Math.round(share * 100)}% used)${share >= 0.8 ? ': writes stop at the limit (error 1105) and uploads wait in the spool; free space or raise the limit' : ''}` : ', growth unlimited'),
  });

  const level: CheckLevel = checks.some((c) => c.level === 'fail') ? 'fail' : checks.some((c) => c.level === 'warn') ? 'warn' : 'ok';
  return { at: now.toISOString(), level, checks };
}

/** Lines for a console: one per check, the worst level first in the heading. */
export function formatPreflight(report: Pick<PreflightReport, 'level'> & { checks: { name: string; level: CheckLevel; detail: string }[] }, target: string): string[] {
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  return [
    `SQL Server preflight (${target}): ${report.level === 'ok' ? 'ready' : report.level === 'warn' ? 'ready, with warnings' : 'NOT READY'}`,
    ...report.checks.map((c) => `  ${mark[c.level]} ${c.name}: ${c.detail}`),
  ];
}
