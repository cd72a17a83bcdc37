// What an upload flooder sends: openings that claim far more than they will ever send (a real envelope's header,
// then junk), with solved proofs-of-work.
import { randomBytes } from 'node:crypto';
import { envelopeLength } from '../../crypto/envelope/format.js';
import { postUpload, solvedPow, type SolvedPow } from './fixtures.js';

/** A valid envelope length (one recipient) near `bytes`. */
export function claimedLength(bytes: number): number {
  return envelopeLength(1, Math.floor(bytes));
}

/** A chunk 0 that passes the server's framing check for `claimed` bytes: the real header of `envelope`, then junk. */
export function claimChunk0(envelope: Uint8Array, claimed: number, chunkSize: number): Uint8Array {
  const out = new Uint8Array(Math.min(claimed, chunkSize));
  out.set(new Uint8Array(randomBytes(out.length)));
  out.set(envelope.subarray(0, Math.min(envelope.length, 1024, out.length)));
  return out;
}

/** Opens an upload claiming `claimed` bytes and sends nothing after its first chunk. */
export async function openClaim(url: string, envelope: Uint8Array, claimed: number, pow?: SolvedPow): Promise<Response> {
  // A challenge priced for the size claimed: the flooder pays what the PoW asks for such a claim.
  const p = pow ?? (await solvedPow(url, {}, claimed));
  return postUpload(url, { pow: p, size: claimed, body: claimChunk0(envelope, claimed, p.chunk_size) });
}
