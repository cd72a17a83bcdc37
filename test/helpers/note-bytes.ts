// Bytes framed as a note envelope (crypto/FORMAT.md §Desk notes: magic, version, one stanza, a padded length a
// sealer makes) but otherwise random: what the server's API tests post, since the server checks only the framing.
import { randomBytes } from 'node:crypto';
import { NOTE_MAGIC, NOTE_FORMAT_VERSION, notePaddedLength } from '../../crypto/desk-notes.js';

/** A framed note of the largest length a sealer makes that is at most `n` bytes (never below the smallest). */
export function framedNote(n: number): Uint8Array {
  const header = 9 + 80 + 32;
  let padded = Math.max(512, n - header - 16);
  while (padded > 512 && notePaddedLength(padded) !== padded) padded--;
  const out = new Uint8Array(randomBytes(header + padded + 16));
  out.set(NOTE_MAGIC, 0);
  out[7] = NOTE_FORMAT_VERSION;
  out[8] = 1;
  return out;
}
