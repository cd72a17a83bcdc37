// Desk notes (FORMAT.md §Desk notes): what the newsroom's desks share about a thread — status, tags, a note,
// who is on it, the replies sent — as small operations, each sealed on a desk's machine to every desk key and
// signed by its author. The server stores them as opaque, Padmé-padded envelopes (schema/wire.ts NotePost) and
// never learns which thread one is about. Every desk merges the same set of operations into the same state
// (mergeThread), whatever order they arrive in, so two desks editing at once lose nothing.
//
// CONTRACT (written by the lead; the crypto helper implements it). Pure: no I/O, shared by CLI and desk app.
import { _abytes, _hasExactKeys, _isPlainObject } from './_guard.js';
import { _frame } from './_frame.js';
import { concatBytes, equalBytes, fromBase64Url, toBase64, toBase64Url, utf8Decode, utf8Encode } from './bytes.js';
import { _checkIdentity, _keyCommitment, _openStanzas, _sealStanza, FILE_KEY_LENGTH } from './envelope/seal.js';
import { COMMITMENT_LENGTH, MAX_STANZAS, STANZA_LENGTH } from './envelope/format.js';
import { BadSignatureError, CryptoArgumentError, TamperedError, TiplineCryptoError } from './errors.js';
import { _assertSigningPair, sign, verify } from './keys.js';
import { padme } from './padme.js';
import { sodium } from './sodium.js';

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
  | { kind: 'reply'; tip: string; text: string }
  /** The thread starred (flagged for the newsroom) or not: shared, last writer wins. */
  | { kind: 'star'; starred: boolean };

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

/** The longest note or reply text in UTF-8 bytes: keeps a note sealed to 64 desks under the server's
 * MAX_NOTE_ENVELOPE_BYTES (schema/wire.ts, 96 KiB) whatever the script (60,000 characters may be 240 KB). */
export const MAX_NOTE_TEXT_BYTES = 64 * 1024;
/** Longest desk name in `by` and `assign` (as crypto/deletion-statement.ts DELETION_BY_MAX). */
export const MAX_DESK_NAME = 128;
/** Most op ids one tag-remove or note may list. */
export const MAX_NOTE_REFS = 256;
/** Highest Lamport clock accepted: far beyond any real use, low enough that max + 1 stays exact. */
export const MAX_NOTE_CLOCK = 2 ** 48;

// ---- envelope layout (FORMAT.md §Desk notes) ----
export const NOTE_MAGIC = utf8Encode('tipnote'); // 7 bytes, not 'tipline': a note is never taken for a tip
const FIXED = 9; // magic(7) | version(1) | stanza count(1)
const AEAD_TAG = 16; // XChaCha20-Poly1305
const SIG_PART = 32 + 64; // signing public key | signature
/** Smallest padded plaintext: every status, assign, tag and short note looks alike on the wire. */
export const NOTE_MIN_PADDED = 512;
const PAYLOAD_INFO = utf8Encode('tipline note payload v1');
const SIGN_DOMAIN = utf8Encode('tipline desk note v1');

/** The padded plaintext length for `n` content bytes (u32 prefix + JSON + key + signature). */
export function notePaddedLength(n: number): number {
  return Math.max(NOTE_MIN_PADDED, padme(n));
}

/** The envelope length of a note whose content (prefix + JSON + key + signature) is `n` bytes. */
export function noteEnvelopeLength(stanzas: number, n: number): number {
  return FIXED + stanzas * STANZA_LENGTH + COMMITMENT_LENGTH + notePaddedLength(n) + AEAD_TAG;
}

// ---- validation ----

