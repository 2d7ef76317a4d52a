// The chain key: 32 random bytes kept beside the gateway (<dataDir>/chain.key), never in the
// database. New chain links are HMAC-SHA256 under it (domain/chain.ts), so a database
// administrator who rewrites rows and recomputes SHA-256 hashes still leaves a chain that
// `inlet verify` rejects. The database records only the key's fingerprint and the first upload id
// linked under it, so that an instance started without the key (or with another) refuses to
// write instead of starting an unkeyed chain beside a keyed one. The file is the reference: it is
// what verification trusts, since anything in the database could have been rewritten with the rows.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LogSink } from '../domain/log-sink.ts';
import type { Store } from './store.ts';

export const CHAIN_KEY_FILE = 'chain.key';
export const CHAIN_KEY_EVENT = 'integrity.chain-key';

export interface ChainKey {
  key: Uint8Array;
  /** Not secret: names the key in the database, in logs and in verification reports. */
  fingerprint: string;
  /** Uploads from this id on are linked under the key; earlier ones (written before keys) are not. */
  keyedFromUploadId: number;
  /**
   * Uploads from this id on are hashed over every column (hash version 3: remote address and content
   * type too). Infinity when the file predates that: every keyed upload is then version 2.
   */
  allColumnsFromUploadId: number;
  createdAt: string;
}

interface ChainKeyText { version: 1; key: string; keyedFromUploadId: number; allColumnsFromUploadId?: number; createdAt: string }

export function fingerprintOf(key: Uint8Array): string {
  return createHmac('sha256', key).update('inlet chain key fingerprint').digest('hex').slice(0, 16);
}

/** Reads the key file; null when there is none. A damaged file is an error, never a new key. */
export function readChainKey(file: string): ChainKey | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`the chain key ${file} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let parsed: ChainKeyText;
  try {
    parsed = JSON.parse(text) as ChainKeyText;
  } catch {
    throw new Error(`the chain key ${file} is damaged (not JSON): restore it from the backup`);
  }
  if (parsed.version !== 1 || !/^[0-9a-f]{64}$/.test(parsed.key ?? '') || !Number.isInteger(parsed.keyedFromUploadId) || parsed.keyedFromUploadId < 1) {
    throw new Error(`the chain key ${file} is damaged (unexpected content): restore it from the backup`);
  }
  const key = Buffer.from(parsed.key, 'hex');
  const allColumnsFrom = Number.isInteger(parsed.allColumnsFromUploadId) ? parsed.allColumnsFromUploadId! : Number.POSITIVE_INFINITY;
  return { key, fingerprint: fingerprintOf(key), keyedFromUploadId: parsed.keyedFromUploadId, allColumnsFromUploadId: allColumnsFrom, createdAt: parsed.createdAt };
}

function writeChainKeyFile(file: string, text: ChainKeyText): void {
  // The data folder may not exist yet: with a SQL Server store nothing else creates it before the key.
  mkdirSync(path.dirname(file), { recursive: true });
  // Aside and renamed, so a crash never leaves half a key; readable by the owner only where modes apply.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(text, null, 2)}\n`, { mode: 0o600, flush: true });
  renameSync(`${file}.tmp`, file);
}

function createChainKey(file: string, keyedFromUploadId: number, now: Date): ChainKey {
  const key = randomBytes(32);
  const text: ChainKeyText = { version: 1, key: key.toString('hex'), keyedFromUploadId, allColumnsFromUploadId: keyedFromUploadId, createdAt: now.toISOString() };
  writeChainKeyFile(file, text);
  return { key, fingerprint: fingerprintOf(key), keyedFromUploadId, allColumnsFromUploadId: keyedFromUploadId, createdAt: text.createdAt };
}

/**
 * A key file from before hash version 3 gets the first upload id this gateway will hash over every
 * column: uploads up to now stay version 2 and keep verifying. Written before anything is stored.
 */
