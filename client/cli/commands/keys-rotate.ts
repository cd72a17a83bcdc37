// `tipline keys rotate`: retention enforced with keys (issue 9). Each desk's encryption (box) key lives one
// period (policy key_period_days); at rotation the desk gets a new box key, listed in a re-signed directory, and
// box secrets whose period ended more than retention.tips_days ago are deleted from the key file. Threat: a
// server copy, a backup or a seized disk still holding an expired tip; once its key is gone nobody can open it.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { makeKeyRequest } from '../../../crypto/key-request.js';
import { join } from 'node:path';
import { openKeyFile, type KeptBoxKey } from '../../../crypto/keyfile.js';
import { WrongPassphraseError } from '../../../crypto/errors.js';
import { generateDeskKey } from '../../../crypto/keys.js';
import { KEY_GRACE_DAYS, DEFAULT_DIRECTORY_DAYS, type Recipient } from '../../../crypto/directory.js';
import { toBase64 } from '../../../crypto/bytes.js';
import { DEFAULT_KEY_PERIOD_DAYS, DEFAULT_RETENTION, verifyPolicy } from '../../../crypto/policy.js';
import { args, int, need, usage, wantsHelp, type Io } from '../args.js';
import { CliError } from '../errors.js';
import { readPassphrase } from '../passphrase.js';
import { keyFileSlug, readJson, replaceKeyFile, sealStaff } from '../keyfiles.js';
import { printable } from '../printable.js';
import { initCrypto } from '../../../crypto/node.js';
import { current, loadForSigning, POLICY_FILE, resign, summary } from './keys.js';

const DAY = 86_400_000;

const HELP = `usage: tipline keys rotate --dir DIR [--force]
       tipline keys rotate --key FILE --out DIR [--tips-days N]

Gives every desk whose key period has ended (policy key_period_days, 7 by default) a new encryption key,
deletes from its key file the encryption keys whose period ended more than the policy's retention.tips_days
ago, and signs the directory again with the new keys. Run it daily on the newsroom machine, after tipline keys
renew. A tip not exported (tipline fetch) before its key is deleted can never be decrypted again, from any
copy, backup included.

  --dir DIR   the keys folder (tipline keys init made it): every desk key file in it that opens is rotated
  --force     rotate now even if the period has not ended

  --key FILE  a desk key you made yourself (tipline keys request): rotates that file and writes a new signed
              request to --out, for the root holder's tipline keys add-desk --public (it replaces your listed key)
  --tips-days N  with --key: how long tips are kept (the newsroom's policy; 30)

Passphrases: TIPLINE_PASSPHRASE, or asked for each key file.
example:  tipline keys rotate --dir keys`;

interface Periods {
  periodDays: number;
  tipsDays: number;
}

function policyOf(dir: string, fp: string, say: (s: string) => void): Periods {
  let doc: unknown;
  try {
    doc = readJson(join(dir, POLICY_FILE));
  } catch {
    say(`no ${join(dir, POLICY_FILE)}: using the default key period (${DEFAULT_KEY_PERIOD_DAYS} days) and tip retention (${DEFAULT_RETENTION.tips_days} days)`);
    return { periodDays: DEFAULT_KEY_PERIOD_DAYS, tipsDays: DEFAULT_RETENTION.tips_days };
  }
  try {
    const p = verifyPolicy(doc, fp);
    return { periodDays: p.key_period_days, tipsDays: p.retention.tips_days };
  } catch (err) {
    throw new CliError(`${join(dir, POLICY_FILE)}: ${(err as Error).message}`);
  }
}

/** Whether a kept key must still be kept at `now`: a tip sealed on its last day is kept tips_days (+1: the
 * server deletes by whole days) after it. */
export function stillNeeded(k: KeptBoxKey, tipsDays: number, now: number): boolean {
  return now - Date.parse(k.ended) <= (tipsDays + 1) * DAY;
}

