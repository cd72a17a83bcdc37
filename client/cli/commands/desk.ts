// `tipline desk`: the newsroom's inbox as a local web app. Unlocks the desk key, syncs (tips through fetchAll,
// shared notes through DeskNotes) and serves client/desk-web on 127.0.0.1 only, at a URL carrying a fresh random
// secret (client/desk/app.ts has the local server's defences). Decrypted tips live under --data (mode 0700).
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { args, fingerprintArg, int, keyFileArg, need, proxyArg, serverUrl, usage, wantsHelp, type Io } from '../args.js';
import { CliError } from '../errors.js';
import { printable } from '../printable.js';

const HELP = `usage: tipline desk --server URL --key FILE [--fingerprint FP] [--socks HOST:PORT] [--data DIR]
                    [--port N] [--sync-every MIN] [--notify-command CMD] [--notify-every MIN]

The newsroom's inbox in your browser: syncs the tips (decrypted on this machine) and the notes the desks share,
then serves a local web app on 127.0.0.1 only and prints its address, with a secret that changes every run: open
it in Firefox or Chromium on this machine; nothing else can use it. Runs until Ctrl-C.

  --server URL            the tip line's staff address (its staff onion), e.g. http://127.0.0.1:8081
  --key FILE              your desk key file (asks its passphrase, or TIPLINE_PASSPHRASE)
  --fingerprint FP        the root fingerprint the newsroom publishes (TIPLINE_ROOT_FINGERPRINT works too);
                          pinned in DIR/root.fingerprint on first use, and a different one refused afterwards
  --socks HOST:PORT       reach the tip line through Tor's SOCKS port (ALL_PROXY works too)
  --data DIR              where the inbox is kept (./desk-data): decrypted tips, the shared notes, your
                          read and starred flags. Made readable by you only (0700); full-disk encryption of
                          this machine is expected
  --port N                the local port (0, the default: any free one)
  --sync-every MIN        sync every MIN minutes, on the clock (10; 1 to 1440); the page also has a button
  --notify-command CMD    run CMD (a program, no shell) on a fixed schedule with the number of threads new
                          since the last run as its one argument and in TIPLINE_NEW_THREADS, even when it is
                          0, never when a tip arrives: the timing of a notification says nothing about when
                          a source acted. Its output is discarded; it is stopped after 30 seconds
  --notify-every MIN      how often, aligned to the clock (60: on the hour; 1 to 1440)

An auditor's key cannot open the inbox: auditors use tipline list and tipline audit.
example:  tipline desk --server http://abc…xyz.onion --key desk.key --socks 127.0.0.1:9050 --data ~/desk-data`;

const NOTICE = 'Decrypted tips are stored in the data folder on this machine. Full-disk encryption is expected: without it, anyone who takes this computer can read them.';

/** DATA, made (0700) or checked: ours, not a link, no wider than 0700 (narrowed if it was). */
export function prepareDataDir(dir: string, say: (s: string) => void): string {
  const abs = resolve(dir);
  if (!existsSync(abs)) mkdirSync(abs, { recursive: true, mode: 0o700 });
  const st = lstatSync(abs);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new CliError(`${abs} is not a folder: give --data a folder of your own`);
  // Threat: a folder another local user made (and can read, or swap files in) holding decrypted tips.
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new CliError(`${abs} belongs to another user: give --data a folder of your own`);
  if ((st.mode & 0o077) !== 0) {
    chmodSync(abs, 0o700);
    say(`note: ${abs} was readable by others; it is now yours only (0700)`);
  }
  return abs;
}

/** The root fingerprint for DATA: pinned on first use, a different one refused afterwards. */
export function pinRoot(dataDir: string, given: string | undefined): string {
  const file = join(dataDir, 'root.fingerprint');
  const pinned = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  if (pinned && given && pinned !== given) {
    throw new CliError(`${file} pins the root ${pinned}, not ${given}: this data folder belongs to another tip line (or the root was replaced: check with the newsroom, then use a new --data folder)`);
  }
  const fp = given ?? pinned;
  if (!fp) throw usage('desk', 'missing --fingerprint FP: the root fingerprint the newsroom publishes (or TIPLINE_ROOT_FINGERPRINT)');
  if (!pinned) writeFileSync(file, `${fp}\n`, { mode: 0o600 });
  return fp;
}

