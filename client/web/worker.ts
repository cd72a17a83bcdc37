// The page's worker: loads the crypto code after the form is on screen, then verifies the newsroom's
// directory, strips photo metadata, encrypts and uploads, streaming (memory stays flat whatever the size). It
// also holds everything of a codename: it makes one, derives its keys, visits for replies and deletes them. The
// codename and its keys live only here, in memory, for as long as the tab: never in the page, never stored.
import { loadSodium } from './sodium-browser.js';
import { verifyDirectory, activeRecipients } from '../../crypto/directory.js';
import { DirectoryExpiredError } from '../../crypto/errors.js';
import { encryptEnvelope, sentDay, type Manifest } from '../../crypto/envelope/index.js';
import { fromBase64 } from '../../crypto/bytes.js';
import { POW_ITERATIONS, powSizeBits } from '../../crypto/pow.js';
import { generateCodename, parseCodename, type Codename, type CodenameKeys } from '../../crypto/codename.js';
import { sendEnvelope } from '../shared/transfer.js';
import { withRetry, type RetryOptions } from '../shared/retry.js';
import { codenameKeys, deleteReplies, replyField, visitReplies, type FoundReply } from '../shared/replies.js';
import { webApi } from './api.js';
import { stripImage, imageKind } from '../shared/strip.js';
import { guessType } from '../shared/filetypes.js';
import { compareCopy } from './codename-copy.js';
import { verifyPolicy } from '../../crypto/policy.js';
import { verifyCanary } from '../../crypto/canary.js';
import { ALL_JOBS, type ErrorKind, type Fetched, type SendRequest, type ShownCanary, type ShownPolicy, type WorkerEvent, type WorkerRequest } from './protocol.js';

const scope = globalThis as unknown as { postMessage(m: WorkerEvent): void; onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null };
const post = (m: WorkerEvent) => scope.postMessage(m);
const PIECE = 1024 * 1024;
// Photos are cleaned in memory, one at a time; a larger one is not sent unless the source unticks the box.
const MAX_STRIP = 64 * 1024 * 1024;
/** PBKDF2 iterations a second in this worker at Tor Browser's Safer level (README: 2.9-6.3 M measured): the
 * estimate of the proof-of-work's usual wait errs long on a slow machine rather than promise too little. */
const SAFER_POW_RATE = 3_000_000;

/** A photo whose metadata could not be removed: never sent silently with it. */
class Uncleanable extends Error {}

interface HeldCodename {
  codename: Codename;
  keys: Promise<CodenameKeys>;
}
/** The codename made for a tip that asks for replies: `confirmed` once the source typed it back. */
let fresh: (HeldCodename & { confirmed: boolean }) | undefined;
/** The codename entered to read replies, once it read as a codename; its keys sign the follow-ups. */
let returning: HeldCodename | undefined;
/** The replies the last visit showed, with what deletes them. */
let shown: FoundReply[] = [];

const message = (err: unknown) => (err as Error)?.message ?? String(err);

/** Derives a codename's keys, and says how long that took. */
function derive(job: string, codename: Codename, fingerprint: string): Promise<CodenameKeys> {
  const started = performance.now();
  const keys = codenameKeys(codename, fingerprint);
  keys.then(
    () => post({ type: 'keys', job, ms: Math.round(performance.now() - started) }),
    () => {}, // reported where it is awaited
  );
  return keys;
}

async function* readBlob(blob: Blob): AsyncIterable<Uint8Array> {
  for (let off = 0; off < blob.size; off += PIECE) yield new Uint8Array(await blob.slice(off, off + PIECE).arrayBuffer());
}

async function prepareFile(file: File, strip: boolean): Promise<Blob> {
  if (!strip || file.size < 16) return file;
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  if (!imageKind(head)) return file;
  if (file.size > MAX_STRIP) throw new Uncleanable(file.name);
  const cleaned = stripImage(new Uint8Array(await file.arrayBuffer()));
  if (!cleaned) throw new Uncleanable(file.name);
  return new Blob([cleaned as BlobPart]);
}

