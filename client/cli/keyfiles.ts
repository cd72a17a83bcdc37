// Key files on disk: sealed with a passphrase by crypto/keyfile.ts, written with mode 0600 (a stolen laptop's
// copy is useless without the passphrase; other local users cannot read it at all).
import { readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { openKeyFile, sealKeyFile, type KeyFile } from '../../crypto/keyfile.js';
import { WrongPassphraseError } from '../../crypto/errors.js';
import type { DeskKeyPair, SigningKeyPair } from '../../crypto/keys.js';
import { CliError } from './errors.js';
import { readPassphrase } from './passphrase.js';

export function writeKeyFile(path: string, file: KeyFile): void {
  if (existsSync(path)) throw new CliError(`${path} already exists; refusing to overwrite a key`);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

function readJson(path: string): unknown {
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
}

export async function loadStaffKey(path: string): Promise<StaffIdentity> {
  const k = await open(path, 'staff');
  return { name: k.name, role: k.role as 'desk' | 'auditor', boxPublic: k.public.box!, boxSecret: k.secret.box!, signPublic: k.public.sign!, signSecret: k.secret.sign! };
}

export function sealRoot(name: string, key: SigningKeyPair, passphrase: string): KeyFile {
  return sealKeyFile({ role: 'root', name, public: { sign: key.publicKey }, secret: { sign: key.secretKey }, passphrase });
}

export function sealStaff(role: 'desk' | 'auditor', name: string, key: DeskKeyPair, passphrase: string): KeyFile {
  return sealKeyFile({ role, name, public: { box: key.boxPublic, sign: key.signPublic }, secret: { box: key.boxSecret, sign: key.signSecret }, passphrase });
}
