// The desks' shared notes (PROTOCOL.md §Desk notes): status, tags, notes, "who is on it", each change one
// envelope sealed on a desk's machine to every desk key. The server stores opaque, padded bytes under a random
// id with the day posted and the day the desk asked it to expire (its thread's newest tip's), and nothing that
// names the tip, the thread or the desk. Requests are signed over their raw body (server/staff-auth.ts).
// Posting is not audited (like replies: an entry would only date the newsroom's work on a day); deleting is, with
// a count (a deleted thread's notes: a deletion the newsroom may have to prove, never which ones).
import {
  MAX_LIVE_NOTES,
  MAX_NOTE_ENVELOPE_BYTES,
  NoteList,
  NotePost,
  NotePosted,
  NotesDeleted,
  NotesDeleteRequest,
  NotesFetched,
  NotesFetchRequest,
} from '../../schema/wire.js';
import { toBase64 } from '../../crypto/bytes.js';
import { checkNoteFraming, NoteFormatError } from '../../crypto/desk-notes.js';
import { AppError } from '../errors.js';
import { canonicalBase64 } from '../canonical-base64.js';
import { appendAudit } from '../audit.js';
import { addDays, utcDay } from '../days.js';
import { deleteNotes, findNotes, insertNote, listNotes, newNoteId } from '../store/notes.js';
import { errorResponses, type RoutePlugin } from '../context.js';

/** Standard base64 of the largest envelope, with JSON's quotes and the expiry: a little over 128 KiB. */
export const NOTE_POST_BODY_LIMIT = 136 * 1024;
/** MAX_NOTES_PER_REQUEST ids of 26 characters in JSON, with room to spare (more is refused as 400 by the schema). */
const NOTE_IDS_BODY_LIMIT = 16 * 1024;
/** Notes free space only as threads are deleted or notes expire (the retention pass runs every ten minutes). */
const FULL_RETRY_S = 600;
/** The audit entry of a deletion of notes: detail {notes: count}. */
export const NOTES_DELETE_KIND = 'notes-delete';

const malformed = (what: string) => new AppError('TIPLINE_ERR_NOTE_MALFORMED', what);

function envelopeOf(b64: string): Uint8Array {
  const bytes = canonicalBase64(b64, malformed);
  if (bytes.length === 0) throw malformed('envelope: empty');
  if (bytes.length > MAX_NOTE_ENVELOPE_BYTES) throw malformed(`envelope: ${bytes.length} bytes, at most ${MAX_NOTE_ENVELOPE_BYTES}`);
  try {
    checkNoteFraming(bytes);
  } catch (e) {
    if (e instanceof NoteFormatError) throw malformed(`envelope: ${e.message} (crypto/FORMAT.md §Desk notes)`);
    throw e;
  }
  return bytes;
}

export const staffNoteRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config } = ctx;

  app.post(
    '/notes',
    { config: { staff: ['desk'] }, bodyLimit: NOTE_POST_BODY_LIMIT, schema: { body: NotePost, response: { 201: NotePosted, ...errorResponses } } },
    async (req, reply) => {
      const envelope = envelopeOf(req.body.envelope);
      // Dated once, so the check and the stored day cannot straddle midnight.
      const postedDay = utcDay(config.now());
      // Threat: a note kept past the tips it is about (the policy's promise) or a date that says more than a day.
      const latest = addDays(postedDay, config.retentionDays);
      const expiresDay = req.body.expires_day;
      // The schema checks the shape only: a day that is no date (02-30) would reach the database and fail there.
      const at = Date.parse(`${expiresDay}T00:00:00Z`);
      if (!Number.isFinite(at) || utcDay(new Date(at)) !== expiresDay) throw new AppError('TIPLINE_ERR_NOTE_EXPIRY', `expires_day ${expiresDay} is not a day of the calendar`);
      if (expiresDay < postedDay || expiresDay > latest) {
        throw new AppError('TIPLINE_ERR_NOTE_EXPIRY', `expires_day ${expiresDay} is outside what this tip line allows: from ${postedDay} (today, UTC) to ${latest} (today + ${config.retentionDays} days, the tips' retention)`);
      }
      const id = newNoteId();
      const outcome = await db.transaction().execute((trx) => insertNote(trx, { id, envelope, posted_day: postedDay, expires_day: expiresDay }, postedDay, MAX_LIVE_NOTES));
      if (outcome === 'full') throw new AppError('TIPLINE_ERR_BUSY', `the tip line holds ${MAX_LIVE_NOTES} desk notes, its most; try again once threads are deleted or their notes expire`, FULL_RETRY_S);
      await config.afterCommit();
      return reply.code(201).send({ id, posted_day: postedDay, expires_day: expiresDay });
    },
  );

  // Auditors too: ids, sizes and days, so retention can be checked against what is stored; never an envelope.
  app.get('/notes', { config: { staff: ['desk', 'auditor'] }, schema: { response: { 200: NoteList, ...errorResponses } } }, async () => ({
    notes: await listNotes(db, utcDay(config.now())),
  }));

  app.post(
    '/notes/fetch',
    { config: { staff: ['desk'] }, bodyLimit: NOTE_IDS_BODY_LIMIT, schema: { body: NotesFetchRequest, response: { 200: NotesFetched, ...errorResponses } } },
    async (req) => {
      const rows = await findNotes(db, req.body.ids, utcDay(config.now()));
      return { notes: rows.map((r) => ({ id: r.id, envelope: toBase64(r.envelope) })) };
    },
  );

  app.post(
    '/notes/delete',
    { config: { staff: ['desk'] }, bodyLimit: NOTE_IDS_BODY_LIMIT, schema: { body: NotesDeleteRequest, response: { 200: NotesDeleted, ...errorResponses } } },
    async (req) => {
      const today = utcDay(config.now());
      const deleted = await db.transaction().execute(async (trx) => {
        const n = await deleteNotes(trx, req.body.ids);
        // Counts and the day only: the ids would let whoever kept a list of them say which thread was deleted.
        if (n > 0) await appendAudit(trx, today, NOTES_DELETE_KIND, { notes: n });
        return n;
      });
      await config.afterCommit();
      return { deleted };
    },
  );
};
