// Attack (review of issue 10): a listed desk posts a note whose Lamport clock is the highest the format accepts
// (2^48). Every other desk that merges it computes its next clock as 2^48 + 1, which validateNoteOp refuses: no
// desk could post a status, tag or note again, on any thread, until that note expired. The desk's copy must
// refuse a clock far beyond what it has seen, so the others keep working.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { recipientOf, signNewsroomDirectory } from './helpers/fixtures.js';
import { Api } from '../client/cli/api.js';
import type { StaffIdentity } from '../client/cli/keyfiles.js';
import { DeskNotes } from '../client/desk/notes.js';
import { generateDeskKey } from '../crypto/keys.js';
import { toBase64Url } from '../crypto/bytes.js';
import { MAX_NOTE_CLOCK, sealNote, type NoteOp } from '../crypto/desk-notes.js';
import type { Directory } from '../crypto/directory.js';
import { publishDirectory } from '../server/directory.js';
import { addDays, utcDay } from '../server/days.js';

const [pglite] = await dialects();
const THREAD = 'tip:abcdefghijklmnopqrstuvwxyz';
const OTHER = 'tip:bbbbbbbbbbbbbbbbbbbbbbbbbb';

t.test('a listed desk posting clock 2^48 does not block the other desks', { timeout: 600_000 }, async (t) => {
  const { store, newsroom, server } = await newsroomServer(t, pglite!);
  const expires = addDays(utcDay(new Date()), 7);
  const A: StaffIdentity = { ...newsroom.desk, role: 'desk' };
  const M: StaffIdentity = { ...generateDeskKey(), name: 'desk-m', role: 'desk' }; // the misbehaving desk
  const doc = signNewsroomDirectory(newsroom, [recipientOf(A.name, 'desk', A), recipientOf(M.name, 'desk', M), recipientOf(newsroom.auditor.name, 'auditor', newsroom.auditor)]);
  await publishDirectory(store.db, doc, new Date());
  const current = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8')) as Directory;

  const api = new Api(new URL(server.staffUrl));
  t.teardown(() => api.close());
  const root = mkdtempSync(join(tmpdir(), 'tipline-clock-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const a = new DeskNotes(api, A, join(root, 'a'), () => current);
  const fresh = new DeskNotes(api, A, join(root, 'fresh'), () => current);

  const first = await a.post(THREAD, { kind: 'status', status: 'in-progress' }, expires);
  const huge: NoteOp = { v: 1, op: toBase64Url(new Uint8Array(randomBytes(16))), thread: THREAD, by: 'desk-m', at: new Date().toISOString(), clock: MAX_NOTE_CLOCK, kind: 'status', status: 'not-relevant' };
  await api.postNote(M, sealNote(huge, [A.boxPublic, M.boxPublic], { signPublic: M.signPublic, signSecret: M.signSecret }), expires);

  const s = await a.sync();
  t.equal(s.failed, 1, 'the note with a far-future clock is refused');
  t.match(s.errors.join('\n'), /clock/);
  t.equal(a.threads().get(THREAD)!.status, 'in-progress', 'its status is not merged');

  // The desk can still post, on this thread and any other.
  const next = await a.post(OTHER, { kind: 'tag-add', tag: 'still works' }, expires);
  t.equal(next.clock, first.clock + 1);
  const done = await a.post(THREAD, { kind: 'status', status: 'done' }, expires);
  t.equal(a.threads().get(THREAD)!.status, 'done');
  t.ok(done.clock < 1000);

  // A desk syncing everything at once (a new machine) refuses the same note and keeps the honest ones.
  const s2 = await fresh.sync();
  t.same([s2.added, s2.failed], [3, 1]);
  t.equal(fresh.threads().get(THREAD)!.status, 'done');
  await fresh.post(THREAD, { kind: 'status', status: 'in-progress' }, expires);
});