const OP_ID_RE = /^[A-Za-z0-9_-]{22}$/;
// Repeats schema/desk-api.ts ThreadKey (crypto cannot import schema): tip:<tip id> or a reply thread id.
const THREAD_RE = /^(tip:[a-z2-7]{26}|[a-z2-7]{16}|[A-Za-z0-9_-]{43})$/; // crypto/reply.ts threadId: 16 base32
const TIP_ID_RE = /^[a-z2-7]{26}$/;
const AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
// Names and tags are shown in lists and terminals: no control, format (bidi overrides, zero-width), private-use,
// line/paragraph separators or lone surrogates (as crypto/policy.ts and client/cli/printable.ts).
const UNPRINTABLE_NAME = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u;
// Free text keeps its lines and tabs (and emoji joiners); other control characters are terminal escapes.
const UNPRINTABLE_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\p{Cs}]/u;

function fail(m: string): NoteFormatError {
  return new NoteFormatError(`desk note: ${m}`);
}

function opId(v: unknown, what: string): string {
  if (typeof v !== 'string' || !OP_ID_RE.test(v)) throw fail(`${what} must be 16 bytes in base64url`);
  // One spelling per id: the last character's unused bits must be zero.
  let canonical = false;
  try {
    canonical = toBase64Url(fromBase64Url(v)) === v;
  } catch {
    // not decodable: refused below
  }
  if (!canonical) throw fail(`${what} is not canonical base64url`);
  return v;
}

function name(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || UNPRINTABLE_NAME.test(v) || v !== v.trim() || v !== v.normalize('NFC')) {
    throw fail(`${what} must be 1..${max} printable characters (NFC, no surrounding spaces)`);
  }
  return v;
}

function text(v: unknown, what: string, min: number): string {
  if (typeof v !== 'string' || v.length < min || v.length > MAX_NOTE_TEXT || UNPRINTABLE_TEXT.test(v) || utf8Encode(v).length > MAX_NOTE_TEXT_BYTES) {
    throw fail(`${what} must be ${min}..${MAX_NOTE_TEXT} characters (${MAX_NOTE_TEXT_BYTES} UTF-8 bytes), no control characters but newline and tab`);
  }
  return v;
}

function refs(v: unknown, what: string, self: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_NOTE_REFS) throw fail(`${what} must be a list of at most ${MAX_NOTE_REFS} op ids`);
  const seen = new Set<string>();
  for (const [i, x] of v.entries()) {
    opId(x, `${what}[${i}]`);
    if (seen.has(x as string)) throw fail(`${what} lists ${String(x)} twice`);
    if (x === self) throw fail(`${what} lists the operation itself`);
    seen.add(x as string);
  }
  return v as string[];
}

const BASE = ['v', 'op', 'thread', 'by', 'at', 'clock', 'kind'];
const KIND_FIELDS: Record<NoteOpBody['kind'], string[]> = {
  status: ['status'],
  assign: ['desk'],
  'tag-add': ['tag'],
  'tag-remove': ['tag', 'removes'],
  note: ['text', 'supersedes'],
  reply: ['tip', 'text'],
  star: ['starred'],
};

