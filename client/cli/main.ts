#!/usr/bin/env node
// `tipline`: one CLI for the server, the source's command-line client and the newsroom. Every command answers
// --help; every mistake gets one line on stderr that says what to type instead, and exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { CliError, USAGE_EXIT } from './errors.js';
import { parseProxy } from './http.js';
import { printable } from './printable.js';

const OVERVIEW = `usage: tipline <command> [options]      (tipline <command> --help shows a command's options)

The tip line:
  serve           run the tip line: the sources' page and the API (npm start runs this)
The newsroom:
  keys init       make the root key, a desk key and the signed directory of keys
  keys add-desk   add a desk (or auditor) key and sign the directory again
  fetch           download and decrypt, on this machine, every tip not yet in a folder
  delete          delete tips from the server
A source:
  submit          encrypt a tip on this machine and send it (through Tor with --socks)

  tipline --version   the version
Passphrases for key files are read from TIPLINE_PASSPHRASE when it is set, otherwise asked for without echo.`;

const HELP: Record<string, string> = {
  serve: `usage: tipline serve [--port N] [--host H] [--data DIR] [--directory FILE] [--fingerprint FP]

Runs the tip line: the sources' page at /, the API under /api/v1, the signed directory of keys.

  --port N            port to listen on (8080)
  --host H            address to listen on (127.0.0.1; Tor's onion service forwards to it)
  --data DIR          folder for the embedded PGlite database and its lock (./data); with
                      DATABASE_URL=postgres://… set, PostgreSQL is used instead (production)
  --directory FILE    publish this signed directory (default: keys/directory.json if it exists);
                      a replacement must be signed by the same root key
  --fingerprint FP    refuse any directory not signed by this root (TIPLINE_ROOT_FINGERPRINT works too);
                      production should pin

Environment: TIPLINE_POW_DIFFICULTY (11 bits), TIPLINE_RETENTION_DAYS (30), TIPLINE_LOG_LEVEL (info, warn,
error or silent; warn drops the per-request lines).`,
  keys: `usage: tipline keys init --dir DIR [--name NAME] [--days N]
       tipline keys add-desk --dir DIR --name NAME [--auditor] [--days N]

  init       make a root key, one desk key and DIR/directory.json signed by the root (the first time)
  add-desk   add a desk (or, with --auditor, an auditor) key to DIR and sign the directory again

tipline keys init --help and tipline keys add-desk --help show their options.`,
  'keys init': `usage: tipline keys init --dir DIR [--name NAME] [--days N]

Makes the newsroom's root key (keep it offline), one desk key and DIR/directory.json, the list of desk keys
signed by the root, and prints the root fingerprint: publish it where the server cannot change it.

  --dir DIR      folder for the keys (made if missing); refuses one that already holds keys
  --name NAME    the desk key's name (desk): letters, digits, dot, dash, underscore
  --days N       how long the directory and the desk key are valid (365)

Key files are encrypted with a passphrase (TIPLINE_PASSPHRASE, or asked for twice) and written mode 0600.
example:  tipline keys init --dir keys`,
  'keys add-desk': `usage: tipline keys add-desk --dir DIR --name NAME [--auditor] [--days N]

Adds a desk key (or an auditor's key) to DIR and signs DIR/directory.json again with the root key; publish it
again with tipline serve --directory DIR/directory.json. Asks for the root key's passphrase.

  --dir DIR      the folder tipline keys init made
  --name NAME    the new key's name: letters, digits, dot, dash, underscore
  --auditor      an auditor's key (checks retention; tips are not encrypted to it)
  --days N       how long the new key and the directory are valid (365)

example:  tipline keys add-desk --dir keys --name alice`,
  submit: `usage: tipline submit --server URL --fingerprint FP [--file PATH]... [--socks HOST:PORT] < message.txt

Encrypts a tip on this machine to every desk key the newsroom's signed directory lists, checks that
directory against FP first, and sends it in chunks, resuming after a dropped connection. The message comes
on standard input; -m TEXT works too, but leaves it in your shell history.

  --server URL          the tip line: http://….onion, or http://127.0.0.1:8080 (http:// is assumed)
  --fingerprint FP      the newsroom's root fingerprint as it publishes it (8 groups of 4 characters)
  --file PATH           a file to attach; repeat for several
  -m, --message TEXT    the message, instead of standard input
  --socks HOST:PORT     send through Tor: 127.0.0.1:9150 for Tor Browser, 127.0.0.1:9050 for tor
                        (ALL_PROXY=socks5h://HOST:PORT works too); needed for an .onion address
  --retry-for S         keep retrying a dropped connection for S seconds (600)

example:  tipline submit --server http://127.0.0.1:8080 --fingerprint "abcd efgh …" --file demand.pdf < message.txt`,
  fetch: `usage: tipline fetch --server URL --key FILE --out DIR [--socks HOST:PORT]

Downloads every tip not yet in DIR and decrypts it on this machine into DIR/<tip-id>/: message.txt,
files/<name>, manifest.json. A tip that does not decrypt completely is reported and nothing of it is kept.

  --server URL          the tip line (http:// is assumed)
  --key FILE            your desk key file (from tipline keys init or add-desk); asks for its passphrase
  --out DIR             where tips go (made if missing); tips already there are skipped
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too)

example:  tipline fetch --server http://127.0.0.1:8080 --key keys/desk.key --out inbox`,
  delete: `usage: tipline delete --server URL --key FILE TIP_ID...

Deletes tips from the server; each deletion is recorded in the audit chain. TIP_ID is the 26-character
name of the tip's folder under fetch's --out, or the id the source's receipt shows.

  --server URL          the tip line (http:// is assumed)
  --key FILE            your desk key file; asks for its passphrase
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too)

example:  tipline delete --server http://127.0.0.1:8080 --key keys/desk.key cu3tpwjntm56q7llcx4m3gqghy`,
};

