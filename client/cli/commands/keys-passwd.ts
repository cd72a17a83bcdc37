// `tipline keys passwd`: changes one key file's passphrase. Each key file has its own; the keys inside do not
// change, so nothing needs signing again. The file is replaced atomically (keyfiles.ts replaceKeyFile).
import { DEFAULT_KDF, openKeyFile, sealKeyFile } from '../../../crypto/keyfile.js';
import { WrongPassphraseError } from '../../../crypto/errors.js';
import { CliError, USAGE_EXIT } from '../errors.js';
import { readPassphrase } from '../passphrase.js';
import { readJson, replaceKeyFile } from '../keyfiles.js';
import { printable } from '../printable.js';

/** Where scripts give the new passphrase (the current one comes from TIPLINE_PASSPHRASE, as everywhere). */
export const NEW_PASSPHRASE_ENV = 'TIPLINE_NEW_PASSPHRASE';

export async function keysPasswd(path: string, say: (s: string) => void): Promise<void> {
  const file = readJson(path);
  const oldPassphrase = await readPassphrase(`Current passphrase for ${path}: `);
  let k;
  try {
    k = openKeyFile(file, oldPassphrase);
  } catch (err) {
    if (err instanceof WrongPassphraseError) throw new CliError(`wrong passphrase for ${path}; it is unchanged`);
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
  const fresh = await readPassphrase(`New passphrase for ${path}: `, { confirm: true, env: NEW_PASSPHRASE_ENV });
  if (fresh.normalize('NFC') === oldPassphrase.normalize('NFC')) throw new CliError(`the new passphrase is the current one: ${path} is unchanged`, USAGE_EXIT);
  // Never weaker than the file was: a file sealed at a higher cost keeps it (openKeyFile checked its range).
  const was = (file as { kdf: { opslimit: number; memlimit: number } }).kdf;
  const kdf = { opslimit: Math.max(DEFAULT_KDF.opslimit, was.opslimit), memlimit: Math.max(DEFAULT_KDF.memlimit, was.memlimit) };
  const sealed = sealKeyFile({ role: k.role, name: k.name, public: k.public, secret: k.secret, passphrase: fresh, kdf, ...(k.kept ? { kept: k.kept } : {}) });
  for (const v of Object.values(k.secret)) v.fill(0);
  const written = replaceKeyFile(path, sealed);
  say(`passphrase changed: ${written} (${k.role} key "${printable(k.name, 80)}"); the old passphrase no longer opens it`);
}