/** Checks an operation's shape (lengths, kinds, printable text); throws NoteFormatError. */
export function validateNoteOp(op: unknown): NoteOp {
  if (!_isPlainObject(op)) throw fail('expected an object');
  const kind = op['kind'];
  if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(KIND_FIELDS, kind)) throw fail('unknown kind');
  const fields = KIND_FIELDS[kind as NoteOpBody['kind']];
  if (!_hasExactKeys(op, [...BASE, ...fields])) throw fail(`a ${kind} operation has exactly ${[...BASE, ...fields].join(', ')}`);
  if (op['v'] !== NOTE_FORMAT_VERSION) throw fail(`unsupported operation version (expected ${NOTE_FORMAT_VERSION})`);
  const id = opId(op['op'], 'op');
  if (typeof op['thread'] !== 'string' || !THREAD_RE.test(op['thread'])) throw fail('thread is not a thread id');
  name(op['by'], 'by', MAX_DESK_NAME);
  if (typeof op['at'] !== 'string' || !AT_RE.test(op['at']) || !Number.isFinite(Date.parse(op['at']))) throw fail('at must be an ISO-8601 UTC time');
  const clock = op['clock'];
  if (typeof clock !== 'number' || !Number.isSafeInteger(clock) || clock < 1 || clock > MAX_NOTE_CLOCK) throw fail(`clock must be an integer 1..2^48`);
  switch (kind) {
    case 'status':
      if (!(THREAD_STATUSES as readonly unknown[]).includes(op['status'])) throw fail('unknown status');
      break;
    case 'assign':
      if (op['desk'] !== null) name(op['desk'], 'desk', MAX_DESK_NAME);
      break;
    case 'tag-add':
      name(op['tag'], 'tag', MAX_TAG_LENGTH);
      break;
    case 'tag-remove':
      name(op['tag'], 'tag', MAX_TAG_LENGTH);
      refs(op['removes'], 'removes', id);
      break;
    case 'note':
      text(op['text'], 'text', 0);
      refs(op['supersedes'], 'supersedes', id);
      break;
    case 'reply':
      if (typeof op['tip'] !== 'string' || !TIP_ID_RE.test(op['tip'])) throw fail('tip is not a tip id');
      text(op['text'], 'text', 1);
      break;
    case 'star':
      if (typeof op['starred'] !== 'boolean') throw fail('starred must be true or false');
      break;
  }
  return op as unknown as NoteOp;
}

/** The one JSON encoding of an operation: fixed key order (base fields, then the kind's), no spaces. */
export function canonicalNoteOp(op: NoteOp): Uint8Array {
  const o = op as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of [...BASE, ...KIND_FIELDS[op.kind]]) out[k] = o[k];
  return utf8Encode(JSON.stringify(out));
}

function signedMessage(signPublic: Uint8Array, json: Uint8Array): Uint8Array {
  return _frame(SIGN_DOMAIN, signPublic, json);
}

function payloadKey(fileKey: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(32, PAYLOAD_INFO, fileKey);
}

// The AEAD's nonce is fixed (all zero): every note has a fresh random K, so each key seals exactly one message.
const NONCE = new Uint8Array(24);

export interface NoteSigner {
  signPublic: Uint8Array;
  signSecret: Uint8Array;
}

/** Seals `op` for every box public key in `recipients` (1..64), signed by `signer`; padded with Padmé.
 * `random` (test vectors only) is consumed as K (32), then one 32-byte ephemeral seed per recipient. */
export function sealNote(op: NoteOp, recipients: Uint8Array[], signer: NoteSigner, random?: (n: number) => Uint8Array): Uint8Array {
  let valid: NoteOp;
  try {
    valid = validateNoteOp(op);
  } catch (e) {
    throw new CryptoArgumentError((e as Error).message);
  }
  if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > MAX_STANZAS) {
    throw new CryptoArgumentError(`recipients: expected 1..${MAX_STANZAS} keys`);
  }
  recipients.forEach((r, i) => _abytes(`recipients[${i}]`, r, 32));
  for (let i = 0; i < recipients.length; i++) {
    for (let j = 0; j < i; j++) if (equalBytes(recipients[i]!, recipients[j]!)) throw new CryptoArgumentError(`recipients[${i}] repeats recipients[${j}]`);
  }
  _assertSigningPair(signer?.signPublic, signer?.signSecret);
  const rand = random ?? ((n: number) => sodium().randombytes_buf(n));
  const json = canonicalNoteOp(valid);
  const signature = sign(signedMessage(signer.signPublic, json), signer.signSecret);
  const content = 4 + json.length + SIG_PART;
  const padded = new Uint8Array(notePaddedLength(content));
  new DataView(padded.buffer).setUint32(0, json.length);
  padded.set(json, 4);
  padded.set(signer.signPublic, 4 + json.length);
  padded.set(signature, 4 + json.length + 32);

  const fileKey = _abytes('random(32)', rand(FILE_KEY_LENGTH), FILE_KEY_LENGTH).slice();
  try {
    const stanzas = recipients.map((r, i) => _sealStanza(fileKey, r, _abytes(`random(32) for recipients[${i}]`, rand(32), 32)));
    const header = concatBytes(NOTE_MAGIC, Uint8Array.of(NOTE_FORMAT_VERSION, recipients.length), ...stanzas, _keyCommitment(fileKey));
    const key = payloadKey(fileKey);
    const ct = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(padded, header, null, NONCE, key);
    key.fill(0);
    return concatBytes(header, ct);
  } finally {
    fileKey.fill(0);
  }
}

