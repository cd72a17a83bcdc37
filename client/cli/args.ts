// Command-line arguments, parsed and checked the same way by every command: one line that says what to type
// instead, and exit code 2.
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, USAGE_EXIT } from './errors.js';
import { parseProxy } from './http.js';

/** Where a command writes: results to stdout (`say`), progress and warnings to stderr (`warn`). */
export interface Io {
  say: (s: string) => void;
  warn: (s: string) => void;
}

/** A usage mistake: one line, the fix, and where the options are listed. */
export function usage(command: string, message: string): CliError {
  return new CliError(`${message} (tipline ${command} --help)`, USAGE_EXIT);
}

export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function args<const O extends Options>(command: string, argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals as true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    // A codename typed as an argument: not repeated back (it is already in the shell history; clear it there).
    if ((command === 'replies' || (command === 'submit' && argv.some((a) => a === '--codename' || a.startsWith('--codename=')))) && (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' || /--codename/.test(e.message))) {
      throw usage(command, 'the codename is never given as an argument (it would stay in your shell history, and in the process list while this runs): set TIPLINE_CODENAME or let tipline ask for it without echo');
    }
    throw usage(command, explainParseError(e, options));
  }
}

/** node:util's parser messages, said the way a person would fix them. */
export function explainParseError(err: Error & { code?: string }, options: Options): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const known = Object.keys(options).map((o) => `--${o}`);
      return `unknown option ${quoted}: the options are ${known.join(', ')}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /--[\w-]+/.exec(err.message)?.[0] ?? 'an option';
      return /argument missing/.test(err.message) ? `${flag} needs a value after it` : `${flag} is a switch and takes no value: ${err.message}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      // The usual cause: a fingerprint's spaces, unquoted.
      if (/^[a-z2-7]{4}$/i.test(quoted)) return `unexpected "${quoted}": put the fingerprint in quotes, --fingerprint "xxxx xxxx …"`;
      return `unexpected "${quoted}": this command takes options only (a message goes on standard input or after -m)`;
    default:
      return err.message;
  }
}

export function need(command: string, value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value === '') throw usage(command, `missing ${flag}: ${what}`);
  return value;
}

export function int(command: string, value: string | undefined, flag: string, fallback: number, range: [number, number] = [0, Number.MAX_SAFE_INTEGER]): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < range[0] || n > range[1]) throw usage(command, `${flag} must be a whole number from ${range[0]} to ${range[1]}, not "${value}"`);
  return n;
}

/** `127.0.0.1:8080`, `abc….onion` and full URLs alike: a bare host means http://, what onion services use. */
export function serverUrl(command: string, value: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(command, `--server "${value}" is not an address: give the tip line's, e.g. --server http://127.0.0.1:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(command, `--server must start with http:// or https://, not ${url.protocol}//`);
  if (!url.hostname) throw usage(command, `--server "${value}" has no host name: e.g. --server http://127.0.0.1:8080`);
  return url.href;
}

export async function fingerprintArg(command: string, value: string): Promise<string> {
  const { normalizeFingerprint } = await import('../../crypto/keys.js');
  try {
    return normalizeFingerprint(value);
  } catch (err) {
    throw usage(command, `--fingerprint: ${(err as Error).message}; copy the 8 groups of 4 that the newsroom publishes (tipline serve and keys init print it)`);
  }
}

export function keyFileArg(command: string, value: string): string {
  if (!existsSync(value)) throw usage(command, `no key file at ${value}: a desk's key is made by tipline keys init --dir DIR (DIR/desk.key) or keys add-desk`);
  return value;
}

export function proxyArg(command: string, value: string | undefined) {
  // Asked for and empty (--socks "$UNSET"): going direct would send from the user's own address.
  if (value !== undefined && value.trim() === '') throw usage(command, '--socks is empty: give Tor\'s SOCKS port, e.g. --socks 127.0.0.1:9050 (tor) or 127.0.0.1:9150 (Tor Browser)');
  return parseProxy(value ?? process.env.ALL_PROXY);
}

