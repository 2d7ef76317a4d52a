// The service's stop executable: `node dist/service/stop-signal.js --instance NAME --timeout S [--data-dir DIR] -- ...`.
// Same as `inlet service stop-signal`, without loading the application (see stop-signal.ts). WinSW appends the
// service's own arguments after "--"; they are ignored.
import { parseArgs } from 'node:util';
import { validateInstanceName } from './control.ts';
import { stopSignal } from './stop-signal.ts';

const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const io = { out: (s: string) => process.stdout.write(s + '\n'), err: (s: string) => process.stderr.write(s + '\n') };
try {
  const { values } = parseArgs({
    args: dashdash >= 0 ? argv.slice(0, dashdash) : argv,
    strict: true,
    options: { instance: { type: 'string', default: 'default' }, timeout: { type: 'string', default: '15' }, 'data-dir': { type: 'string' } },
  });
  validateInstanceName(values.instance);
  process.exitCode = await stopSignal(values.instance, values['data-dir'], values.timeout, io);
} catch (err) {
  io.err(`inlet stop-signal: ${(err as Error).message}\nusage: stop-signal.js [--instance NAME] [--timeout SECONDS] [--data-dir DIR] [-- ignored...]`);
  process.exitCode = 2;
}
