// Password hashing for viewer users: scrypt (memory-hard), stored as a self-describing string
// "$scrypt$ln=15,r=8,p=1$<salt>$<hash>" (base64, PHC style) so the cost can be raised later while old
// hashes keep verifying. Used by the API and `inlet user`.
//
// node:crypto's scrypt runs on hash threads of its own at a lower priority (password-worker.ts), never
// on the thread that answers devices nor on libuv's pool (where the journal's file writes wait), and at
// most `concurrentHashes` run at once (each takes 32 MiB): a sign-in flood waits in a short queue and
// beyond it is answered 503 with Retry-After (PasswordHashBusyError) instead of eating memory and CPU.
// Hashes made earlier with @noble/hashes' scrypt are the same function and keep verifying.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashReply, HashRequest } from './password-worker.ts';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

const CURRENT = { ln: 15, r: 8, p: 1 };   // N = 2^15: 32 MiB and ~0.25 s per hash
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Too many password hashes already running or waiting: answer 503 and ask to retry after `retryAfterS`. */
export class PasswordHashBusyError extends Error {
  readonly retryAfterS = 2;
  constructor() { super('too many sign-ins at once: try again in a few seconds'); }
}

/** At most `running` hashes at once, `waiting` more queued; the rest are refused at once. */
const limits = { running: 2, waiting: 16 };
let running = 0;
const queue: (() => void)[] = [];

/** Sets how many hashes may run at once (security.concurrentPasswordHashes) and how many may wait. */
export function setPasswordHashConcurrency(concurrent: number, waiting = concurrent * 8): void {
  limits.running = Math.max(1, concurrent);
  limits.waiting = Math.max(0, waiting);
}

/** Hashes running and waiting now (for tests and /health). */
export function passwordHashLoad(): { running: number; waiting: number } {
  return { running, waiting: queue.length };
}

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= limits.running) {
    if (queue.length >= limits.waiting) throw new PasswordHashBusyError();
    await new Promise<void>((resolve) => queue.push(resolve));
  } else {
    running++;
  }
  try {
    return await work();
  } finally {
    // the slot passes straight to the next in the queue, so `running` never dips in between
    const next = queue.shift();
    if (next) next(); else running--;
  }
}

