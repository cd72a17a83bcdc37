// `tipline canary sign`: the warrant canary (crypto/canary.ts, FORMAT.md §Canary), signed on the newsroom machine
// with the directory signing key under the root's certificate, like the directory, so renewing it every few days
// needs no trip to the offline root. Its serial only grows; a canary not renewed by its expiry is shown stale on
// the sources' page and fails `tipline audit` (threat: a newsroom gagged from saying so simply stops signing).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { args, int, need, usage, wantsHelp, type Io } from '../args.js';
import { CliError } from '../errors.js';
import { printable } from '../printable.js';
import { DIRECTORY_FILE, SIGNER_FILE, chooseCertificate, openKey, readJson, writeJson } from './keys.js';

/** Beside the directory: `tipline serve --directory DIR/directory.json` publishes it. */
export const CANARY_FILE = 'canary.json';
const DAY = 86_400_000;

const SIGN_HELP = `usage: tipline canary sign --dir DIR [--days N] [--statement-file FILE]

Signs the warrant canary, DIR/canary.json: a dated statement that the newsroom has received no secret order
about the tip line, valid N days, with the directory signing key (asks for its passphrase) under the root's
certificate, so the root stays offline. The serial is above the last canary's. The sources' page shows its
date and warns when it is stale or missing; tipline audit checks it. Renew it before it expires, as the
directory (a cron job beside tipline keys renew).

  --dir DIR               the folder with signing.key and directory.json (tipline keys init made it)
  --days N                how long the statement holds (14; 1 to 92, and never past the signing key's
                          certificate)
  --statement-file FILE   the statement's words (UTF-8, at most 2000 characters; line breaks become spaces);
                          by default the standard statement, in English

Publish it: copy DIR/canary.json beside the server's directory file, then systemctl kill -s HUP tipline.
example:  tipline canary sign --dir keys --days 14`;

const HELP = `usage: tipline canary sign --dir DIR [--days N] [--statement-file FILE]

  sign   sign the warrant canary (DIR/canary.json), a dated statement that no secret order was received

tipline canary sign --help shows its options.`;

/** The statement's words from a file: whitespace runs (line breaks too) become one space; the signed text is one
 * paragraph of printable characters (FORMAT.md §Canary). */
function statementFrom(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usage('canary sign', `--statement-file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const s = text.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if (s.length === 0) throw usage('canary sign', `--statement-file ${path} is empty`);
  if (s.length > 2000) throw usage('canary sign', `--statement-file ${path}: the statement has ${s.length} characters, at most 2000`);
  if (/[\p{Cc}\p{Cf}]/u.test(s)) throw usage('canary sign', `--statement-file ${path}: the statement holds control or invisible formatting characters`);
  return s;
}

async function sign(dir: string, days: number, statement: string | undefined, say: (s: string) => void): Promise<void> {
  const { documentFingerprint } = await import('../../../crypto/signed.js');
  const { makeCanary, signCanary, verifyCanary, DEFAULT_STATEMENT } = await import('../../../crypto/canary.js');
  const dirPath = join(dir, DIRECTORY_FILE);
  const dirDoc = readJson(dirPath, 'the directory', `run tipline keys init --dir ${dir} first`) as import('../../../crypto/signed.js').SignedDocument;
  let fp: string;
  try {
    fp = documentFingerprint(dirDoc);
  } catch (err) {
    throw new CliError(`${dirPath}: ${(err as Error).message}`);
  }
  const path = join(dir, CANARY_FILE);
  let previousSerial = 0;
  if (existsSync(path)) {
    // A canary that does not verify here is not ours to count from: the serial must only grow, and a forged
    // high serial would otherwise push every later one up.
    try {
      previousSerial = verifyCanary(readJson(path, 'the canary', 'tipline canary sign writes it'), fp, new Date()).canary.serial;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`${path} does not verify under the root of ${dirPath} (${(err as Error).message}): move it away to sign a new one`);
    }
  }
  const signer = await openKey(join(dir, SIGNER_FILE), 'signer', 'directory signing key');
  const now = new Date();
  const { cert, notAfter } = chooseCertificate(dir, dirDoc, fp, signer, now);
  const canary = makeCanary(now, days, previousSerial, statement ?? DEFAULT_STATEMENT);
  if (Date.parse(canary.expires) > notAfter) {
    const left = Math.floor((notAfter - Date.parse(canary.issued)) / DAY);
    throw new CliError(`a canary of ${days} days would outlive the signing key's certificate (it ends ${new Date(notAfter).toISOString().slice(0, 10)}): ${left >= 1 ? `use --days ${left} or ` : ''}have the root certify the key again (tipline keys certify)`);
  }
  let doc;
  try {
    doc = signCanary(canary, cert, signer);
  } catch (err) {
    throw new CliError(`cannot sign the canary: ${(err as Error).message}`);
  }
  writeJson(path, doc);
  say(`canary:     ${path}, serial ${canary.serial}`);
  say(`issued:     ${canary.issued.slice(0, 10)} (${canary.issued})`);
  say(`expires:    ${canary.expires.slice(0, 10)} (${canary.expires}), ${days} ${days === 1 ? 'day' : 'days'} from now: sign it again before then, or it shows as stale`);
  say(`statement:  ${printable(canary.statement, 120)}`);
  say(`publish it: copy ${path} beside the server's directory file, then systemctl kill -s HUP tipline`);
  say(`fingerprint: ${fp}`);
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'sign') {
    if (wantsHelp(argv)) {
      io.say(HELP);
      return 0;
    }
    throw usage('canary', sub === undefined || sub.startsWith('-') ? 'canary needs a subcommand first: tipline canary sign --dir DIR --days N' : `"${printable(sub, 40)}" is not a canary command: use tipline canary sign`);
  }
  if (wantsHelp(rest)) {
    io.say(SIGN_HELP);
    return 0;
  }
  const cmd = 'canary sign';
  const { values } = args(cmd, rest, { dir: { type: 'string' }, days: { type: 'string' }, 'statement-file': { type: 'string' } });
  const dir = need(cmd, values.dir, '--dir DIR', 'the folder with signing.key and directory.json, e.g. --dir keys');
  const { MAX_CANARY_DAYS, DEFAULT_CANARY_DAYS } = await import('../../../crypto/canary.js');
  const days = int(cmd, values.days, '--days', DEFAULT_CANARY_DAYS, [1, MAX_CANARY_DAYS]);
  const statement = values['statement-file'] === undefined ? undefined : statementFrom(values['statement-file']);
  const { initCrypto } = await import('../../../crypto/node.js');
  await initCrypto();
  await sign(dir, days, statement, io.say);
  return 0;
}
