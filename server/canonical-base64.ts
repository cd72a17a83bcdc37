// Standard base64 as the wire carries envelopes: one spelling only (threat: two spellings of one envelope —
// padding, stray characters — would let a row be told apart by its text, or slip past a duplicate check).
import { fromBase64, toBase64 } from '../crypto/bytes.js';

export function canonicalBase64(b64: string, fail: (what: string) => Error): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(b64);
  } catch {
    throw fail('envelope: expected canonical standard base64');
  }
  if (toBase64(bytes) !== b64) throw fail('envelope: expected canonical standard base64');
  return bytes;
}
