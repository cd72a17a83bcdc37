// Staff requests are signed with a desk or auditor Ed25519 key listed in the signed directory: no passwords,
// no sessions. Timestamp and single-use nonce stop a captured request from being replayed.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { STAFF_HEADERS, StaffHeaders, staffSigningString } from '../schema/wire.js';
import { fromBase64, toBase64, utf8Encode } from '../crypto/bytes.js';
import { verify } from '../crypto/keys.js';
import { findSigner, type Recipient, type Role } from '../crypto/directory.js';
import { sodium } from '../crypto/sodium.js';
import { AppError } from './errors.js';
import { loadDirectory } from './directory.js';

export const STAFF_CLOCK_SKEW_SECONDS = 300;

export function bodyHash(body: Uint8Array): string {
  return toBase64(sodium().crypto_generichash(32, body, null));
}

export async function authenticateStaff(
  db: Kysely<Database>,
  req: FastifyRequest,
  roles: readonly Role[],
  now: Date,
  pinnedRoot?: string,
): Promise<Recipient> {
  const parsed = StaffHeaders.safeParse(req.headers);
  if (!parsed.success) throw new AppError('TIPLINE_ERR_UNAUTHENTICATED', 'staff request is not signed (tipline-key, -timestamp, -nonce, -signature headers required)');
  const h = parsed.data;
  let published;
  try {
    published = await loadDirectory(db, now, pinnedRoot);
  } catch {
    throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'the published directory is expired or invalid; publish a new one');
  }
  if (!published) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'no directory has been published');
  const signer = findSigner(published.directory, h[STAFF_HEADERS.key], now);
  if (!signer) throw new AppError('TIPLINE_ERR_UNAUTHENTICATED', 'signing key is not in the current directory');
  if (!roles.includes(signer.role)) throw new AppError('TIPLINE_ERR_FORBIDDEN', `a ${signer.role} key may not do this`);
  // Staff routes take no body yet; one that arrives anyway would not be covered by the signature.
  if (req.body !== undefined && req.body !== null) throw new AppError('TIPLINE_ERR_BAD_REQUEST', 'staff requests carry no body');
  const body = new Uint8Array(0);
  const message = staffSigningString(req.headers.host ?? '', req.method, req.url, h[STAFF_HEADERS.timestamp], h[STAFF_HEADERS.nonce], bodyHash(body));
  let signature: Uint8Array;
  try {
    signature = fromBase64(h[STAFF_HEADERS.signature]);
  } catch {
    throw new AppError('TIPLINE_ERR_UNAUTHENTICATED', 'bad signature encoding');
  }
  if (!verify(signature, utf8Encode(message), fromBase64(signer.sign_key))) {
    throw new AppError('TIPLINE_ERR_UNAUTHENTICATED', 'bad signature');
  }
  const ts = Number(h[STAFF_HEADERS.timestamp]);
  if (Math.abs(ts - now.getTime() / 1000) > STAFF_CLOCK_SKEW_SECONDS) {
    throw new AppError('TIPLINE_ERR_STALE_REQUEST', `request timestamp is more than ${STAFF_CLOCK_SKEW_SECONDS} s from the server's clock`);
  }
  // Kept until the timestamp could no longer pass the check above, then purged.
  const inserted = await db
    .insertInto('staff_nonces')
    .values({ nonce: h[STAFF_HEADERS.nonce], expires_at: new Date((ts + 2 * STAFF_CLOCK_SKEW_SECONDS) * 1000) })
    .onConflict((oc) => oc.column('nonce').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new AppError('TIPLINE_ERR_REPLAYED', 'request was already used (replay)');
  return signer;
}
