#!/usr/bin/env node
// `tipline`: one CLI for the server, the source's command-line client and the newsroom. Every command answers
// --help; every mistake gets one line on stderr that says what to type instead, and exit code 2.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { CliError, USAGE_EXIT } from './errors.js';
import { args, type Io, fingerprintArg, int, keyFileArg, need, proxyArg, serverUrl, usage, wantsHelp } from './args.js';
import { printable } from './printable.js';

const OVERVIEW = `usage: tipline <command> [options]      (tipline <command> --help shows a command's options)

The tip line:
  serve           run the tip line: the sources' page and API, and the staff API (npm start runs this)
The newsroom:
  keys init       make the root key, the directory signing key, a desk key and the signed directory
  keys add-desk   add a desk (or auditor) key, made here or by its owner (--public), and sign again
  keys remove-desk  take a desk (or auditor) key out of the directory and sign again
  keys renew      sign the directory again with a fresh life (daily, on the newsroom machine)
  keys certify    the root certifies the directory signing key (every few months, offline)
  keys request    make your own desk key on your machine, and a request to hand to the root holder
  keys passwd     change one key file's passphrase
  keys rotate     give desks new encryption keys for a new period; destroy the ones past retention
  keys sign-manifest  the root signs the client manifest of this build (after npm run build)
  policy set      the root signs the retention policy the server enforces and the page shows
  canary sign     sign the warrant canary: a dated statement that no secret order was received
  desk            the newsroom's inbox: sync, read, triage, reply and export in a local web app
  list            the tips on the server: day, expiry, size, first line, thread, who is on it
  fetch           download and decrypt, on this machine, every tip not yet in a folder, grouped into threads
  reply           answer a tip whose source asked for replies (sealed and signed on this machine)
  delete          delete tips from the server (asks first) and their local copies
An auditor:
  audit           check a tip line's retention, audit log, database and published documents: PASS/FAIL
  verify-export   check a thread exported from the desk app: its signed list of SHA-256 hashes
  verify-site     check that the page a tip line serves is the published, signed build
A source:
  submit          encrypt a tip on this machine and send it (through Tor with --socks); --replies for a codename
  replies         read (and delete) the newsroom's replies with your codename

  tipline --version   the version
Passphrases for key files are read from TIPLINE_PASSPHRASE when it is set, otherwise asked for without echo;
a source's codename likewise from TIPLINE_CODENAME, never from an argument.`;

