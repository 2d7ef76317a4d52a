// The electronic signature the viewer sends with acknowledgements and limit changes:
// `signature: { password, meaning }` in the JSON body (the contract with the audit-trail work).
// When a signature comes, its password must be the signed-in (local) user's own: a wrong one is a
// 403 and changes nothing. What a signature is recorded as belongs to the audit trail.
import type { Store } from '../store/store.ts';
import type { Session } from './sessions.ts';
import { verifyPassword } from './passwords.ts';
import { HttpError } from './http.ts';

export const SIGNATURE_MEANINGS = ['reviewed', 'acknowledged', 'approved'] as const;
export type SignatureMeaning = (typeof SIGNATURE_MEANINGS)[number];
export interface Signature { password: string; meaning: SignatureMeaning }

/** JSON schema of the optional `signature` body property. */
export const SIGNATURE_SCHEMA = {
  type: 'object', additionalProperties: false, required: ['password', 'meaning'],
  properties: { password: { type: 'string', minLength: 1, maxLength: 200 }, meaning: { enum: [...SIGNATURE_MEANINGS] } },
} as const;

export async function checkSignature(store: Store, session: Session, signature: Signature | undefined): Promise<void> {
  if (!signature) return;
  const user = await store.findUser(session.username);
  // A directory account's password is checked by the directory, which this module cannot reach:
  // its signature is left to the audit trail's check (issue 18), not refused here.
  if (user?.source === 'directory') return;
  if (!user || user.disabled || !(await verifyPassword(signature.password, user.passwordHash))) {
    throw new HttpError(403, `the signature's password is not ${session.username}'s password: nothing was changed`);
  }
}
