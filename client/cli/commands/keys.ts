// `tipline keys init|add-desk|remove-desk|renew|certify`: the key ceremony (DESIGN.md §Keys over their life).
// Three keys, three places: the root (offline; certifies a signing key every few months), the directory
// signing key (a newsroom machine; signs the directory of desk keys every few days), the desk keys (each
// journalist's machine). The server holds none of them: a compelled operator cannot list a desk of its own.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint, generateDeskKey, generateSigningKey, type SigningKeyPair } from '../../../crypto/keys.js';
import {
  certifySigner,
  readCertificate,
  signDirectory,
  verifyDirectoryChain,
  DEFAULT_CERTIFICATE_DAYS,
  DEFAULT_DIRECTORY_DAYS,
  KEY_GRACE_DAYS,
  type Directory,
  type Recipient,
  type Role,
} from '../../../crypto/directory.js';
import { checkDisplayName, readKeyRequest } from '../../../crypto/key-request.js';
import { documentFingerprint, type SignedDocument } from '../../../crypto/signed.js';
import { openKeyFile, sealKeyFile, type KeyFile } from '../../../crypto/keyfile.js';
import { DirectoryExpiredError, WrongPassphraseError } from '../../../crypto/errors.js';
import { toBase64, toHex, utf8Encode } from '../../../crypto/bytes.js';
import { sodium } from '../../../crypto/sodium.js';
import { CliError, USAGE_EXIT } from '../errors.js';
import { readPassphrase } from '../passphrase.js';
import { sealStaff, writeKeyFile } from '../keyfiles.js';
import { printable } from '../printable.js';
import { DEFAULT_KEY_PERIOD_DAYS, makePolicy, signPolicy } from '../../../crypto/policy.js';
import { STORED_COLUMNS } from '../../../schema/db.js';

const DAY = 86_400_000;
export const ROOT_FILE = 'root.key';
export const SIGNER_FILE = 'signing.key';
export const CERTIFICATE_FILE = 'signing-certificate.json';
export const DIRECTORY_FILE = 'directory.json';
/** The signed retention policy beside the directory; `tipline serve` publishes and enforces it. */
export const POLICY_FILE = 'policy.json';
/** Certificates begin an hour early: a server whose clock is a little behind the root's still accepts them. */
const CLOCK_SLACK = 3_600_000;
/** A certificate ending sooner than this is announced at every re-signing. */
const CERTIFICATE_WARNING_DAYS = 14;

type Say = (s: string) => void;

/** A desk's encryption key is listed for one key period (+ grace): `tipline keys rotate` replaces it then. */
export const DESK_DAYS_DEFAULT = DEFAULT_KEY_PERIOD_DAYS + KEY_GRACE_DAYS;
/** Auditors receive no tips: their listing is not tied to the key period. */
const AUDITOR_DAYS_DEFAULT = 365;

/** The key period of the folder's policy (unverified read: it only sets a default length), or the default. */
function keyPeriodDays(dir: string): number {
  try {
    const doc = JSON.parse(readFileSync(join(dir, POLICY_FILE), 'utf8')) as { payload?: string };
    const p = JSON.parse(Buffer.from(doc.payload ?? '', 'base64').toString('utf8')) as { key_period_days?: unknown };
    if (typeof p.key_period_days === 'number' && Number.isSafeInteger(p.key_period_days) && p.key_period_days >= 1) return p.key_period_days;
  } catch {
    // no policy here: the default
  }
  return DEFAULT_KEY_PERIOD_DAYS;
}

function listingDays(dir: string, role: Role, days: number | undefined): number {
  if (days !== undefined) return days;
  return role === 'desk' ? keyPeriodDays(dir) + KEY_GRACE_DAYS : AUDITOR_DAYS_DEFAULT;
}

/** The display name, NFC-normalised (letters of any script, digits, spaces, . - _ '). */
export function displayName(name: string): string {
  return checkDisplayName(name, (m) => new CliError(`--name "${printable(name, 80)}": ${m}`, USAGE_EXIT));
}

/**
 * A file name for a key: the name in lowercase ASCII ("María López" -> maria-lopez), accents dropped, anything
 * else a dash; a name with no ASCII letter at all ("李明") gets a stable hash instead. The display name stays
 * inside the file.
 */
