// Passphrases come from the environment (TIPLINE_PASSPHRASE, for scripts; TIPLINE_NEW_PASSPHRASE for the new one
// of `keys passwd`) or a prompt that does not echo. A new passphrase meets the same minimum either way: a
// script must not be the easy way to seal a key file with "x".
import type { ReadStream } from 'node:tty';
import { CliError, USAGE_EXIT } from './errors.js';

/** Characters (Unicode code points after NFC, as the key file derivation sees them) a new passphrase needs. */
export const MIN_PASSPHRASE_CHARS = 12;

/** Throws unless `p` may protect a new key file. `from` says where it came from, for the message. */
export function checkNewPassphrase(p: string, from: string): string {
  const n = [...p.normalize('NFC')].length;
  if (n < MIN_PASSPHRASE_CHARS) {
    throw new CliError(`passphrase too short (${from}): use at least ${MIN_PASSPHRASE_CHARS} characters, not ${n} (several words are best)`, USAGE_EXIT);
  }
  return p;
}

export interface PassphraseOptions {
  /** A new passphrase: at least MIN_PASSPHRASE_CHARS, and asked twice when typed. */
  confirm?: boolean;
  /** The environment variable that supplies it (TIPLINE_PASSPHRASE). */
  env?: string;
}

export async function readPassphrase(prompt: string, opts: PassphraseOptions = {}): Promise<string> {
  const envName = opts.env ?? 'TIPLINE_PASSPHRASE';
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return opts.confirm ? checkNewPassphrase(fromEnv, envName) : fromEnv;
  if (!process.stdin.isTTY) throw new CliError(`no passphrase: set ${envName} or run in a terminal to be asked`, 2);
  const first = await promptHidden(prompt);
  if (opts.confirm) {
    checkNewPassphrase(first, 'typed');
    const again = await promptHidden('Repeat it: ');
    if (again !== first) throw new CliError('the two passphrases differ', 2);
  }
  return first;
}

// Typed characters not yet consumed: a passphrase pasted with its repetition ("p\np\n") arrives in one chunk,
// and the second line belongs to the next prompt.
let pending = '';

/** Reads one line from a terminal without echo: passphrases here, codenames in codename-prompt.ts. `what` names
 * the secret in the error for an empty answer. */
export function promptHidden(prompt: string, stdin: ReadStream = process.stdin, what = 'passphrase'): Promise<string> {
  return new Promise((resolve, reject) => {
    // Raw (no echo) before the prompt shows: what is typed the moment it appears must not be echoed.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    let value = '';
    let done = false;
    const finish = (err?: Error) => {
      done = true;
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const take = (text: string) => {
      const chars = [...text];
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]!;
        if (ch === '\r' || ch === '\n') {
          pending = chars.slice(i + 1).join('').replace(/^\n/, ''); // \r\n is one line end
          return finish();
        }
        if (ch === '\u0003') return finish(new CliError('cancelled', 130));
        if (ch === '\u0004') return finish(value ? undefined : new CliError(`no ${what} given`, 2));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    const onData = (buf: Buffer) => take(buf.toString('utf8'));
    const onEnd = () => finish(new CliError(`no ${what} given`, 2));
    const early = pending;
    pending = '';
    take(early);
    if (done) return;
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}
