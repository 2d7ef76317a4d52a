// The data folder holds the database, the chain key, the journal and the logs: readable by the
// service account only. Windows has no POSIX modes (the installer sets the folder's ACL there);
// chmod is then a harmless no-op.
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const OWNER_ONLY_DIR = 0o700;
export const OWNER_ONLY_FILE = 0o600;

/**
 * Creates the folder owner-only, makes it and every file and folder in it owner-only, and sets this
 * process's umask so that files created later (SQLite's WAL, the journal, snapshots) are too.
 */
export function secureDataDir(dir: string): void {
  if (process.platform !== 'win32') process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: OWNER_ONLY_DIR });
  chmodSync(dir, OWNER_ONLY_DIR);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    try {
      if (entry.isDirectory()) chmodSync(full, OWNER_ONLY_DIR);
      else if (entry.isFile()) chmodSync(full, OWNER_ONLY_FILE);
    } catch {
      // a file another program owns (or one just removed): left as it is
    }
  }
}