export function keySlug(name: string): string {
  const ascii = name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 48);
  if (/[a-z0-9]/.test(ascii)) return ascii;
  return `key-${toHex(sodium().crypto_generichash(32, utf8Encode(name), null)).slice(0, 12)}`;
}

export function writeJson(path: string, value: unknown): void {
  // Whole or not at all: a half-written directory.json would be published as garbage.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

export function readJson(path: string, what: string, hint: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${hint}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON: ${hint}`);
  }
}

export async function openKey(path: string, role: 'root' | 'signer', label: string): Promise<SigningKeyPair> {
  const file = readJson(path, 'key file', role === 'root' ? 'the root key is on the offline machine that ran tipline keys init' : 'tipline keys init made it');
  const passphrase = await readPassphrase(`Passphrase for the ${label} (${path}): `);
  let k;
  try {
    k = openKeyFile(file, passphrase);
  } catch (err) {
    if (err instanceof WrongPassphraseError) throw new CliError(`wrong passphrase for ${path}`);
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
  if (k.role !== role) throw new CliError(`${path} holds a ${k.role} key, not the ${label}`);
  return { publicKey: k.public.sign!, secretKey: k.secret.sign! };
}

async function newPassphrase(label: string): Promise<string> {
  return readPassphrase(`Passphrase for the new ${label}: `, { confirm: true });
}

function sealSigning(role: 'root' | 'signer', name: string, key: SigningKeyPair, passphrase: string): KeyFile {
  return sealKeyFile({ role, name, public: { sign: key.publicKey }, secret: { sign: key.secretKey }, passphrase });
}

function recipientFor(name: string, role: Role, key: { box_key: string; sign_key: string }, now: Date, days: number): Recipient {
  return { name, role, box_key: key.box_key, sign_key: key.sign_key, not_before: now.toISOString(), not_after: new Date(now.getTime() + days * DAY).toISOString() };
}

/** The folder's current directory, its chain verified (an expired directory is still read, to be renewed). */
function currentDirectory(dir: string): { doc: SignedDocument; directory: Directory; fp: string } {
  const path = join(dir, DIRECTORY_FILE);
  const doc = readJson(path, 'the directory', `run tipline keys init --dir ${dir} first`) as SignedDocument;
  let fp: string;
  try {
    fp = documentFingerprint(doc);
    try {
      return { doc, directory: verifyDirectoryChain(doc, fp, new Date()).directory, fp };
    } catch (err) {
      if (!(err instanceof DirectoryExpiredError)) throw err;
      // Expired (the directory, or its certificate): its contents are still the newsroom's list of keys.
      return { doc, directory: verifyDirectoryChain(doc, fp, new Date(Date.parse(err.expires))).directory, fp };
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
}

/** The certificate to sign with: the one last issued (latest not_before) naming `signer` and valid now (the
 * file, or the one the directory carries): the root's latest word, even when it shortened the period. */
export function chooseCertificate(dir: string, doc: SignedDocument, fp: string, signer: SigningKeyPair, now: Date): { cert: SignedDocument; notAfter: number } {
  const candidates: SignedDocument[] = [];
  const file = join(dir, CERTIFICATE_FILE);
  if (existsSync(file)) candidates.push(readJson(file, 'the certificate', 'tipline keys certify writes it') as SignedDocument);
  if (doc.certificate) candidates.push(doc.certificate);
  const me = toBase64(signer.publicKey);
  let best: { cert: SignedDocument; notAfter: number; from: number } | undefined;
  for (const cert of candidates) {
    let c;
    try {
      c = readCertificate(cert, fp);
    } catch {
      continue;
    }
    const from = Date.parse(c.not_before);
    const until = Date.parse(c.not_after);
    if (c.sign_key !== me || from > now.getTime() || until <= now.getTime()) continue;
    if (!best || from > best.from || (from === best.from && until > best.notAfter)) best = { cert, notAfter: until, from };
  }
  if (!best) {
    throw new CliError(`no certificate valid now for the signing key in ${join(dir, SIGNER_FILE)}: the root must certify it again (on the offline machine: tipline keys certify --dir DIR), then copy ${CERTIFICATE_FILE} here`);
  }
  return best;
}

/** Signs `recipients` as the next directory: a serial above the last one, life `days` (capped by the certificate). */
export function resign(dir: string, prev: { doc: SignedDocument; directory: Directory; fp: string } | undefined, recipients: Recipient[], signer: SigningKeyPair, cert: SignedDocument, certEnds: number, days: number, say: Say): Directory {
  const now = Date.now();
  // The serial is the issue time in seconds, and at least one more than the last: it only grows, and a
  // verifier refuses a serial above the issue time (FORMAT.md §Directory).
  const serial = Math.max((prev?.directory.serial ?? 0) + 1, Math.floor(now / 1000));
  const issued = Math.max(now, serial * 1000);
  const expires = Math.min(issued + days * DAY, certEnds);
  if (expires <= issued) throw new CliError('the signing key\'s certificate ends now: the root must certify it again (tipline keys certify)');
  const directory: Directory = { v: 2, serial, issued: new Date(issued).toISOString(), expires: new Date(expires).toISOString(), recipients };
  let doc: SignedDocument;
  try {
    doc = signDirectory(directory, cert, signer);
  } catch (err) {
    throw new CliError(`cannot sign the directory: ${(err as Error).message}`);
  }
  writeJson(join(dir, DIRECTORY_FILE), doc);
  if (certEnds - now < CERTIFICATE_WARNING_DAYS * DAY) {
    say(`warning: the signing key's certificate ends ${new Date(certEnds).toISOString()}: have the root certify it again soon (tipline keys certify)`);
  }
  return directory;
}

