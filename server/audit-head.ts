// The audit chain's signed head (PROTOCOL.md §Signed heads): the server's own Ed25519 head key, made at first use
// and kept in server_secrets, signs the chain's last entry after every append and at every retention pass, and
// the latest is kept in the documents table (kind 'audit-head') for /.well-known/tipline/audit-head.
// Threat: the operator (or whoever can write the database) rewriting the chain consistently, or cutting its
// tail; an auditor who kept a signed head catches both, and cannot be told the head was never published.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import type { ChainHead } from '../crypto/audit-chain.js';
import { signHead, type SignedHead } from '../crypto/audit-head.js';
import type { SigningKeyPair } from '../crypto/keys.js';
import { sodium } from '../crypto/sodium.js';
import type { Db } from './store/db.js';

const SECRET_NAME = 'audit-head';
export const AUDIT_HEAD_KIND = 'audit-head';

/** The head key: a 32-byte seed, drawn once per database (every instance on it signs with the same key). */
export async function loadHeadKey(db: Db): Promise<SigningKeyPair> {
  let row = await db.selectFrom('server_secrets').select('value').where('name', '=', SECRET_NAME).executeTakeFirst();
  if (!row) {
    await db
      .insertInto('server_secrets')
      .values({ name: SECRET_NAME, value: randomBytes(32) })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    row = await db.selectFrom('server_secrets').select('value').where('name', '=', SECRET_NAME).executeTakeFirstOrThrow();
  }
  const pair = sodium().crypto_sign_seed_keypair(new Uint8Array(row.value));
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

/** The latest signed head, or undefined before the chain has one (no directory published yet). */
export async function latestSignedHead(db: Kysely<Database> | Db): Promise<SignedHead | undefined> {
  const row = await db.selectFrom('documents').select('body').where('kind', '=', AUDIT_HEAD_KIND).executeTakeFirst();
  return row ? (JSON.parse(row.body) as SignedHead) : undefined;
}

/**
 * Signs `head` for `day` and stores it, unless the stored head already says the same (same entry, day and key):
 * a pass every ten minutes writes one row a day, not 144. The caller holds the audit lock (server/audit.ts), so
 * an older head never overwrites a newer one.
 */
export async function storeSignedHead(trx: Db, head: ChainHead, day: string): Promise<SignedHead> {
  const key = await loadHeadKey(trx);
  const stored = await latestSignedHead(trx);
  const keyB64 = Buffer.from(key.publicKey).toString('base64');
  if (stored && stored.seq === head.seq && stored.hash === head.hash && stored.day === day && stored.key === keyB64) return stored;
  const signed = signHead(head, day, key);
  const body = JSON.stringify(signed);
  await trx
    .insertInto('documents')
    .values({ kind: AUDIT_HEAD_KIND, body, published_day: day })
    .onConflict((oc) => oc.column('kind').doUpdateSet({ body, published_day: day }))
    .execute();
  return signed;
}