/** The reply field of a tip, or undefined for none. Throws if the page asks for a codename it does not hold. */
async function replyOf(req: SendRequest): Promise<Manifest['reply']> {
  if (req.reply === 'none') return undefined;
  const held = req.reply === 'new' ? (fresh?.confirmed ? fresh : undefined) : returning;
  if (!held) throw new Error('no confirmed codename to send with');
  return replyField(await held.keys);
}

async function send(req: SendRequest): Promise<void> {
  const job = req.job;
  post({ type: 'stage', job, stage: 'verifying' });
  const retry: RetryOptions = { retryForMs: 30 * 60_000, onRetry: () => post({ type: 'stage', job, stage: 'retrying' }) };
  // Both in parallel (one round trip); the challenge is only used if the directory verifies.
  const asked = performance.now();
  const [doc, challenge] = await withRetry('fetching the directory', retry, () => Promise.all([webApi.directory(), webApi.pow()]));
  const smallExchangeMs = performance.now() - asked;
  post({ type: 'stage', job, stage: 'verifying' });
  const now = new Date();
  let recipients: Uint8Array[];
  try {
    const directory = verifyDirectory(doc, req.fingerprint, now);
    recipients = activeRecipients(directory, 'desk', now).map((r) => fromBase64(r.box_key));
    if (recipients.length === 0) throw new DirectoryExpiredError('(no desk key valid today)', now.toISOString());
  } catch (err) {
    // Refuse to encrypt to keys the source cannot check: the server could have swapped them.
    post({ type: 'error', job, kind: err instanceof DirectoryExpiredError ? 'expired' : 'directory', reason: message(err) });
    return;
  }
  const blobs: Blob[] = [];
  for (const f of req.files) {
    try {
      blobs.push(await prepareFile(f, req.strip));
    } catch (err) {
      if (!(err instanceof Uncleanable)) throw err;
      post({ type: 'error', job, kind: 'uncleanable', reason: err.message });
      return;
    }
  }
  const reply = await replyOf(req);
  const manifest: Manifest = {
    v: 2,
    sent_day: sentDay(now),
    message: req.message,
    // The type from the name, by a fixed table: the browser's guess depends on the source's system.
    files: req.files.map((f, i) => ({ name: f.name, type: guessType(f.name), size: blobs[i]!.size })),
    ...(reply ? { reply } : {}),
  };
  const envelope = encryptEnvelope({ recipients, manifest, files: blobs.map((b) => readBlob(b)) });
  // The work the server will ask for this size (a challenge priced for one chunk, plus the size's bits), at the
  // rate of a slow source's device: the page says roughly how long "preparing" lasts.
  const bits = challenge.size >= envelope.length ? challenge.difficulty : challenge.difficulty + powSizeBits(envelope.length);
  const estimateMs = Math.round((2 ** bits * POW_ITERATIONS * 1000) / SAFER_POW_RATE);
  const receipt = await sendEnvelope(webApi, challenge, envelope, {
    ...retry,
    // Each chunk in flight is a connection of its own: spread them so they do not all finish at once. Half the
    // first exchange: it took one round trip, or two when its connections were new; too little spread costs
    // more than too much.
    spreadAgainstRttMs: smallExchangeMs / 2,
    onPreparing: () => post({ type: 'stage', job, stage: 'preparing', estimateMs }),
    onProgress: (sent, total) => {
      post({ type: 'stage', job, stage: sent >= total ? 'finishing' : 'encrypting' });
      post({ type: 'progress', job, sent, total });
    },
  });
  post({ type: 'done', job, receipt });
}

function newCodename(job: string, fingerprint: string): void {
  const codename = generateCodename();
  // Derived while the source writes the words down: ready (about a second at Safer) by the time they are typed back.
  fresh = { codename, keys: derive(job, codename, fingerprint), confirmed: false };
  fresh.keys.catch(() => {});
  post({ type: 'codename', job, words: codename.words });
}

function confirmCodename(job: string, typed: string): void {
  if (!fresh) throw new Error('no codename to confirm');
  const parsed = parseCodename(typed);
  const same = parsed.ok && parsed.codename.text === fresh.codename.text;
  fresh.confirmed = same;
  const problem = same ? undefined : (compareCopy(typed, fresh.codename.words) ?? { kind: 'word' as const, position: 1 });
  post({ type: 'copy', job, ...(problem ? { problem } : {}) });
}

