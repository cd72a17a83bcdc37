// A source's visit for replies, the same for the page and the command line (no Node, no DOM). Every visit makes
// the same requests with the same sizes, whatever the codename and whatever is waiting: the directory and the
// list of every reply tag together (one round trip), then exactly REPLY_FETCH_SLOTS envelopes, the source's own
// made up with others picked at random from the list. A mistyped codename makes that same visit (all decoys),
// so the server cannot tell it from a codename with replies. The codename and its keys never leave the device.
import { parseCodename, deriveCodenameKeys, generateCodename, type Codename, type CodenameKeys, type CodenameProblem } from '../../crypto/codename.js';
import { findOwnTags, REPLY_TAG_BYTES } from '../../crypto/reply-tags.js';
import { openReply, replyAuthor } from '../../crypto/reply.js';
import { verifyDirectory, type Directory } from '../../crypto/directory.js';
import { toBase64 } from '../../crypto/bytes.js';
import { sodium } from '../../crypto/sodium.js';
import { REPLY_FETCH_SLOTS } from '../../schema/wire.js';
import type { Manifest } from '../../crypto/envelope/index.js';
import type { SourceApi } from './api.js';
import { ApiError } from './errors.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface FoundReply {
  tag: Uint8Array;
  message: string;
  /** The UTC day the desk sealed it. */
  sentDay: string;
  /** The desk's name in the tip line's signed directory. */
  desk: string;
  /** False when the desk's key is in the directory but not valid today (its name is still the directory's). */
  deskCurrent: boolean;
  deleteToken: Uint8Array;
}

export type VisitOutcome =
  | { codename: 'mistyped'; problem: CodenameProblem }
  | {
      codename: 'ok';
      replies: FoundReply[];
      /** More replies are waiting than one visit fetches: visit again (after deleting these, or not). */
      more: boolean;
      /** Envelopes of this codename's tags that could not be trusted (not opened, bad signature, unknown desk). */
      refused: string[];
    };

export interface VisitOptions {
  /** The codename as typed. */
  typed: string;
  /** The root fingerprint the source trusts (the page's, or --fingerprint). */
  fingerprint: string;
  now: Date;
  /** For tests: a lower KDF cost. */
  iterations?: number;
  /** How long a failed exchange is retried (default a minute). */
  retryForMs?: number;
  /** Called once the codename has been read (before the network answers), e.g. to say "checking…". */
  onParsed?(ok: boolean): void;
}

const DAY_MS = 86_400_000;

/** Whether a desk entry with this signing key was valid at some time during the UTC day `day`. */
function deskValidOn(dir: Directory, deskKey: string, day: string): boolean {
  const start = Date.parse(`${day}T00:00:00Z`);
  if (!Number.isFinite(start)) return false;
  return dir.recipients.some((r) => r.role === 'desk' && r.sign_key === deskKey && Date.parse(r.not_before) < start + DAY_MS && start < Date.parse(r.not_after));
}

/** Uniform random integer in [0, n) from libsodium's generator. */
function below(n: number): number {
  return sodium().randombytes_uniform(n);
}

/** `k` distinct positions out of `n`, uniformly (partial Fisher–Yates). */
function pick(n: number, k: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k && i < n; i++) {
    const j = i + below(n - i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, Math.min(k, n));
}

/** The slots to fetch: up to REPLY_FETCH_SLOTS of one's own, the rest other tags from the list (or random bytes
 * when the list is shorter than that), in random order. */
