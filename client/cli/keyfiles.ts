// Key files on disk: sealed with a passphrase by crypto/keyfile.ts, written with mode 0600 (a stolen laptop's
// copy is useless without the passphrase; other local users cannot read it at all).
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { openKeyFile, sealKeyFile, type KeptBoxKey, type KeyFile, type KeyMaterial } from '../../crypto/keyfile.js';
import { sodium } from '../../crypto/sodium.js';
import { WrongPassphraseError } from '../../crypto/errors.js';
import type { DeskKeyPair, SigningKeyPair } from '../../crypto/keys.js';
import { CliError } from './errors.js';
import { ReadBackError, writePrivateFileAtomic } from './atomic-file.js';
import { readPassphrase } from './passphrase.js';

export function writeKeyFile(path: string, file: KeyFile): void {
  if (existsSync(path)) throw new CliError(`${path} already exists; refusing to overwrite a key`);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not a tipline key file`);
  }
}

/** Opens a key file of any role with a passphrase from TIPLINE_PASSPHRASE or the prompt. */
export async function openAnyKeyFile(path: string, prompt = `Passphrase for ${path}: `): Promise<KeyMaterial> {
  const file = readJson(path);
  const passphrase = await readPassphrase(prompt);
  try {
    return openKeyFile(file, passphrase);
  } catch (err) {
    if (err instanceof WrongPassphraseError) throw new CliError(`wrong passphrase for ${path}`);
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
}

async function open(path: string, role: 'root' | 'desk' | 'auditor' | 'staff') {
  const file = readJson(path);
  const passphrase = await readPassphrase(`Passphrase for ${path}: `);
  let opened;
  try {
    opened = openKeyFile(file, passphrase);
  } catch (err) {
    if (err instanceof WrongPassphraseError) throw new CliError(`wrong passphrase for ${path}`);
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
  if (role === 'staff' ? opened.role !== 'desk' && opened.role !== 'auditor' : opened.role !== role) throw new CliError(`${path} holds a ${opened.role} key, not a ${role} key`);
  return opened;
}

export async function loadRootKey(path: string): Promise<SigningKeyPair> {
  const k = await open(path, 'root');
  return { publicKey: k.public.sign!, secretKey: k.secret.sign! };
}

export interface StaffIdentity extends DeskKeyPair {
  name: string;
  role: 'desk' | 'auditor';
  /** Earlier periods' box keys still kept (newest first): a tip sealed before the last rotation opens with one. */
  kept?: { boxPublic: Uint8Array; boxSecret: Uint8Array }[];
}

export async function loadStaffKey(path: string): Promise<StaffIdentity> {
  const k = await open(path, 'staff');
  const kept = (k.kept ?? []).map((o) => ({ boxPublic: sodium().crypto_scalarmult_base(o.box), boxSecret: o.box }));
  return { name: k.name, role: k.role as 'desk' | 'auditor', boxPublic: k.public.box!, boxSecret: k.secret.box!, signPublic: k.public.sign!, signSecret: k.secret.sign!, ...(kept.length ? { kept } : {}) };
}

export function sealRoot(name: string, key: SigningKeyPair, passphrase: string): KeyFile {
  return sealKeyFile({ role: 'root', name, public: { sign: key.publicKey }, secret: { sign: key.secretKey }, passphrase });
}

export function sealStaff(role: 'desk' | 'auditor', name: string, key: DeskKeyPair, passphrase: string, kept?: KeptBoxKey[]): KeyFile {
  return sealKeyFile({ role, name, public: { box: key.boxPublic, sign: key.signPublic }, secret: { box: key.boxSecret, sign: key.signSecret }, passphrase, ...(kept?.length ? { kept } : {}) });
}

/**
 * Replaces a key file atomically: the new content goes to a temporary file (0600, created exclusively) in the
 * same folder, is flushed to disk, then renamed over the old one; the folder is flushed too. Threat to the key
 * itself: a crash or a full disk halfway through must leave the old file whole, never a key file that opens
 * with neither passphrase. Returns the path written (a symbolic link's target).
 */
export function replaceKeyFile(path: string, file: KeyFile): string {
  const target = realpathSync(path);
  const dir = dirname(target);
  const text = `${JSON.stringify(file, null, 2)}\n`;
  try {
    writePrivateFileAtomic(target, text, true);
  } catch (err) {
    if (err instanceof ReadBackError) throw new CliError(`${err.tmp} did not read back as written; ${path} is unchanged`);
    throw new CliError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; it is unchanged`);
  }
  try {
    const dfd = openSync(dir, 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename itself is atomic either way.
  }
  return target;
}

// Letters that do not decompose into a base letter and a mark (NFKD leaves them whole).
const TRANSLIT: Record<string, string> = { ø: 'o', æ: 'ae', œ: 'oe', ß: 'ss', đ: 'd', ł: 'l', þ: 'th', ð: 'd', ı: 'i', ħ: 'h', ŋ: 'n' };
const SLUG_MAX = 96;

/**
 * A file name (without extension) for a display name: ASCII letters and digits as they are, accented Latin
 * letters without their accents, any other character as u<hex code point>, words joined by "-". Never ".",
 * "/", "\\" or a leading dash, so it cannot leave the folder or read as an option. "María López" → "maria-lopez",
 * "李明" → "u674e-u660e".
 */
export function keyFileSlug(name: string): string {
  const words: string[] = [];
  for (const word of name.normalize('NFC').toLowerCase().split(/[\s.\-_']+/u)) {
    const pieces: string[] = [];
    let run = '';
    for (const ch of word) {
      if (/^\p{M}$/u.test(ch)) continue; // a mark left over after NFC: its letter is already written
      const base = (TRANSLIT[ch] ?? ch).normalize('NFKD').replace(/\p{M}/gu, '');
      if (/^[a-z0-9]+$/.test(base)) {
        run += base;
      } else {
        if (run) pieces.push(run);
        run = '';
        pieces.push(`u${ch.codePointAt(0)!.toString(16)}`);
      }
    }
    if (run) pieces.push(run);
    if (pieces.length) words.push(pieces.join('-'));
  }
  const slug = words.join('-').slice(0, SLUG_MAX).replace(/-+$/, '');
  return slug || 'key';
}
