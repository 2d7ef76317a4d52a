import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { winswXml, serviceIdFor, scFailureArgs } from '../../src/service/winsw.ts';

const many = new Set(['argument', 'stopargument', 'onfailure', 'env']);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => many.has(name) });

function parse(xml: string) {
  assert.equal(XMLValidator.validate(xml), true);
  return parser.parse(xml).service;
}

test('default instance: the service definition IT gets', () => {
  const s = parse(winswXml({ instanceName: 'default' }));
  assert.equal(s.id, 'inlet');
  assert.equal(s.name, 'Inlet measurement gateway');
  assert.match(s.description, /COMET/);
  assert.equal(s.executable, '%BASE%\\node.exe');
  assert.deepEqual(s.argument, ['%BASE%\\app\\dist\\cli\\inlet.js', 'start', '--service']);
  assert.equal(s.workingdirectory, '%BASE%');
  assert.equal(s.startmode, 'Automatic');
  // Graceful stop goes through the stop helper (`inlet service stop-signal` bundled alone) and the named pipe, not Ctrl+C.
  assert.equal(s.stopexecutable, '%BASE%\\node.exe');
  assert.deepEqual(s.stopargument,
    ['%BASE%\\app\\dist\\service\\stop-signal.js', '--instance', 'default', '--timeout', '15', '--']);
  assert.equal(s.stoptimeout, '15 sec');
  assert.deepEqual(s.onfailure.map((f: Record<string, string>) => [f['@action'], f['@delay']]),
    [['restart', '10 sec'], ['restart', '30 sec'], ['restart', '60 sec']]);
  assert.equal(s.resetfailure, '3600 sec');
  const env = Object.fromEntries(s.env.map((e: Record<string, string>) => [e['@name'], e['@value']]));
  assert.deepEqual(env, {
    INLET_CONFIG: '%ProgramData%\\Inlet\\inlet.config.json',
    NODE_ENV: 'production',
  }, 'no INLET_DATA_DIR: the config\'s dataDir is the one data folder for the service and the inlet command');
  assert.equal(s.logpath, '%ProgramData%\\Inlet\\logs');
  assert.equal(s.log['@mode'], 'roll-by-size');
  assert.equal(s.log.sizeThreshold, '10240');
  assert.equal(s.log.keepFiles, '8');
});

test('another instance, custom paths and timings; special characters are escaped', () => {
  const xml = winswXml({
    instanceName: 'plant-2', dataDir: 'D:\\Data\\Inlet & Co', nodeExe: 'C:\\Inlet\\node.exe',
    appEntry: 'C:\\Inlet\\app\\dist\\cli\\inlet.js', stopTimeoutSeconds: 40, restartDelaysSeconds: [5],
    description: 'Line <2> "east"',
  });
  assert.match(xml, /Inlet &amp; Co/);
  assert.ok(xml.includes('\r\n'), 'CRLF for Notepad on older Windows');
  const s = parse(xml);
  assert.equal(s.id, 'inlet-plant-2');
  assert.equal(s.name, 'Inlet measurement gateway (plant-2)');
  assert.equal(s.description, 'Line <2> "east"');
  assert.equal(s.executable, 'C:\\Inlet\\node.exe');
  assert.deepEqual(s.stopargument.slice(1, 5), ['--instance', 'plant-2', '--timeout', '40']);
  assert.equal(s.stoptimeout, '40 sec');
  assert.equal(s.onfailure.length, 1);
  assert.equal(s.logpath, 'D:\\Data\\Inlet & Co\\logs');
  const env = Object.fromEntries(s.env.map((e: Record<string, string>) => [e['@name'], e['@value']]));
  assert.equal(env.INLET_CONFIG, 'D:\\Data\\Inlet & Co\\inlet.config.json');
});

test('pure and validated', () => {
  assert.equal(winswXml({ instanceName: 'default' }), winswXml({ instanceName: 'default' }));
  assert.equal(serviceIdFor('default'), 'inlet');
  assert.throws(() => winswXml({ instanceName: 'default', restartDelaysSeconds: [] }), /at least one delay/);
  assert.throws(() => winswXml({ instanceName: 'default', stopTimeoutSeconds: 0 }), /must be positive/);
});

test('sc.exe failure arguments carry the same recovery policy', () => {
  assert.deepEqual(scFailureArgs({ instanceName: 'default' }),
    ['failure', 'inlet', 'reset=', '3600', 'actions=', 'restart/10000/restart/30000/restart/60000']);
  assert.deepEqual(scFailureArgs({ instanceName: 'x', restartDelaysSeconds: [5], resetFailureAfterSeconds: 60 }),
    ['failure', 'inlet-x', 'reset=', '60', 'actions=', 'restart/5000']);
});
