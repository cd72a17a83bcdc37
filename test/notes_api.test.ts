// The shared desk notes end to end: a desk posts opaque envelopes through the real Api client to a real server,
// lists their metadata, fetches them back byte for byte and deletes them; malformed input (bad base64, too
// large, an expiry outside today..today+tips_days, too many ids) is a 400 JSON answer, never a 500; the auditor
// lists metadata but is refused the envelopes, posting and deleting with words that say what it can do; an
// unsigned request is refused.
import t from 'tap';
import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { Api } from '../client/cli/api.js';
import { ApiError } from '../client/shared/errors.js';
import type { StaffIdentity } from '../client/cli/keyfiles.js';
import { signStaffRequest } from '../crypto/staff-request.js';
import { toBase64, utf8Encode } from '../crypto/bytes.js';
import { ErrorBody } from '../schema/errors.js';
import { MAX_LIVE_NOTES, MAX_NOTE_ENVELOPE_BYTES, MAX_NOTES_PER_REQUEST, type NotePosted } from '../schema/wire.js';
import { readAudit } from '../server/audit.js';
import { dumpDatabase, findLeaks, liveColumns } from './helpers/dump.js';
import { STORED_COLUMNS } from '../schema/db.js';
import { addDays, utcDay } from '../server/days.js';
import type { DeskKeyPair } from '../crypto/keys.js';
import { framedNote } from './helpers/note-bytes.js';

const TIPS_DAYS = 30;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const envelope = (n: number) => framedNote(n);

/** A signed POST with any body, as a client that does not use the Api (or gets it wrong) would send it. */
async function rawPost(staffUrl: string, who: DeskKeyPair, path: string, body: unknown, o: { unsigned?: boolean } = {}): Promise<{ status: number; json: unknown }> {
  const bytes = utf8Encode(typeof body === 'string' ? body : JSON.stringify(body));
  const signed = signStaffRequest({ host: new URL(staffUrl).host, method: 'POST', pathAndQuery: path, timestamp: Math.floor(Date.now() / 1000), nonce: new Uint8Array(randomBytes(16)), body: bytes, contentType: 'application/json' }, who.signSecret);
  const res = await fetch(`${staffUrl}${path}`, { method: 'POST', headers: o.unsigned ? { 'content-type': 'application/json' } : signed, body: Buffer.from(bytes) });
  return { status: res.status, json: await res.json() };
}

async function refusal(t: Test, p: Promise<unknown>, code: string, what: string): Promise<ApiError | undefined> {
  try {
    await p;
    t.fail(`${what}: refused`);
    return undefined;
  } catch (err) {
    t.type(err, ApiError, `${what}: an ApiError`);
    t.equal((err as ApiError).code, code, `${what}: ${code}`);
    return err as ApiError;
  }
}