export function summary(dir: string, d: Directory, fp: string, say: Say): void {
  const desks = d.recipients.filter((r) => r.role === 'desk').map((r) => printable(r.name, 80));
  say(`directory:  ${join(dir, DIRECTORY_FILE)}, serial ${d.serial}, expires ${d.expires} (${d.recipients.length} keys; desks: ${desks.join(', ') || 'none'})`);
  say(`publish it: copy it to the server's --directory file, then systemctl kill -s HUP tipline (or restart tipline serve)`);
  say(`fingerprint: ${fp}`);
}

export interface InitOptions {
  /** How long the desk key is listed (days). */
  days: number;
  directoryDays?: number;
  certificateDays?: number;
}

export async function keysInit(dir: string, name: string, days: number | InitOptions, say: Say): Promise<void> {
  const o: InitOptions = typeof days === 'number' ? { days } : days;
  const display = displayName(name);
  const deskFile = join(dir, `${keySlug(display)}.key`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const f of [ROOT_FILE, SIGNER_FILE, DIRECTORY_FILE]) {
    if (existsSync(join(dir, f))) throw new CliError(`${join(dir, f)} already exists: this folder already holds a tip line's keys; to add a desk: tipline keys add-desk --dir ${dir} --name NAME`);
  }
  if (existsSync(deskFile)) throw new CliError(`${deskFile} already exists: choose another --name`, USAGE_EXIT);
  // One passphrase per key: the root's goes offline with it, the signing key's stays on the newsroom machine,
  // the desk's with its journalist. Knowing one must not open the others.
  const rootPass = await newPassphrase('root key (kept offline)');
  const signerPass = await newPassphrase('directory signing key');
  const deskPass = await newPassphrase(`desk key "${printable(display, 80)}"`);
  const now = new Date();
  const root = generateSigningKey();
  const signer = generateSigningKey();
  const desk = generateDeskKey();
  const from = new Date(now.getTime() - CLOCK_SLACK);
  const cert = certifySigner(signer.publicKey, from, new Date(from.getTime() + (o.certificateDays ?? DEFAULT_CERTIFICATE_DAYS) * DAY), root);
  writeKeyFile(join(dir, ROOT_FILE), sealSigning('root', 'root', root, rootPass));
  writeKeyFile(join(dir, SIGNER_FILE), sealSigning('signer', 'directory signing key', signer, signerPass));
  writeKeyFile(deskFile, sealStaff('desk', display, desk, deskPass));
  writeJson(join(dir, CERTIFICATE_FILE), cert);
  // The default policy (30 days), signed now while the root is at hand: tipline policy set changes it.
  writeJson(join(dir, POLICY_FILE), signPolicy(makePolicy({ now, stored: STORED_COLUMNS }), root));
  const fp = fingerprint(root.publicKey);
  const d = resign(dir, undefined, [recipientFor(display, 'desk', { box_key: toBase64(desk.boxPublic), sign_key: toBase64(desk.signPublic) }, now, o.days)], signer, cert, Date.parse(readCertificate(cert, fp).not_after), o.directoryDays ?? DEFAULT_DIRECTORY_DAYS, say);
  say(`root key:   ${join(dir, ROOT_FILE)} (move it to an offline machine; it certifies the signing key every ${o.certificateDays ?? DEFAULT_CERTIFICATE_DAYS} days)`);
  say(`signing key: ${join(dir, SIGNER_FILE)} (on a newsroom machine, never the server; re-signs the directory: tipline keys renew)`);
  say(`desk key:   ${deskFile}`);
  say(`policy:     ${join(dir, POLICY_FILE)} (tips and replies kept 30 days; change it with tipline policy set --dir ${dir})`);
  summary(dir, d, fp, say);
}