export function chooseSlots(list: Uint8Array, own: number[]): { tags: Uint8Array[]; mine: boolean[] } {
  const n = list.length / REPLY_TAG_BYTES;
  const tagAt = (i: number) => list.slice(i * REPLY_TAG_BYTES, (i + 1) * REPLY_TAG_BYTES);
  const ownPicked = pick(own.length, REPLY_FETCH_SLOTS).map((i) => own[i]!);
  const ownSet = new Set(own);
  const others = Array.from({ length: n }, (_, i) => i).filter((i) => !ownSet.has(i));
  const decoys = pick(others.length, REPLY_FETCH_SLOTS - ownPicked.length).map((i) => others[i]!);
  const slots: { tag: Uint8Array; mine: boolean }[] = [...ownPicked.map((i) => ({ tag: tagAt(i), mine: true })), ...decoys.map((i) => ({ tag: tagAt(i), mine: false }))];
  while (slots.length < REPLY_FETCH_SLOTS) slots.push({ tag: sodium().randombytes_buf(REPLY_TAG_BYTES), mine: false });
  for (let i = slots.length - 1; i > 0; i--) {
    const j = below(i + 1);
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  return { tags: slots.map((s) => s.tag), mine: slots.map((s) => s.mine) };
}

/** The `reply` field of a tip or follow-up that asks for replies: the public reply key and the tag key. */
export function replyField(keys: CodenameKeys): NonNullable<Manifest['reply']> {
  return { box_key: toBase64(keys.boxPublic), mailbox: toBase64(keys.tagKey) };
}

/** Derives a parsed codename's keys at the tip line of `fingerprint`. */
export function codenameKeys(codename: Codename, fingerprint: string, iterations?: number): Promise<CodenameKeys> {
  return deriveCodenameKeys(codename, fingerprint, iterations);
}

/** One visit: checks the directory, finds this codename's replies, opens and verifies them. Throws what the API
 * and directory verification throw (the caller says "nothing was checked"). */
export async function visitReplies(api: SourceApi, o: VisitOptions): Promise<VisitOutcome & { directory: Directory }> {
  const parsed = parseCodename(o.typed);
  o.onParsed?.(parsed.ok);
  // A mistyped codename derives the keys of a random one and searches the list with them: the same work, so the
  // fetch leaves as late as it would have (threat: a server timing the gap between the list and the fetch to
  // tell a mistyped codename, or a slow device's real one, from the other).
  const keys = deriveCodenameKeys(parsed.ok ? parsed.codename : generateCodename(), o.fingerprint, o.iterations);
  keys.catch(() => {}); // awaited below
  // A dropped circuit or a busy server (503 with Retry-After) is waited out, a minute at most: the same requests
  // again, so a retried visit still looks like every other.
  const retry: RetryOptions = { retryForMs: o.retryForMs ?? 60_000 };
  const [doc, list] = await withRetry('fetching the reply list', retry, () => Promise.all([api.directory(), api.replyTags()]));
  const directory = verifyDirectory(doc, o.fingerprint, o.now);
  const k = await keys;
  const found = await findOwnTags(k.tagKey, list);
  const own = parsed.ok ? found : [];
  const slots = chooseSlots(list, own);
  const envelopes = await withRetry('fetching replies', retry, () => api.replyEnvelopes(slots.tags));
  if (!parsed.ok) return { codename: 'mistyped', problem: (parsed as { ok: false; problem: CodenameProblem }).problem, directory };
  const replies: FoundReply[] = [];
  const refused: string[] = [];
  // Threat: a server listing one tag twice, or storing one sealed reply under two tags, must not make one reply
  // show as two. Every sealed reply has its own random deletion token: one token, one reply.
  const seen = new Set<string>();
  for (let i = 0; i < REPLY_FETCH_SLOTS; i++) {
    if (!slots.mine[i]) continue;
    const env = envelopes[i];
    // Gone between the list and the fetch (deleted, or expired at midnight): nothing to show.
    if (!env) continue;
    try {
      const r = await openReply(env, { boxPublic: k.boxPublic, boxSecret: k.boxSecret });
      const author = replyAuthor(directory, r.deskKey, o.now);
      // Threat: a reply signed by a key the newsroom never listed (the operator's, say) is not shown as the newsroom's.
      if (!author) {
        refused.push('a reply signed by a key this newsroom does not list');
        continue;
      }
      // Threat: a listed desk key outside its validity (retired after a theft, or not yet in use) speaking for the
      // newsroom now. A reply sealed while its key was valid is still shown; one signed for a day the key was not
      // valid, or for a day still to come (a day of clock skew allowed), is not.
      if (!deskValidOn(directory, r.deskKey, r.sentDay) || Date.parse(`${r.sentDay}T00:00:00Z`) > o.now.getTime() + DAY_MS) {
        refused.push(`a reply dated ${r.sentDay}, a day its desk key was not valid`);
        continue;
      }
      const token = toBase64(r.deleteToken);
      if (seen.has(token)) continue;
      seen.add(token);
      replies.push({ tag: slots.tags[i]!, message: r.message, sentDay: r.sentDay, desk: author.name, deskCurrent: author.current, deleteToken: r.deleteToken });
    } catch (err) {
      refused.push(`a reply that could not be opened (${(err as Error).message})`);
    }
  }
  replies.sort((a, b) => (a.sentDay < b.sentDay ? -1 : a.sentDay > b.sentDay ? 1 : 0));
  return { codename: 'ok', replies, more: own.length > REPLY_FETCH_SLOTS, refused, directory };
}

/** Deletes replies one has read, with the tokens from inside them; every request is sent at once (one round trip
 * on a pipelined connection). Returns how many the server confirmed. */
export async function deleteReplies(api: SourceApi, replies: Pick<FoundReply, 'tag' | 'deleteToken'>[]): Promise<number> {
  // A delete is retried when its answer is lost; the retry then finds no such reply: it is gone, as asked.
  const done = await Promise.allSettled(
    replies.map((r) => api.deleteReply(r.tag, r.deleteToken).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'TIPLINE_ERR_REPLY_UNKNOWN') return;
      throw err;
    })),
  );
  return done.filter((d) => d.status === 'fulfilled').length;
}
