// Messages between the page and its worker. Every request names a job ("tip", "followup", "visit"…) that its
// events carry back, so the page can send a follow-up while it shows replies, each part hearing only its own.
import type { Receipt } from '../../schema/wire.js';
import type { CodenameProblem } from '../../crypto/codename.js';
import type { FoundReply } from '../shared/replies.js';

export type Stage = 'loading' | 'verifying' | 'preparing' | 'encrypting' | 'retrying' | 'finishing';

/** Whether a tip carries a reply key: none; the codename just made and confirmed; the one entered to read replies. */
export type ReplyChoice = 'none' | 'new' | 'returning';

export interface SendRequest {
  type: 'send';
  job: string;
  message: string;
  files: File[];
  strip: boolean;
  fingerprint: string;
  reply: ReplyChoice;
}

export type WorkerRequest =
  | SendRequest
  /** Makes a fresh codename (and starts deriving its keys) for a tip that asks for replies. */
  | { type: 'newCodename'; job: string; fingerprint: string }
  /** The source's copy of the fresh codename, typed back: nothing is sent until it matches. */
  | { type: 'confirmCodename'; job: string; typed: string }
  /** One visit for replies with a codename as typed. */
  | { type: 'visit'; job: string; typed: string; fingerprint: string }
  /** Deletes the replies the last visit showed. */
  | { type: 'deleteReplies'; job: string };

/** Where a typed-back codename differs from the one shown. */
export type CopyProblem = { kind: 'word'; position: number } | { kind: 'count'; count: number };

/** A reply as the page shows it (the tag and deletion token stay in the worker). */
export type ShownReply = Omit<FoundReply, 'tag' | 'deleteToken'>;

export type VisitShown =
  | { codename: 'mistyped'; problem: CodenameProblem }
  | { codename: 'ok'; replies: ShownReply[]; more: boolean; refused: number };

export type ErrorKind = 'directory' | 'expired' | 'failed' | 'noCrypto' | 'uncleanable' | 'loadFailed';

/** Events for every job at once (the worker's own failure to load) carry this job. */
export const ALL_JOBS = '*';

export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'stage'; job: string; stage: Stage; /** For "preparing": the usual time of the proof-of-work here. */ estimateMs?: number }
  | { type: 'progress'; job: string; sent: number; total: number }
  | { type: 'done'; job: string; receipt: Receipt }
  | { type: 'error'; job: string; kind: ErrorKind; reason: string }
  | { type: 'codename'; job: string; words: string[] }
  /** A codename's keys are derived (PBKDF2), in `ms`: for the record, and for the tests' measurements. */
  | { type: 'keys'; job: string; ms: number }
  | { type: 'copy'; job: string; problem?: CopyProblem }
  | { type: 'visited'; job: string; shown: VisitShown; ms: number }
  | { type: 'deleted'; job: string; asked: number; confirmed: number };