export async function rotateDir(dir: string, force: boolean, say: (s: string) => void): Promise<void> {
  const l = await loadForSigning(dir);
  const p = policyOf(dir, l.prev.fp, say);
  const nowDate = new Date();
  const now = nowDate.getTime();
  let listed = current(l.prev.directory, nowDate);
  let changed = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.key')).sort();
  for (const f of files) {
    const path = join(dir, f);
    const file = readJson(path) as { role?: unknown };
    if (file.role !== 'desk') continue;
    const passphrase = await readPassphrase(`Passphrase for ${path}: `);
    let k;
    try {
      k = openKeyFile(file, passphrase);
    } catch (err) {
      if (err instanceof WrongPassphraseError) {
        say(`skipped ${path}: wrong passphrase (its keys are unchanged; rotate it with its own passphrase)`);
        continue;
      }
      throw new CliError(`${path}: ${(err as Error).message}`);
    }
    const name = printable(k.name, 80);
    const sign = toBase64(k.public.sign!);
    // From the whole last directory: a listing that lapsed (rotation ran later than the grace) is renewed too.
    const entry = l.prev.directory.recipients.find((r) => r.sign_key === sign);
    if (!entry) {
      say(`skipped ${path}: desk "${name}" is not listed in the directory`);
      continue;
    }
    if (entry.box_key !== toBase64(k.public.box!)) {
      say(`skipped ${path}: the directory lists another encryption key for desk "${name}" (rotated elsewhere?)`);
      continue;
    }
    const periodEnds = Date.parse(entry.not_before) + p.periodDays * DAY;
    const kept = (k.kept ?? []).filter((o) => stillNeeded(o, p.tipsDays, now));
    const destroyed = (k.kept ?? []).filter((o) => !stillNeeded(o, p.tipsDays, now));
    if (now < periodEnds && !force && destroyed.length === 0) {
      say(`desk "${name}": key period ends ${new Date(periodEnds).toISOString()}; nothing to do`);
      continue;
    }
    const rotate = now >= periodEnds || force;
    const fresh = rotate ? generateDeskKey() : undefined;
    // The old key's life ends when no client can still seal to it: the directory signed before this rotation
    // lists it until its not_after (later than now when rotated early), and a tip sealed then is owed tips_days.
    const ended = new Date(Math.max(now, Date.parse(entry.not_after) || now)).toISOString();
    const nextKept: KeptBoxKey[] = fresh ? [{ box: k.secret.box!, ended }, ...kept] : kept;
    const pair = fresh
      ? { boxPublic: fresh.boxPublic, boxSecret: fresh.boxSecret, signPublic: k.public.sign!, signSecret: k.secret.sign! }
      : { boxPublic: k.public.box!, boxSecret: k.secret.box!, signPublic: k.public.sign!, signSecret: k.secret.sign! };
    // Written (new file, fsync, rename) before the directory names the new key: a crash in between leaves a
    // desk that can open both old and new tips, never a listed key whose secret is nowhere.
    replaceKeyFile(path, sealStaff('desk', k.name, pair, passphrase, nextKept));
    for (const o of destroyed) o.box.fill(0);
    if (fresh) {
      const r: Recipient = { ...entry, box_key: toBase64(fresh.boxPublic), not_before: nowDate.toISOString(), not_after: new Date(now + (p.periodDays + KEY_GRACE_DAYS) * DAY).toISOString() };
      listed = [...listed.filter((e) => e.sign_key !== sign), r];
      changed++;
      say(`desk "${name}": new encryption key, listed until ${r.not_after}; ${nextKept.length} earlier key(s) kept for tips not yet expired`);
    }
    if (destroyed.length) {
      const before = destroyed.map((o) => o.ended).sort().at(-1)!;
      say(`destroyed ${destroyed.length} old key${destroyed.length > 1 ? 's' : ''} of desk "${name}": tips sealed before ${before.slice(0, 10)} can no longer be decrypted anywhere`);
    }
  }
  // Threat: a crash between writing a key file's temporary copy and renaming it (replaceKeyFile) leaves
  // `.NAME.key.<hex>.tmp`, a whole key file with its kept keys; the keys destroyed above would live on in it.
  for (const f of readdirSync(dir).filter((n) => /^\..+\.key\.[0-9a-f]{12}\.tmp$/.test(n))) {
    rmSync(join(dir, f), { force: true });
    say(`removed ${join(dir, f)}: a copy of a key file left by an interrupted write`);
  }
  if (changed) {
    const d = resign(dir, l.prev, listed, l.signer, l.cert, l.certEnds, DEFAULT_DIRECTORY_DAYS, say);
    summary(dir, d, l.prev.fp, say);
  }
}

/** A desk that holds its own key (tipline keys request): rotates the file, writes a new self-signed request. */
export async function rotateOwn(path: string, out: string, tipsDays: number, say: (s: string) => void): Promise<void> {
  const file = readJson(path);
  const passphrase = await readPassphrase(`Passphrase for ${path}: `);
  let k;
  try {
    k = openKeyFile(file, passphrase);
  } catch (err) {
    if (err instanceof WrongPassphraseError) throw new CliError(`wrong passphrase for ${path}; it is unchanged`);
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
  if (k.role !== 'desk') throw new CliError(`${path} holds a ${k.role} key: only desk keys rotate`);
  const now = new Date();
  const kept = (k.kept ?? []).filter((o) => stillNeeded(o, tipsDays, now.getTime()));
  const destroyed = (k.kept ?? []).length - kept.length;
  const fresh = generateDeskKey();
  const pair = { boxPublic: fresh.boxPublic, boxSecret: fresh.boxSecret, signPublic: k.public.sign!, signSecret: k.secret.sign! };
  const request = makeKeyRequest(k.name, 'desk', pair);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const requestPath = join(out, `${keyFileSlug(k.name)}.request.json`);
  replaceKeyFile(path, sealStaff('desk', k.name, pair, passphrase, [{ box: k.secret.box!, ended: now.toISOString() }, ...kept]));
  writeFileSync(requestPath, `${JSON.stringify(request, null, 2)}\n`, { mode: 0o644 });
  say(`desk "${printable(k.name, 80)}": new encryption key in ${path}; the previous one is kept ${tipsDays} days for tips sealed to it`);
  if (destroyed) say(`destroyed ${destroyed} old key${destroyed > 1 ? 's' : ''} of desk "${printable(k.name, 80)}": the tips sealed to them can no longer be decrypted anywhere`);
  say(`request:     ${requestPath}: the root holder lists it with tipline keys add-desk --dir DIR --public ${requestPath}`);
  say('until then, new tips are still sealed to your previous key (it is kept)');
}

export async function run(argv: string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  }
  const { values } = args('keys rotate', argv, { dir: { type: 'string' }, force: { type: 'boolean' }, key: { type: 'string' }, out: { type: 'string' }, 'tips-days': { type: 'string' } });
  if (values.key !== undefined) {
    if (values.dir !== undefined) throw usage('keys rotate', '--key FILE rotates one key you hold; --dir DIR the newsroom folder: give one of them');
    const out = need('keys rotate', values.out, '--out', 'the folder for the new key request');
    const tipsDays = int('keys rotate', values['tips-days'], '--tips-days', DEFAULT_RETENTION.tips_days, [1, 3650]);
    await initCrypto();
    await rotateOwn(values.key, out, tipsDays, io.say);
    return 0;
  }
  const dir = need('keys rotate', values.dir, '--dir', 'the keys folder (tipline keys init made it)');
  await initCrypto();
  await rotateDir(dir, values.force ?? false, io.say);
  return 0;
}
