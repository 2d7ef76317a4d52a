// The one reason check every configuration route of the API uses (src/api/reason.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../src/api/http.ts';
import { REASON_REQUIRED, requireReason } from '../../src/api/reason.ts';

test('a missing, non-text or blank reason is a 400 "reason required" that says what is wanted', () => {
  for (const [body, says] of [
    [undefined, /a reason is required/], [null, /a reason is required/], [{}, /a reason is required/], [{ reason: null }, /a reason is required/],
    [{ reason: 42 }, /must be text/], [{ reason: ['x'] }, /must be text/], [{ reason: '' }, /blank/], [{ reason: ' \t\n ' }, /blank/],
  ] as [unknown, RegExp][]) {
    assert.throws(() => requireReason(body), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 400);
      assert.equal(err.message, REASON_REQUIRED);
      assert.equal(err.details?.field, 'reason');
      assert.match(String(err.details?.message), says, JSON.stringify(body));
      return true;
    }, JSON.stringify(body));
  }
});

test('a reason given is returned without its surrounding spaces', () => {
  assert.equal(requireReason({ reason: '  probe replaced, SOP QA-7 ' }), 'probe replaced, SOP QA-7');
});
