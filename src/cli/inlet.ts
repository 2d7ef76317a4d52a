#!/usr/bin/env node
// The `inlet` command. Minimal dispatcher from the installer branch: it knows only `service`.
// The gateway core adds start, migrate, device, user, verify, export, simulate here; when the two meet,
// keep that version and route `service` to runServiceCommand.
import { runServiceCommand } from './service.ts';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'service':
      return runServiceCommand(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write('Usage: inlet <command>\n\nCommands:\n  service   Windows service: install, uninstall, start, stop, status, stop-signal, configure, print-xml\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`inlet: unknown command "${command}". Run \`inlet --help\`.\n`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
