// Electronic signatures (21 CFR Part 11 §11.200, EU GMP Annex 11 §14): where a change must be signed
// (acknowledging an alarm, changing alarm limits, releasing quarantined data, confirming a unit change,
// purging, approving a report) the signed-in user enters their password again and chooses what the
// signature means. The name, time and meaning are then bound to the record (its row where it has a
// column for it, and always the event, which is in the audit chain) and shown wherever it is shown.
//
// The JSON body of such a request carries `signature: { password: string, meaning: string }`.
import type { Store } from '../store/store.ts';
import { HttpError } from './http.ts';
import { verifyPassword } from './passwords.ts';

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
 * Checks that `signature` is `username`'s own: the password is theirs (re-entered now, not the
 * session's), the account is usable, and the meaning is one of SIGNATURE_MEANINGS. Throws an
 * HttpError (400 no or malformed signature, 403 wrong password or unusable account) and records a
 * refused signature as an event; returns the signature to bind to the record.
 */
export async function verifySignature(
  store: Pick<Store, 'findUser' | 'addEvent'>, username: string, signature: SignatureInput | undefined, at: number, source: string | null = null,
): Promise<Signature> {
  if (!signature || typeof signature.password !== 'string' || !signature.password) {
    throw new HttpError(400, `this change needs your electronic signature: send signature: { password, meaning } with your password and one of ${SIGNATURE_MEANINGS.join(', ')}`);
  }
  if (!(SIGNATURE_MEANINGS as readonly string[]).includes(signature.meaning)) {
    throw new HttpError(400, `the signature's meaning must be one of ${SIGNATURE_MEANINGS.join(', ')}`);
  }
  const user = await store.findUser(username);
  const usable = user && !user.disabled && !(user.lockedUntil !== null && user.lockedUntil > at);
  if (!user || !usable || !(await verifyPassword(signature.password, user.passwordHash))) {
    await store.addEvent({
      at, deviceId: null, type: 'signature.refused', level: 'warning', actor: username, source,
      message: `electronic signature of ${username} (${signature.meaning}) refused: ${usable ? 'wrong password' : 'the account is disabled or locked'}`,
      data: { meaning: signature.meaning },
    });
    throw new HttpError(403, 'signature refused: the password is not yours (or your account is locked or disabled); nothing was changed');
  }
  return { by: user.username, meaning: signature.meaning as SignatureMeaning, at };
}

/** How a signature reads in messages, tables and reports. */
export function describeSignature(s: Pick<Signature, 'by' | 'meaning' | 'at'>): string {
  return `signed by ${s.by} (${s.meaning}) at ${new Date(s.at).toISOString()}`;
}
