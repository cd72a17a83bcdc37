// A newsroom made by the real `tipline keys init`, its policy and canary re-signed here with the crypto functions
// (the root opened from DIR/root.key, the signing key and its certificate from DIR), then `tipline serve
// --directory DIR/directory.json` as a child process that publishes them: the page's policy and canary tests.
import type { Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickKeysInit } from './quick-keys.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { seedPglite } from './databases.js';
import { makePolicy, signPolicy, verifyPolicy, type RetentionPolicy } from '../../crypto/policy.js';
import { makeCanary, signCanary } from '../../crypto/canary.js';
import { certifySigner } from '../../crypto/directory.js';
import { openKeyFile } from '../../crypto/keyfile.js';
import { initCrypto } from '../../crypto/node.js';
import type { SigningKeyPair } from '../../crypto/keys.js';
import type { SignedDocument } from '../../crypto/signed.js';
import { STORED_COLUMNS } from '../../schema/db.js';

const PASS = 'correct horse battery staple';
export const DAY = 86_400_000;

export interface Keys {
  dir: string;
  work: string;
  fingerprint: string;
  root: SigningKeyPair;
  signer: SigningKeyPair;
  certificate: SignedDocument;
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

function pair(file: string): SigningKeyPair {
  const k = openKeyFile(readJson(file), PASS);
  return { publicKey: k.public.sign!, secretKey: k.secret.sign! };
}

export async function newsroomKeys(t: Test): Promise<Keys> {
  await initCrypto();
  const work = mkdtempSync(join(tmpdir(), 'tipline-policy-page-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, 'keys');
  // Made once per test file and copied, key files at the least KDF cost: see quick-keys.ts.
  const init = await quickKeysInit(dir, [], PASS);
  if (init.code !== 0) throw new Error(`keys init failed: ${init.stderr}`);
  return {
    dir,
    work,
    fingerprint: /fingerprint: (.+)/.exec(init.stdout)![1]!,
    root: pair(join(dir, 'root.key')),
    signer: pair(join(dir, 'signing.key')),
    certificate: readJson(join(dir, 'signing-certificate.json')),
  };
}

/** Signs a policy with `retention` under the root (a serial above keys init's) and writes DIR/policy.json. */
export function writePolicy(k: Keys, retention: Partial<RetentionPolicy>): SignedDocument {
  const previous = verifyPolicy(readJson(join(k.dir, 'policy.json')), k.fingerprint);
  const doc = signPolicy(makePolicy({ now: new Date(), stored: STORED_COLUMNS, retention, previousSerial: previous.serial }), k.root);
  writeFileSync(join(k.dir, 'policy.json'), JSON.stringify(doc));
  return doc;
}

/** Signs a canary issued at `issued` for `days` and writes DIR/canary.json. A canary issued before keys init
 * needs a certificate reaching back that far: the root certifies the signing key again, from `issued`. */
export function writeCanary(k: Keys, issued: Date, days: number): SignedDocument {
  const cert = issued.getTime() < Date.now() - DAY ? certifySigner(k.signer.publicKey, new Date(issued.getTime() - DAY), new Date(Date.now() + 60 * DAY), k.root) : k.certificate;
  const doc = signCanary(makeCanary(issued, days), cert, k.signer);
  writeFileSync(join(k.dir, 'canary.json'), JSON.stringify(doc));
  return doc;
}

/** `tipline serve` publishing what DIR holds; killed with the test. */
export async function serveKeys(t: Test, k: Keys, env: Record<string, string> = {}): Promise<ChildServer> {
  const data = join(k.work, `data-${Math.random().toString(36).slice(2)}`);
  // A copy of the migrated PGlite template (a new data folder costs 5–15 s of CPU; these tests are about the page).
  await seedPglite(join(data, 'pg'));
  const server = await startChildServer(['--port', '0', '--data', data, '--directory', join(k.dir, 'directory.json')], env, 240_000);
  t.teardown(async () => {
    server.kill('SIGKILL');
    await server.exited;
  });
  return server;
}
