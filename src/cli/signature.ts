// Electronic signatures on the command line (21 CFR Part 11 §11.200): a command that must be signed
// (a purge, signing the retention policy, changing alarm limits) asks the signer's Inlet user name,
// password and the signature's meaning on the terminal, or takes --signer/--meaning and the password
// from --password-stdin. The password is checked by verifySignature, as the API checks it (the
// directory for a directory account, a refused signature recorded as an event), and the verified
// signer is the actor the change records: the command line takes no free-text actor.
import { createInterface } from 'node:readline/promises';
import type { InletConfig } from '../config/schema.ts';
import type { Store, UserRecord } from '../store/store.ts';
import { DirectoryAuthenticator } from '../api/directory.ts';
import { HttpError } from '../api/http.ts';
import { SIGNATURE_MEANINGS, verifySignature, type Signature } from '../api/signatures.ts';
import { UsageError } from './args.ts';
import { cliSource } from './actor.ts';
import { TERMINAL_INPUT, type PasswordInput } from './user.ts';

/** Where the signer's name, password and meaning come from; tests replace it. */
export interface SignerInput extends PasswordInput {
  /** Asks with echo (the signer's name, the meaning). */
  ask(question: string): Promise<string>;
}

export const TERMINAL_SIGNER: SignerInput = {
  ...TERMINAL_INPUT,
  async ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try { return await rl.question(question); } finally { rl.close(); }
  },
};

/** The options every signed command takes (for parse()). */
export const SIGNER_OPTIONS = {
  signer: { type: 'string' }, meaning: { type: 'string' }, 'password-stdin': { type: 'boolean' },
} as const;

/** The usage text of those options. */
export const SIGNER_USAGE = `signed electronically: your Inlet user name, password and the signature's meaning are asked on the
terminal; without one, give --signer <user> --meaning <meaning> and pipe the password in with
--password-stdin. Meanings: ${SIGNATURE_MEANINGS.join(', ')}`;

/** The signer may not sign this, or their signature was refused: exit 1, nothing changed. */
export class SignatureRefused extends Error {}

export interface SignedAction {
  /** What is signed, for messages: "a purge", "the retention policy", "alarm limits". */
  what: string;
  /** Said when it is refused: "nothing was purged". */
  nothingDone: string;
  /** Null when the user may sign this; else why not (checked before the password is asked). */
  refuseSigner(user: UserRecord): Promise<string | null> | string | null;
}

/** Only an administrator of the whole site may sign `what` (a purge, the retention policy). */
export function siteAdministratorOnly(what: string): SignedAction['refuseSigner'] {
  return (user) => (user.role === 'administrator' && user.scope === 'global' ? null
    : `${user.username} is not an administrator of the whole site: only one may sign ${what}`);
}

/**
 * Asks for (or reads) the signature and verifies it. Throws UsageError (exit 2) when it cannot be
 * asked or is incomplete, SignatureRefused (exit 1) when the signer may not sign or the password is
 * not theirs; verifySignature records a refused password as a 'signature.refused' event.
 */
export async function signOnCommandLine(
  values: Record<string, unknown>, config: Pick<InletConfig, 'directory'> | undefined, store: Store, input: SignerInput, at: number, action: SignedAction,
): Promise<Signature> {
  const fromStdin = values['password-stdin'] === true;
  if (!input.isTerminal && !fromStdin) {
    throw new UsageError(`${action.what} is signed: no terminal to ask for the password, so give --signer <user> --meaning <meaning> and pipe the password in with --password-stdin; ${action.nothingDone}`);
  }
  let signer = typeof values.signer === 'string' ? values.signer.trim() : '';
  if (!signer && input.isTerminal && !fromStdin) signer = (await input.ask('Signed by (your Inlet user name): ')).trim();
  if (!signer) throw new UsageError(`--signer <user> is required: the Inlet user who signs ${action.what}`);
  let meaning = typeof values.meaning === 'string' ? values.meaning.trim() : '';
  if (!meaning && input.isTerminal && !fromStdin) meaning = (await input.ask(`Meaning of your signature (${SIGNATURE_MEANINGS.join(', ')}): `)).trim();
  if (!(SIGNATURE_MEANINGS as readonly string[]).includes(meaning)) throw new UsageError(`--meaning must be one of ${SIGNATURE_MEANINGS.join(', ')}`);
  const user = await store.findUser(signer);
  // Refused before the password is asked; an unknown name goes on to verifySignature, which refuses
  // it as it refuses a wrong password (and records it), so that names cannot be probed.
  if (user) {
    const why = await action.refuseSigner(user);
    if (why) throw new SignatureRefused(`${why}; ${action.nothingDone}`);
  }
  const password = fromStdin ? (await input.readAll()).split(/\r?\n/)[0] : await input.prompt(`Password of ${signer}: `);
  const directory = config?.directory.enabled ? new DirectoryAuthenticator(config.directory) : null;
  try {
    return await verifySignature(store, signer, { password, meaning }, at, cliSource(), { directory });
  } catch (err) {
    if (err instanceof HttpError) throw new SignatureRefused(`${err.message.replace(/; nothing was changed$/, '')}; ${action.nothingDone}`);
    throw err;
  }
}
