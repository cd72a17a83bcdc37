// Attack (review of issue 9): the deploy guide's read-only auditor role (GRANT pg_read_all_data) reads every
// table, server_secrets included: the audit-head signing seed (and the proof-of-work secret). Whoever holds the
// auditor's password (the auditor, or whoever steals it from the auditor's machine) can then sign heads the
// server never signed, and "the server signed this head" stops being evidence against the server: an auditor
// could frame an honest operator with a forged head for a rewrite that never happened. The guide's role (and the
// tests' helper, which makes it as the guide says) now gets SELECT on the tip line's tables but server_secrets.
import t from 'tap';
import pg from 'pg';
import { deployment } from './helpers/audit-deployment.js';
import { signHead, verifySignedHead, type SignedHead } from '../crypto/audit-head.js';
import { sodium } from '../crypto/sodium.js';

t.test("the auditor role cannot read the server's head signing key", { timeout: 600_000 }, async (t) => {
  const d = await deployment(t, { tip: false });
  const served = (await (await fetch(`${d.server.url}/.well-known/tipline/audit-head`)).json()) as SignedHead;
  const c = new pg.Client({ connectionString: d.auditorUrl });
  await c.connect();
  t.teardown(() => c.end());
  let seed: Buffer | undefined;
  try {
    seed = (await c.query("select value from server_secrets where name = 'audit-head'")).rows[0]?.value as Buffer | undefined;
  } catch {
    seed = undefined;
  }
  t.equal(seed, undefined, 'the auditor role cannot read the head key');
  if (seed) {
    const pair = sodium().crypto_sign_seed_keypair(new Uint8Array(seed));
    const forged = signHead({ seq: served.seq, hash: 'f'.repeat(64) }, served.day, { publicKey: pair.publicKey, secretKey: pair.privateKey });
    t.throws(() => verifySignedHead(forged, served.key), 'a head forged with it does not verify as the server\'s');
  }
});
