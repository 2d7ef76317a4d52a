// The heads file: after every verification that found the store intact, the head of each upload
// chain and of the audit chain is written beside chain.key, outside the database, signed with the
// chain key. The next verification checks that every head it names is still there with the same
// hash, so cutting the newest uploads or events off (together with the checkpoints, which live in
// the same database) is found. Someone who can rewrite the database but not read chain.key cannot
// forge the file; replacing it with an older copy hides only what was added since that copy.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export const HEADS_FILE = 'chain.heads';

export interface ExportedHeads {
  writtenAt: number;
  uploads: { chain: number; uploadId: number; hash: string }[];
  events: { id: number; hash: string } | null;
}

interface HeadsFileText extends ExportedHeads { version: 1; signature: string }

function sign(key: Uint8Array, heads: ExportedHeads): string {
  return createHmac('sha256', key).update('inlet heads file v1').update(JSON.stringify([heads.writtenAt, heads.uploads, heads.events])).digest('hex');
}

export function writeHeadsFile(file: string, key: Uint8Array, heads: ExportedHeads): void {
  const text: HeadsFileText = { version: 1, ...heads, signature: sign(key, heads) };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(text, null, 1)}\n`, { mode: 0o600, flush: true });
  renameSync(`${file}.tmp`, file);
}

/** null: no file yet (no verification has passed). Throws when the file is damaged or its signature is wrong. */
export function readHeadsFile(file: string, key: Uint8Array): ExportedHeads | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: HeadsFileText;
  try { parsed = JSON.parse(text) as HeadsFileText; } catch { throw new Error(`the heads file ${file} is not JSON: it was damaged or replaced`); }
  const heads: ExportedHeads = { writtenAt: parsed.writtenAt, uploads: parsed.uploads ?? [], events: parsed.events ?? null };
  const expected = Buffer.from(sign(key, heads), 'hex');
  const given = Buffer.from(String(parsed.signature ?? ''), 'hex');
  if (parsed.version !== 1 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Error(`the heads file ${file} does not carry a valid signature under this chain key: it was edited or forged`);
  }
  return heads;
}

/** The HMAC the heads file carries, for copies sent elsewhere (syslog: src/jobs/syslog-heads.ts). */
export function headsSignature(key: Uint8Array, heads: ExportedHeads): string {
  return sign(key, heads);
}