const HELP: Record<string, string> = {
  serve: `usage: tipline serve [--port N] [--staff-port N] [--host H] [--staff-host HOST] [--data DIR]
                    [--directory FILE] [--fingerprint FP]

Runs the tip line on two listeners: the sources' page at /, the signed directory of keys and the upload API
on --port (the public onion points there), and the newsroom's API (/api/v1/staff, for tipline fetch and
delete) on --staff-port only (the staff onion, with client authorisation, points there).

  --port N            port for sources (8080)
  --staff-port N      port for the staff API (8081; 0, any free port, when --port is 0)
  --host H            address to listen on (127.0.0.1; Tor's onion services forward to it)
  --staff-host HOST   the staff address desks sign their requests for: the staff onion's hostname
                      (TIPLINE_STAFF_HOST works too); default, for development, the staff listener's own
                      address (127.0.0.1:8081 or localhost:8081). A request signed for another is refused
  --data DIR          folder for the embedded PGlite database and its lock (./data); with
                      DATABASE_URL=postgres://… set, PostgreSQL is used instead (production)
  --directory FILE    publish this signed directory (default: keys/directory.json if it exists), and read it
                      again on SIGHUP; only a higher serial replaces the directory published
  --fingerprint FP    refuse any directory not signed by this root (TIPLINE_ROOT_FINGERPRINT works too);
                      required with DATABASE_URL; with PGlite the first root published is pinned in DIR

Retention comes from the signed policy beside the directory (DIR/policy.json, tipline policy set): serve
refuses to start when its settings, the database's tables and columns, or its log fields disagree with it.
Environment: TIPLINE_POW_DIFFICULTY (11 bits, at most 13), TIPLINE_RETENTION_DAYS (30 without a policy; with one,
leave it unset or equal to the policy's tips_days), TIPLINE_MAX_STORED_GB (100),
TIPLINE_LOG_LEVEL (info, warn, error or silent; warn drops the per-request lines).`,
  keys: `usage: tipline keys init --dir DIR [--name NAME] [--days N]
       tipline keys add-desk --dir DIR (--name NAME [--auditor] | --public FILE) [--days N]
       tipline keys remove-desk --dir DIR --name NAME
       tipline keys renew --dir DIR [--days N]
       tipline keys certify --dir DIR [--days N]
       tipline keys request --name NAME [--role desk|auditor] --out DIR
       tipline keys passwd --key FILE

  init         make a root key, a directory signing key, one desk key and DIR/directory.json (the first time)
  add-desk     add a desk (or, with --auditor, an auditor) key to DIR and sign the directory again
  remove-desk  take a key out of the directory and sign it again (takes effect once published)
  renew        sign the same directory again with a fresh life and a higher serial (daily)
  certify      the root certifies DIR's signing key for N days (on the offline machine)
  request      make your own desk key on your machine and a request to hand to the root holder
  passwd       change one key file's passphrase

A directory lives 7 days: renew it daily and publish it (copy it to the server's --directory file, then
systemctl kill -s HUP tipline). tipline keys SUBCOMMAND --help shows a subcommand's options.`,
  'keys init': `usage: tipline keys init --dir DIR [--name NAME] [--days N]

Makes the newsroom's root key (keep it offline), the directory signing key (for a newsroom machine, never the
server), one desk key and DIR/directory.json, the list of desk keys signed by the signing key that the root
certified, and prints the root fingerprint: publish it where the server cannot change it.

  --dir DIR      folder for the keys (made if missing); refuses one that already holds keys
  --name NAME    the desk's name (desk): letters of any language, digits, spaces, . - _ '
                 (the key file is named after it in plain ASCII: "María López" -> maria-lopez.key)
  --days N       how long the desk key is listed (the key period, 7 days, + 2 days grace: tipline keys rotate
                 renews it); the directory itself lives 7 days

Each key file is encrypted with its own passphrase (asked for twice each; TIPLINE_PASSPHRASE, when set, is
used for all of them) and written mode 0600.
example:  tipline keys init --dir keys`,
  'keys add-desk': `usage: tipline keys add-desk --dir DIR --name NAME [--auditor] [--days N]
       tipline keys add-desk --dir DIR --public FILE [--days N]

Adds a desk key (or an auditor's) and signs DIR/directory.json again with the directory signing key (asks
for its passphrase); publish it again. With --public, the key was made by its owner on their own machine
(tipline keys request) and only its public half is listed: compare the fingerprint printed with theirs.

  --dir DIR       the folder tipline keys init made
  --name NAME     the new key's name: letters of any language, digits, spaces, . - _ '
  --auditor       an auditor's key (checks retention; tips are not encrypted to it)
  --public FILE   a key request made by tipline keys request (its name and role are inside)
  --days N        how long the new key is listed (a desk: the policy's key period + 2 days grace, renewed by
                  tipline keys rotate; an auditor: 365)

example:  tipline keys add-desk --dir keys --name alice`,
  'keys request': `usage: tipline keys request --name NAME [--role desk|auditor] --out DIR

Makes your own desk (or auditor) key on this machine: OUT/<name>.key, private, mode 0600, with its own
passphrase (asked twice), and OUT/<name>.request.json, public, to hand to whoever holds the root key (they
list it with tipline keys add-desk --public FILE). The private key never leaves this machine. Prints the key's
fingerprint: read it to the root holder yourself, in person or by phone.

  --name NAME    your name as the newsroom should see it, in any script ("María López", "李明"): 1-64 letters,
                 digits, spaces and . - _ '
  --role ROLE    desk (reads tips; the default) or auditor (checks retention)
  --out DIR      folder for the two files (made if missing); existing files are never replaced

A new passphrase needs at least 12 characters, typed or from TIPLINE_PASSPHRASE.
example:  tipline keys request --name "María López" --out ~/tipline`,
  'keys passwd': `usage: tipline keys passwd --key FILE

Changes the passphrase of one key file (root, desk or auditor): asks for the current one, then the new one
twice. The keys inside do not change, so nothing is signed again. The file is replaced in one step (a new file
written, flushed, then renamed over the old one): an interruption leaves the old file as it was.

  --key FILE     the key file

Scripts: TIPLINE_PASSPHRASE is the current passphrase, TIPLINE_NEW_PASSPHRASE the new one (at least 12
characters, as when typed).
example:  tipline keys passwd --key keys/desk.key`,
  'keys remove-desk': `usage: tipline keys remove-desk --dir DIR --name NAME

Takes the key NAME out of DIR/directory.json and signs it again with a higher serial. Once published, new tips
are not encrypted to it and it can no longer sign in; servers, the CLI and staff authentication refuse the
older directories that still list it (the page relies on their short life: at most 7 days).

  --dir DIR      the folder tipline keys init made
  --name NAME    the key's name as listed

example:  tipline keys remove-desk --dir keys --name alice`,
  'keys renew': `usage: tipline keys renew --dir DIR [--days N]

Signs the same list of keys again with a higher serial, valid N days (7, at most 31, and never past the
signing key's certificate). Run it daily on the newsroom machine that holds the signing key, and publish
the result; a directory that is not renewed expires and the tip line stops taking tips.

  --dir DIR      the folder tipline keys init made
  --days N       how long the new directory is valid (7)

example:  tipline keys renew --dir keys`,
  'keys certify': `usage: tipline keys certify --dir DIR [--days N]

On the offline machine: the root key certifies DIR's directory signing key (signing.key; only its public half
is read) for N days (90, at most 100), written to DIR/signing-certificate.json. Copy that file next to the
signing key, then run tipline keys renew there.

  --dir DIR      a folder with root.key and signing.key
  --days N       how long the certificate is valid (90)

example:  tipline keys certify --dir /media/KEYS/tipline`,
  submit: `usage: tipline submit --server URL --fingerprint FP [--file PATH]... [--replies | --codename]
                     [--keep-metadata] [--socks HOST:PORT] < message.txt

Encrypts a tip on this machine to every desk key the newsroom's signed directory lists, checks that
directory against FP first, and sends it in chunks, resuming after a dropped connection. The message comes
on standard input; -m TEXT works too, but leaves it in your shell history.

  --server URL          the tip line: http://….onion, or http://127.0.0.1:8080 (http:// is assumed)
  --fingerprint FP      the newsroom's root fingerprint as it publishes it (8 groups of 4 characters)
  --file PATH           a file to attach; repeat for several. Its name is sent too (encrypted)
  -m, --message TEXT    the message, instead of standard input
  --replies             let the newsroom answer: prints a new codename (nine words) made on this machine;
                        write it down, it is the only way to read the replies and nobody can recover it
  --codename            send more under the codename you have (a follow-up the newsroom sees as yours),
                        read from TIPLINE_CODENAME or typed without echo; never give it as an argument
  --keep-metadata       send photos as they are; by default JPEG and PNG photos lose their metadata (GPS
                        position, camera, time) before encryption, and one that cannot be cleaned is refused
  --socks HOST:PORT     send through Tor: 127.0.0.1:9150 for Tor Browser, 127.0.0.1:9050 for tor
                        (ALL_PROXY=socks5h://HOST:PORT works too); needed for an .onion address
  --retry-for S         keep retrying a dropped connection for S seconds (600)

Before sending, each file that may carry hidden details this does not remove (PDF, office documents, other
images, recordings) is named in a warning. The receipt says the day the server deletes the tip.
example:  tipline submit --server http://127.0.0.1:8080 --fingerprint "abcd efgh …" --replies --file demand.pdf < message.txt`,
  replies: `usage: tipline replies --server URL --fingerprint FP [--out DIR] [--delete] [--socks HOST:PORT]

Reads the newsroom's replies to your tips with your codename (from tipline submit --replies), decrypted and
checked on this machine: who wrote each (the desk's name in the newsroom's signed directory) and the day.
The codename comes from TIPLINE_CODENAME or is typed without echo; never give it as an argument. Every
visit asks the server the same things whatever it finds, so the server cannot tell whose replies, if any,
were read, nor whether the codename was mistyped; it never sees the codename.

  --server URL          the tip line: http://….onion, or http://127.0.0.1:8080 (http:// is assumed)
  --fingerprint FP      the newsroom's root fingerprint as it publishes it (8 groups of 4 characters)
  --out DIR             also save each reply as a text file in DIR (readable by you only)
  --delete              delete the replies read from the server (only your codename can)
  --socks HOST:PORT     through Tor, on a circuit of its own (ALL_PROXY works too); needed for an .onion

Exit code 0 (with or without replies), 2 for a mistyped codename, 1 when the tip line cannot be read.
example:  tipline replies --server http://127.0.0.1:8080 --fingerprint "abcd efgh …" --delete`,
  reply: `usage: tipline reply --server URL --key FILE TIP_ID [-m TEXT | < reply.txt] [--inbox DIR] [--socks HOST:PORT]

Answers the source of tip TIP_ID, who asked for replies: the reply is sealed on this machine to the source's
reply key (from the decrypted tip), signed with your desk key, and posted with a fresh tag; the server cannot
tell which tip or source it answers. The source sees your name as the directory lists it. Replies are text
(at most about 64 KB), kept as long as tips; the source deletes them once read.

  --server URL          the tip line's staff address, as for fetch (http:// is assumed)
  --key FILE            your desk key file; asks for its passphrase
  -m, --message TEXT    the reply, instead of standard input
  --inbox DIR           fetch's --out folder: the reply key is read from the tip's folder there (the one
                        whose name ends with TIP_ID), else the tip is downloaded and decrypted again
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too)

example:  tipline reply --server http://127.0.0.1:8081 --key keys/desk.key --inbox inbox cu3tpwjntm56q7llcx4m3gqghy < reply.txt`,
  fetch: `usage: tipline fetch --server URL --key FILE --out DIR [--socks HOST:PORT]

Downloads every tip not yet in DIR and decrypts it on this machine into a folder of DIR named by the day it
was received, the first words of its message and its id, e.g. 2026-11-27_the-mayor-took-money_<tip-id>/
(letters of any language and digits; anything else becomes -): message.txt, files/<name>, manifest.json.
A tip that does not decrypt completely is reported and nothing of it is kept.
Tips and follow-ups sent under one codename are grouped into a thread, decided here from their reply key
(the server cannot link them): each manifest.json names its thread, DIR/threads.json lists every thread's
tips oldest first, and a line per thread shows the tipline reply command that answers it.

  --server URL          the tip line's staff address: its staff onion, or http://127.0.0.1:8081 for a
                        local tipline serve (http:// is assumed)
  --key FILE            your desk key file (from tipline keys init or add-desk); asks for its passphrase
  --out DIR             where tips go (made if missing); tips already there are skipped
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too)

A tip sealed before your key was listed says "sent before this key was added; ask a desk that was listed
then": it is not a failure. Exit code 0 when every other tip was fetched (or was already here), 1 when any
failed, including a tip received after your key was listed that is not addressed to it.

example:  tipline fetch --server http://127.0.0.1:8081 --key keys/desk.key --out inbox`,
  delete: `usage: tipline delete --server URL --key FILE [--inbox DIR | --data DIR] [--yes] [--socks HOST:PORT] TIP_ID...

Deletes tips from the server; each deletion is recorded in the audit chain with a statement signed by your
desk key (your name and the day, never the tip id), so no one else can record a deletion in your name.
Asks first, for each tip, on the terminal: Delete tip X (received D, "first line…") from the server and this
machine? [y/N]. With no terminal (a cron job, a service) it refuses, deleting nothing, unless --yes.
TIP_ID is the 26-character id tipline list shows, at the end of the name of the tip's folder fetch wrote.

  --server URL          the tip line's staff address, as for fetch (http:// is assumed)
  --key FILE            your desk key file; asks for its passphrase
  --inbox DIR           fetch's --out folder: the local copy is removed too, once the server confirmed; a
                        tip no longer on the server but still here: says so and offers to remove the copy
  --data DIR            a desk app's data folder: as --inbox DIR/inbox
  --yes                 do not ask
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too)

Exit code 0 when every tip was deleted (or kept when you said no), 1 when any failed, 2 for a usage mistake
(and for no terminal without --yes). An auditor's key deletes nothing.
example:  tipline delete --server http://127.0.0.1:8081 --key keys/desk.key --inbox inbox cu3tpwjntm56q7llcx4m3gqghy`,
};

