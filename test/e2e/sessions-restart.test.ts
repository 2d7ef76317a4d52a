// Sessions survive a restart of the gateway (only the SHA-256 of the id is in the database), and
// a wall display's session is read-only, stays signed in and is recorded as an operator's decision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway } from '../../src/main.ts';
import { SessionStore } from '../../src/api/sessions.ts';
import { ADMIN, Caller, cliAddUser } from './api-helpers.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

test('a signed-in viewer stays signed in across a restart; the database holds only a hash of the session id', { timeout: HANG_GUARD_MS }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-sessions-'));
  try {
    assert.equal(cliAddUser(dataDir, ADMIN.username, 'administrator', ADMIN.password).status, 0);
    const config: InletConfig = structuredClone(DEFAULT_CONFIG);
    config.dataDir = dataDir;
    config.http = { ...config.http, host: '127.0.0.1', port: 0 };
    config.log = { ...config.log, console: false, file: false };
    let gateway = await startGateway(config, createLogger(config, { quiet: true }));
    const admin = new Caller(gateway.url);
    assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
    await gateway.stop();

    const id = admin.cookie.split('=')[1];
    const db = new DatabaseSync(path.join(dataDir, config.store.sqlite.file));
    const rows = db.prepare('SELECT id_hash FROM sessions').all() as { id_hash: string }[];
    db.close();
    assert.deepEqual(rows.map((r) => r.id_hash), [createHash('sha256').update(id).digest('hex')]);

    config.http.port = Number(new URL(gateway.url).port);   // the same address: the browser's cookie goes to it
    gateway = await startGateway(config, createLogger(config, { quiet: true }));
    try {
      const again = new Caller(gateway.url);
      again.cookie = admin.cookie;
      const me = await again.json<{ username: string; role: string }>('GET', '/api/session');
      assert.equal(me.status, 200, 'still signed in after the restart');
      assert.deepEqual([me.body.username, me.body.role], [ADMIN.username, 'administrator']);

      // display mode: read-only from now on, recorded with who and why
      assert.equal((await again.json('POST', '/api/session/display', {})).status, 400, 'a reason is required');
      const display = await again.json<{ role: string; display: boolean }>('POST', '/api/session/display', { reason: 'wall screen in the pharmacy corridor' });
      assert.equal(display.status, 200, JSON.stringify(display.body));
      assert.deepEqual([display.body.role, display.body.display], ['viewer', true]);
      assert.equal((await again.request('POST', '/api/devices', { reason: 'test fixture', serial: '20300001', model: 'T3510', name: 'x' })).status, 403, 'a display changes nothing');
      const [event] = await gateway.store.events({ type: 'session.display' });
      assert.match(event.message, /wall display mode turned on .* \(by admin\): wall screen in the pharmacy corridor$/);
      assert.equal((await again.json('POST', '/api/session/display', { reason: 'again' })).status, 403, 'a display cannot renew itself');
    } finally {
      await gateway.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a display session has no idle time-out; an ordinary one has', () => {
  let clock = 0;
  const sessions = new SessionStore({ idleMs: 1000, absoluteMs: 5000, displayAbsoluteMs: 100_000 }, () => clock);
  const ordinary = sessions.create({ id: 1, username: 'op', role: 'operator' });
  const wall = sessions.create({ id: 1, username: 'op', role: 'operator' });
  assert.equal(sessions.makeDisplay(wall.id)?.role, 'viewer');
  clock = 50_000;
  assert.equal(sessions.get(ordinary.id, false), undefined);
  assert.equal(sessions.get(wall.id, false)?.display, true);
  clock = 100_001;
  assert.equal(sessions.get(wall.id, false), undefined, 'but it ends after displayAbsoluteMs');
});
