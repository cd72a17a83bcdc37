// The desks' shared notes end to end (client/desk/notes.ts over a real server and database): what one desk posts
// another reads; concurrent notes are both kept; a row the server inserts itself (sealed to the desks, but signed by
// a key no directory lists, or by one desk in another's name) is refused and never merged; a desk removed from the
// directory since still counts for the notes it wrote while listed; notes sealed before a desk was added count as
// not for it, are remembered and not fetched again; a sync of 600 notes takes 1 + ceil(n/256) round trips.
// PGlite only: PostgreSQL adds nothing here that test/notes_api.test.ts does not already cover.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { recipientOf, signNewsroomDirectory } from './helpers/fixtures.js';
import { Api } from '../client/cli/api.js';
import type { StaffIdentity } from '../client/cli/keyfiles.js';
import { DeskNotes, readSavedThreads } from '../client/desk/notes.js';
import { generateDeskKey } from '../crypto/keys.js';
import { toBase64Url } from '../crypto/bytes.js';
import { sealNote, type NoteOp } from '../crypto/desk-notes.js';
import type { Directory, Recipient } from '../crypto/directory.js';
import { publishDirectory } from '../server/directory.js';
import { newNoteId } from '../server/store/notes.js';
import { addDays, utcDay } from '../server/days.js';
import { randomBytes } from 'node:crypto';

const [pglite] = await dialects();
const THREAD = 'tip:abcdefghijklmnopqrstuvwxyz';
const OTHER = 'tip:bbbbbbbbbbbbbbbbbbbbbbbbbb';

