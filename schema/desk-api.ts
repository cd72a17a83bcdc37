// The desk app's local API (client/desk serves it on 127.0.0.1 to client/desk-web in the journalist's browser).
// Not part of the tip line's wire: it never leaves the journalist's machine. Every path below is under
// `/<secret>/`, the random per-run secret in the URL `tipline desk` prints; requests without it, with a Host
// other than the listener's own 127.0.0.1:PORT, or (for anything but GET of the page) with an Origin other than
// that, are refused (DNS rebinding, other local processes, other pages).
//
// CONTRACT (written by the lead). Server: client/desk/app.ts. Browser: client/desk-web/.
import { z } from 'zod';
import { THREAD_STATUSES, MAX_NOTE_TEXT, MAX_TAG_LENGTH } from '../crypto/desk-notes.js';
import { Id } from './wire.js';

/** Static files: GET `/<secret>/` (index.html), `/<secret>/desk.js`, `/<secret>/desk.css`. */
export const DESK_STATIC = ['', 'desk.js', 'desk.css'] as const;

export const ThreadStatus = z.enum(THREAD_STATUSES);
/** Thread ids as the desk app names them: crypto/reply.ts threadId of a reply key (16 characters of base32, a-z2-7;
 * 43 of base64url also accepted), or `tip:<tip id>`. */
export const ThreadKey = z.string().regex(/^(tip:[a-z2-7]{26}|[a-z2-7]{16}|[A-Za-z0-9_-]{43})$/, 'expected a thread id');
export const Tag = z.string().min(1).max(MAX_TAG_LENGTH);

/** GET api/session */
export const DeskSession = z.object({
  desk: z.string(), // this desk's name as the directory lists it (and as sources see it in replies)
  desks: z.array(z.string()), // desks listed now (for "who is on it")
  server: z.string(), // the staff address, for display
  lastSync: z.string().nullable(), // ISO time of the last completed sync
  syncing: z.boolean(),
  syncError: z.string().nullable(), // the last sync's failure in words
  notice: z.string(), // the full-disk-encryption reminder
});
export type DeskSession = z.infer<typeof DeskSession>;

/** GET api/threads?q=&status=&tag=&day=&starred=1&unread=1 — newest first (by the newest tip's day). */
export const ThreadsQuery = z.object({
  q: z.string().max(200).optional(),
  status: ThreadStatus.optional(),
  tag: Tag.optional(),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(), // a thread with a tip received that day
  starred: z.enum(['1']).optional(),
  unread: z.enum(['1']).optional(),
});
export type ThreadsQuery = z.infer<typeof ThreadsQuery>;

export const ThreadSummary = z.object({
  id: ThreadKey,
  title: z.string(), // the first tip's first non-empty line, at most 120 characters ('' when none)
  snippet: z.string(), // with q: words around the first match; else the start of the newest message
  firstDay: z.string(),
  lastDay: z.string(), // newest tip's received day
  expiresDay: z.string(), // newest tip's expiry on the server
  tips: z.number().int(),
  files: z.number().int(),
  unread: z.boolean(), // local to this desk
  starred: z.boolean(), // shared among the desks (a star operation), like status
  status: ThreadStatus,
  tags: z.array(z.string()),
  assignee: z.string().nullable(),
  canReply: z.boolean(), // the source asked for replies
  onServer: z.boolean(), // false once deleted on the server (by another desk, or expired)
});
export type ThreadSummary = z.infer<typeof ThreadSummary>;
export const ThreadList = z.object({ threads: z.array(ThreadSummary), total: z.number().int(), tookMs: z.number() });
export type ThreadList = z.infer<typeof ThreadList>;

export const FileInfo = z.object({
  index: z.number().int(),
  name: z.string(), // as the source named it: display with textContent only
  type: z.string(), // as the source declared it: never trusted for rendering
  size: z.number().int(),
  sha256: z.string(), // hex
  /** How the page may show it: 'image' = re-encoded PNG from files/N/image; 'text' = files/N/text; 'none' =
   * only saved to disk. Decided from the bytes, never from the name or the declared type. */
  render: z.enum(['image', 'text', 'none']),
});
export type FileInfo = z.infer<typeof FileInfo>;

export const ThreadItem = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tip'), tipId: Id, receivedDay: z.string(), sentDay: z.string(), message: z.string(), files: z.array(FileInfo), warning: z.string().nullable(), onServer: z.boolean() }),
  z.object({ kind: z.literal('reply'), op: z.string(), tipId: Id, by: z.string(), at: z.string(), text: z.string() }),
]);
export type ThreadItem = z.infer<typeof ThreadItem>;

export const HistoryLine = z.object({ by: z.string(), at: z.string(), kind: z.string(), value: z.string() });

/** GET api/threads/:id */
export const ThreadDetail = z.object({
  summary: ThreadSummary,
  items: z.array(ThreadItem), // oldest first
  notes: z.array(z.object({ op: z.string(), text: z.string(), by: z.string(), at: z.string() })), // >1: concurrent edits
  history: z.array(HistoryLine),
  replyAs: z.string().nullable(), // the desk name the source will see on a reply; null when it cannot reply
});
export type ThreadDetail = z.infer<typeof ThreadDetail>;

// File views (GET): api/threads/:id/tips/:tip/files/:n/image -> image/png, re-encoded here (never the source's
// bytes); .../text -> FileText; .../download -> application/octet-stream as an attachment.
export const FileText = z.object({ text: z.string(), truncated: z.boolean() });

// Changes (POST, JSON bodies, content-type application/json). Each answers the thread's new ThreadDetail.
export const ReadBody = z.object({ read: z.boolean() }); // api/threads/:id/read (local)
export const StarBody = z.object({ starred: z.boolean() }); // api/threads/:id/star (shared)
export const StatusBody = z.object({ status: ThreadStatus }); // api/threads/:id/status (shared)
export const AssignBody = z.object({ desk: z.string().max(128).nullable() }); // api/threads/:id/assign (shared)
export const TagsBody = z.object({ add: z.array(Tag).max(20).default([]), remove: z.array(Tag).max(20).default([]) }); // api/threads/:id/tags
export const NoteBody = z.object({ text: z.string().max(MAX_NOTE_TEXT), supersedes: z.array(z.string().max(64)).max(64) }); // api/threads/:id/note
export const ReplyBody = z.object({ text: z.string().min(1).max(60_000) }); // api/threads/:id/reply

// api/threads/:id/export.zip (GET) -> application/zip attachment: the thread's messages, files, shared notes and
// SHA256SUMS signed by this desk (tipline verify-export checks it).
// DELETE api/threads/:id -> {deleted: tip ids}: deleted on the server (audited) and here.
export const ThreadDeleted = z.object({ deleted: z.array(Id) });
// POST api/sync -> SyncResult (also run on a fixed schedule).
export const SyncResult = z.object({ fetched: z.number().int(), notes: z.number().int(), failed: z.number().int(), errors: z.array(z.string()) });
export type SyncResult = z.infer<typeof SyncResult>;
// GET api/tags -> {tags: [{tag, threads}]}
export const TagList = z.object({ tags: z.array(z.object({ tag: z.string(), threads: z.number().int() })) });

/** Every error answer: {error: {code, message}} with a 4xx (5xx only for a failed sync or server). */
export const DeskError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