const COMMANDS = ['serve', 'keys', 'submit', 'fetch', 'delete'];

const say = (s: string) => process.stdout.write(`${s}\n`);
const warn = (s: string) => process.stderr.write(`${s}\n`);

/** A usage mistake: one line, the fix, and where the options are listed. */
function usage(command: string, message: string): CliError {
  return new CliError(`${message} (tipline ${command} --help)`, USAGE_EXIT);
}

function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

type Options = NonNullable<ParseArgsConfig['options']>;

function args<const O extends Options>(command: string, argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals as true, strict: true });
  } catch (err) {
    throw usage(command, explainParseError(err as Error & { code?: string }, options));
  }
}

/** node:util's parser messages, said the way a person would fix them. */
function explainParseError(err: Error & { code?: string }, options: Options): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const known = Object.keys(options).map((o) => `--${o}`);
      return `unknown option ${quoted}: the options are ${known.join(', ')}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /--[\w-]+/.exec(err.message)?.[0] ?? 'an option';
      return /argument missing/.test(err.message) ? `${flag} needs a value after it` : `${flag} takes a value, not a switch: ${err.message}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      // The usual cause: a fingerprint's spaces, unquoted.
      if (/^[a-z2-7]{4}$/i.test(quoted)) return `unexpected "${quoted}": put the fingerprint in quotes, --fingerprint "xxxx xxxx …"`;
      return `unexpected "${quoted}": this command takes options only (a message goes on standard input or after -m)`;
    default:
      return err.message;
  }
}

function need(command: string, value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value === '') throw usage(command, `missing ${flag}: ${what}`);
  return value;
}

function int(command: string, value: string | undefined, flag: string, fallback: number, range: [number, number] = [0, Number.MAX_SAFE_INTEGER]): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < range[0] || n > range[1]) throw usage(command, `${flag} must be a whole number from ${range[0]} to ${range[1]}, not "${value}"`);
  return n;
}

