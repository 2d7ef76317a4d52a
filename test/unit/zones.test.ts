// Zone rules: paths, inheritance of roles downwards, cycles, directory group mapping and the
// escaping of what a person types into an LDAP filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZoneTree, highestRole, naturalCompare, splitZonePath, zoneNameProblem, type Zone } from '../../src/domain/zones.ts';
import { accessFromGroups, fillFilter, loginParts, normalizeDn } from '../../src/api/directory.ts';
import { routeCoversLocation } from '../../src/jobs/notify.ts';

const zone = (id: number, parentId: number | null, name: string): Zone => ({ id, parentId, name, createdAt: 0 });
// Hospital ─┬─ Pharmacy ── Fridge room
//           └─ Laboratory
// Warehouse
const tree = new ZoneTree([zone(1, null, 'Hospital'), zone(2, 1, 'Pharmacy'), zone(3, 2, 'Fridge room'), zone(4, 1, 'Laboratory'), zone(5, null, 'Warehouse')]);

test('paths name zones from the top, and find them back', () => {
  assert.equal(tree.path(3), 'Hospital/Pharmacy/Fridge room');
  assert.equal(tree.find('Hospital / Pharmacy')?.id, 2);
  assert.equal(tree.find('Hospital/Nowhere'), undefined);
  assert.deepEqual(splitZonePath(' A / B /'), ['A', 'B']);
  assert.deepEqual(tree.flatten().map((z) => `${z.depth}:${z.name}`), ['0:Hospital', '1:Laboratory', '1:Pharmacy', '2:Fridge room', '0:Warehouse']);
});

test('a role on a zone covers its sub-zones, not its parent or siblings; the highest grant wins', () => {
  const access = { globalRole: null, grants: [{ zoneId: 2, role: 'viewer' as const }, { zoneId: 3, role: 'operator' as const }] };
  assert.equal(tree.roleOn(access, 2), 'viewer');
  assert.equal(tree.roleOn(access, 3), 'operator');
  assert.equal(tree.roleOn(access, 1), null);
  assert.equal(tree.roleOn(access, 4), null);
  assert.equal(tree.roleOn(access, null), null, 'things in no zone are for global roles only');
  assert.deepEqual([...tree.zonesWith(access, 'viewer') as Set<number>].sort(), [2, 3]);
  assert.deepEqual([...tree.zonesWith(access, 'operator') as Set<number>], [3]);
  assert.equal(highestRole(access), 'operator');
  const global = { globalRole: 'viewer' as const, grants: [{ zoneId: 4, role: 'administrator' as const }] };
  assert.equal(tree.roleOn(global, 5), 'viewer');
  assert.equal(tree.roleOn(global, 4), 'administrator');
  assert.equal(tree.roleOn(global, null), 'viewer');
  assert.equal(tree.zonesWith(global, 'viewer'), 'all');
});

test('a zone cannot move below itself; names may not hold the path separator', () => {
  assert.equal(tree.wouldCycle(1, 3), true);
  assert.equal(tree.wouldCycle(1, 1), true);
  assert.equal(tree.wouldCycle(2, 5), false);
  assert.equal(tree.wouldCycle(2, null), false);
  assert.match(zoneNameProblem('A/B') ?? '', /may not contain/);
  assert.match(zoneNameProblem(' A') ?? '', /spaces/);
  assert.equal(zoneNameProblem('Room 2'), null);
  assert.ok(naturalCompare('Room 2', 'Room 10') < 0);
});

test('directory groups map to roles on zones; unknown zone paths are reported, not guessed', () => {
  const groups = ['CN=Pharmacy QA, OU=Groups,DC=hospital,DC=local', 'CN=Everyone,DC=hospital,DC=local'];
  const mappings = [
    { group: 'cn=pharmacy qa,ou=groups,dc=hospital,dc=local', role: 'operator' as const, zones: ['Hospital/Pharmacy', 'Hospital/Gone'], global: false },
    { group: 'CN=IT,DC=hospital,DC=local', role: 'administrator' as const, zones: [], global: true },
  ];
  const mapped = accessFromGroups(groups, mappings, tree);
  assert.equal(mapped.matched, true);
  assert.deepEqual(mapped.access, { globalRole: null, grants: [{ zoneId: 2, role: 'operator' }] });
  assert.deepEqual(mapped.unknownZones, ['Hospital/Gone']);
  assert.equal(accessFromGroups(['CN=Everyone,DC=hospital,DC=local'], mappings, tree).matched, false);
  const admin = accessFromGroups(['CN=IT,DC=hospital,DC=local', groups[0]], mappings, tree);
  assert.deepEqual(admin.access, { globalRole: 'administrator', grants: [] }, 'a global role as high hides the zone roles');
  assert.equal(normalizeDn('CN=A, DC=B'), 'cn=a,dc=b');
});

test('what a person types cannot change an LDAP filter', () => {
  assert.equal(fillFilter('(uid={sam})', { sam: 'x)(uid=*' }), '(uid=x\\29\\28uid=\\2a)');
  assert.equal(fillFilter('(|(upn={login})(sam={sam}))', loginParts('jan.novak@hospital.local')), '(|(upn=jan.novak@hospital.local)(sam=jan.novak))');
  assert.deepEqual(loginParts('HOSPITAL\\jan'), { login: 'jan', sam: 'jan' });
});

test('a notification route on a zone covers its sub-zones and nothing beside them', () => {
  assert.equal(routeCoversLocation('Hospital/Pharmacy', 'Hospital/Pharmacy'), true);
  assert.equal(routeCoversLocation('Hospital/Pharmacy', 'Hospital/Pharmacy/Fridge room'), true);
  assert.equal(routeCoversLocation('Hospital / Pharmacy', 'Hospital/Pharmacy/Fridge room'), true);
  assert.equal(routeCoversLocation('Hospital/Pharmacy', 'Hospital/Pharmacy 2'), false);
  assert.equal(routeCoversLocation('Hospital/Pharmacy', 'Hospital'), false);
  assert.equal(routeCoversLocation('*', ''), true);
  assert.equal(routeCoversLocation('', ''), false);
});
