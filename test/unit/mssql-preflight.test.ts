// The preflight a DBA reads (`inlet migrate --check`, /health): each fact judged against what Inlet
// needs, and the bootstrap refusing the same servers the preflight fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MINIMUM_VERSION, evaluatePreflight, formatPreflight, type PreflightFacts } from '../../src/store/mssql/preflight.ts';
import { SQL_ROOT } from '../../src/store/migrations.ts';

const GOOD: PreflightFacts = {
  productVersion: '16.0.4135.4', productLevel: 'RTM', edition: 'Standard Edition (64-bit)', engineEdition: 2,
  compatibilityLevel: 160, readCommittedSnapshot: true, recoveryModel: 'FULL', collation: 'Latin1_General_CI_AS',
  usedPages: 128_000, allocatedPages: 256_000, maxPages: -1,
};
const levels = (facts: Partial<PreflightFacts>) => Object.fromEntries(evaluatePreflight({ ...GOOD, ...facts }).checks.map((c) => [c.name, c.level]));

test('a current Standard edition with RCSI, FULL recovery and room to grow is ready', () => {
  const report = evaluatePreflight(GOOD);
  assert.equal(report.level, 'ok');
  assert.deepEqual(report.checks.map((c) => c.name),
    ['version', 'edition', 'compatibility level', 'read committed snapshot', 'recovery model', 'collation', 'free space']);
});

test('SQL Server 2016 before SP1 and compatibility levels below 130 fail; 2016 SP1 and Azure SQL pass', () => {
  assert.equal(levels({ productVersion: '13.0.1601.5' }).version, 'fail');
  assert.equal(levels({ productVersion: '12.0.6024.0' }).version, 'fail');
  assert.equal(levels({ productVersion: '13.0.4001.0' }).version, 'ok');
  assert.equal(levels({ productVersion: '12.0.2000.8', engineEdition: 5 }).version, 'ok', 'Azure SQL Database reports 12.0');
  assert.equal(levels({ compatibilityLevel: 120 })['compatibility level'], 'fail');
  assert.equal(evaluatePreflight({ ...GOOD, compatibilityLevel: 120 }).level, 'fail');
});

test('RCSI off, SIMPLE recovery and Express are warnings that say what to do', () => {
  const report = evaluatePreflight({ ...GOOD, readCommittedSnapshot: false, recoveryModel: 'SIMPLE', engineEdition: 4, edition: 'Express Edition (64-bit)' });
  assert.equal(report.level, 'warn');
  const detail = Object.fromEntries(report.checks.map((c) => [c.name, c.detail]));
  assert.match(detail['read committed snapshot'], /SET READ_COMMITTED_SNAPSHOT ON/);
  assert.match(detail['recovery model'], /loses every acknowledged reading since the last full or differential backup/);
  assert.match(detail.edition, /10 GB/);
});

test('free space: judged against the files\' maximum size and Express\'s 10 GB, whichever is smaller', () => {
  const tenGbPages = 10 * 1024 * 1024 / 8;
  assert.equal(levels({ engineEdition: 4, usedPages: Math.round(tenGbPages * 0.5) })['free space'], 'ok');
  assert.equal(levels({ engineEdition: 4, usedPages: Math.round(tenGbPages * 0.85) })['free space'], 'warn');
  assert.equal(levels({ maxPages: 100_000, usedPages: 96_000 })['free space'], 'fail');
  assert.match(evaluatePreflight({ ...GOOD, maxPages: 100_000, usedPages: 96_000 }).checks.at(-1)!.detail, /error 1105.*spool/);
});

test('the console lines name the target and mark each check', () => {
  const lines = formatPreflight(evaluatePreflight({ ...GOOD, recoveryModel: 'SIMPLE' }), 'server sql01, database inlet, SQL login inlet_owner, TLS');
  assert.equal(lines[0], 'SQL Server preflight (server sql01, database inlet, SQL login inlet_owner, TLS): ready, with warnings');
  assert.match(lines.find((l) => l.includes('recovery model'))!, /^ {2}WARN recovery model: SIMPLE/);
});

test('the bootstrap refuses the versions and compatibility levels the preflight fails', () => {
  const bootstrap = readFileSync(path.join(SQL_ROOT, 'mssql', 'bootstrap.sql'), 'utf8');
  assert.match(bootstrap, new RegExp(`@major < ${MINIMUM_VERSION.major} OR \\(@major = ${MINIMUM_VERSION.major} AND @build < ${MINIMUM_VERSION.build}\\)`));
  assert.match(bootstrap, /NOT IN \(5, 8\)/);
  assert.match(bootstrap, /@compatibility_level < 130/);
});