const COMMANDS = ['serve', 'keys', 'policy', 'canary', 'submit', 'replies', 'fetch', 'reply', 'delete', 'audit', 'verify-site', 'desk', 'list', 'verify-export'];

/** Commands that live wholly in their own module (they parse their own options and answer their own --help). */
const MODULES: Record<string, () => Promise<{ run(argv: string[], io: Io): Promise<number> }>> = {
  audit: () => import('./commands/audit.js'),
  'verify-site': () => import('./commands/verify-site.js'),
  policy: () => import('./commands/policy.js'),
  canary: () => import('./commands/canary.js'),
  'keys rotate': () => import('./commands/keys-rotate.js'),
  'keys sign-manifest': () => import('./commands/sign-manifest.js'),
  desk: () => import('./commands/desk.js'),
  list: () => import('./commands/list.js'),
  'verify-export': () => import('./commands/verify-export.js'),
};

const say = (s: string) => process.stdout.write(`${s}\n`);
const warn = (s: string) => process.stderr.write(`${s}\n`);

function fileArgs(command: string, paths: string[]): string[] {
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw usage(command, `--file ${p}: no such file`);
    if (!st.isFile()) throw usage(command, `--file ${p}: not a file (attach files one by one: --file A --file B)`);
  }
  return paths;
}

