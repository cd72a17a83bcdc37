// zod schemas for every message on the wire. Routes validate input with these and serialise output through
// them, so a response can only carry the fields declared here.
import * as z from 'zod';

export const Id = z.string().regex(/^[a-z2-7]{26}$/, 'expected a 26-character base32 id');

export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a UTC day YYYY-MM-DD');

/** The largest upload chunk a server may ask for: a client holds a few of them in memory at once. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
// A client loops over chunks of this size: it must be a positive integer it can afford to buffer.
const ChunkSize = z.number().int().min(1).max(MAX_CHUNK_SIZE);

/** GET /api/v1/pow[?size=N]: N is the envelope size the challenge is priced for (without it, one chunk). */
export const PowQuery = z.object({
  size: z.string().regex(/^[1-9][0-9]{0,14}$/, 'expected the envelope size in bytes').transform(Number).optional(),
});

export const PowChallenge = z.object({
  token: z.string().max(512),
  difficulty: z.number().int().min(0).max(32),
  expires_in: z.number().int(),
  /** The most envelope bytes an upload opened with this challenge may claim (the token binds it). */
  size: z.number().int().min(1).max(2 ** 48 - 1),
  /** The server's upload chunk size, so the first chunk can travel with the request that opens the upload. */
  chunk_size: ChunkSize,
});
export type PowChallenge = z.infer<typeof PowChallenge>;

export const PowSolution = z.object({
  token: z.string().min(1).max(512),
  nonce: z.string().regex(/^[0-9]{1,16}$/, 'expected a decimal counter'),
});
export type PowSolution = z.infer<typeof PowSolution>;

/** A solved proof-of-work travels in these headers of the request that opens an upload (its body is chunk 0). */
export const POW_HEADERS = { token: 'tipline-pow-token', nonce: 'tipline-pow-nonce' } as const;
export const PowHeaders = z.object({ [POW_HEADERS.token]: PowSolution.shape.token, [POW_HEADERS.nonce]: PowSolution.shape.nonce });

/** POST /api/v1/uploads?size=N[&finish=1]: N is the whole envelope's length; finish=1 when the body is all of it. */
export const OpenUploadQuery = z.object({
  size: z.string().regex(/^[1-9][0-9]{0,14}$/, 'expected the envelope size in bytes').transform(Number),
  finish: z.enum(['1']).optional(),
});

export const UploadCreated = z.object({
  id: Id,
  chunk_size: ChunkSize,
  chunk_count: z.number().int().min(1),
  expires_in: z.number().int().positive(),
});
export type UploadCreated = z.infer<typeof UploadCreated>;

export const UploadStatus = z.object({
  id: Id,
  chunk_size: ChunkSize,
  chunk_count: z.number().int().min(1),
  received: z.array(z.number().int().nonnegative()),
});
export type UploadStatus = z.infer<typeof UploadStatus>;

export const ChunkParams = z.object({
  id: Id,
  n: z.string().regex(/^(0|[1-9][0-9]{0,6})$/, 'expected a chunk index').transform(Number),
});
export const ChunkQuery = z.object({ finish: z.enum(['1']).optional() });
export const IdParams = z.object({ id: Id });

/** What a source is told once its tip is stored: nothing it did not already know, plus the day it arrived and
 * the day the server deletes it (the retention in force), so the page can say how long the newsroom has. */
export const Receipt = z.object({
  tip_id: Id,
  size: z.number().int().nonnegative(),
  received_day: Day,
  expires_day: Day,
});
export type Receipt = z.infer<typeof Receipt>;

export const ChunkAccepted = z.object({ received: z.number().int().nonnegative() });
/** The 201 that opens an upload: the upload to continue, or with finish=1 the receipt of the stored tip. */
export const UploadOpened = z.union([UploadCreated, Receipt]);

export const TipSummary = z.object({
  id: Id,
  size: z.number().int().nonnegative(),
  received_day: Day,
  expires_day: Day,
});
export type TipSummary = z.infer<typeof TipSummary>;
export const TipList = z.object({ tips: z.array(TipSummary) });
export type TipList = z.infer<typeof TipList>;

export const Deleted = z.object({ deleted: Id });

