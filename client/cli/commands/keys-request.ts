// `tipline keys request`: a journalist makes their own desk (or auditor) key on their own machine. The key file
// stays here; the request (public keys, signed by the new key) goes to whoever holds the root, who lists it
// with `tipline keys add-desk --public FILE`. Threat: a private key made by someone else and carried over
// (mail, a USB stick) could be copied on the way or kept by whoever made it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint, generateDeskKey } from '../../../crypto/keys.js';
import { checkDisplayName, makeKeyRequest, type KeyRequestRole } from '../../../crypto/key-request.js';
import { CliError, USAGE_EXIT } from '../errors.js';
import { readPassphrase } from '../passphrase.js';
import { keyFileSlug, sealStaff, writeKeyFile } from '../keyfiles.js';
import { printable } from '../printable.js';

export async function keysRequest(nameArg: string, role: KeyRequestRole, out: string, say: (s: string) => void): Promise<{ keyPath: string; requestPath: string }> {
  let name: string;
  try {
    name = checkDisplayName(nameArg);
  } catch (err) {
    throw new CliError(`--name "${printable(nameArg, 80)}": ${(err as Error).message}`, USAGE_EXIT);
  }
  const slug = keyFileSlug(name);
  const keyPath = join(out, `${slug}.key`);
  const requestPath = join(out, `${slug}.request.json`);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  for (const p of [keyPath, requestPath]) {
    // Refused before asking for a passphrase: a second request for the same name would replace a key.
    try {
      writeFileSync(p, '', { flag: 'wx', mode: 0o600 });
      rmSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${p} already exists: choose another --name or --out`, USAGE_EXIT);
      throw new CliError(`cannot write in ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const passphrase = await readPassphrase(`Passphrase for ${keyPath} (its own, asked twice): `, { confirm: true });
  const key = generateDeskKey();
  const request = makeKeyRequest(name, role, key);
  writeKeyFile(keyPath, sealStaff(role, name, key, passphrase));
  try {
    writeFileSync(requestPath, `${JSON.stringify(request, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    rmSync(keyPath, { force: true }); // a key with no request would be a key no one can list
    throw new CliError(`cannot write ${requestPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  key.boxSecret.fill(0);
  key.signSecret.fill(0);
  say(`${role} key:    ${keyPath} (private: it stays on this machine, mode 0600)`);
  say(`request:     ${requestPath} (public: hand it to whoever holds the root key)`);
  say(`fingerprint: ${fingerprint(key.signPublic)}`);
  say('Read the fingerprint to the root holder yourself (in person or by phone); they list the key with');
  say(`  tipline keys add-desk --dir DIR --public ${requestPath}`);
  return { keyPath, requestPath };
}
