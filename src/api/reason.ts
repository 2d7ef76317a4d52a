// Every configuration change (users and roles, devices, intervals, clocks, limits, zones, schedules,
// releases) is recorded with why it was made (issue 18): a request without a reason is refused before
// anything is read, checked or changed, with the same answer on every route, so that the viewer and
// scripts can show it alike. Sign-in/out, a user's own password and acknowledgement comments are not
// configuration changes and do not come here.
import { HttpError } from './http.ts';

/** What a configuration route answers when the reason is missing or blank. */
export const REASON_REQUIRED = 'reason required';

/**
 * The trimmed reason of a configuration change from a JSON body, or a 400
 * `{ error: 'reason required', message, field: 'reason' }` when it is missing, not text or blank.
 * The route's schema still checks the length and the rest of the body.
 */
export function requireReason(body: unknown): string {
  const reason = body !== null && typeof body === 'object' ? (body as { reason?: unknown }).reason : undefined;
  if (typeof reason === 'string' && reason.trim() !== '') return reason.trim();
  throw new HttpError(400, REASON_REQUIRED, {
    message: reason === undefined || reason === null
      ? 'a reason is required for every configuration change: give "reason" (why this change is made; it is recorded in the audit trail)'
      : typeof reason !== 'string' ? '"reason" must be text saying why this change is made' : '"reason" is blank: say why this change is made',
    field: 'reason',
  });
}
