// `inlet backup --out <file>`: a consistent copy of the embedded (SQLite) store while the gateway runs.
//
// SQLite's online backup (node:sqlite backup()) copies the pages of a read snapshot: in WAL mode the
// gateway keeps committing meanwhile, and the copy holds exactly the transactions committed when the copy
// began. All pages go in one step, so a busy gateway cannot make the copy start over again and again.
// Uploads are acknowledged once journaled and applied to the database a moment later: the copy waits
// until the database holds every upload the journal held when the command began (bounded: a gateway
// that is not running applies nothing, and the command then says what the copy lacks).
// The copy is then opened and its hash chains walked with the gateway's chain key, as `inlet verify` does,
// without writing anything into it; a copy that fails is deleted and the command exits 1.
// SQL Server has its own backups (docs/sqlserver.md); this command refuses that store.
import { backup, DatabaseSync } from 'node:sqlite';
import fs from 'node:fs';
import path from 'node:path';
import type { InletConfig } from '../config/schema.ts';
import { dataPath } from '../config/load.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { readChainKey } from '../store/chain-key.ts';
import { lastUnappliedRecord } from '../store/spool/journal.ts';
import { uploadKeyOf } from '../store/spool/record-codec.ts';
import { verifyIntegrity } from '../jobs/verify.ts';
import { UsageError, parse } from './args.ts';

export const BACKUP_USAGE = 'usage: inlet backup --out <file> [--force]   (the embedded SQLite store; SQL Server: use SQL Server backups)';

export async function backupCommand(argv: string[], config: InletConfig, chainKeyFile: string, out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' }, force: { type: 'boolean' } });
  if (typeof values.out !== 'string' || values.out === '') throw new UsageError(`--out <file> is required\n${BACKUP_USAGE}`);
  if (config.store.kind !== 'sqlite') {
    throw new UsageError('inlet backup copies the embedded SQLite store; this configuration uses SQL Server: back up the database with SQL Server backups (docs/sqlserver.md)');
  }
  const source = dataPath(config, config.store.sqlite.file);
  const target = path.resolve(values.out);
  if (!fs.existsSync(source)) throw new UsageError(`there is no database at ${source} to back up (check dataDir and store.sqlite.file in the config)`);
  if (path.resolve(source) === target) throw new UsageError('--out names the live database itself: choose another file');
  if (fs.existsSync(target) && values.force !== true) throw new UsageError(`${target} exists: choose a new name, or add --force to replace it`);
  if (!fs.existsSync(path.dirname(target))) throw new UsageError(`the folder ${path.dirname(target)} does not exist`);

  const started = Date.now();
  const notApplied = await waitForJournalApplied(source, path.join(config.dataDir, 'spool'));
  if (notApplied) out(notApplied);
  // Written under a temporary name and renamed: a half-written copy never carries the name IT asked for.
  const partial = `${target}.partial-${process.pid}`;
  const db = new DatabaseSync(source, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 10000');
    await backup(db, partial, { rate: 2_000_000_000 });
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw new Error(`backup of ${source} failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  // The copy is its own database: one file, no -wal beside it.
  const copy = new DatabaseSync(partial);
  try {
    copy.exec('PRAGMA journal_mode = DELETE');
    const check = copy.prepare('PRAGMA integrity_check').all() as Array<Record<string, string>>;
    const verdict = Object.values(check[0] ?? {})[0];
    if (verdict !== 'ok') throw new Error(`integrity_check of the copy: ${verdict}`);
  } catch (err) {
    copy.close();
    fs.rmSync(partial, { force: true });
    throw new Error(`the copy of ${source} is not usable (${(err as Error).message}); nothing was kept`);
  }
  copy.close();

  const store = new SqliteStore({ file: partial, writeInWorker: false });
  let summary: string;
  try {
    const chainKey = readChainKey(chainKeyFile);
    const report = await verifyIntegrity(store, { chainKey });
    if (!report.ok) throw new Error(`its hash chains do not verify (${report.problemCount} problem(s)); run \`inlet verify\` on the live database`);
    summary = `${report.uploadsChecked} uploads, ${report.samplesChecked} samples, ${report.chains} chains verified`;
  } catch (err) {
    await store.close();
    fs.rmSync(partial, { force: true });
    throw new Error(`the copy of ${source} was not kept: ${(err as Error).message}`);
  }
  await store.close();
  fs.renameSync(partial, target);
  const mb = (fs.statSync(target).size / 1048576).toFixed(1);
  out(`backed up ${source} to ${target} (${mb} MB, ${summary}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  out(`keep ${chainKeyFile} and the configuration file with it: without chain.key the copy cannot be verified`);
  return 0;
}

/** How long a backup waits for the gateway to apply what the journal held when it began. */
const JOURNAL_WAIT_MS = 30_000;

/**
 * Waits until the live database holds the upload key of the journal's last record not yet applied
 * when the backup began. Returns null when it does (or nothing was waiting), else a line for IT.
 */
async function waitForJournalApplied(database: string, spoolDir: string): Promise<string | null> {
  const last = lastUnappliedRecord(spoolDir);
  if (!last) return null;
  const key = uploadKeyOf(last.journalId, last.position);
  const db = new DatabaseSync(database, { readOnly: true, timeout: 10_000 });
  try {
    const stored = db.prepare('SELECT 1 AS found FROM uploads WHERE upload_key = ?');
    const giveUpAt = Date.now() + JOURNAL_WAIT_MS;
    while (stored.get(key) === undefined) {
      if (Date.now() >= giveUpAt) {
        return `note: uploads acknowledged before the backup began were still in the journal (${spoolDir}) after ${JOURNAL_WAIT_MS / 1000} s ` +
          '(is the gateway running?): the copy lacks them; the gateway applies them to the live database when it runs';
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return null;
  } finally {
    db.close();
  }
}
