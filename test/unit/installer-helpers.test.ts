// Pure pieces of the Windows delivery: MSI version mapping, the service account's SID and ACL, the firewall
// rule, the start type kept across upgrades, and the app bundle's worker discovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { msiVersion } from '../../scripts/msi-version.ts';
import { findWorkerEntries } from '../../scripts/build-app.ts';
import { aclPrincipal, firewallCommands, grantModifyArgs, parseRemoteAddresses, scStartType, virtualAccountSid } from '../../src/service/windows.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('MSI versions order as the semver versions do, prereleases before their release', () => {
  const ordered = ['0.1.0', '1.2.2', '1.2.3-alpha.1', '1.2.3-beta', '1.2.3-beta.1', '1.2.3-beta.2', '1.2.3-rc.1', '1.2.3', '1.2.4-beta.1', '1.3.0'];
  const key = (v: string) => msiVersion(v).split('.').map(Number);
  for (let i = 1; i < ordered.length; i++) {
    const [a, b] = [key(ordered[i - 1]), key(ordered[i])];
    assert.ok(a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2]))), `${ordered[i - 1]} (${msiVersion(ordered[i - 1])}) < ${ordered[i]} (${msiVersion(ordered[i])})`);
  }
  assert.equal(msiVersion('1.2.3'), '1.2.3999');
  assert.equal(msiVersion('1.2.3-beta.1'), '1.2.3101');
  assert.notEqual(msiVersion('1.2.3-beta.1'), msiVersion('1.2.3'), 'a prerelease and its release no longer collide');
  assert.throws(() => msiVersion('1.2.65'), /patch numbers above 64/);
  assert.throws(() => msiVersion('1.2.3-preview.1'), /alpha, beta or rc/);
  assert.throws(() => msiVersion('256.0.0'), /255/);
});

test('virtual service account SID: S-1-5-80 and the SHA-1 of the upper-cased name', () => {
  // The SID Windows gives NT SERVICE\TrustedInstaller, a well-known value.
  assert.equal(virtualAccountSid('TrustedInstaller'), 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464');
  assert.equal(virtualAccountSid('trustedinstaller'), virtualAccountSid('TrustedInstaller'));
  assert.equal(aclPrincipal('NT SERVICE\\inlet'), `*${virtualAccountSid('inlet')}`);
  assert.equal(aclPrincipal('LocalSystem'), null, 'SYSTEM has full control already');
  assert.equal(aclPrincipal('CORP\\svc-inlet$'), 'CORP\\svc-inlet$');
  assert.deepEqual(grantModifyArgs('C:\\ProgramData\\Inlet', 'NT SERVICE\\inlet'),
    ['C:\\ProgramData\\Inlet', '/grant', `*${virtualAccountSid('inlet')}:(OI)(CI)M`, '/Q']);
});

test('the start type IT set before an upgrade is put back (registry Start: 2 auto, 3 manual, 4 disabled)', () => {
  assert.equal(scStartType('#3'), 'demand');
  assert.equal(scStartType('#4'), 'disabled');
  assert.equal(scStartType('#2'), null);
  assert.equal(scStartType(''), null);
  assert.equal(scStartType(undefined), null);
});

test('firewall rule: the configured ports from the allowed remote addresses only; a typo is refused', () => {
  const [del, add] = firewallCommands([80, 8443, 80], '10.1.0.0/16, 192.168.5.20,LocalSubnet', 'C:\\Program Files\\Inlet\\node.exe');
  assert.equal(del[2], 'delete');
  assert.ok(add.includes('localport=80,8443'));
  assert.ok(add.includes('remoteip=10.1.0.0/16,192.168.5.20,LocalSubnet'));
  assert.ok(add.includes('program=C:\\Program Files\\Inlet\\node.exe'));
  assert.equal(parseRemoteAddresses('10.0.0.1-10.0.0.9'), '10.0.0.1-10.0.0.9');
  assert.throws(() => parseRemoteAddresses('10.1.0.0/33'), /"10\.1\.0\.0\/33" is not an address/);
  assert.throws(() => parseRemoteAddresses('10.1.0.O'), /not an address/);
  assert.throws(() => parseRemoteAddresses(' '), /empty/);
});

test('worker threads are found by looking, so a new worker is bundled without a list to update', () => {
  const src = tempDir('inlet-src-');
  mkdirSync(path.join(src, 'store', 'x'), { recursive: true });
  writeFileSync(path.join(src, 'store', 'x', 'reader.ts'), "import { parentPort } from 'node:worker_threads';\nparentPort?.on('message', () => {});\n");
  writeFileSync(path.join(src, 'store', 'x', 'pool.ts'), "import { Worker } from 'node:worker_threads';\nnew Worker('x', { workerData: 1 });\n");
  writeFileSync(path.join(src, 'plain.ts'), 'export const a = 1;\n');
  assert.deepEqual(findWorkerEntries(src), ['store/x/reader.ts']);
  assert.ok(findWorkerEntries().includes('store/sqlite/write-worker.ts'));
});