/** Opens a note envelope with a desk's box key pair; throws NotForYouError (crypto/errors.ts) when no stanza is
 * for it, NoteFormatError when malformed, a signature error when the signature does not verify. Also
 * KeyCommitmentError (the sender gave desks different keys) and TamperedError (the ciphertext or header changed). */
/** Checks what anyone can check of a note envelope without a key — magic, version, stanza count, and a length an
 * honest sealer makes (at least 512 padded bytes, Padmé above) — and answers the stanza count. The server refuses
 * anything else (threat: a desk key flooding the notes cap with tiny rows, or odd sizes that tell notes apart). */
export function checkNoteFraming(envelope: Uint8Array): number {
  _abytes('envelope', envelope);
  if (envelope.length < FIXED || !equalBytes(envelope.subarray(0, NOTE_MAGIC.length), NOTE_MAGIC)) throw fail('not a note envelope (bad magic)');
  if (envelope[7] !== NOTE_FORMAT_VERSION) throw fail(`unsupported version ${envelope[7]}`);
  const n = envelope[8]!;
  if (n < 1 || n > MAX_STANZAS) throw fail(`stanza count ${n} is not 1..${MAX_STANZAS}`);
  const padded = envelope.length - (FIXED + n * STANZA_LENGTH + COMMITMENT_LENGTH) - AEAD_TAG;
  // Only a length an honest sealer makes: anything else is refused before any key is tried.
  if (padded < NOTE_MIN_PADDED || notePaddedLength(padded) !== padded) throw fail(`${envelope.length} bytes is not a padded note length for ${n} stanzas`);
  return n;
}

export function openNote(envelope: Uint8Array, identity: { boxPublic: Uint8Array; boxSecret: Uint8Array }): OpenedNote {
  _checkIdentity(identity);
  const n = checkNoteFraming(envelope);
  const headerLen = FIXED + n * STANZA_LENGTH + COMMITMENT_LENGTH;
  const header = envelope.subarray(0, headerLen);
  const fileKey = _openStanzas(envelope.subarray(FIXED, FIXED + n * STANZA_LENGTH), envelope.subarray(headerLen - COMMITMENT_LENGTH, headerLen), identity);
  const key = payloadKey(fileKey);
  fileKey.fill(0);
  let pt: Uint8Array;
  try {
    pt = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, envelope.subarray(headerLen), header, NONCE, key);
  } catch {
    throw new TamperedError('desk note: the ciphertext or header failed authentication');
  } finally {
    key.fill(0);
  }
  // Authentic from here on: what follows is a malformed note from a key holder, not a network accident.
  const len = new DataView(pt.buffer, pt.byteOffset, pt.byteLength).getUint32(0);
  const content = 4 + len + SIG_PART;
  if (content > pt.length || notePaddedLength(content) !== pt.length) throw fail('length prefix disagrees with the padded length');
  if (pt.subarray(content).some((b) => b !== 0)) throw fail('padding is not zero');
  const json = pt.subarray(4, 4 + len);
  const signPublic = pt.slice(4 + len, 4 + len + 32);
  const signature = pt.subarray(4 + len + 32, content);
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decode(json));
  } catch {
    throw fail('operation is not UTF-8 JSON');
  }
  const op = validateNoteOp(parsed);
  if (!equalBytes(canonicalNoteOp(op), json)) throw fail('operation is not in canonical form');
  // Threat: a desk (or anyone holding a desk's box key) writing a note in another desk's name.
  if (!verify(signature, signedMessage(signPublic, json), signPublic)) throw new BadSignatureError('desk note: bad signature');
  return { op, signKey: toBase64(signPublic) };
}