const WORKER_FILE = fileURLToPath(new URL(`./password-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));
/** Hash threads are ended after this long without work: an idle gateway keeps none (each holds memory). */
const HASH_THREAD_IDLE_MS = 60_000;

interface HashOwner { resolve: (key: Uint8Array) => void; reject: (err: Error) => void }
interface HashThread { worker: Worker; busy: boolean; dead: boolean; idleTimer: NodeJS.Timeout | null; owner?: HashOwner }
const idleThreads: HashThread[] = [];
const pendingHashes = new Map<number, HashOwner>();
let nextHashId = 1;

function startHashThread(): HashThread {
  const worker = new Worker(WORKER_FILE);
  const thread: HashThread = { worker, busy: false, dead: false, idleTimer: null };
  worker.on('message', (reply: HashReply) => {
    const waiting = pendingHashes.get(reply.id);
    pendingHashes.delete(reply.id);
    if (reply.ok) waiting?.resolve(reply.key); else waiting?.reject(new Error(reply.error));
  });
  const gone = (err: Error) => {
    thread.dead = true;
    const i = idleThreads.indexOf(thread);
    if (i >= 0) idleThreads.splice(i, 1);
    if (thread.busy) for (const [id, w] of pendingHashes) if (w === thread.owner) { pendingHashes.delete(id); w.reject(err); }
  };
  worker.on('error', gone);
  worker.on('exit', (code) => gone(new Error(`the password-hash thread exited with code ${code}`)));
  return thread;
}

/** scrypt on a hash thread (one hash per thread at a time: withHashSlot bounds how many run). */
function scryptOnHashThread(password: string, salt: Uint8Array, params: { N: number; r: number; p: number }): Promise<Uint8Array> {
  const thread = idleThreads.pop() ?? startHashThread();
  if (thread.idleTimer) { clearTimeout(thread.idleTimer); thread.idleTimer = null; }
  thread.busy = true;
  thread.worker.ref();
  const id = nextHashId++;
  return new Promise<Uint8Array>((resolve, reject) => {
    const owner = { resolve, reject };
    thread.owner = owner;
    pendingHashes.set(id, owner);
    thread.worker.postMessage({ id, password, salt, keyBytes: KEY_BYTES, ...params } satisfies HashRequest);
  }).finally(() => {
    thread.busy = false;
    thread.owner = undefined;
    thread.worker.unref();
    if (thread.dead) return;
    idleThreads.push(thread);
    thread.idleTimer = setTimeout(() => {
      const i = idleThreads.indexOf(thread);
      if (i >= 0) { idleThreads.splice(i, 1); void thread.worker.terminate(); }
    }, HASH_THREAD_IDLE_MS);
    thread.idleTimer.unref();
  });
}

function derive(password: string, salt: Uint8Array, params: { ln: number; r: number; p: number }): Promise<Uint8Array> {
  return withHashSlot(() => scryptOnHashThread(password.normalize('NFC'), salt, { N: 2 ** params.ln, r: params.r, p: params.p }));
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

export const MIN_PASSWORD_LENGTH = 10;
/** zxcvbn's score from 0 to 4; 3 is "safely unguessable: moderate protection from offline slow-hash attacks". */
const MIN_ZXCVBN_SCORE = 3;

/** zxcvbn-ts with its common-password and common-word lists; built on first use (about 0.3 s), or by warmPasswordPolicy(). */
let estimator: Promise<ZxcvbnFactory> | null = null;
export function warmPasswordPolicy(): Promise<ZxcvbnFactory> {
  // Loaded here, not with the module: its word lists cost memory that a gateway nobody changes a
  // password on does without. A dynamic import() (not createRequire) so that the installer's bundler
  // sees and bundles both packages.
  estimator ??= (async () => {
    const [{ ZxcvbnFactory: Factory }, { adjacencyGraphs, dictionary }] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common')]);
    return new Factory({ dictionary: { ...dictionary }, graphs: adjacencyGraphs });
  })();
  return estimator;
}

/** Why a password is too weak, or null when it is acceptable. The message tells the user what to do. */
export async function passwordWeakness(password: string, username: string): Promise<string | null> {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 200) return 'the password must have at most 200 characters';
  if (new Set(password).size < 5) return 'the password repeats too few different characters: use at least 5 different ones';
  const lower = password.toLowerCase();
  if (username && lower.includes(username.toLowerCase())) return 'the password must not contain the user name';
  const { score, feedback } = (await warmPasswordPolicy()).check(password, [username, 'inlet', 'comet']);
  if (score < MIN_ZXCVBN_SCORE) {
    const why = feedback.warning ? ` (${ZXCVBN_WARNINGS[feedback.warning] ?? feedback.warning})` : '';
    return `this password is too easy to guess${why}: it is on, or close to, the lists of common and breached passwords; ` +
      'choose a longer one, for example three or four unrelated words';
  }
  return null;
}

/** zxcvbn's warning keys, in words (the language package ships no translations of its own). */
const ZXCVBN_WARNINGS: Record<string, string> = {
  common: 'a very common password', commonNames: 'common names and surnames', dates: 'a date', extendedRepeat: 'a repeated pattern',
  keyPattern: 'a keyboard pattern', namesByThemselves: 'a name by itself', pwned: 'found in a data breach', recentYears: 'a recent year',
  sequences: 'a sequence like abc', similarToCommon: 'similar to a common password', simpleRepeat: 'repeated characters',
  straightRow: 'a row of keys', topHundred: 'one of the hundred most used passwords', topTen: 'one of the ten most used passwords',
  userInputs: 'your user name or the product name', wordByItself: 'a single word',
};
