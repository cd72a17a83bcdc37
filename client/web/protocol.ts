// Messages between the page and its worker. Every request names a job ("tip", "followup", "visit"…) that its
// events carry back, so the page can send a follow-up while it shows replies, each part hearing only its own.
import type { Receipt } from '../../schema/wire.js';
import type { CodenameProblem } from '../../crypto/codename.js';
import type { FoundReply } from '../shared/replies.js';
import type { Policy } from '../../crypto/policy.js';

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
  | { type: 'deleteReplies'; job: string }
  /** The signed policy and canary as the page fetched them, to verify under the fingerprint. */
  | { type: 'documents'; job: string; fingerprint: string; policy: Fetched; canary: Fetched };

/** A signed document as fetched by the page: its parsed body, none published (404), or no usable answer. */
export type Fetched = { state: 'found'; doc: unknown } | { state: 'missing' } | { state: 'failed' };

/** The policy once checked: only a verified one carries numbers. */
export type ShownPolicy = { state: 'ok'; policy: Omit<Policy, 'audit_key'> } | { state: 'missing' } | { state: 'invalid' };

/** The canary once checked: its days (UTC), and whether it is past its expiry. */
export type ShownCanary =
  | { state: 'ok'; issuedDay: string; expiresDay: string; stale: boolean; statement: string }
  | { state: 'missing' }
  | { state: 'invalid' }
  | { state: 'unchecked' };

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
  | { type: 'deleted'; job: string; asked: number; confirmed: number }
  | { type: 'documents'; job: string; policy: ShownPolicy; canary: ShownCanary };
