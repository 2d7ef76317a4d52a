// Password hashing for viewer users: scrypt (memory-hard) from @noble/hashes, stored as a
// self-describing string "$scrypt$ln=15,r=8,p=1$<salt>$<hash>" (base64, PHC style) so the cost
// can be raised later while old hashes keep verifying. Used by the API and `inlet user`.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { scryptAsync } from '@noble/hashes/scrypt.js';

const CURRENT = { ln: 15, r: 8, p: 1 };   // N = 2^15: 32 MiB and ~0.25 s per hash
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

async function derive(password: string, salt: Uint8Array, params: { ln: number; r: number; p: number }): Promise<Uint8Array> {
  return scryptAsync(password.normalize('NFC'), salt, { N: 2 ** params.ln, r: params.r, p: params.p, dkLen: KEY_BYTES, maxmem: 2 ** 27 });
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, CURRENT);
  return `$scrypt$ln=${CURRENT.ln},r=${CURRENT.r},p=${CURRENT.p}$${b64(salt)}$${b64(key)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.ln < 10 || params.ln > 20) return false;
  const expected = Buffer.from(m[5], 'base64');
  const key = await derive(password, Buffer.from(m[4], 'base64'), params);
  return expected.length === key.length && timingSafeEqual(expected, key);
}

/** A real hash of nothing anyone can type, verified for unknown usernames so they take as long as known ones. */
let decoyHash: Promise<string> | null = null;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(32).toString('hex'));
  return decoyHash;
}

const COMMON = new Set([
  'password', 'passw0rd', 'password1', 'password123', '123456789', '1234567890', 'qwertyuiop', 'qwertzuiop',
  'administrator', 'admin12345', 'letmein123', 'welcome123', 'iloveyou', 'changeme', 'changeme123', 'inlet12345', 'comet12345',
]);

export const MIN_PASSWORD_LENGTH = 10;

/** Why a password is too weak, or null when it is acceptable. The message tells the user what to do. */
export function passwordWeakness(password: string, username: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 200) return 'the password must have at most 200 characters';
  if (new Set(password).size < 5) return 'the password repeats too few different characters: use at least 5 different ones';
  const lower = password.toLowerCase();
  if (username && lower.includes(username.toLowerCase())) return 'the password must not contain the user name';
  if (COMMON.has(lower)) return 'this password is on the list of the most common passwords: choose another';
  return null;
}