async function markAllColumnsFrom(store: Store, file: string, key: ChainKey, log: LogSink): Promise<ChainKey> {
  if (Number.isFinite(key.allColumnsFromUploadId)) return key;
  const { maxId } = await store.uploadStats();
  const allColumnsFromUploadId = maxId + 1;
  writeChainKeyFile(file, { version: 1, key: Buffer.from(key.key).toString('hex'), keyedFromUploadId: key.keyedFromUploadId, allColumnsFromUploadId, createdAt: key.createdAt });
  log.warn(`the chain key ${file} now also records that uploads from #${allColumnsFromUploadId} on are hashed over every column: back the file up again`);
  return { ...key, allColumnsFromUploadId };
}

/**
 * The key this gateway links uploads under, made on the first start. Refuses (throws) when the
 * file and the database disagree: a database keyed by another instance needs that instance's file.
 * Databases written before keys keep their earlier uploads as they are; uploads from now on are keyed.
 */
export async function resolveChainKey(store: Store, file: string, log: LogSink, now = new Date()): Promise<ChainKey> {
  const found = readChainKey(file);
  const [marker] = await store.events({ type: CHAIN_KEY_EVENT, limit: 1 });
  const recorded = marker?.data as { fingerprint?: string } | undefined;
  if (found && recorded?.fingerprint && recorded.fingerprint !== found.fingerprint) {
    throw new Error(`the chain key ${file} (fingerprint ${found.fingerprint}) is not the key this database's uploads are linked under ` +
      `(fingerprint ${recorded.fingerprint}): put that key's file in place (from the other Inlet instance or the backup)`);
  }
  if (!found && recorded?.fingerprint) {
    throw new Error(`this database's uploads are linked under a chain key (fingerprint ${recorded.fingerprint}) but ${file} is missing: ` +
      'copy chain.key from the Inlet instance that made it, or restore it from the backup, then start again');
  }
  let key = found ? await markAllColumnsFrom(store, file, found, log) : null;
  if (!key) {
    const { count, maxId } = await store.uploadStats();
    key = createChainKey(file, maxId + 1, now);
    log.warn(`created the chain key ${file}: back it up with the database; without it the hash chains cannot be verified`, { fingerprint: key.fingerprint });
    if (count) log.warn(`uploads up to #${maxId} were linked before chain keys existed and stay unkeyed; only uploads from #${maxId + 1} on are protected by the key`);
  }
  // Events are linked under the key from the first one on, this marker included.
  store.useChainKey(key.key);
  if (!recorded) {
    await store.addEvent({
      at: now.getTime(), deviceId: null, type: CHAIN_KEY_EVENT, level: 'info',
      message: `uploads from #${key.keyedFromUploadId} on are linked under the chain key with fingerprint ${key.fingerprint}`,
      data: { fingerprint: key.fingerprint, keyedFromUploadId: key.keyedFromUploadId },
    });
  }
  return key;
}

/**
 * For commands that write events but store no uploads: links them under the gateway's key when it
 * has made one, and makes none (a first run before the gateway's first start stays unkeyed, a
 * prefix of the audit chain that verification accepts). Refuses, as the gateway does, to write
 * beside a keyed database without its key. Returns whether a key is in use.
 */
export async function useExistingChainKey(store: Store, file: string): Promise<boolean> {
  const found = readChainKey(file);
  if (found) {
    const [marker] = await store.events({ type: CHAIN_KEY_EVENT, limit: 1 });
    const recorded = (marker?.data as { fingerprint?: string } | undefined)?.fingerprint;
    if (recorded && recorded !== found.fingerprint) {
      throw new Error(`the chain key ${file} (fingerprint ${found.fingerprint}) is not the key this database is linked under (fingerprint ${recorded}): put that key's file in place`);
    }
    store.useChainKey(found.key);
    return true;
  }
  const [marker] = await store.events({ type: CHAIN_KEY_EVENT, limit: 1 });
  if (marker) {
    throw new Error(`this database is linked under a chain key but ${file} is missing: copy chain.key from the Inlet instance that made it, or restore it from the backup, then try again`);
  }
  return false;
}