t.test('desk notes sync between desks', { timeout: 600_000 }, async (t) => {
  const { store, newsroom, server } = await newsroomServer(t, pglite!);
  const today = utcDay(new Date());
  const expires = addDays(today, 7);
  const A: StaffIdentity = { ...newsroom.desk, role: 'desk' };
  const B: StaffIdentity = { ...generateDeskKey(), name: 'desk-b', role: 'desk' };
  const C: StaffIdentity = { ...generateDeskKey(), name: 'desk-c', role: 'desk' };
  const D: StaffIdentity = { ...generateDeskKey(), name: 'desk-d', role: 'desk' };
  const X = generateDeskKey(); // the hostile server's own key
  const auditor = recipientOf(newsroom.auditor.name, 'auditor', newsroom.auditor);
  const entry = (k: StaffIdentity): Recipient => recipientOf(k.name, 'desk', k);

  let current: Directory;
  async function publish(recipients: Recipient[]): Promise<void> {
    const doc = signNewsroomDirectory(newsroom, recipients);
    await publishDirectory(store.db, doc, new Date());
    current = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8')) as Directory;
  }
  await publish([entry(A), entry(B), entry(D), auditor]);

  const api = new Api(new URL(server.staffUrl));
  t.teardown(() => api.close());
  const root = mkdtempSync(join(tmpdir(), 'tipline-notes-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const desk = (k: StaffIdentity, dir = k.name) => new DeskNotes(api, k, join(root, dir), () => current);
  const a = desk(A);
  const b = desk(B);
  const d = desk(D);

  // A posts status, tag and note; B reads them.
  const status = await a.post(THREAD, { kind: 'status', status: 'in-progress' }, expires);
  const tag = await a.post(THREAD, { kind: 'tag-add', tag: 'élection 2026' }, expires);
  const first = await a.post(THREAD, { kind: 'note', text: 'Source called.\nSee the PDF.', supersedes: [] }, expires);
  t.equal(status.by, 'desk-a');
  t.ok(tag.clock > status.clock && first.clock > tag.clock, 'Lamport clock grows');
  const s1 = await b.sync();
  t.same([s1.added, s1.failed, s1.notForUs, s1.roundTrips], [3, 0, 0, 2]);
  let th = b.threads().get(THREAD)!;
  t.equal(th.status, 'in-progress');
  t.same(th.statusBy, { by: 'desk-a', at: status.at });
  t.same(th.tags, ['élection 2026']);
  t.same(th.notes.map((n) => n.text), ['Source called.\nSee the PDF.']);
  t.equal(statSync(join(root, 'desk-b', 'notes.json')).mode & 0o777, 0o600, 'notes.json is private');
  t.equal(statSync(join(root, 'desk-b', 'desks.json')).mode & 0o777, 0o600, 'desks.json is private');
  t.equal((await b.sync()).roundTrips, 1, 'nothing new: one list, no fetch');

  // Concurrent edits from A and B, each superseding the note it saw: both kept, on both desks.
  await a.post(THREAD, { kind: 'note', text: 'A: on it', supersedes: [first.op] }, expires);
  const bNote = await b.post(THREAD, { kind: 'note', text: 'B: me too', supersedes: [first.op] }, expires);
  t.equal(bNote.clock, first.clock + 1, "B's clock follows what it had seen");
  await a.sync();
  await b.sync();
  for (const x of [a, b]) t.same(x.threads().get(THREAD)!.notes.map((n) => n.text).sort(), ['A: on it', 'B: me too']);
  t.equal(b.threads().get(THREAD)!.clock, a.threads().get(THREAD)!.clock);

  // D writes while listed, then is removed from the directory; C is added.
  await d.sync();
  await d.post(OTHER, { kind: 'assign', desk: 'desk-d' }, expires);
  await publish([entry(A), entry(B), entry(C), auditor]);
  const sA = await a.sync();
  t.same([sA.added, sA.failed], [1, 0], "a former desk's note, written while it was listed, is read");
  t.equal(a.threads().get(OTHER)!.assignee, 'desk-d');
  const fresh = desk(B, 'desk-b-fresh'); // B on a new machine: never saw the directory listing D
  const sFresh = await fresh.sync();
  t.equal(sFresh.failed, 1, 'a desk that never saw D listed refuses its note (it cannot know D was a desk)');
  t.match(sFresh.errors[0], /no verified directory lists as a desk/);

  // C was added after everything so far: all not for it, not failed, and not fetched again.
  const c = desk(C);
  const held = (await a.sync(), a.ops().length);
  const sC = await c.sync();
  t.same([sC.added, sC.failed, sC.notForUs], [0, 0, held]);
  const sC2 = await c.sync();
  t.same([sC2.notForUs, sC2.roundTrips], [0, 1], 'remembered: not refetched');
  await a.post(THREAD, { kind: 'tag-add', tag: 'urgent' }, expires);
  t.same((await c.sync()).added, 1, 'a note posted after C was listed is for C');
  t.same(c.threads().get(THREAD)!.tags, ['urgent']);

  // The "server" inserts rows itself: sealed to every desk, but signed by its own key in A's name; and a real
  // desk (B) writing in A's name. Neither is merged.
  const forged: NoteOp = { v: 1, op: toBase64Url(new Uint8Array(randomBytes(16))), thread: THREAD, by: 'desk-a', at: new Date().toISOString(), clock: 999, kind: 'status', status: 'not-relevant' };
  const boxes = [A, B, C].map((k) => k.boxPublic);
  await store.db.insertInto('desk_notes').values({ id: newNoteId(), envelope: sealNote(forged, boxes, { signPublic: X.signPublic, signSecret: X.signSecret }), posted_day: today, expires_day: expires }).execute();
  const impersonation = { ...forged, op: toBase64Url(new Uint8Array(randomBytes(16))), status: 'done' as const };
  await api.postNote(B, sealNote(impersonation, boxes, { signPublic: B.signPublic, signSecret: B.signSecret }), expires);
  const sForged = await a.sync();
  t.same([sForged.added, sForged.failed], [0, 2], 'both forgeries fail');
  t.match(sForged.errors.join('\n'), /no verified directory lists as a desk/);
  t.match(sForged.errors.join('\n'), /names a desk other than the one that signed it/);
  th = a.threads().get(THREAD)!;
  t.equal(th.status, 'in-progress', 'the forged status is not merged');
  t.ok(th.clock < 999, 'nor its clock');
  t.same((await a.sync()).failed, 0, 'a failed note is remembered, not refetched and counted again');

  // Offline: the same state from the data folder alone.
  t.same(JSON.stringify(readSavedThreads(join(root, 'desk-a')).get(THREAD)), JSON.stringify(a.threads().get(THREAD)));
  t.same(readSavedThreads(join(root, 'nowhere')).size, 0);
  const saved = JSON.parse(readFileSync(join(root, 'desk-a', 'desks.json'), 'utf8')) as { desks: Record<string, string[]> };
  t.ok(Object.values(saved.desks).some((n) => n.includes('desk-d')), 'desks.json remembers the former desk');

  // Deleting the thread deletes its notes on the server and here; other desks forget them on their next sync.
  const onServer = (await api.listNotes(A)).notes.length;
  const threadOps = [...a.heldNotes().values()].filter((h) => h.state === 'ok' && h.op.thread === THREAD).length;
  t.equal(await a.deleteThread(THREAD), threadOps);
  t.equal(a.threads().has(THREAD), false);
  t.equal((await api.listNotes(A)).notes.length, onServer - threadOps);
  const sB = await b.sync();
  t.equal(sB.forgotten, 5, 'B forgets the five notes of the thread it held');
  t.equal(b.threads().has(THREAD), false);
  t.equal(b.threads().get(OTHER)!.assignee, 'desk-d');

  // 600 notes (inserted as the server would store them, sealed by A to A, B, C): a fresh desk syncs them in
  // 1 list + ceil(total / 256) fetches.
  const rows = [];
  for (let i = 0; i < 600; i++) {
    const op: NoteOp = { v: 1, op: toBase64Url(new Uint8Array(randomBytes(16))), thread: `tip:${'c'.repeat(25)}${'abcdefgh'[i % 8]}`, by: 'desk-a', at: new Date().toISOString(), clock: 100 + i, kind: 'tag-add', tag: `t${i}` };
    rows.push({ id: newNoteId(), envelope: sealNote(op, boxes, { signPublic: A.signPublic, signSecret: A.signSecret }), posted_day: today, expires_day: expires });
  }
  await store.db.insertInto('desk_notes').values(rows).execute();
  const total = (await api.listNotes(A)).notes.length;
  const big = desk(C, 'desk-c-600');
  const t0 = performance.now();
  const s600 = await big.sync();
  const ms = performance.now() - t0;
  t.equal(s600.roundTrips, 1 + Math.ceil(total / 256), `${total} notes in ${s600.roundTrips} round trips, ${ms.toFixed(0)} ms`);
  t.ok(s600.added >= 600);
  t.equal(big.threads().size, 8, 'the 8 threads of the 600 (OTHER was sealed before C was listed)');
  t.comment(`sync of ${total} notes: ${s600.roundTrips} round trips, ${ms.toFixed(0)} ms`);
});
