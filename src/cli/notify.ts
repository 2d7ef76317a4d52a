// `inlet notify test --to <address>`: proves the SMTP settings work before an alarm depends on them.
import type { InletConfig } from '../config/schema.ts';
import { createTransport } from '../jobs/notify.ts';
import { UsageError, parse, required } from './args.ts';

export async function notifyCommand(argv: string[], config: InletConfig, out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'test') { out('usage: inlet notify test --to <address>   (sends a test mail through smtp.* of the config)'); return sub ? 2 : 0; }
  const { values } = parse(rest, { to: { type: 'string' } });
  const to = required(values, 'to');
  if (!/^[^@\s]+@[^@\s]+$/.test(to)) throw new UsageError(`--to must be an e-mail address, got "${to}"`);
  const transport = createTransport(config.smtp);
  try {
    const info = await transport.sendMail({
      from: config.smtp.from, to, subject: '[Inlet] test notification',
      text: `This is a test mail from Inlet on ${config.publicUrl || 'this server'}. Alarm notifications will arrive like this.`,
    });
    out(`test mail accepted by ${config.smtp.host}:${config.smtp.port} for ${to} (${info.response})`);
    return 0;
  } catch (err) {
    out(`the SMTP server ${config.smtp.host}:${config.smtp.port} did not take the mail: ${(err as Error).message}`);
    return 1;
  } finally {
    transport.close();
  }
}