/** `127.0.0.1:8080`, `abc….onion` and full URLs alike: a bare host means http://, what onion services use. */
function serverUrl(command: string, value: string): string {
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

async function fingerprintArg(command: string, value: string): Promise<string> {
  const { normalizeFingerprint } = await import('../../crypto/keys.js');
  try {
    return normalizeFingerprint(value);
  } catch (err) {
    throw usage(command, `--fingerprint: ${(err as Error).message}; copy the 8 groups of 4 that the newsroom publishes (tipline serve and keys init print it)`);
  }
}

function keyFileArg(command: string, value: string): string {
  if (!existsSync(value)) throw usage(command, `no key file at ${value}: a desk's key is made by tipline keys init --dir DIR (DIR/desk.key) or keys add-desk`);
  return value;
}

function fileArgs(command: string, paths: string[]): string[] {
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw usage(command, `--file ${p}: no such file`);
    if (!st.isFile()) throw usage(command, `--file ${p}: not a file (attach files one by one: --file A --file B)`);
  }
  return paths;
}

function proxyArg(command: string, value: string | undefined) {
  // Asked for and empty (--socks "$UNSET"): going direct would send from the user's own address.
  if (value !== undefined && value.trim() === '') throw usage(command, '--socks is empty: give Tor\'s SOCKS port, e.g. --socks 127.0.0.1:9050 (tor) or 127.0.0.1:9150 (Tor Browser)');
  return parseProxy(value ?? process.env.ALL_PROXY);
}

/** Operator settings read from the environment (systemd `Environment=` lines). */
function serverTuning() {
  const env = process.env;
  const level = env.TIPLINE_LOG_LEVEL;
  if (level !== undefined && !['info', 'warn', 'error', 'silent'].includes(level)) throw new CliError('TIPLINE_LOG_LEVEL must be info, warn, error or silent', USAGE_EXIT);
  return {
    ...(env.TIPLINE_POW_DIFFICULTY ? { powDifficulty: int('serve', env.TIPLINE_POW_DIFFICULTY, 'TIPLINE_POW_DIFFICULTY', 11, [0, 32]) } : {}),
    ...(env.TIPLINE_RETENTION_DAYS ? { retentionDays: int('serve', env.TIPLINE_RETENTION_DAYS, 'TIPLINE_RETENTION_DAYS', 30, [1, 36_500]) } : {}),
    ...(level ? { logLevel: level as 'info' | 'warn' | 'error' | 'silent' } : {}),
  };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The commands a mistyped one is closest to (an edit or two away, or the same start). */
function closest(word: string): string[] {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = row[j]!;
        row[j] = next;
      }
    }
    return row[b.length]!;
  };
  return COMMANDS.filter((c) => distance(word.toLowerCase(), c) <= 2 || (word.length >= 2 && c.startsWith(word.toLowerCase())));
}

