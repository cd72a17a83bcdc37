// A newsroom's signed retention policy, written the way `tipline policy set` would: a new serial above the one in
// DIR/policy.json, signed by the root key opened from DIR/root.key.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePolicy, signPolicy, verifyPolicy, type Policy, type RetentionPolicy } from '../../crypto/policy.js';
import { openKeyFile } from '../../crypto/keyfile.js';
import { STORED_COLUMNS } from '../../schema/db.js';
import type { SignedDocument } from '../../crypto/signed.js';

export const PASS = 'correct horse battery staple';

/** Signs a policy with `retention` (and any other field changed) and writes it to DIR/policy.json. */
export function writePolicy(dir: string, fingerprint: string, retention: Partial<RetentionPolicy>, change: (p: Policy) => Policy = (p) => p): Policy {
  const previous = verifyPolicy(JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')) as SignedDocument, fingerprint);
  const root = openKeyFile(JSON.parse(readFileSync(join(dir, 'root.key'), 'utf8')), PASS);
  const policy = change(makePolicy({ now: new Date(), stored: STORED_COLUMNS, retention, previousSerial: previous.serial }));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(signPolicy(policy, { publicKey: root.public.sign!, secretKey: root.secret.sign! })));
  return policy;
}