for (const dialect of await dialects()) {
  t.test(`desk notes on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect, { retentionDays: TIPS_DAYS });
    const desk: StaffIdentity = { ...newsroom.desk, role: 'desk' };
    const auditor: StaffIdentity = { ...newsroom.auditor, role: 'auditor' };
    const api = new Api(new URL(server.staffUrl));
    t.teardown(() => api.close());
    const today = utcDay(new Date());

    // Round trip.
    const sizes = [1, 4096, MAX_NOTE_ENVELOPE_BYTES];
    const sent = sizes.map(envelope);
    const expiries = [today, addDays(today, 7), addDays(today, TIPS_DAYS)];
    const posted: NotePosted[] = [];
    for (const [i, env] of sent.entries()) posted.push(await api.postNote(desk, env, expiries[i]!));
    t.same(posted.map((p) => [p.posted_day, p.expires_day]), expiries.map((e) => [today, e]), 'posted today, kept to the day asked for');
    t.equal(new Set(posted.map((p) => p.id)).size, 3, 'each note gets its own id');
    t.ok(posted.every((p) => /^[a-z2-7]{26}$/.test(p.id)), 'ids are 26 characters of base32');

    const rows = await store.db.selectFrom('desk_notes').selectAll().execute();
    t.equal(rows.length, 3, 'three rows stored');
    t.same(Object.keys(rows[0]!).sort(), ['envelope', 'expires_day', 'id', 'posted_day'], 'and nothing else about them');
    t.same(rows.map((r) => hex(r.envelope)).sort(), sent.map(hex).sort(), 'the envelopes stored byte for byte');
    t.same((await liveColumns(store.db)).desk_notes, [...STORED_COLUMNS.desk_notes], 'the live table has exactly the declared columns');
    const dump = await dumpDatabase(store.db);
    t.ok(sent.every((e) => dump.includes(Buffer.from(e))), 'the privacy dump reads desk_notes too');
    // Nothing in a note's row says which desk posted it (the directory in `documents` names the desks, not this).
    const noteRows = Buffer.concat(rows.flatMap((r) => [Buffer.from(r.id), Buffer.from(r.envelope), Buffer.from(String(r.posted_day)), Buffer.from(String(r.expires_day))]));
    t.same(findLeaks(noteRows, [desk.name, toBase64(desk.signPublic), hex(desk.signPublic), toBase64(desk.boxPublic)]), [], 'no desk name or key in the rows');

    // The note expiring today is stored, but no longer live: the retention pass deletes it today.
    const list = await api.listNotes(desk);
    t.same(
      list.notes.map((n) => [n.id, n.size, n.posted_day, n.expires_day]).sort(),
      [1, 2].map((i) => [posted[i]!.id, sent[i]!.length, today, expiries[i]]).sort(),
      'the list: id, size, posted and expiry day of every live note',
    );
    const byAuditor = await api.listNotes(auditor);
    t.same(byAuditor, list, 'the auditor lists the same metadata');

    const unknown = 'a'.repeat(26);
    const fetched = await api.fetchNotes(desk, [posted[1]!.id, unknown, posted[2]!.id, posted[0]!.id]);
    t.same(fetched.map((f) => [f.id, hex(f.envelope)]).sort(), [1, 2].map((i) => [posted[i]!.id, hex(sent[i]!)]).sort(), 'fetched back byte for byte; unknown and expired ids left out');

    // The auditor: metadata only.
    for (const [what, p] of [
      ['fetch', api.fetchNotes(auditor, [posted[1]!.id])],
      ['post', api.postNote(auditor, envelope(10), today)],
      ['delete', api.deleteNotes(auditor, [posted[1]!.id])],
    ] as const) {
      const err = await refusal(t, p, 'TIPLINE_ERR_FORBIDDEN', `the auditor's ${what}`);
      t.equal(err?.status, 403);
      t.match(err?.message, /of the desk notes it lists the metadata \(GET \/api\/v1\/staff\/notes\), never their content/, `the auditor's ${what}: told what it can do`);
    }

    // Unsigned.
    for (const path of ['/api/v1/staff/notes', '/api/v1/staff/notes/fetch', '/api/v1/staff/notes/delete']) {
      const r = await rawPost(server.staffUrl, newsroom.desk, path, { ids: [posted[1]!.id], envelope: 'AAAA', expires_day: today }, { unsigned: true });
      t.equal(r.status, 401, `unsigned POST ${path}: 401`);
      t.equal(ErrorBody.parse(r.json).error.code, 'TIPLINE_ERR_UNAUTHENTICATED');
    }
    const unsignedList = await fetch(`${server.staffUrl}/api/v1/staff/notes`);
    t.equal(unsignedList.status, 401, 'unsigned list: 401');
    // Signed by a key the directory does not list.
    const outsider = await rawPost(server.staffUrl, newsroom.outsider, '/api/v1/staff/notes', { envelope: toBase64(framedNote(700)), expires_day: today });
    t.equal(outsider.status, 401, 'an outsider\'s key: 401');

    // Bad input: 400 JSON with a clear message, never 500, nothing stored.
    const bad: [string, string, unknown, string, RegExp][] = [
      ['not base64', '/api/v1/staff/notes', { envelope: 'AA!A', expires_day: today }, 'TIPLINE_ERR_NOTE_MALFORMED', /canonical standard base64/],
      ['base64url', '/api/v1/staff/notes', { envelope: '-_-_', expires_day: today }, 'TIPLINE_ERR_NOTE_MALFORMED', /canonical standard base64/],
      ['non-canonical padding bits', '/api/v1/staff/notes', { envelope: 'AB==', expires_day: today }, 'TIPLINE_ERR_NOTE_MALFORMED', /canonical/],
      ['empty', '/api/v1/staff/notes', { envelope: '', expires_day: today }, 'TIPLINE_ERR_NOTE_MALFORMED', /empty/],
      ['oversized', '/api/v1/staff/notes', { envelope: toBase64(new Uint8Array(randomBytes(MAX_NOTE_ENVELOPE_BYTES + 1))), expires_day: today }, 'TIPLINE_ERR_BAD_REQUEST', /envelope Too big: expected string to have <=131072 characters/],
      ['expiry yesterday', '/api/v1/staff/notes', { envelope: toBase64(framedNote(700)), expires_day: addDays(today, -1) }, 'TIPLINE_ERR_NOTE_EXPIRY', new RegExp(`from ${today} \\(today, UTC\\) to ${addDays(today, TIPS_DAYS)}`)],
      ['expiry past the retention', '/api/v1/staff/notes', { envelope: toBase64(framedNote(700)), expires_day: addDays(today, TIPS_DAYS + 1) }, 'TIPLINE_ERR_NOTE_EXPIRY', /today \+ 30 days, the tips' retention/],
      ['expiry a day no calendar has, within the range', '/api/v1/staff/notes', { envelope: toBase64(framedNote(700)), expires_day: `${today.slice(0, 8)}32` }, 'TIPLINE_ERR_NOTE_EXPIRY', /is not a day of the calendar/],
      ['expiry not a day', '/api/v1/staff/notes', { envelope: toBase64(framedNote(700)), expires_day: '2026-02-30x' }, 'TIPLINE_ERR_BAD_REQUEST', /expires_day/],
      ['no envelope', '/api/v1/staff/notes', { expires_day: today }, 'TIPLINE_ERR_BAD_REQUEST', /envelope/],
      ['not JSON', '/api/v1/staff/notes', '{"envelope":', 'TIPLINE_ERR_BAD_REQUEST', /./],
      ['fetch: too many ids', '/api/v1/staff/notes/fetch', { ids: Array(MAX_NOTES_PER_REQUEST + 1).fill(unknown) }, 'TIPLINE_ERR_BAD_REQUEST', /ids/],
      ['fetch: no ids', '/api/v1/staff/notes/fetch', { ids: [] }, 'TIPLINE_ERR_BAD_REQUEST', /ids/],
      ['fetch: not an id', '/api/v1/staff/notes/fetch', { ids: ['A'.repeat(26)] }, 'TIPLINE_ERR_BAD_REQUEST', /base32/],
      ['delete: too many ids', '/api/v1/staff/notes/delete', { ids: Array(MAX_NOTES_PER_REQUEST + 1).fill(unknown) }, 'TIPLINE_ERR_BAD_REQUEST', /ids/],
      ['delete: ids not a list', '/api/v1/staff/notes/delete', { ids: unknown }, 'TIPLINE_ERR_BAD_REQUEST', /ids/],
    ];
    for (const [what, path, body, code, message] of bad) {
      const r = await rawPost(server.staffUrl, newsroom.desk, path, body);
      t.equal(r.status, 400, `${what}: 400`);
      const e = ErrorBody.safeParse(r.json);
      t.ok(e.success, `${what}: an error body`);
      t.equal(e.data?.error.code, code, `${what}: ${code}`);
      t.match(e.data?.error.message, message, `${what}: "${e.data?.error.message}"`);
    }
    const over = await rawPost(server.staffUrl, newsroom.desk, '/api/v1/staff/notes', { envelope: 'A'.repeat(200_000), expires_day: today });
    t.equal(over.status, 413, 'a body far past the limit: 413');
    t.equal(ErrorBody.parse(over.json).error.code, 'TIPLINE_ERR_BODY_TOO_LARGE');
    t.equal((await store.db.selectFrom('desk_notes').select('id').execute()).length, 3, 'nothing stored by the bad posts');
    // The client refuses what the server would, before sending.
    await t.rejects(api.fetchNotes(desk, Array(MAX_NOTES_PER_REQUEST + 1).fill(unknown)), /at most 256/, 'the Api refuses more than 256 ids');
    await t.rejects(api.deleteNotes(desk, ['not-an-id']), /not a note id/, 'and an id that is not one');
    await refusal(t, api.postNote(desk, envelope(10), addDays(today, TIPS_DAYS + 1)), 'TIPLINE_ERR_NOTE_EXPIRY', 'the Api passes the server\'s expiry refusal on');

    // Delete: a count, one audit entry with the count and the day only.
    const before = (await readAudit(store.db)).length;
    t.equal(await api.deleteNotes(desk, [posted[1]!.id, unknown, posted[1]!.id, posted[0]!.id]), 2, 'deleting answers how many were there (the expired one not yet purged counts)');
    const after = await readAudit(store.db);
    t.equal(after.length, before + 1, 'one audit entry');
    const entry = after[after.length - 1]!;
    t.equal(entry.kind, 'notes-delete');
    t.equal(entry.day, today);
    t.same(JSON.parse(entry.detail), { notes: 2 }, 'with the count only');
    t.notOk([posted[0]!.id, posted[1]!.id].some((id) => entry.detail.includes(id)), 'no id in the chain');
    t.same((await store.db.selectFrom('desk_notes').select('id').execute()).map((r) => r.id), [posted[2]!.id], 'the rows are gone, the other stays');
    t.equal(await api.deleteNotes(desk, [posted[1]!.id]), 0, 'deleting again finds nothing');
    t.equal((await readAudit(store.db)).length, before + 1, 'and writes no entry');
    t.same(await api.fetchNotes(desk, [posted[1]!.id]), [], 'a deleted note is not fetched');

    // The cap: filled to one below with rows of a byte each (ids of letters a-j: valid ids, drawn by no server), one more post is taken, the next refused with 503.
    const liveNow = (await api.listNotes(desk)).notes.length;
    await sql`insert into desk_notes (id, envelope, posted_day, expires_day)
              select translate(lpad(g::text, 26, '0'), '0123456789', 'abcdefghij'), '\\x00'::bytea, ${today}::date, ${addDays(today, 1)}::date
                from generate_series(1, ${MAX_LIVE_NOTES - liveNow - 1}) g`.execute(store.db);
    const lastOne = await api.postNote(desk, envelope(10), addDays(today, 1));
    t.match(lastOne, { posted_day: today }, `the ${MAX_LIVE_NOTES}th live note is stored`);
    const full = await refusal(t, api.postNote(desk, envelope(10), addDays(today, 1)), 'TIPLINE_ERR_BUSY', 'one past the cap');
    t.equal(full?.status, 503);
    t.match(full?.message, new RegExp(`holds ${MAX_LIVE_NOTES} desk notes, its most`), 'with words that say why');
    t.ok((full?.retryAfterMs ?? 0) > 0, 'and when to try again');
    // One place left, three posts at once: the count and the insert are one step, so exactly one is stored.
    await store.db.deleteFrom('desk_notes').where('id', '=', lastOne.id).execute();
    // (Each on its own connection: the Api's one connection would send them one after another.)
    const race = await Promise.all([1, 2, 3].map(() => rawPost(server.staffUrl, newsroom.desk, '/api/v1/staff/notes', { envelope: toBase64(envelope(10)), expires_day: addDays(today, 1) })));
    t.same(race.map((r) => r.status).sort(), [201, 503, 503], 'three posts racing for the last place: one stored, two refused as full');
    const started = performance.now();
    const atCap = await api.listNotes(auditor);
    const ms = performance.now() - started;
    t.equal(atCap.notes.length, MAX_LIVE_NOTES, 'the list at the cap: every live note, within the client\'s answer limit');
    t.comment(`listing ${MAX_LIVE_NOTES} notes took ${Math.round(ms)} ms on ${dialect.name} (query, serialisation, transfer and parse)`);
    await store.db.deleteFrom('desk_notes').where('envelope', '=', new Uint8Array(1)).execute();
  });
}