export interface Loaded {
  prev: { doc: SignedDocument; directory: Directory; fp: string };
  signer: SigningKeyPair;
  cert: SignedDocument;
  certEnds: number;
}

export async function loadForSigning(dir: string): Promise<Loaded> {
  const prev = currentDirectory(dir);
  const signer = await openKey(join(dir, SIGNER_FILE), 'signer', 'directory signing key');
  const { cert, notAfter } = chooseCertificate(dir, prev.doc, prev.fp, signer, new Date());
  return { prev, signer, cert, certEnds: notAfter };
}

/** The recipients still listed (expired entries dropped). */
export function current(prev: Directory, now: Date): Recipient[] {
  return prev.recipients.filter((r) => Date.parse(r.not_after) > now.getTime());
}

function refuseDuplicate(list: Recipient[], r: { name: string; box_key: string; sign_key: string }): void {
  for (const e of list) {
    if (e.name === r.name) throw new CliError(`"${printable(r.name, 80)}" is already listed: remove it first (tipline keys remove-desk) or choose another name`, USAGE_EXIT);
    if (e.box_key === r.box_key || e.sign_key === r.sign_key) throw new CliError(`that key is already listed, as "${printable(e.name, 80)}"`, USAGE_EXIT);
  }
}

export async function keysAdd(dir: string, name: string, role: 'desk' | 'auditor', days: number | undefined, say: Say): Promise<void> {
  const display = displayName(name);
  const keyPath = join(dir, `${keySlug(display)}.key`);
  if (existsSync(keyPath)) throw new CliError(`${keyPath} already exists: choose another --name`, USAGE_EXIT);
  const l = await loadForSigning(dir);
  const now = new Date();
  const others = current(l.prev.directory, now);
  const key = generateDeskKey();
  const r = recipientFor(display, role, { box_key: toBase64(key.boxPublic), sign_key: toBase64(key.signPublic) }, now, listingDays(dir, role, days));
  refuseDuplicate(others, r);
  const passphrase = await newPassphrase(`${role} key "${printable(display, 80)}"`);
  writeKeyFile(keyPath, sealStaff(role, display, key, passphrase));
  const d = resign(dir, l.prev, [...others, r], l.signer, l.cert, l.certEnds, DEFAULT_DIRECTORY_DAYS, say);
  say(`${role} key:   ${keyPath}`);
  summary(dir, d, l.prev.fp, say);
}

