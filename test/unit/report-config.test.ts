// The reports section of the configuration, and what text the PDF's standard fonts can print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { unitLabel, winAnsi } from '../../src/report/pdf.ts';
import { newVerificationCode, codeInPdf } from '../../src/report/issue.ts';

function load(reports: unknown) {
  const file = path.join(tempDir('inlet-report-config-'), 'inlet.config.json');
  writeFileSync(file, JSON.stringify({ reports }));
  return loadConfig(file, {}).config;
}

test('reports: defaults, a schedule by location and one by devices', () => {
  const config = load({ timezone: 'Europe/Prague', schedules: [
    { name: 'Cold rooms monthly', location: 'Cold room 2', period: 'monthly', mailTo: ['qa@example.com'] },
    { name: 'Freezers weekly', devices: [7, 8], period: 'weekly', folder: '\\\\fileserver\\qa' },
  ] });
  assert.equal(config.reports.activationEnergyKJPerMol, 83.144);
  assert.equal(config.reports.schedule, '20 0 * * *');
  assert.deepEqual(config.reports.schedules.map((s) => [s.name, s.mailTo, s.folder]), [['Cold rooms monthly', ['qa@example.com'], ''], ['Freezers weekly', [], '\\\\fileserver\\qa']]);
});

test('reports: clear errors for a zone, a schedule without scope, one that goes nowhere, a bad period', () => {
  assert.throws(() => load({ timezone: 'Europe/Atlantis' }), (e: Error) => e instanceof ConfigError && /"reports.timezone" is "Europe\/Atlantis"/.test(e.message));
  assert.throws(() => load({ schedules: [{ name: 'A', period: 'daily', mailTo: ['a@b.c'] }] }), /scheduled report "A" in "reports.schedules" needs either "location" or "devices"/);
  assert.throws(() => load({ schedules: [{ name: 'B', location: 'X', devices: [1], period: 'daily', mailTo: ['a@b.c'] }] }), /needs either "location" or "devices" \(one of them\)/);
  assert.throws(() => load({ schedules: [{ name: 'C', location: 'X', period: 'daily' }] }), /scheduled report "C" in "reports.schedules" goes nowhere/);
  assert.throws(() => load({ schedules: [{ name: 'D', location: 'X', period: 'hourly', folder: 'x' }] }), /"reports.schedules.0.period" must be one of "daily", "weekly", "monthly"/);
  assert.throws(() => load({ activationEnergyKJPerMol: 0 }), /activationEnergyKJPerMol/);
});

test('PDF text: WinAnsi characters print as they are, others are replaced by their nearest letter', () => {
  assert.equal(winAnsi('5 °C ± 0,5 · 3 µg/m³ · 2 m² · Müller, Šťastný, Kühlraum'), '5 °C ± 0,5 · 3 µg/m³ · 2 m² · Müller, Šťastný, Kühlraum'.replace('ť', 't'));
  assert.equal(winAnsi('Chladírna č. 2, Řeřichová'), 'Chladírna c. 2, Rerichová');
  assert.equal(winAnsi('CO₂ ≥ 1000 ppm – ΔH'), 'CO2 >= 1000 ppm – dH');
  assert.equal(winAnsi('冷蔵庫'), '???');
  assert.equal(unitLabel('C'), '°C');
  assert.equal(unitLabel('%RH'), '%RH');
});

test('verification codes: 16 Crockford base32 characters in four groups, found again in the PDF', () => {
  const codes = new Set(Array.from({ length: 1000 }, newVerificationCode));
  assert.equal(codes.size, 1000);
  for (const code of codes) assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  const [code] = codes;
  assert.equal(codeInPdf(Buffer.from(`%PDF-1.3\n/Keywords (inlet-verification-code:${code})\n`)), code);
  assert.equal(codeInPdf(Buffer.from('%PDF-1.3\n/Keywords (something else)\n')), null);
});
