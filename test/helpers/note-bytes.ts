// Bytes framed as a note envelope (crypto/FORMAT.md §Desk notes: magic, version, one stanza, a padded length a
// sealer makes) but otherwise random: what the server's API tests post, since the server checks only the framing.
import { randomBytes } from 'node:crypto';
import { NOTE_MAGIC, NOTE_FORMAT_VERSION, notePaddedLength } from '../../crypto/desk-notes.js';

/** A framed note of about `n` bytes (never below the smallest note a sealer makes). */
export function framedNote(n: number): Uint8Array {
  const header = 9 + 80 + 32;
  const padded = notePaddedLength(Math.max(1, n - header - 16));
  const out = new Uint8Array(randomBytes(header + padded + 16));
  out.set(NOTE_MAGIC, 0);
  out[7] = NOTE_FORMAT_VERSION;
  out[8] = 1;
  return out;
}