export async function run(argv: string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  }
  const cmd = 'desk';
  const { values } = args(cmd, argv, {
    server: { type: 'string' },
    key: { type: 'string' },
    fingerprint: { type: 'string' },
    socks: { type: 'string' },
    data: { type: 'string' },
    port: { type: 'string' },
    'sync-every': { type: 'string' },
    'notify-command': { type: 'string' },
    'notify-every': { type: 'string' },
  });
  const server = serverUrl(cmd, need(cmd, values.server, '--server URL', "the tip line's staff address (its staff onion), e.g. --server http://127.0.0.1:8081"));
  const keyFile = keyFileArg(cmd, need(cmd, values.key, '--key FILE', 'your desk key file, e.g. --key keys/desk.key'));
  const proxy = proxyArg(cmd, values.socks);
  const port = int(cmd, values.port, '--port', 0, [0, 65535]);
  const syncEvery = int(cmd, values['sync-every'], '--sync-every', 10, [1, 1440]);
  const notifyEvery = int(cmd, values['notify-every'], '--notify-every', 60, [1, 1440]);
  const notifyCommand = values['notify-command'];
  if (notifyCommand !== undefined && notifyCommand.trim() === '') throw usage(cmd, '--notify-command is empty: give a program to run, e.g. --notify-command ~/bin/desk-notify');
  const fpText = values.fingerprint ?? process.env.TIPLINE_ROOT_FINGERPRINT;
  if (fpText === '') throw usage(cmd, '--fingerprint is empty: give the root fingerprint the newsroom publishes');
  const given = fpText === undefined ? undefined : await fingerprintArg(cmd, fpText);

  const dataDir = prepareDataDir(values.data ?? 'desk-data', io.warn);
  const fingerprint = pinRoot(dataDir, given);
  mkdirSync(join(dataDir, 'inbox'), { recursive: true, mode: 0o700 });

  const { initCrypto } = await import('../../../crypto/node.js');
  await initCrypto();
  const { loadStaffKey } = await import('../keyfiles.js');
  const key = await loadStaffKey(keyFile);
  if (key.role === 'auditor') throw new CliError(`${keyFile} is an auditor's key: it opens no tips and no shared notes. An auditor can list what the server holds (tipline list) and check the audit log (tipline audit)`);

  const { Api } = await import('../api.js');
  const { verifyDirectoryChain, activeRecipients, directoryMark } = await import('../../../crypto/directory.js');
  const { rememberSerial } = await import('../serials.js');
  type SignedDocument = import('../../../crypto/signed.js').SignedDocument;
  const { toBase64 } = await import('../../../crypto/bytes.js');
  const { DeskNotes } = await import('../../desk/notes.js');
  const { DeskStore } = await import('../../desk/store.js');
  const { DeskSync, said } = await import('../../desk/sync.js');
  const { DeskApp } = await import('../../desk/app.js');
  const { Notifier, newThreadsCounter } = await import('../../desk/notify.js');
  type Directory = import('../../../crypto/directory.js').Directory;

  const api = new Api(new URL(server), proxy);
  let directory: Directory | undefined;
  let directoryDoc: unknown;
  const mine = toBase64(key.signPublic);
  // Never used unverified: it decides which desk keys the shared notes are sealed to.
  const refreshDirectory = async () => {
    const doc = await api.staffDirectory(key);
    let verified;
    try {
      verified = verifyDirectoryChain(doc, fingerprint, new Date());
    } catch (err) {
      throw new CliError(`the tip line's directory does not verify under the pinned root ${fingerprint}: ${(err as Error).message}`);
    }
    // Threat: a server rolling back to an older directory that still lists a removed (stolen) desk key, which
    // every shared note would then be sealed to. The data folder remembers the highest serial it accepted.
    rememberSerial(fingerprint, directoryMark(doc as SignedDocument, verified.directory), io.warn, { TIPLINE_STATE_DIR: dataDir });
    directory = verified.directory;
    directoryDoc = doc;
  };
  const deskName = () => directory?.recipients.find((r) => r.sign_key === mine && r.role === 'desk')?.name ?? key.name;
  const desks = () => (directory ? [...new Set(activeRecipients(directory, 'desk', new Date()).map((r) => r.name))] : []);

  try {
    await refreshDirectory();
  } catch (err) {
    await api.close();
    throw err instanceof CliError ? err : new CliError(said(err));
  }
  const notes = new DeskNotes(api, key, dataDir, () => directory!);
  const shared = () => {
    try {
      return notes.threads();
    } catch {
      return new Map();
    }
  };
  const store = new DeskStore(dataDir, shared);
  store.load();
  // The first sync follows the start's own verification at once: asking again would cost a Tor round trip.
  let justVerified = true;
  const refreshForSync = async () => {
    if (justVerified) justVerified = false;
    else await refreshDirectory();
  };
  const sync = new DeskSync({ server, api, key, store, notes, refreshDirectory: refreshForSync });

  io.say(`data:   ${printable(dataDir)} (yours only, 0700)`);
  io.say(`note:   ${NOTICE}`);
  io.say('syncing…');
  const first = await sync.run();
  io.say(`synced: ${first.fetched} new tip(s), ${first.notes} shared note(s)${first.failed ? `, ${first.failed} failed: ${first.errors.slice(0, 3).map((e) => printable(e, 200)).join('; ')}` : ''}`);

  // ≥128 bits, fresh each run: a URL from yesterday's history opens nothing today.
  const secret = randomBytes(24).toString('base64url');
  const app = new DeskApp({ server, proxy, api, key, store, sync, notes, deskName, desks, directoryDoc: () => directoryDoc, notice: NOTICE }, secret);
  const bound = await app.listen(port);
  sync.every(syncEvery * 60_000, (s) => io.warn(`sync failed: ${printable(s, 200)}`));

  let notifier: InstanceType<typeof Notifier> | undefined;
  if (notifyCommand !== undefined) {
    notifier = new Notifier({
      command: notifyCommand,
      everyMs: notifyEvery * 60_000,
      count: newThreadsCounter(store),
      warn: (s) => io.warn(s),
    });
    notifier.start();
  }

  io.say(`open:   http://127.0.0.1:${bound}/${secret}/`);
  io.say('        (in a browser on this machine; the address changes every run. Ctrl-C stops the desk.)');

  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.say('stopping…');
  notifier?.stop();
  await sync.stop();
  await app.close();
  await api.close();
  return 0;
}
