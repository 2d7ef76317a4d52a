// Real devices' facts against a real gateway: a T2514 barometer's pressure is stored, a channel the
// model table does not expect is stored and flagged, and the simulator tells stored from kept aside.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerDevice, soapUrl, startTestGateway } from './harness.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { describeSimulation, runSimulation, simulateCommand } from '../../src/cli/simulate.ts';
import { post } from '../../src/sim/client.ts';

let gateway: Awaited<ReturnType<typeof startTestGateway>>;

before(async () => { gateway = await startTestGateway(); });
after(async () => { await gateway?.stop(); });

async function latest(deviceId: number) {
  return (await gateway.store.latestValues(deviceId)).map((v) => ({ channel: v.channel, quantity: v.quantity, unit: v.unit, value: v.value, errorCode: v.errorCode }));
}

test('a T2514 sends pressure only: its pressure is stored, the empty temperature and humidity slots are not', async () => {
  const device = await registerDevice(gateway.store, { family: 'soap', serial: '21400001', model: 'T2514' });
  await gateway.registry.refresh();
  const body = buildSoapMessage({
    serial: '21400001', modelCode: soapModelCode('T2514')!, temp: -9999, relHum: -9999, compQuant: -9999, pressure: 1013.2,
    tempU: 'n/a', compType: 'n/a', pressureU: 'hPa',
  });
  const res = await post(soapUrl(gateway.url, device), body, 'text/xml; charset=utf-8');
  assert.equal(res.status, 200, res.body);
  assert.equal(res.headers['x-inlet-verdict'], 'accepted', String(res.headers['x-inlet-reason']));
  assert.deepEqual(await latest(device.id), [{ channel: 4, quantity: 'pressure', unit: 'hPa', value: 1013.2, errorCode: null }]);
});

test('a channel the model table does not expect, sent with a real value, is stored and flagged by an event', async () => {
  // A T0510 is in the table as temperature only; this one also sends a humidity value.
  const device = await registerDevice(gateway.store, { family: 'soap', serial: '21400002', model: 'T0510' });
  await gateway.registry.refresh();
  const body = buildSoapMessage({ serial: '21400002', modelCode: soapModelCode('T0510')!, temp: 4.5, relHum: 55.5, compQuant: -9999, compType: 'n/a', pressure: -9999, pressureU: 'n/a' });
  for (let i = 0; i < 2; i++) {
    const res = await post(soapUrl(gateway.url, device), body, 'text/xml; charset=utf-8');
    assert.equal(res.headers['x-inlet-verdict'], 'accepted', String(res.headers['x-inlet-reason']));
  }
  const values = await latest(device.id);
  assert.deepEqual(values.map((v) => [v.channel, v.quantity, v.value]), [[1, 'temperature', 4.5], [2, 'relative_humidity', 55.5]]);
  const events = await gateway.store.events({ deviceId: device.id, type: 'device.unexpected-channel' });
  assert.equal(events.length, 1, 'flagged once, not on every upload');
  assert.match(events[0].message, /T0510\) sent channel 2 \(relative_humidity, 55\.5\), which .*model table does not expect.*stored as received/);
});

test('the simulator reports a suspension and quarantined uploads, and exits 1 when uploads were not stored', async () => {
  const device = await registerDevice(gateway.store, { family: 'soap', serial: '21400003', model: 'T3510' });
  await gateway.registry.refresh();
  // back to back: a device may not send more often than every 10 s, so it is suspended on the third early message
  const report = await runSimulation({ devices: [{ url: soapUrl(gateway.url, device), serial: '21400003', modelCode: soapModelCode('T3510')! }], count: 6, intervalMs: 0, alarmEvery: 0, errorEvery: 0 });
  assert.equal(report.ok, 6, 'a SOAP device is answered 200 either way');
  assert.equal(report.verdicts.quarantined, 3, JSON.stringify(report));
  const { lines, exitCode } = describeSimulation(report);
  assert.equal(exitCode, 1);
  assert.match(lines[0], /6 sent, 3 stored, 3 quarantined, 0 refused/);
  assert.ok(lines.some((l) => /not stored \(1x\): quarantined: suspended now: sending faster than allowed/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /not stored \(2x\): quarantined: device suspended since/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /FAILED: 3 of 6 uploads were not stored/.test(l)));
});

test('simulate --url: exit code 0 when every upload was stored, 1 when refused', async () => {
  const device = await registerDevice(gateway.store, { family: 'soap', serial: '21400004', model: 'T3510' });
  await gateway.registry.refresh();
  const lines: string[] = [];
  const code = await simulateCommand(['--url', soapUrl(gateway.url, device), '--serial', '21400004', '--count', '1'], gateway.config, async () => gateway.store, (l) => lines.push(l));
  assert.equal(code, 0, lines.join('\n'));
  assert.match(lines.join('\n'), /1 sent, 1 stored, 0 quarantined, 0 refused/);
  const wrong: string[] = [];
  const refused = await simulateCommand(['--url', soapUrl(gateway.url, device), '--serial', '21400099', '--count', '1'], gateway.config, async () => gateway.store, (l) => wrong.push(l));
  assert.equal(refused, 1, wrong.join('\n'));
  assert.match(wrong.join('\n'), /not stored \(1x\): refused: entry point belongs to serial 21400004/);
});
