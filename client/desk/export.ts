// A thread exported from the desk app as one ZIP: its messages, files, shared notes and replies, and a list of
// the SHA-256 of everything in it signed by the exporting desk's key, with the directory that lists that key,
// so an editor or a court can later check that nothing was altered (`tipline verify-export`).
//
// CONTRACT stub (written by the lead; the desk-files helper implements it).
import type { ThreadShared } from '../../crypto/desk-notes.js';
import type { StaffIdentity } from '../cli/keyfiles.js';

export interface ExportInput {
  thread: string;
  /** The thread's tips, oldest first: each tip's folder in the inbox (message.txt, manifest.json, files/). */
  tips: { tipId: string; folder: string }[];
  shared: ThreadShared | undefined;
  desk: StaffIdentity;
  /** The signed directory document (as served) that lists the desk's signing key. */
  directory: unknown;
  now: Date;
}

export async function exportThread(_i: ExportInput): Promise<Uint8Array> {
  throw new Error('not implemented');
}

export interface ExportCheck {
  ok: boolean;
  /** What was checked, one line each, failures first. */
  lines: string[];
  /** The desk that signed, when the signature verified. */
  signer?: string;
}

/** Checks a ZIP from exportThread: every file's hash, no file unlisted or missing, the signature, and (with a
 * fingerprint) that the directory inside is signed under that root and lists the signing key. */
export function verifyExport(_zip: Uint8Array, _fingerprint?: string): ExportCheck {
  throw new Error('not implemented');
}
