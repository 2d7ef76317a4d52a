// The live stream (/api/live) across a password change: the browser that changed its own password
// holds the renewed session, so its stream must not tell it to sign in again (the viewer went back to
// sign-in a moment after "Your password was changed"); the user's other sessions end, and their
// streams say so. Every wait is for the stream's own end, not a clock.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';
import { withinGiveUp } from '../support/hang-guard.ts';

let t: TestGateway;

before(async () => {
  t = await startTestGateway();
  const admin = new Caller(t.gateway.url);
  assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
  const added = await admin.json('POST', '/api/users', { reason: 'test fixture', username: 'emil', role: 'viewer', password: 'Velvet-Harbor-Pine-62' });
  assert.equal(added.status, 201, JSON.stringify(added.body));
});

after(async () => { await t?.close(); });

/** Opens the caller's live stream and reads it until its first tree. */
async function openLive(caller: Caller) {
  const res = await caller.request('GET', '/api/live');
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let received = '';
  while (!/event: tree\ndata: .*\n\n/.test(received)) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the live stream ended before its first tree: ${received}`);
    received += decoder.decode(value, { stream: true });
  }
  return {
    /** Everything the server sends from now until it ends the stream. */
    async untilEnd(): Promise<string> {
      let rest = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return rest;
        rest += decoder.decode(value, { stream: true });
      }
    },
  };
}

test('a password change ends the live streams: quietly for the renewed session, "expired" for the others', async () => {
  const changer = new Caller(t.gateway.url);
  const elsewhere = new Caller(t.gateway.url);
  assert.equal((await changer.signIn('emil', 'Velvet-Harbor-Pine-62')).status, 200);
  assert.equal((await elsewhere.signIn('emil', 'Velvet-Harbor-Pine-62')).status, 200);
  const changerStream = await openLive(changer);
  const elsewhereStream = await openLive(elsewhere);
  const oldCookie = changer.cookie;

  const res = await changer.request('POST', '/api/session/password', { currentPassword: 'Velvet-Harbor-Pine-62', newPassword: 'Saffron-Glacier-Wren-19' });
  assert.equal(res.status, 200, await res.clone().text());
  const setCookie = res.headers.get('set-cookie');
  assert.ok(setCookie, 'the answer renews the session cookie');
  changer.cookie = setCookie.split(';')[0];
  assert.notEqual(changer.cookie, oldCookie);

  // the renewed browser's old stream ends without "expired", so its EventSource reconnects with the new cookie
  const changerRest = await withinGiveUp('the end of the renewed session\'s old live stream', changerStream.untilEnd());
  assert.doesNotMatch(changerRest, /event: expired/, 'the browser that changed its password is not told to sign in again');
  // the user's other session is signed out, and its stream says so
  assert.match(await withinGiveUp('the end of the other session\'s live stream', elsewhereStream.untilEnd()), /event: expired/);

  // the reconnection: the renewed cookie is let in, the old one (a copy, say) is not
  const again = await changer.request('GET', '/api/live');
  assert.equal(again.status, 200);
  await again.body?.cancel();
  const stale = new Caller(t.gateway.url);
  stale.cookie = oldCookie;
  const refused = await stale.request('GET', '/api/live');
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  assert.equal((await elsewhere.request('GET', '/api/session')).status, 401, 'the other session was signed out');
});