export const AuditEntry = z.object({
  seq: z.number().int(),
  day: z.string(),
  kind: z.string(),
  detail: z.string(),
  prev_hash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
/** The audit chain's head as the server signed it (crypto/audit-head.ts SignedHead; PROTOCOL.md §Signed heads). */
export const SignedHeadBody = z.object({
  v: z.literal(1),
  seq: z.number().int().nonnegative(),
  hash: z.string(),
  day: z.string(),
  key: z.string(),
  signature: z.string(),
});
/** GET /api/v1/staff/audit (desk, auditor): the whole chain and the latest signed head (null before the first). */
export const AuditLog = z.object({ entries: z.array(AuditEntry), head: SignedHeadBody.nullable() });

/** A desk's signed deletion statement (crypto/deletion-statement.ts), the body of DELETE /api/v1/staff/tips/:id.
 * Checked in full by verifyDeletionStatement; this only bounds the shape. */
export const DeletionStatementBody = z.object({
  by: z.string().max(128),
  day: z.string().max(10),
  host_hash: z.string().max(64),
  key: z.string().max(44),
  nonce: z.string().max(22),
  signature: z.string().max(88),
  tips: z.literal(1),
});
export const DeleteTipBody = z.object({ statement: DeletionStatementBody });

export const Health = z.object({ ok: z.boolean(), directory: z.boolean() });

/** A signed document as published (crypto/signed.ts); its payload is what the signature covers. */
export const SignedDocumentBody = z.object({
  v: z.literal(1),
  type: z.string(),
  payload: z.string(),
  root_key: z.string(),
  signature: z.string(),
  // A directory carries the root's certificate of the key that signed it (FORMAT.md §Certified documents).
  certificate: z.object({ v: z.literal(1), type: z.string(), payload: z.string(), root_key: z.string(), signature: z.string() }).optional(),
});


// ---- Replies (PROTOCOL.md §Replies) ----

/** Envelopes a source fetches on every visit: its own replies, made up to this count with others (decoys). */
export const REPLY_FETCH_SLOTS = 4;
/** Bytes of one slot in the answer to a fetch: 1 if the reply was there (then its envelope), else 0 (then zeros). */
export const replySlotBytes = (envelopeLength: number) => 1 + envelopeLength;
/** The most replies the server keeps at once: the list every visitor downloads stays under 1.6 MB. */
export const MAX_LIVE_REPLIES = 100_000;

/** A reply tag (16 bytes) in unpadded base64url: 22 characters. Decoders must check it re-encodes the same. */
export const ReplyTag = z.string().regex(/^[A-Za-z0-9_-]{21}[AQgw]$/, 'expected a reply tag: 16 bytes in base64url (22 characters)');
/** 32 bytes in unpadded base64url: 43 characters. */
export const Bytes32 = z.string().regex(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'expected 32 bytes in base64url (43 characters)');

/** GET /api/v1/replies answers application/octet-stream: every live tag, 16 bytes each, in byte order. */
export const REPLY_LIST_PATH = '/api/v1/replies';

/** POST /api/v1/replies/fetch: exactly REPLY_FETCH_SLOTS tags; answers application/octet-stream, one slot each
 * in the order asked (replySlotBytes each). The same size whatever was found. */
export const ReplyFetchRequest = z.object({ tags: z.array(ReplyTag).length(REPLY_FETCH_SLOTS) });
export type ReplyFetchRequest = z.infer<typeof ReplyFetchRequest>;

/** POST /api/v1/replies/delete: the tag and the deletion token from inside the reply. */
export const ReplyDeleteRequest = z.object({ tag: ReplyTag, token: Bytes32 });
export type ReplyDeleteRequest = z.infer<typeof ReplyDeleteRequest>;
export const ReplyDeleted = z.object({ deleted: z.literal(true) });

/** POST /api/v1/staff/replies (desk): a reply sealed and tagged on the desk's machine. `envelope` is standard
 * base64 of exactly REPLY_ENVELOPE_LENGTH bytes of one stanza. */
export const ReplyPost = z.object({ tag: ReplyTag, delete_hash: Bytes32, envelope: z.string().max(100_000) });
export type ReplyPost = z.infer<typeof ReplyPost>;
export const ReplyPosted = z.object({ posted_day: Day, expires_day: Day });
export type ReplyPosted = z.infer<typeof ReplyPosted>;


// ---- Shared desk notes (PROTOCOL.md §Desk notes) ----
// Status, tags, notes, "who is on it" and the replies a desk sent, shared among the newsroom's desks: each change
// is one note envelope (crypto/desk-notes.ts) sealed on a desk's machine to every desk key, so the server holds
// only opaque, Padmé-padded bytes. Nothing here names the tip or thread a note is about: the desk asks for the
// expiry of the thread's newest tip, so the note expires with it.

/** The largest note envelope the server takes (a note of about 64 KB of text, sealed to 64 desks). */
export const MAX_NOTE_ENVELOPE_BYTES = 96 * 1024;
/** The most notes the server keeps at once; beyond, 503 (a flood by a desk key must not fill the disk). */
export const MAX_LIVE_NOTES = 200_000;
/** Ids asked for in one POST /api/v1/staff/notes/fetch or /delete, at most. */
export const MAX_NOTES_PER_REQUEST = 256;

/** POST /api/v1/staff/notes (desk): `envelope` is standard base64 of the note envelope; `expires_day` the day the
 * thread's newest tip expires. The server refuses a day before today or beyond today + the policy's tips_days. */
export const NotePost = z.object({ envelope: z.string().max(Math.ceil(MAX_NOTE_ENVELOPE_BYTES / 3) * 4), expires_day: Day });
export type NotePost = z.infer<typeof NotePost>;
export const NotePosted = z.object({ id: Id, posted_day: Day, expires_day: Day });
export type NotePosted = z.infer<typeof NotePosted>;

/** GET /api/v1/staff/notes (desk, auditor): every live note's metadata, in no meaningful order. */
export const NoteSummary = z.object({ id: Id, size: z.number().int().nonnegative(), posted_day: Day, expires_day: Day });
export type NoteSummary = z.infer<typeof NoteSummary>;
export const NoteList = z.object({ notes: z.array(NoteSummary) });
export type NoteList = z.infer<typeof NoteList>;

/** POST /api/v1/staff/notes/fetch (desk): up to MAX_NOTES_PER_REQUEST ids; answers the envelopes of those still
 * there (base64), unknown ids left out. */
export const NotesFetchRequest = z.object({ ids: z.array(Id).min(1).max(MAX_NOTES_PER_REQUEST) });
export type NotesFetchRequest = z.infer<typeof NotesFetchRequest>;
export const NotesFetched = z.object({ notes: z.array(z.object({ id: Id, envelope: z.string() })) });
export type NotesFetched = z.infer<typeof NotesFetched>;

/** POST /api/v1/staff/notes/delete (desk): a deleted thread's notes. Answers how many were there; audited as one
 * `notes-delete` entry with that count. */
export const NotesDeleteRequest = NotesFetchRequest;
export const NotesDeleted = z.object({ deleted: z.number().int().nonnegative() });
export type NotesDeleted = z.infer<typeof NotesDeleted>;
