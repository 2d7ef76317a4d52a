// Who runs a command, for the audit trail: the operating-system account (the command line has no
// Inlet sign-in), and from which machine.
import os from 'node:os';

export function cliActor(): string {
  let account = 'unknown account';
  try { account = os.userInfo().username; } catch { /* no passwd entry (containers): keep the placeholder */ }
  return `${account} (command line)`;
}

export function cliSource(): string {
  return `cli@${os.hostname()}`;
}