/** Lists a key someone made on their own machine (tipline keys request): only its public half travels. */
export async function keysAddPublic(dir: string, requestFile: string, days: number | undefined, say: Say): Promise<void> {
  let req;
  try {
    req = readKeyRequest(readJson(requestFile, 'the key request', 'tipline keys request writes it'));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${requestFile} is not a valid key request: ${(err as Error).message}`);
  }
  const l = await loadForSigning(dir);
  const now = new Date();
  const others = current(l.prev.directory, now);
  const r = recipientFor(req.name, req.role, req, now, listingDays(dir, req.role, days));
  // A rotated key of a desk already listed (tipline keys rotate --key, self-signed by that desk's own sign key):
  // its new encryption key replaces the listed one. The same name with another sign key is still refused.
  const same = others.find((e) => e.sign_key === r.sign_key && e.name === r.name && e.role === r.role);
  if (same && same.box_key === r.box_key) throw new CliError(`that key is already listed, as "${printable(same.name, 80)}"`, USAGE_EXIT);
  const rest = same ? others.filter((e) => e !== same) : others;
  refuseDuplicate(rest, r);
  const d = resign(dir, l.prev, [...rest, r], l.signer, l.cert, l.certEnds, DEFAULT_DIRECTORY_DAYS, say);
  if (same) say(`replaced the encryption key of ${req.role} "${printable(req.name, 80)}" (a rotation): new tips are sealed to the new key`);
  say(`listed ${req.role} "${printable(req.name, 80)}", signing key fingerprint ${fingerprint(Buffer.from(req.sign_key, 'base64'))}: compare it with the one its owner reads out to you`);
  summary(dir, d, l.prev.fp, say);
}

export async function keysRemove(dir: string, name: string, say: Say): Promise<void> {
  const display = displayName(name);
  const l = await loadForSigning(dir);
  const now = new Date();
  const before = current(l.prev.directory, now);
  const gone = before.find((r) => r.name === display);
  if (!gone) throw new CliError(`no key named "${printable(display, 80)}" in ${join(dir, DIRECTORY_FILE)}: listed are ${before.map((r) => `"${printable(r.name, 80)}"`).join(', ')}`, USAGE_EXIT);
  const rest = before.filter((r) => r !== gone);
  // Sources could then send nothing at all: the page refuses a directory without a desk.
  if (gone.role === 'desk' && !rest.some((r) => r.role === 'desk')) throw new CliError(`"${printable(display, 80)}" is the only desk: add another first (tipline keys add-desk)`, USAGE_EXIT);
  const d = resign(dir, l.prev, rest, l.signer, l.cert, l.certEnds, DEFAULT_DIRECTORY_DAYS, say);
  say(`removed ${gone.role} "${printable(display, 80)}": new tips are no longer encrypted to it and it can no longer sign in, once this directory is published (serial ${d.serial}: older ones are refused)`);
  summary(dir, d, l.prev.fp, say);
}

/** Signs the same list again with a fresh life and a higher serial: run it on a schedule (daily). */
export async function keysRenew(dir: string, days: number, say: Say): Promise<void> {
  const l = await loadForSigning(dir);
  const period = keyPeriodDays(dir);
  for (const r of current(l.prev.directory, new Date())) {
    if (r.role === 'desk' && Date.now() >= Date.parse(r.not_before) + period * DAY) {
      say(`warning: the key period of desk "${printable(r.name, 80)}" has ended: run tipline keys rotate --dir ${dir}`);
    }
  }
  const d = resign(dir, l.prev, current(l.prev.directory, new Date()), l.signer, l.cert, l.certEnds, days, say);
  summary(dir, d, l.prev.fp, say);
}

/** The root certifies the folder's signing key for `days` (on the offline machine). */
export async function keysCertify(dir: string, days: number, say: Say): Promise<void> {
  const signerPath = join(dir, SIGNER_FILE);
  const signerFile = readJson(signerPath, 'the signing key', 'tipline keys init made it') as { role?: unknown; public?: { sign?: unknown } };
  // Only the public half is needed; renew checks it against the secret when it opens the key.
  if (signerFile.role !== 'signer' || typeof signerFile.public?.sign !== 'string') throw new CliError(`${signerPath} is not a directory signing key file`);
  const signPublic = new Uint8Array(Buffer.from(signerFile.public.sign, 'base64'));
  if (signPublic.length !== 32) throw new CliError(`${signerPath}: its public key is not 32 bytes`);
  const root = await openKey(join(dir, ROOT_FILE), 'root', 'root key');
  const fp = fingerprint(root.publicKey);
  if (existsSync(join(dir, DIRECTORY_FILE))) {
    const have = currentDirectory(dir).fp;
    if (have !== fp) throw new CliError(`${join(dir, DIRECTORY_FILE)} belongs to root ${have}, not to ${join(dir, ROOT_FILE)} (${fp})`);
  }
  const from = new Date(Date.now() - CLOCK_SLACK);
  const until = new Date(from.getTime() + days * DAY);
  writeJson(join(dir, CERTIFICATE_FILE), certifySigner(signPublic, from, until, root));
  say(`certificate: ${join(dir, CERTIFICATE_FILE)}, valid until ${until.toISOString()}`);
  say(`copy it next to the signing key, then: tipline keys renew --dir DIR`);
  say(`fingerprint: ${fp}`);
}
