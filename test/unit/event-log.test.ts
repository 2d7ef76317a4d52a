// The Windows event log entries: eventcreate's arguments, the bound on how many are written, the winston transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import winston from 'winston';
import { EVENT_IDS, boundedEventLog, eventCreateArgs, eventLogTransport } from '../../src/service/event-log.ts';

test('eventcreate arguments: source Inlet, Application log, type, id, one line of text without double quotes', () => {
  assert.deepEqual(eventCreateArgs('ERROR', 200, 'port 80 is "in use"\n  stop IIS'),
    ['/L', 'APPLICATION', '/SO', 'Inlet', '/T', 'ERROR', '/ID', '200', '/D', "port 80 is 'in use' stop IIS"]);
  assert.throws(() => eventCreateArgs('ERROR', 1001, 'x'), /outside 1-1000/);
  assert.equal(eventCreateArgs('INFORMATION', 100, 'x'.repeat(5000)).at(-1)!.length, 2000);
});

test('an error storm writes at most 20 entries a minute, then says how many it left out', () => {
  let clock = 0;
  const emitted: string[][] = [];
  const log = boundedEventLog((a) => emitted.push(a), 20, () => clock);
  for (let i = 0; i < 500; i++) log.write('ERROR', EVENT_IDS.error, `failure ${i}`);
  assert.equal(emitted.length, 20);
  clock = 60_000;
  log.write('INFORMATION', EVENT_IDS.stopped, 'Inlet stopped cleanly');
  assert.match(emitted[20].at(-1)!, /^480 more Inlet log entries were not written/);
  assert.equal(emitted[21].at(-1), 'Inlet stopped cleanly');
});

test('the transport passes warnings and errors, not info', async () => {
  const written: Array<[string, number, string]> = [];
  const logger = winston.createLogger({ level: 'info', transports: [eventLogTransport({ write: (t, id, m) => written.push([t, id, m]) })] });
  logger.info('routine');
  logger.warn('the HTTPS certificate has expired');
  logger.error('the database is unavailable', { error: 'ETIMEOUT' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(written, [
    ['WARNING', EVENT_IDS.warning, 'the HTTPS certificate has expired'],
    ['ERROR', EVENT_IDS.error, 'the database is unavailable {"error":"ETIMEOUT"}'],
  ]);
});