/** The shared state of one thread from its operations, in any order, duplicates allowed. */
export interface ThreadShared {
  status: ThreadStatus;
  /** The operation that set the status (null while 'new' by default). */
  statusBy: { by: string; at: string } | null;
  assignee: string | null;
  /** Starred by any desk, last writer wins (false until a star operation). */
  starred: boolean;
  tags: string[];
  /** Live versions of the note: one normally, several after concurrent edits (each shown; the next edit,
   * superseding all of them, merges them). An empty text is a cleared note and is not listed. */
  notes: { op: string; text: string; by: string; at: string }[];
  replies: { op: string; tip: string; text: string; by: string; at: string }[];
  /** Every operation, in merge order (clock, then by, then op). */
  history: NoteOp[];
  /** The highest clock seen: a new operation on any thread takes max over all threads + 1. */
  clock: number;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Merge order: clock, then desk name, then op id (code-unit order, never locale-dependent). Two different
 * operations under one op id (only a misbehaving desk makes them) are ordered by their canonical bytes and the
 * first kept, so every desk keeps the same one. */
export function compareNoteOps(a: NoteOp, b: NoteOp): number {
  return a.clock - b.clock || cmp(a.by, b.by) || cmp(a.op, b.op) || cmp(utf8Decode(canonicalNoteOp(a)), utf8Decode(canonicalNoteOp(b)));
}

export function mergeThread(ops: readonly NoteOp[]): ThreadShared {
  const sorted = [...ops].sort(compareNoteOps);
  const history: NoteOp[] = [];
  const seen = new Set<string>();
  for (const o of sorted) {
    if (seen.has(o.op)) continue;
    seen.add(o.op);
    history.push(o);
  }
  const s: ThreadShared = { status: 'new', statusBy: null, assignee: null, starred: false, tags: [], notes: [], replies: [], history, clock: 0 };
  const adds = new Map<string, string[]>(); // tag -> its tag-add op ids
  const removed = new Set<string>(); // "tag\0op id" pairs a tag-remove listed
  const superseded = new Set<string>();
  // Over every operation given, a dropped duplicate's too: a new operation must outnumber all of them.
  for (const o of sorted) s.clock = Math.max(s.clock, o.clock);
  for (const o of history) {
    switch (o.kind) {
      case 'status':
        s.status = o.status;
        s.statusBy = { by: o.by, at: o.at };
        break;
      case 'assign':
        s.assignee = o.desk;
        break;
      case 'tag-add':
        adds.set(o.tag, [...(adds.get(o.tag) ?? []), o.op]);
        break;
      case 'tag-remove':
        // Only the adds it names, and only of its own tag: an add it had not seen survives (add wins).
        for (const r of o.removes) removed.add(`${o.tag}\0${r}`);
        break;
      case 'note':
        for (const r of o.supersedes) superseded.add(r);
        break;
      case 'reply':
        s.replies.push({ op: o.op, tip: o.tip, text: o.text, by: o.by, at: o.at });
        break;
      case 'star':
        s.starred = o.starred;
        break;
    }
  }
  s.tags = [...adds.entries()].filter(([tag, ids]) => ids.some((id) => !removed.has(`${tag}\0${id}`))).map(([tag]) => tag).sort(cmp);
  for (const o of history) {
    if (o.kind === 'note' && !superseded.has(o.op) && o.text !== '') s.notes.push({ op: o.op, text: o.text, by: o.by, at: o.at });
  }
  return s;
}
