// The desk's copy of the shared desk notes (crypto/desk-notes.ts): synced from the server, opened with this
// desk's keys, each checked to be signed by a desk the (pinned, verified) directory lists or listed before, and
// kept under the desk's data folder (DATA/notes.json, mode 0600). Also what posts a new operation: sealed to every
// desk listed now, so the other desks read it and the server cannot.
//
// CONTRACT stub (written by the lead; the notes-crypto helper implements it; client/desk and `tipline list` use it).
import type { Directory } from '../../crypto/directory.js';
import type { NoteOp, NoteOpBody, ThreadShared } from '../../crypto/desk-notes.js';
import type { Api } from '../cli/api.js';
import type { StaffIdentity } from '../cli/keyfiles.js';

export interface NotesSyncResult {
  /** Operations new to this desk in this sync. */
  added: number;
  /** Notes that did not open or whose signer is not a listed desk (each also in `errors`). */
  failed: number;
  /** Sealed before this desk's key was listed: not an error, remembered so they are not fetched again. */
  notForUs: number;
  errors: string[];
}

export class DeskNotes {
  constructor(
    readonly api: Api,
    readonly key: StaffIdentity,
    readonly dataDir: string,
    /** The directory verified under the pinned root, as of now (the caller refreshes it). */
    readonly directory: () => Directory,
  ) {}

  /** Lists the server's notes, fetches the ones not seen (MAX_NOTES_PER_REQUEST a request), opens and checks
   * them, forgets the ones deleted on the server, and saves. */
  async sync(): Promise<NotesSyncResult> {
    throw new Error('not implemented');
  }

  /** Every operation held, any thread. */
  ops(): NoteOp[] {
    throw new Error('not implemented');
  }

  /** The merged shared state of every thread with at least one operation. */
  threads(): Map<string, ThreadShared> {
    throw new Error('not implemented');
  }

  /** Makes, seals (to every desk listed now), posts and keeps one operation on `thread`; `expiresDay` is the
   * thread's newest tip's expiry. Answers the operation as stored. */
  async post(_thread: string, _body: NoteOpBody, _expiresDay: string): Promise<NoteOp> {
    throw new Error('not implemented');
  }

  /** Deletes every note of `thread` on the server and here; answers how many the server had. */
  async deleteThread(_thread: string): Promise<number> {
    throw new Error('not implemented');
  }
}

/** The shared state per thread from a desk data folder's saved notes, without the network (for tipline list).
 * Empty when the folder has none. */
export function readSavedThreads(_dataDir: string): Map<string, ThreadShared> {
  return new Map();
}