async function visit(job: string, typed: string, fingerprint: string): Promise<void> {
  const started = performance.now();
  let outcome: Awaited<ReturnType<typeof visitReplies>>;
  try {
    outcome = await visitReplies(webApi, { typed, fingerprint, now: new Date() });
  } catch (err) {
    post({ type: 'error', job, kind: err instanceof DirectoryExpiredError ? 'expired' : 'failed', reason: message(err) });
    return;
  }
  const ms = Math.round(performance.now() - started);
  if (outcome.codename === 'mistyped') {
    post({ type: 'visited', job, ms, shown: { codename: 'mistyped', problem: outcome.problem } });
    return;
  }
  shown = outcome.replies;
  const parsed = parseCodename(typed);
  if (parsed.ok && returning?.codename.text !== parsed.codename.text) {
    // The visit derived these keys too, inside visitReplies; deriving them again (a second at Safer) keeps that
    // function's promise simple: nothing of a codename outlives the visit unless the page may send with it.
    returning = { codename: parsed.codename, keys: derive(job, parsed.codename, fingerprint) };
    returning.keys.catch(() => {});
  }
  post({
    type: 'visited',
    job,
    ms,
    shown: { codename: 'ok', more: outcome.more, refused: outcome.refused.length, replies: outcome.replies.map((r) => ({ message: r.message, sentDay: r.sentDay, desk: r.desk, deskCurrent: r.deskCurrent })) },
  });
}

async function remove(job: string): Promise<void> {
  const asked = shown.length;
  const confirmed = await deleteReplies(webApi, shown);
  if (confirmed === asked) shown = [];
  post({ type: 'deleted', job, asked, confirmed });
}

/** The policy as the page may show it: numbers only from a document that verifies under the fingerprint
 * (threat: a server, or anyone in its path, advertising a shorter retention than the newsroom signed). */
function checkPolicy(f: Fetched, fingerprint: string): ShownPolicy {
  if (f.state === 'missing') return { state: 'missing' };
  if (f.state === 'failed') return { state: 'invalid' };
  try {
    const p = verifyPolicy(f.doc, fingerprint);
    return { state: 'ok', policy: { v: p.v, serial: p.serial, issued: p.issued, retention: p.retention, key_period_days: p.key_period_days, stored: p.stored, logged: p.logged, keys: p.keys } };
  } catch {
    return { state: 'invalid' };
  }
}

/** The canary: a stale one verifies and is shown as stale; one that does not verify is never shown as fine. */
function checkCanary(f: Fetched, fingerprint: string, now: Date): ShownCanary {
  if (f.state !== 'found') return { state: f.state === 'missing' ? 'missing' : 'unchecked' };
  try {
    const { canary, stale } = verifyCanary(f.doc, fingerprint, now);
    return { state: 'ok', issuedDay: canary.issued.slice(0, 10), expiresDay: canary.expires.slice(0, 10), stale, statement: canary.statement };
  } catch {
    return { state: 'invalid' };
  }
}

async function handle(req: WorkerRequest): Promise<void> {
  switch (req.type) {
    case 'send':
      return send(req);
    case 'newCodename':
      return newCodename(req.job, req.fingerprint);
    case 'confirmCodename':
      return confirmCodename(req.job, req.typed);
    case 'visit':
      return visit(req.job, req.typed, req.fingerprint);
    case 'deleteReplies':
      return remove(req.job);
    case 'documents':
      return post({ type: 'documents', job: req.job, policy: checkPolicy(req.policy, req.fingerprint), canary: checkCanary(req.canary, req.fingerprint, new Date()) });
  }
}

scope.onmessage = (e) => {
  const req = e.data;
  if (typeof req?.job !== 'string') return;
  handle(req).catch((err: unknown) => post({ type: 'error', job: req.job, kind: 'failed' satisfies ErrorKind, reason: message(err) }));
};

loadSodium().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'error', job: ALL_JOBS, kind: 'noCrypto', reason: message(err) }),
);
