// Passphrases come from TIPLINE_PASSPHRASE (for scripts) or a prompt that does not echo.
import { CliError } from './errors.js';

export async function readPassphrase(prompt: string, opts: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = process.env.TIPLINE_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) throw new CliError('no passphrase: set TIPLINE_PASSPHRASE or run in a terminal to be asked', 2);
  const first = await promptHidden(prompt);
  if (opts.confirm) {
    if (first.length < 12) throw new CliError('passphrase too short: use at least 12 characters (several words are best)', 2);
    const again = await promptHidden('Repeat it: ');
    if (again !== first) throw new CliError('the two passphrases differ', 2);
  }
  return first;
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CliError('cancelled', 130));
        if (ch === '\u0004') return finish(value ? undefined : new CliError('no passphrase given', 2));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
    stdin.once('end', () => finish(new CliError('no passphrase given', 2)));
  });
}