let serverForErrors: string | undefined;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    warn(OVERVIEW);
    return USAGE_EXIT;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = rest.filter((a) => !a.startsWith('-')).join(' ');
    if (!topic) say(OVERVIEW);
    else if (HELP[topic]) say(HELP[topic]);
    else throw new CliError(`no help for "${printable(topic, 40)}": the commands are ${COMMANDS.join(', ')} (tipline --help)`, USAGE_EXIT);
    return 0;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    say(`tipline ${version()}`);
    return 0;
  }
  if (command.startsWith('-')) throw new CliError(`"${printable(command, 40)}" is not a command: the command comes first, e.g. tipline serve ${printable(argv.join(' '), 200)} (tipline --help)`, USAGE_EXIT);

  const topic = command === 'keys' && rest[0] && !rest[0].startsWith('-') ? `keys ${rest[0]}` : command;
  if (HELP[topic] && wantsHelp(rest)) {
    say(HELP[topic]);
    return 0;
  }

  switch (command) {
    case 'serve': {
      const { values } = args('serve', rest, { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, directory: { type: 'string' }, fingerprint: { type: 'string' } });
      const port = int('serve', values.port, '--port', 8080, [0, 65_535]);
      const host = values.host ?? '127.0.0.1';
      // An empty value (a variable that was not set, as in the shipped unit's --fingerprint ${TIPLINE_ROOT_FINGERPRINT})
      // must not quietly mean "trust whichever root the database holds".
      if (values.fingerprint === '') throw usage('serve', '--fingerprint is empty: give the root fingerprint that tipline keys init printed (in production, TIPLINE_ROOT_FINGERPRINT in /etc/tipline/env)');
      const pin = values.fingerprint ?? process.env.TIPLINE_ROOT_FINGERPRINT;
      const directoryFile = values.directory;
      if (directoryFile !== undefined && !existsSync(directoryFile)) throw usage('serve', `--directory ${directoryFile}: no such file (tipline keys init --dir keys makes keys/directory.json)`);
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const rootFingerprint = pin ? await fingerprintArg('serve', pin) : undefined;
      const { serve, defaultDirectoryFile } = await import('../../server/serve.js');
      let server;
      try {
        server = await serve({
          host,
          port,
          dataDir: values.data ?? 'data',
          databaseUrl: process.env.DATABASE_URL || undefined,
          directoryFile: directoryFile ?? defaultDirectoryFile(),
          rootFingerprint,
          tuning: serverTuning(),
          say: warn,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new CliError(`${host}:${port} is already in use (another tipline serve?): stop it, or choose another with --port N`);
        if (code === 'EADDRNOTAVAIL') throw usage('serve', `--host ${host} is not an address of this machine`);
        throw err;
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      return 0;
    }
    case 'keys': {
      const [sub, ...more] = rest;
      if (sub !== 'init' && sub !== 'add-desk') {
        const what = sub === undefined ? 'keys needs a subcommand' : `unknown keys subcommand "${sub}"`;
        throw new CliError(`${what}: tipline keys init --dir DIR (the first time) or tipline keys add-desk --dir DIR --name NAME (tipline keys --help)`, USAGE_EXIT);
      }
      const cmd = `keys ${sub}`;
      const { values } = args(cmd, more, { dir: { type: 'string' }, name: { type: 'string' }, days: { type: 'string' }, ...(sub === 'add-desk' ? { auditor: { type: 'boolean' } } : {}) } as const);
      const days = int(cmd, values.days, '--days', 365, [1, 3650]);
      const dir = need(cmd, values.dir, '--dir DIR', 'the folder for the keys, e.g. --dir keys');
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const { keysInit, keysAdd } = await import('./commands/keys.js');
      if (sub === 'init') await keysInit(dir, values.name ?? 'desk', days, say);
      else await keysAdd(dir, need(cmd, values.name, '--name NAME', "the new key's name, e.g. --name alice"), (values as { auditor?: boolean }).auditor ? 'auditor' : 'desk', days, say);
      return 0;
    }
    case 'submit': {
      const { values } = args('submit', rest, {
        server: { type: 'string' }, fingerprint: { type: 'string' }, message: { type: 'string', short: 'm' },
        file: { type: 'string', multiple: true }, socks: { type: 'string' }, 'retry-for': { type: 'string' },
      });
      const server = serverUrl('submit', need('submit', values.server, '--server URL', "the tip line's address, e.g. --server http://127.0.0.1:8080"));
      const fingerprint = need('submit', values.fingerprint, '--fingerprint FP', 'the root fingerprint the newsroom publishes, in quotes');
      const files = fileArgs('submit', values.file ?? []);
      const retryForMs = int('submit', values['retry-for'], '--retry-for', 600) * 1000;
      const proxy = proxyArg('submit', values.socks);
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      await fingerprintArg('submit', fingerprint);
      let message = values.message;
      if (message !== undefined) warn('note: -m leaves the message in your shell history and, while this runs, in the process list; piping it on standard input does not');
      if (message === undefined) {
        if (process.stdin.isTTY) throw usage('submit', 'no message: pipe it on standard input (tipline submit … < message.txt) or give -m TEXT');
        message = readFileSync(0, 'utf8');
      }
      if (message.trim() === '' && files.length === 0) throw usage('submit', 'nothing to send: the message is empty and no --file is given');
      serverForErrors = server;
      const { submit } = await import('./commands/submit.js');
      const receipt = await submit({ server, fingerprint, message, files, proxy, retryForMs, say: warn });
      say(`tip id: ${receipt.tip_id}`);
      say(`stored: ${receipt.size} bytes of ciphertext, received ${receipt.received_day} (the server keeps the day, not the time)`);
      say('Nothing about you was kept with it: no address, no browser details, no exact time.');
      return 0;
    }
    case 'fetch': {
      const { values } = args('fetch', rest, { server: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, socks: { type: 'string' } });
      const server = serverUrl('fetch', need('fetch', values.server, '--server URL', "the tip line's address, e.g. --server http://127.0.0.1:8080"));
      const keyFile = keyFileArg('fetch', need('fetch', values.key, '--key FILE', 'your desk key file, e.g. --key keys/desk.key'));
      const out = need('fetch', values.out, '--out DIR', 'the folder tips are written to, e.g. --out inbox');
      const proxy = proxyArg('fetch', values.socks);
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const { loadStaffKey } = await import('./keyfiles.js');
      const key = await loadStaffKey(keyFile);
      serverForErrors = server;
      const { fetchAll } = await import('./commands/fetch.js');
      const r = await fetchAll({ server, key, out, proxy, say });
      say(`${r.fetched} fetched, ${r.skipped} already here, ${r.failed} failed`);
      return r.failed > 0 ? 1 : 0;
    }
    case 'delete': {
      const { values, positionals } = args('delete', rest, { server: { type: 'string' }, key: { type: 'string' }, socks: { type: 'string' } }, true);
      const server = serverUrl('delete', need('delete', values.server, '--server URL', "the tip line's address, e.g. --server http://127.0.0.1:8080"));
      const keyFile = keyFileArg('delete', need('delete', values.key, '--key FILE', 'your desk key file, e.g. --key keys/desk.key'));
      if (positionals.length === 0) throw usage('delete', 'which tips? give their ids after the options (the folder names fetch wrote)');
      for (const id of positionals) if (!/^[a-z2-7]{26}$/.test(id)) throw usage('delete', `"${printable(id, 40)}" is not a tip id: 26 characters, a-z and 2-7`);
      const proxy = proxyArg('delete', values.socks);
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const { loadStaffKey } = await import('./keyfiles.js');
      const { Api } = await import('./api.js');
      const key = await loadStaffKey(keyFile);
      serverForErrors = server;
      const api = new Api(new URL(server), proxy);
      for (const id of positionals) {
        await api.deleteTip(key, id);
        say(`deleted ${id}`);
      }
      return 0;
    }
    default: {
      const near = closest(command);
      throw new CliError(`unknown command "${printable(command, 40)}"${near.length ? `: did you mean ${near.join(' or ')}?` : `: the commands are ${COMMANDS.join(', ')}`} (tipline --help)`, USAGE_EXIT);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      warn(`tipline: ${printable(err.message.replace(/\s*\n\s*/g, ' '), 2000)}`);
      process.exitCode = err.exitCode;
    } else if ((err as Error)?.name === 'NetworkError') {
      const message = printable((err as Error).message);
      const hint = /^SOCKS proxy/.test(message) ? 'is Tor (or Tor Browser) running, and is --socks its port?' : `is the tip line running at ${serverForErrors ?? 'that address'}? (check --server)`;
      warn(`tipline: cannot reach the server: ${message}; ${hint}`);
      process.exitCode = 1;
    } else {
      warn(`tipline: ${printable((err as Error)?.message ?? String(err))}`);
      process.exitCode = 1;
    }
  },
);
