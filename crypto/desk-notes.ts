// Desk notes (FORMAT.md §Desk notes): what the newsroom's desks share about a thread — status, tags, a note,
// who is on it, the replies sent — as small operations, each sealed on a desk's machine to every desk key and
// signed by its author. The server stores them as opaque, Padmé-padded envelopes (schema/wire.ts NotePost) and
// never learns which thread one is about. Every desk merges the same set of operations into the same state
// (mergeThread), whatever order they arrive in, so two desks editing at once lose nothing.
//
// CONTRACT (written by the lead; the crypto helper implements it). Pure: no I/O, shared by CLI and desk app.
import { TiplineCryptoError } from './errors.js';

export const NOTE_FORMAT_VERSION = 1;
/** Statuses a thread can have; a thread without a status operation is 'new'. */
export const THREAD_STATUSES = ['new', 'in-progress', 'done', 'not-relevant'] as const;
export type ThreadStatus = (typeof THREAD_STATUSES)[number];
/** Longest note text, tag and desk name accepted in an operation (characters). */
export const MAX_NOTE_TEXT = 60_000;
export const MAX_TAG_LENGTH = 64;

/** What every operation carries. `thread` is the thread's key: crypto/reply.ts threadId(reply box key) for a
 * source who asked for replies, else `tip:<tip id>`. `clock` is a Lamport counter (one more than the highest
 * seen); `at` the author's clock, inside the encryption only; `op` 16 random bytes, base64url. */
export interface NoteOpBase {
  v: 1;
  op: string;
  thread: string;
  by: string;
  at: string;
  clock: number;
}

export type NoteOpBody =
  | { kind: 'status'; status: ThreadStatus }
  /** "Who is on it": a desk name, or null for nobody. */
  | { kind: 'assign'; desk: string | null }
  | { kind: 'tag-add'; tag: string }
  /** Removes the tag-add operations this desk had seen (an add it had not seen survives: add wins). */
  | { kind: 'tag-remove'; tag: string; removes: string[] }
  /** The thread's note, replacing the versions this desk had seen; concurrent versions are all kept. */
  | { kind: 'note'; text: string; supersedes: string[] }
  /** A reply this desk sent to the thread's source (its text, for the other desks' thread view). */
  | { kind: 'reply'; tip: string; text: string };

export type NoteOp = NoteOpBase & NoteOpBody;

/** An opened, signature-checked operation and the Ed25519 key that signed it (base64). The caller checks that
 * the directory lists this key as a desk named `op.by`. */
export interface OpenedNote {
  op: NoteOp;
  signKey: string;
}

export class NoteFormatError extends TiplineCryptoError {
  override readonly name = 'NoteFormatError';
  readonly code = 'TIPLINE_ERR_NOTE_FORMAT';
}

export interface NoteSigner {
  signPublic: Uint8Array;
  signSecret: Uint8Array;
}

/** Seals `op` for every box public key in `recipients` (1..64), signed by `signer`; padded with Padmé. */
export function sealNote(_op: NoteOp, _recipients: Uint8Array[], _signer: NoteSigner, _random?: (n: number) => Uint8Array): Uint8Array {
  throw new Error('not implemented');
}

/** Opens a note envelope with a desk's box key pair; throws NotForYouError (crypto/errors.ts) when no stanza is
 * for it, NoteFormatError when malformed, a signature error when the signature does not verify. */
export function openNote(_envelope: Uint8Array, _identity: { boxPublic: Uint8Array; boxSecret: Uint8Array }): OpenedNote {
  throw new Error('not implemented');
}

/** Checks an operation's shape (lengths, kinds, printable text); throws NoteFormatError. */
export function validateNoteOp(_op: unknown): NoteOp {
  throw new Error('not implemented');
}

/** The shared state of one thread from its operations, in any order, duplicates allowed. */
export interface ThreadShared {
  status: ThreadStatus;
  /** The operation that set the status (null while 'new' by default). */
  statusBy: { by: string; at: string } | null;
  assignee: string | null;
  tags: string[];
  /** Live versions of the note: one normally, several after concurrent edits (each shown; the next edit,
   * superseding all of them, merges them). */
  notes: { op: string; text: string; by: string; at: string }[];
  replies: { op: string; tip: string; text: string; by: string; at: string }[];
  /** Every operation, in merge order (clock, then by, then op). */
  history: NoteOp[];
  /** The highest clock seen: a new operation on any thread takes max over all threads + 1. */
  clock: number;
}

export function mergeThread(_ops: readonly NoteOp[]): ThreadShared {
  throw new Error('not implemented');
}