/** A word for a command line the user may paste: quoted unless it is plainly safe. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Operator settings read from the environment (systemd `Environment=` lines). */
function serverTuning() {
  const env = process.env;
  const level = env.TIPLINE_LOG_LEVEL;
  if (level !== undefined && !['info', 'warn', 'error', 'silent'].includes(level)) throw new CliError('TIPLINE_LOG_LEVEL must be info, warn, error or silent', USAGE_EXIT);
  return {
    ...(env.TIPLINE_POW_DIFFICULTY ? { powDifficulty: int('serve', env.TIPLINE_POW_DIFFICULTY, 'TIPLINE_POW_DIFFICULTY', 11, [0, 13]) } : {}),
    ...(env.TIPLINE_RETENTION_DAYS ? { retentionDays: int('serve', env.TIPLINE_RETENTION_DAYS, 'TIPLINE_RETENTION_DAYS', 30, [1, 36_500]) } : {}),
    // Finished tips may hold this much together; set it to what the disk holds (SECURITY.md §Flooding).
    ...(env.TIPLINE_MAX_STORED_GB ? { maxStoredBytes: int('serve', env.TIPLINE_MAX_STORED_GB, 'TIPLINE_MAX_STORED_GB', 100, [1, 1_000_000]) * 1024 ** 3 } : {}),
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

/** `keys request` and `keys passwd`: a journalist's own key, on their own machine (no root key involved). */
async function keysOwn(sub: 'request' | 'passwd', argv: string[]): Promise<number> {
  const cmd = `keys ${sub}`;
  const { initCrypto } = await import('../../crypto/node.js');
  if (sub === 'request') {
    const { values } = args(cmd, argv, { name: { type: 'string' }, role: { type: 'string' }, out: { type: 'string' } });
    const name = need(cmd, values.name, '--name NAME', 'your name as the newsroom should see it, e.g. --name "María López"');
    const role = values.role ?? 'desk';
    if (role !== 'desk' && role !== 'auditor') throw usage(cmd, `--role must be desk or auditor, not "${printable(role, 40)}"`);
    const out = need(cmd, values.out, '--out DIR', 'the folder for your key and your request, e.g. --out ~/tipline');
    await initCrypto();
    const { keysRequest } = await import('./commands/keys-request.js');
    await keysRequest(name, role, out, say);
    return 0;
  }
  const { values } = args(cmd, argv, { key: { type: 'string' } });
  const key = need(cmd, values.key, '--key FILE', 'the key file whose passphrase to change, e.g. --key keys/desk.key');
  if (!existsSync(key)) throw usage(cmd, `no key file at ${key}`);
  await initCrypto();
  const { keysPasswd } = await import('./commands/keys-passwd.js');
  await keysPasswd(key, say);
  return 0;
}

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
    else if (MODULES[topic]) return (await MODULES[topic]()).run(['--help'], { say, warn });
    else throw new CliError(`no help for "${printable(topic, 40)}": the commands are ${COMMANDS.join(', ')} (tipline --help)`, USAGE_EXIT);
    return 0;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    say(`tipline ${version()}`);
    return 0;
  }
  if (command.startsWith('-')) throw new CliError(`"${printable(command, 40)}" is not a command: the command comes first, e.g. tipline serve ${printable(argv.join(' '), 200)} (tipline --help)`, USAGE_EXIT);

  const topic = command === 'keys' && rest[0] && !rest[0].startsWith('-') ? `keys ${rest[0]}` : command;
  const own = MODULES[topic];
  if (own) return (await own()).run(topic === command ? rest : rest.slice(1), { say, warn });
  if (HELP[topic] && wantsHelp(rest)) {
    say(HELP[topic]);
    return 0;
  }

  switch (command) {
    case 'serve': {
      const { values } = args('serve', rest, { port: { type: 'string' }, 'staff-port': { type: 'string' }, host: { type: 'string' }, 'staff-host': { type: 'string' }, data: { type: 'string' }, directory: { type: 'string' }, fingerprint: { type: 'string' } });
      const port = int('serve', values.port, '--port', 8080, [0, 65_535]);
      // --port 0 (tests, several servers at once) makes the staff port free-chosen too, not a fixed 8081.
      const staffPort = int('serve', values['staff-port'], '--staff-port', port === 0 ? 0 : 8081, [0, 65_535]);
      if (port !== 0 && staffPort === port) throw usage('serve', `--staff-port must differ from --port (both ${port}): sources and staff are served on separate listeners`);
      const host = values.host ?? '127.0.0.1';
      // Empty (the unit's --staff-host ${TIPLINE_STAFF_HOST} with the variable unset) must not fall back to a guess.
      if (values['staff-host'] === '') throw usage('serve', "--staff-host is empty: give the staff onion's hostname (in production, TIPLINE_STAFF_HOST in /etc/tipline/env)");
      const staffHost = values['staff-host'] ?? (process.env.TIPLINE_STAFF_HOST || undefined);
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
      const drainS = int('serve', process.env.TIPLINE_DRAIN_SECONDS, 'TIPLINE_DRAIN_SECONDS', 30, [0, 3600]);
      let server;
      try {
        server = await serve({
          host,
          port,
          staffPort,
          staffHost,
          dataDir: values.data ?? 'data',
          databaseUrl: process.env.DATABASE_URL || undefined,
          directoryFile: directoryFile ?? defaultDirectoryFile(),
          rootFingerprint,
          tuning: serverTuning(),
          // Named when it disagrees with the signed policy (serve then refuses to start).
          tuningNames: process.env.TIPLINE_RETENTION_DAYS ? { retentionDays: 'TIPLINE_RETENTION_DAYS' } : {},
          say: warn,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          const taken = (err as { port?: number }).port;
          const which = taken === staffPort && taken !== port ? '--staff-port' : '--port';
          throw new CliError(`${host}:${taken ?? port} is already in use (another tipline serve?): stop it, or choose another with ${which} N`);
        }
        if (code === 'EADDRNOTAVAIL') throw usage('serve', `--host ${host} is not an address of this machine`);
        // serve() checks its listener settings (--staff-host, the two ports) before it opens anything.
        if (err instanceof RangeError) throw usage('serve', err.message);
        throw err;
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      // Drain (systemd's stop, Ctrl-C): uploads in progress get their answers, so no source is cut mid-chunk.
      // A second signal, or a drain past TIPLINE_DRAIN_SECONDS, stops at once: a request cut then was not
      // acknowledged and its client sends it again; nothing acknowledged is lost (it is committed first).
      warn(`stopping: letting requests in progress finish (at most ${drainS} s; send the signal again to stop now)`);
      const running = server;
      const force = (why: string) => {
        warn(`stopping now: ${why}`);
        running.forceClose();
        process.exit(1);
      };
      const onSecond = () => force('asked twice');
      process.once('SIGINT', onSecond);
      process.once('SIGTERM', onSecond);
      const timer = setTimeout(() => force(`requests still in progress after ${drainS} s`), drainS * 1000);
      await server.close();
      clearTimeout(timer);
      process.removeListener('SIGINT', onSecond);
      process.removeListener('SIGTERM', onSecond);
      warn('stopped');
      return 0;
    }
    case 'keys': {
      const [sub, ...more] = rest;
      if (sub === 'request' || sub === 'passwd') return keysOwn(sub, more);
      const subs = ['init', 'add-desk', 'remove-desk', 'renew', 'certify'];
      if (sub === undefined || !subs.includes(sub)) {
        const what = sub === undefined ? 'keys needs a subcommand' : `unknown keys subcommand "${printable(sub, 40)}"`;
        throw new CliError(`${what}: tipline keys init --dir DIR (the first time) or tipline keys add-desk --dir DIR --name NAME; also remove-desk, renew, certify, request, passwd, rotate, sign-manifest (tipline keys --help)`, USAGE_EXIT);
      }
      const cmd = `keys ${sub}`;
      const opts = {
        init: { dir: { type: 'string' }, name: { type: 'string' }, days: { type: 'string' } },
        'add-desk': { dir: { type: 'string' }, name: { type: 'string' }, auditor: { type: 'boolean' }, public: { type: 'string' }, days: { type: 'string' } },
        'remove-desk': { dir: { type: 'string' }, name: { type: 'string' } },
        renew: { dir: { type: 'string' }, days: { type: 'string' } },
        certify: { dir: { type: 'string' }, days: { type: 'string' } },
      } as const;
      const { values } = args(cmd, more, opts[sub as keyof typeof opts]) as { values: { dir?: string; name?: string; days?: string; auditor?: boolean; public?: string } };
      const dir = need(cmd, values.dir, '--dir DIR', 'the folder for the keys, e.g. --dir keys');
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const k = await import('./commands/keys.js');
      if (sub === 'init') await k.keysInit(dir, values.name ?? 'desk', values.days === undefined ? k.DESK_DAYS_DEFAULT : int(cmd, values.days, '--days', 0, [1, 3650]), say);
      else if (sub === 'add-desk') {
        const days = values.days === undefined ? undefined : int(cmd, values.days, '--days', 0, [1, 3650]);
        if (values.public !== undefined) {
          if (values.name !== undefined || values.auditor) throw usage(cmd, '--public FILE takes the name and role from the key request: leave out --name and --auditor');
          if (!existsSync(values.public)) throw usage(cmd, `--public ${values.public}: no such file (tipline keys request makes one)`);
          await k.keysAddPublic(dir, values.public, days, say);
        } else await k.keysAdd(dir, need(cmd, values.name, '--name NAME', "the new key's name, e.g. --name alice (or --public FILE, a key request)"), values.auditor ? 'auditor' : 'desk', days, say);
      } else if (sub === 'remove-desk') await k.keysRemove(dir, need(cmd, values.name, '--name NAME', "the name of the key to remove, as listed, e.g. --name alice"), say);
      else if (sub === 'renew') await k.keysRenew(dir, int(cmd, values.days, '--days', 7, [1, 31]), say);
      else await k.keysCertify(dir, int(cmd, values.days, '--days', 90, [1, 100]), say);
      return 0;
    }
    case 'submit': {
      const { values } = args('submit', rest, {
        server: { type: 'string' }, fingerprint: { type: 'string' }, message: { type: 'string', short: 'm' },
        file: { type: 'string', multiple: true }, socks: { type: 'string' }, 'retry-for': { type: 'string' },
        replies: { type: 'boolean' }, codename: { type: 'boolean' }, 'keep-metadata': { type: 'boolean' },
      });
      if (values.replies && values.codename) throw usage('submit', '--replies and --codename do not go together: --replies asks for replies with a new codename, --codename follows up with the one you have');
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
      const { generateCodename, parseCodename } = await import('../../crypto/codename.js');
      let codename;
      if (values.codename) {
        // Read and checked before anything is sent: a mistyped codename would file the follow-up under nobody.
        const { readCodename, codenameProblemText } = await import('./codename-prompt.js');
        const parsed = parseCodename(await readCodename());
        if (!parsed.ok) throw new CliError(`${codenameProblemText(parsed.problem)}; nothing was sent`, USAGE_EXIT);
        codename = parsed.codename;
      } else if (values.replies) codename = generateCodename();
      serverForErrors = server;
      const { submit } = await import('./commands/submit.js');
      const receipt = await submit({ server, fingerprint, message, files, proxy, retryForMs, say: warn, keepMetadata: values['keep-metadata'] ?? false, codename });
      if (values.replies && codename) {
        say(`codename: ${codename.text}`);
        warn('Write the codename down now, on paper, and keep it somewhere safe: it is the only way to read the newsroom\'s replies and to send more under the same name.');
        warn('Nobody can recover it, not the newsroom, not the tip line: it was made on this machine and never left it. Whoever has it can read the replies, so do not store it next to anything that names you.');
      }
      say(`tip id: ${receipt.tip_id}`);
      say(`stored: ${receipt.size} bytes of ciphertext, received ${receipt.received_day} (the server keeps the day, not the time)`);
      say(`deleted on: ${receipt.expires_day}, by the server, whether or not the newsroom has read it by then`);
      if (values.replies) say('replies: possible. Read them with tipline replies --server URL --fingerprint FP and your codename; send more with tipline submit --codename');
      else if (values.codename) say('replies: possible, with the same codename (tipline replies); the newsroom sees that this follows your earlier tips');
      else say('replies: not possible: this tip carries no codename (tipline submit --replies asks for replies)');
      say('Nothing about you was kept with it: no address, no browser details, no exact time.');
      return 0;
    }
    case 'fetch': {
      const { values } = args('fetch', rest, { server: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, socks: { type: 'string' } });
      const server = serverUrl('fetch', need('fetch', values.server, '--server URL', "the tip line's staff address (its staff onion), e.g. --server http://127.0.0.1:8081"));
      const keyFile = keyFileArg('fetch', need('fetch', values.key, '--key FILE', 'your desk key file, e.g. --key keys/desk.key'));
      const out = need('fetch', values.out, '--out DIR', 'the folder tips are written to, e.g. --out inbox');
      const proxy = proxyArg('fetch', values.socks);
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const { loadStaffKey } = await import('./keyfiles.js');
      const key = await loadStaffKey(keyFile);
      if (key.role !== 'desk') {
        const { auditorRefusal } = await import('./auditor.js');
        throw new CliError(auditorRefusal('fetch', keyFile), USAGE_EXIT);
      }
      serverForErrors = server;
      const { fetchAll } = await import('./commands/fetch.js');
      const r = await fetchAll({ server, key, out, proxy, say });
      for (const [thread, ids] of Object.entries(r.threads)) {
        say(`thread ${thread}: ${ids.join(', ')}; answer with: tipline reply --server ${shellWord(server)} --key ${shellWord(keyFile)} --inbox ${shellWord(out)} ${ids[ids.length - 1]} < reply.txt`);
      }
      say(`${r.fetched} fetched, ${r.skipped} already here, ${r.before ? `${r.before} sent before this key was added, ` : ''}${r.failed} failed`);
      return r.failed > 0 ? 1 : 0;
    }
    case 'replies': {
      const { values } = args('replies', rest, { server: { type: 'string' }, fingerprint: { type: 'string' }, out: { type: 'string' }, delete: { type: 'boolean' }, socks: { type: 'string' } });
      const server = serverUrl('replies', need('replies', values.server, '--server URL', "the tip line's address, e.g. --server http://127.0.0.1:8080"));
      const fingerprint = need('replies', values.fingerprint, '--fingerprint FP', 'the root fingerprint the newsroom publishes, in quotes');
      if (values.out !== undefined && values.out.trim() === '') throw usage('replies', '--out is empty: give a folder for the replies, e.g. --out replies');
      const proxy = proxyArg('replies', values.socks);
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      await fingerprintArg('replies', fingerprint);
      const { readCodename } = await import('./codename-prompt.js');
      const typed = await readCodename();
      serverForErrors = server;
      const { readReplies } = await import('./commands/replies.js');
      return readReplies({ server, fingerprint, typed, out: values.out, delete: values.delete ?? false, proxy, say, warn });
    }
    case 'reply': {
      const { values, positionals } = args('reply', rest, { server: { type: 'string' }, key: { type: 'string' }, message: { type: 'string', short: 'm' }, inbox: { type: 'string' }, socks: { type: 'string' } }, true);
      const server = serverUrl('reply', need('reply', values.server, '--server URL', "the tip line's staff address (its staff onion), e.g. --server http://127.0.0.1:8081"));
      const keyFile = keyFileArg('reply', need('reply', values.key, '--key FILE', 'your desk key file, e.g. --key keys/desk.key'));
      if (positionals.length !== 1) throw usage('reply', positionals.length === 0 ? 'which tip? give its id after the options (the folder name fetch wrote)' : 'one tip at a time: give a single TIP_ID');
      const tipId = positionals[0]!;
      if (!/^[a-z2-7]{26}$/.test(tipId)) throw usage('reply', `"${printable(tipId, 40)}" is not a tip id: 26 characters, a-z and 2-7`);
      if (values.inbox !== undefined && !existsSync(values.inbox)) throw usage('reply', `--inbox ${values.inbox}: no such folder (fetch's --out)`);
      const proxy = proxyArg('reply', values.socks);
      let message = values.message;
      if (message === undefined) {
        if (process.stdin.isTTY) throw usage('reply', 'no reply: pipe it on standard input (tipline reply … < reply.txt) or give -m TEXT');
        message = readFileSync(0, 'utf8');
      }
      if (message.trim() === '') throw usage('reply', 'the reply is empty');
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const { loadStaffKey } = await import('./keyfiles.js');
      const key = await loadStaffKey(keyFile);
      if (key.role !== 'desk') {
        const { auditorRefusal } = await import('./auditor.js');
        throw new CliError(auditorRefusal('reply', keyFile), USAGE_EXIT);
      }
      serverForErrors = server;
      const { replyToTip } = await import('./commands/reply.js');
      const sent = await replyToTip({ server, key, tipId, message, inbox: values.inbox, proxy, warn });
      say(`reply to ${tipId} posted: the source will see it as from "${printable(sent.author, 200)}"${sent.current ? '' : ' (no longer listed)'}`);
      say(`kept until: ${sent.expires_day}, unless the source deletes it sooner; the server cannot tell which tip or source it answers`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = args('delete', rest, { server: { type: 'string' }, key: { type: 'string' }, socks: { type: 'string' }, yes: { type: 'boolean' }, inbox: { type: 'string' }, data: { type: 'string' } }, true);
      const server = serverUrl('delete', need('delete', values.server, '--server URL', "the tip line's staff address (its staff onion), e.g. --server http://127.0.0.1:8081"));
      const keyFile = keyFileArg('delete', need('delete', values.key, '--key FILE', 'your desk key file, e.g. --key keys/desk.key'));
      if (positionals.length === 0) throw usage('delete', 'which tips? give their ids after the options (tipline list shows them; a folder fetch wrote ends with one)');
      for (const id of positionals) if (!/^[a-z2-7]{26}$/.test(id)) throw usage('delete', `"${printable(id, 40)}" is not a tip id: 26 characters, a-z and 2-7`);
      if (values.inbox === '' || values.data === '') throw usage('delete', `${values.inbox === '' ? '--inbox' : '--data'} is empty: give the folder the local copies are in`);
      const { join } = await import('node:path');
      const inbox = values.inbox ?? (values.data !== undefined ? join(values.data, 'inbox') : undefined);
      if (inbox !== undefined && !existsSync(inbox)) throw usage('delete', `${values.inbox !== undefined ? '--inbox' : '--data'}: no such folder ${inbox}`);
      const proxy = proxyArg('delete', values.socks);
      const { initCrypto } = await import('../../crypto/node.js');
      await initCrypto();
      const { loadStaffKey } = await import('./keyfiles.js');
      const key = await loadStaffKey(keyFile);
      if (key.role !== 'desk') {
        const { auditorRefusal } = await import('./auditor.js');
        throw new CliError(auditorRefusal('delete', keyFile), USAGE_EXIT);
      }
      // Asked before anything is deleted, on the terminal; none (cron, a pipe with no terminal): refuse, unless --yes.
      const { openTerminal } = await import('./ask.js');
      const terminal = values.yes ? undefined : openTerminal();
      if (!values.yes && terminal === undefined) throw usage('delete', 'no terminal to ask on: nothing was deleted; add --yes to delete without being asked');
      try {
        serverForErrors = server;
        const { deleteTips } = await import('./commands/delete.js');
        const r = await deleteTips({ server, key, ids: positionals, inbox, proxy, terminal, say, warn });
        say(`${r.deleted} deleted, ${r.kept} kept, ${r.failed} failed`);
        return r.failed > 0 ? 1 : 0;
      } finally {
        terminal?.close();
      }
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
