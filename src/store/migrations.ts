// Versioned migrations live in sql/<dialect>/NNN_name.sql, applied in order and recorded
// with a checksum, so a changed file that was already applied is refused instead of ignored.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export const SQL_ROOT = fileURLToPath(new URL('../../sql/', import.meta.url));

export function loadMigrations(dialect: 'sqlite' | 'mssql', root = SQL_ROOT): Migration[] {
  const dir = path.join(root, dialect);
  const files = readdirSync(dir).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((file) => {
    const sql = readFileSync(path.join(dir, file), 'utf8');
    return {
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    };
  });
}

export interface AppliedMigration { version: number; checksum: string }

/** Which migrations still need applying (up to `upTo`); throws if an applied one was edited afterwards. */
export function pendingMigrations(all: Migration[], applied: AppliedMigration[], upTo = Number.POSITIVE_INFINITY): Migration[] {
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  for (const m of all) {
    const done = byVersion.get(m.version);
    if (done && done.checksum !== m.checksum) {
      throw new Error(`migration ${m.version}_${m.name} was changed after it was applied ` +
        `(checksum ${done.checksum.slice(0, 12)} in the database, ${m.checksum.slice(0, 12)} on disk); ` +
        'restore the original file and add a new migration instead');
    }
  }
  const known = new Set(all.map((m) => m.version));
  const unknown = applied.filter((a) => !known.has(a.version));
  if (unknown.length) {
    throw new Error(`the database has migration(s) ${unknown.map((u) => u.version).join(', ')} that this Inlet ` +
      'version does not know: it was migrated by a newer Inlet; upgrade Inlet instead of downgrading');
  }
  return all.filter((m) => !byVersion.has(m.version) && m.version <= upTo);
}
