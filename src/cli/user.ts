// `inlet user ...`: viewer accounts from the command line. This is how the first administrator
// is made: there is no default account and no default password.
import os from 'node:os';
import type { InletConfig } from '../config/schema.ts';
import type { Store, UserRecord } from '../store/store.ts';
import { hashPassword, passwordWeakness } from '../api/passwords.ts';
import { ROLES, USERNAME_PATTERN } from '../api/users.ts';
import { UsageError, parse, required, requiredReason } from './args.ts';
import { cliActor, cliSource } from './actor.ts';

const audit = (reason: unknown) => ({ actor: cliActor(), source: cliSource(), reason: typeof reason === 'string' ? reason : null });

/** Where passwords come from; tests replace it, the command uses the terminal or stdin. */
export interface PasswordInput {
  isTerminal: boolean;
  /** Asks without echoing what is typed. */
  prompt(question: string): Promise<string>;
  /** Everything piped in, for --password-stdin. */
  readAll(): Promise<string>;
}

function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') { finish(); resolve(typed); return; }
        if (ch === '\u0003' || ch === '\u0004') { finish(); reject(new UsageError('cancelled; no user was changed')); return; }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    process.stderr.write(question);
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

export const TERMINAL_INPUT: PasswordInput = {
  isTerminal: Boolean(process.stdin.isTTY),
  prompt: promptHidden,
  async readAll() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

async function newPassword(username: string, fromStdin: boolean, input: PasswordInput): Promise<string> {
  if (!fromStdin && !input.isTerminal) throw new UsageError('no terminal to ask for the password: pipe it in and add --password-stdin');
  const password = fromStdin ? (await input.readAll()).split(/\r?\n/)[0] : await input.prompt(`New password for ${username}: `);
  const weakness = await passwordWeakness(password, username);
  if (weakness) throw new UsageError(`${weakness}; nothing was changed`);
  if (!fromStdin && await input.prompt('Type it again: ') !== password) throw new UsageError('the two passwords differ; nothing was changed');
  return password;
}

async function existingUser(store: Store, username: string): Promise<UserRecord> {
  const user = await store.findUser(username);
  if (!user) throw new UsageError(`no user ${username}; see 'inlet user list'`);
  return user;
}

const USAGE = `usage:
  inlet user add --username <name> --role ${ROLES.join('|')} [--password-stdin] --reason <text>
  inlet user list
  inlet user passwd --username <name> [--password-stdin] [--no-force-change] --reason <text>
                                                             (set a new password; its user must change it
                                                              at next sign-in unless --no-force-change)
  inlet user unlock --username <name> --reason <text>                        (after too many failed sign-ins)
Every change is recorded in the audit trail with your operating-system account and --reason.
Without --password-stdin the password is asked twice on the terminal; it is never shown or logged.`;

export async function userCommand(argv: string[], _config: InletConfig, store: Store, out: (line: string) => void, input: PasswordInput = TERMINAL_INPUT): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add': {
      const { values } = parse(rest, { username: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' }, reason: { type: 'string' } });
      const username = required(values, 'username');
      if (!USERNAME_PATTERN.test(username)) throw new UsageError('--username takes 2 to 64 letters, digits or . _ @ -');
      const reason = requiredReason(values);
      const role = required(values, 'role') as UserRecord['role'];
      if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      if (await store.findUser(username)) throw new UsageError(`user ${username} already exists; to set a new password: inlet user passwd --username ${username}`);
      const password = await newPassword(username, values['password-stdin'] === true, input);
      await store.addUser({ username, role, passwordHash: await hashPassword(password) }, Date.now(), audit(reason));
      out(`User ${username} (${role}) added. They can sign in to the viewer now.`);
      return 0;
    }
    case 'list': {
      parse(rest, {});
      const users = await store.listUsers();
      if (!users.length) out('no users yet; add the first administrator with: inlet user add --username <name> --role administrator --reason "first administrator"');
      const now = Date.now();
      for (const u of users) {
        const flags = [u.disabled ? 'disabled' : '', u.lockedUntil && u.lockedUntil > now ? `locked until ${new Date(u.lockedUntil).toISOString()}` : ''].filter(Boolean);
        out(`${u.username.padEnd(24)} ${u.role.padEnd(13)} ${flags.join(', ')}`.trimEnd());
      }
      return 0;
    }
    case 'passwd': {
      const { values } = parse(rest, { username: { type: 'string' }, 'password-stdin': { type: 'boolean' }, 'no-force-change': { type: 'boolean' }, reason: { type: 'string' } });
      requiredReason(values);
      const user = await existingUser(store, required(values, 'username'));
      const password = await newPassword(user.username, values['password-stdin'] === true, input);
      // Like an administrator's reset in the viewer (PATCH /api/users/:id): a password IT typed is known
      // to two people, so its user replaces it at next sign-in, unless IT says otherwise.
      const mustChangePassword = values['no-force-change'] !== true;
      await store.updateUser(user.id, { passwordHash: await hashPassword(password), mustChangePassword, failedLogins: 0, lockedUntil: null }, audit(values.reason));
      const actor = audit(values.reason).actor;
      await store.addEvent({
        at: Date.now(), deviceId: null, type: 'user.password.reset', level: 'info',
        message: `password of ${user.username} set with 'inlet user passwd' by ${actor} on ${os.hostname()}` +
          (mustChangePassword ? '; they must change it at next sign-in' : '; no change required (--no-force-change)'),
        data: { username: user.username, actor, via: 'cli', host: os.hostname(), mustChangePassword: { old: user.mustChangePassword, new: mustChangePassword } },
      });
      out(`Password of ${user.username} changed. ` +
        (mustChangePassword
          ? `${user.username} must choose their own password at next sign-in (to skip that: --no-force-change). `
          : `${user.username} is not asked to change it (--no-force-change). `) +
        'Sessions already signed in end when the gateway restarts or when they go idle.');
      return 0;
    }
    case 'unlock': {
      const { values } = parse(rest, { username: { type: 'string' }, reason: { type: 'string' } });
      requiredReason(values);
      const user = await existingUser(store, required(values, 'username'));
      await store.updateUser(user.id, { failedLogins: 0, lockedUntil: null }, audit(values.reason));
      out(`${user.username} unlocked.`);
      return 0;
    }
    default:
      out(USAGE);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}
