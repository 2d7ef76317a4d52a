// What the SQL Server migrations deny the service role, read from their text: shared by the static
// checks (test/unit/mssql-sql.test.ts) and the least-privilege contract (test/contract/mssql.test.ts),
// which attempts each right.
import { loadMigrations } from '../../src/store/migrations.ts';

/** Each `DENY <rights> ON OBJECT::inlet.<table> TO inlet_service` the migrations apply: table → rights. */
export function serviceDenies(): Map<string, Set<string>> {
  const denies = new Map<string, Set<string>>();
  for (const m of loadMigrations('mssql')) {
    // Some DENY statements sit inside EXEC (N'...'): the text is read with its strings.
    for (const d of m.sql.matchAll(/DENY\s+([A-Z, ]+?)\s+ON\s+OBJECT::(inlet\.\w+)\s+TO\s+inlet_service/gi)) {
      const rights = denies.get(d[2].toLowerCase()) ?? new Set<string>();
      for (const r of d[1].split(',')) rights.add(r.trim().toUpperCase());
      denies.set(d[2].toLowerCase(), rights);
    }
  }
  return denies;
}
