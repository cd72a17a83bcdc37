// `tipline keys init|add-desk`: the newsroom's root key signs the directory of desk (and auditor) keys.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint, generateDeskKey, generateSigningKey } from '../../../crypto/keys.js';
import { signDirectory, type Directory, type Recipient } from '../../../crypto/directory.js';
import { verifyDocument, documentFingerprint, type SignedDocument } from '../../../crypto/signed.js';
import { toBase64 } from '../../../crypto/bytes.js';
import { CliError, USAGE_EXIT } from '../errors.js';
import { readPassphrase } from '../passphrase.js';
import { loadRootKey, sealRoot, sealStaff, writeKeyFile } from '../keyfiles.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DAY = 86_400_000;

function recipientFor(name: string, role: 'desk' | 'auditor', key: { boxPublic: Uint8Array; signPublic: Uint8Array }, now: Date, days: number): Recipient {
  return { name, role, box_key: toBase64(key.boxPublic), sign_key: toBase64(key.signPublic), not_before: now.toISOString(), not_after: new Date(now.getTime() + days * DAY).toISOString() };
}

function directoryOf(recipients: Recipient[], now: Date, days: number): Directory {
  return { v: 1, issued: now.toISOString(), expires: new Date(now.getTime() + days * DAY).toISOString(), recipients };
}

export async function keysInit(dir: string, name: string, days: number, say: (s: string) => void): Promise<void> {
  if (!NAME.test(name)) throw new CliError(`--name "${name}": a desk name is 1-64 letters, digits, dots, dashes or underscores`, USAGE_EXIT);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(join(dir, 'root.key'))) throw new CliError(`${join(dir, 'root.key')} already exists: this folder already holds a tip line's keys; to add a desk: tipline keys add-desk --dir ${dir} --name NAME`);
  const passphrase = await readPassphrase('Passphrase for the new keys: ', { confirm: true });
  const now = new Date();
  const root = generateSigningKey();
  const desk = generateDeskKey();
  writeKeyFile(join(dir, 'root.key'), sealRoot('root', root, passphrase));
  writeKeyFile(join(dir, `${name}.key`), sealStaff('desk', name, desk, passphrase));
  const doc = signDirectory(directoryOf([recipientFor(name, 'desk', desk, now, days)], now, days), root);
  writeFileSync(join(dir, 'directory.json'), `${JSON.stringify(doc, null, 2)}\n`);
  say(`root key:   ${join(dir, 'root.key')} (keep it offline)`);
  say(`desk key:   ${join(dir, `${name}.key`)}`);
  say(`directory:  ${join(dir, 'directory.json')} (publish it: tipline serve --directory ${join(dir, 'directory.json')})`);
  say(`fingerprint: ${fingerprint(root.publicKey)}`);
}

export async function keysAdd(dir: string, name: string, role: 'desk' | 'auditor', days: number, say: (s: string) => void): Promise<void> {
  if (!NAME.test(name)) throw new CliError(`--name "${name}": a key's name is 1-64 letters, digits, dots, dashes or underscores`, USAGE_EXIT);
  const keyPath = join(dir, `${name}.key`);
  if (existsSync(keyPath)) throw new CliError(`${keyPath} already exists: choose another --name`, USAGE_EXIT);
  const dirPath = join(dir, 'directory.json');
  let doc: SignedDocument;
  try {
    doc = JSON.parse(readFileSync(dirPath, 'utf8')) as SignedDocument;
  } catch {
    throw new CliError(`cannot read ${dirPath}: run \`tipline keys init --dir ${dir}\` first`);
  }
  const root = await loadRootKey(join(dir, 'root.key'));
  const fp = fingerprint(root.publicKey);
  if (documentFingerprint(doc) !== fp) throw new CliError(`${dirPath} was not signed by ${join(dir, 'root.key')}`);
  const current = verifyDocument(doc, fp, 'directory') as Directory;
  const passphrase = await readPassphrase(`Passphrase for ${keyPath}: `, { confirm: true });
  const now = new Date();
  const key = generateDeskKey();
  writeKeyFile(keyPath, sealStaff(role, name, key, passphrase));
  const others = current.recipients.filter((r) => r.name !== name && Date.parse(r.not_after) > now.getTime());
  writeFileSync(dirPath, `${JSON.stringify(signDirectory(directoryOf([...others, recipientFor(name, role, key, now, days)], now, days), root), null, 2)}\n`);
  say(`${role} key:   ${keyPath}`);
  say(`directory re-signed: ${dirPath} (${others.length + 1} recipients; publish it again)`);
  say(`fingerprint: ${fp}`);
}
