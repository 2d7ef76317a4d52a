// Electronic signatures (21 CFR Part 11 §11.200, EU GMP Annex 11 §14): where a change must be signed
// (acknowledging an alarm, changing alarm limits, releasing quarantined data, confirming a unit change,
// purging, approving a report) the signed-in user enters their password again and chooses what the
// signature means. The name, time and meaning are then bound to the record (its row where it has a
// column for it, and always the event, which is in the audit chain) and shown wherever it is shown.
//
// The JSON body of such a request carries `signature: { password: string, meaning: string }`.
import type { Store, UserRecord } from '../store/store.ts';
import { ZoneTree } from '../domain/zones.ts';
import type { DirectoryAuthenticator } from './directory.ts';
import { HttpError } from './http.ts';
import { verifyPassword } from './passwords.ts';
import type { SignInGuard } from './sign-in-guard.ts';

/** What a signature may mean; the viewer offers these. */
export const SIGNATURE_MEANINGS = ['reviewed', 'approved', 'acknowledged', 'released', 'confirmed', 'responsible'] as const;
export type SignatureMeaning = (typeof SIGNATURE_MEANINGS)[number];

export interface SignatureInput { password: string; meaning: string }

/** A verified signature: bound to the record with the time it was made. */
export interface Signature { by: string; meaning: SignatureMeaning; at: number }

/** The ajv schema of the `signature` member, for routes' body schemas. */
export const SIGNATURE_SCHEMA = {
  type: 'object', additionalProperties: false, required: ['password', 'meaning'],
  properties: { password: { type: 'string', minLength: 1, maxLength: 200 }, meaning: { type: 'string', enum: [...SIGNATURE_MEANINGS] } },
} as const;

/**
 * Where signatures are checked beyond Inlet's own password hashes: the directory that directory
 * accounts' passwords live in, and the sign-in slow-down (guessing a password through a signature form
 * is counted with the sign-ins of the same name and source, and waits as they do).
 */
export interface SignatureChecks {
  directory?: Pick<DirectoryAuthenticator, 'enabled' | 'authenticate'> | null;
  guard?: Pick<SignInGuard, 'admit' | 'succeeded' | 'uncount'> | null;
}

let configuredChecks: SignatureChecks = {};

/** The gateway's API sets these once (src/api/app.ts); the command line passes its own to verifySignature. */
export function configureSignatureChecks(checks: SignatureChecks): void {
  configuredChecks = checks;
}

type SignatureStore = Pick<Store, 'findUser' | 'addEvent'> & Partial<Pick<Store, 'listZones'>>;

/** Checks the password where the account lives: the directory (a bind as the account) or Inlet's hash. */
async function passwordIsTheirs(store: SignatureStore, user: UserRecord, password: string, checks: SignatureChecks): Promise<boolean> {
  if (user.source !== 'directory') return verifyPassword(password, user.passwordHash);
  const directory = checks.directory;
  if (!directory?.enabled) {
    throw new HttpError(503, `${user.username} is a directory account and no directory is configured here (directory.enabled): the signature cannot be checked; nothing was changed`);
  }
  const outcome = await directory.authenticate(user.username, password, async () => new ZoneTree(store.listZones ? await store.listZones() : []));
  if (outcome.kind === 'unreachable') {
    throw new HttpError(503, 'the directory (Active Directory) does not answer, so a directory account\'s signature cannot be checked: try again later; nothing was changed');
  }
  // The bind must be the signer's own account, not another one the typed name happens to find.
  return outcome.kind === 'ok' && outcome.username.toLowerCase() === user.username.toLowerCase();
}

/**
 * Checks that `signature` is `username`'s own: the password is theirs (re-entered now, not the
 * session's; checked by the directory for a directory account), the account is usable, and the
 * meaning is one of SIGNATURE_MEANINGS. Throws an HttpError (400 no or malformed signature, 403 wrong
 * password or unusable account, 429 while the name and source must wait after failed attempts, 503
 * directory unreachable) and records a refused signature as an event; returns the signature to bind
 * to the record.
 */
export async function verifySignature(
  store: SignatureStore, username: string, signature: SignatureInput | undefined, at: number, source: string | null = null,
  checks: SignatureChecks = configuredChecks,
): Promise<Signature> {
  if (!signature || typeof signature.password !== 'string' || !signature.password) {
    throw new HttpError(400, `this change needs your electronic signature: send signature: { password, meaning } with your password and one of ${SIGNATURE_MEANINGS.join(', ')}`);
  }
  if (!(SIGNATURE_MEANINGS as readonly string[]).includes(signature.meaning)) {
    throw new HttpError(400, `the signature's meaning must be one of ${SIGNATURE_MEANINGS.join(', ')}`);
  }
  const refuse = async (why: string) => store.addEvent({
    at, deviceId: null, type: 'signature.refused', level: 'warning', actor: username, source,
    message: `electronic signature of ${username} (${signature.meaning}) refused: ${why}`,
    data: { meaning: signature.meaning, reason: why },
  });
  const guardSource = source ?? '';
  const admission = checks.guard?.admit(username, guardSource, at);
  if (admission && !admission.allowed) {
    const retryAfterS = Math.ceil(admission.retryAfterMs / 1000);
    await refuse(`slowed down after ${admission.failures} failed attempts`);
    throw new HttpError(429, `too many wrong passwords for ${username} from your address: wait ${retryAfterS} s and sign again; nothing was changed`, { retryAfterS });
  }
  const user = await store.findUser(username);
  const usable = user && !user.disabled && !(user.lockedUntil !== null && user.lockedUntil > at);
  let right = false;
  try {
    right = Boolean(user && usable && await passwordIsTheirs(store, user, signature.password, checks));
  } catch (err) {
    // nothing was checked (the directory did not answer): the attempt does not count against the signer
    checks.guard?.uncount(username, guardSource);
    if (err instanceof HttpError) await refuse(err.message);
    throw err;
  }
  if (!user || !usable || !right) {
    await refuse(usable ? 'wrong password' : 'the account is disabled or locked');
    throw new HttpError(403, 'signature refused: the password is not yours (or your account is locked or disabled); nothing was changed');
  }
  checks.guard?.succeeded(username, guardSource);
  return { by: user.username, meaning: signature.meaning as SignatureMeaning, at };
}

/** How a signature reads in messages, tables and reports. */
export function describeSignature(s: Pick<Signature, 'by' | 'meaning' | 'at'>): string {
  return `signed by ${s.by} (${s.meaning}) at ${new Date(s.at).toISOString()}`;
}
