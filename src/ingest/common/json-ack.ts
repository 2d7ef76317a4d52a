// The answer WiFi and TAx6xx devices get (spec §4.4): HTTP 200 + {"Result":true,"Message":"..."}.
import type { Upload, Verdict } from '../../domain/types.ts';
import type { DeviceAnswer } from '../adapter.ts';

/** The device shows `Message` in its diagnostic log; longer texts are not allowed (spec §4.4). */
export const ACK_MESSAGE_MAX_BYTES = 100;

/**
 * Policy:
 * - accepted, duplicate, quarantined and refused verdicts answer 200 + Result:true. The device then drops
 *   the message from its cache; answering anything else for a permanent refusal (unknown or suspended
 *   device) would make it replay its whole cache forever.
 * - retryLater answers 503 + Result:false. A non-200 status is what the TAx6xx SDK documents as "not
 *   acknowledged, keep and resend" (WRONG_HTTP_CODE); WiFi devices also keep messages that are not
 *   confirmed with Result:true. 503 thus means "resend later" to both families, where 200 + Result:false
 *   would risk a TAx6xx that ignores the body dropping the data.
 * - a body that could not be parsed (upload null) answers the verdict's 4xx status with Result:false and
 *   the reason, as the integrator asked; note that a caching device will resend such a message.
 */
export function jsonAckAnswer(verdict: Verdict, upload: Upload | null): DeviceAnswer {
  if (verdict.retryLater) return ack(503, false, `retry later: ${verdict.reason}`);
  if (upload === null && !verdict.unknownEntryPoint) {
    const status = verdict.httpStatus >= 400 && verdict.httpStatus < 500 ? verdict.httpStatus : 400;
    return ack(status, false, `malformed: ${verdict.reason}`);
  }
  switch (verdict.kind) {
    case 'accepted':
      return ack(200, true, `stored ${verdict.stored}`);
    case 'duplicate':
      return ack(200, true, 'duplicate, already stored');
    case 'quarantined':
      return ack(200, true, `quarantined: ${verdict.reason}`);
    case 'refused':
      return ack(200, true, `refused: ${verdict.reason}`);
  }
}

function ack(status: number, result: boolean, message: string): DeviceAnswer {
  return {
    status,
    contentType: 'application/json',
    body: JSON.stringify({ Result: result, Message: deviceSafeMessage(message) }),
  };
}

/**
 * Printable ASCII only (no `"`, which the device forbids, and no `\`, whose JSON escape it may not
 * read), cut to the byte limit.
 */
export function deviceSafeMessage(text: string): string {
  return text.replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x7e]/g, '?').slice(0, ACK_MESSAGE_MAX_BYTES);
}
