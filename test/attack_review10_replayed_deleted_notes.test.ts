// Attack (review of issue 10): a hostile server keeps the envelopes of a deleted thread's notes (it was asked to
// delete them, and audited a count) and lists them again later under fresh ids. They are validly signed by a desk,
// so every desk merged them again: the deleted thread's status, tags and note text came back on the desks that
// had deleted it. A desk now remembers the operations it saw go (deleted or no longer listed) and refuses them
// when listed again.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { recipientOf, signNewsroomDirectory } from './helpers/fixtures.js';
import { Api } from '../client/cli/api.js';
import type { StaffIdentity } from '../client/cli/keyfiles.js';
import { DeskNotes } from '../client/desk/notes.js';
import { generateDeskKey } from '../crypto/keys.js';
import type { Directory } from '../crypto/directory.js';
import { publishDirectory } from '../server/directory.js';
import { newNoteId } from '../server/store/notes.js';
import { addDays, utcDay } from '../server/days.js';

const [pglite] = await dialects();
const THREAD = 'tip:abcdefghijklmnopqrstuvwxyz';

t.test('notes of a deleted thread listed again are not merged again', { timeout: 600_000 }, async (t) => {
  const { store, newsroom, server } = await newsroomServer(t, pglite!);
  const today = utcDay(new Date());
  const expires = addDays(today, 7);
  const A: StaffIdentity = { ...newsroom.desk, role: 'desk' };
  const B: StaffIdentity = { ...generateDeskKey(), name: 'desk-b', role: 'desk' };
  const doc = signNewsroomDirectory(newsroom, [recipientOf(A.name, 'desk', A), recipientOf(B.name, 'desk', B), recipientOf(newsroom.auditor.name, 'auditor', newsroom.auditor)]);
  await publishDirectory(store.db, doc, new Date());
  const current = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8')) as Directory;
  const api = new Api(new URL(server.staffUrl));
  t.teardown(() => api.close());
  const root = mkdtempSync(join(tmpdir(), 'tipline-replay-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const a = new DeskNotes(api, A, join(root, 'a'), () => current);
  const b = new DeskNotes(api, B, join(root, 'b'), () => current);

  await a.post(THREAD, { kind: 'status', status: 'in-progress' }, expires);
  await a.post(THREAD, { kind: 'note', text: 'The source is the clerk.', supersedes: [] }, expires);
  t.equal((await b.sync()).added, 2);
  // The server keeps a copy of what it is about to delete.
  const kept = await store.db.selectFrom('desk_notes').select(['envelope']).execute();
  t.equal(await a.deleteThread(THREAD), 2);
  t.equal((await b.sync()).forgotten, 2);
  t.notOk(b.threads().get(THREAD), 'gone on B');

  // ...and lists them again under new ids.
  for (const r of kept) await store.db.insertInto('desk_notes').values({ id: newNoteId(), envelope: r.envelope, posted_day: today, expires_day: expires }).execute();
  for (const [who, desk] of [['A', a], ['B', b]] as const) {
    const s = await desk.sync();
    t.equal(s.added, 0, `${who}: nothing merged again`);
    t.equal(s.failed, 2, `${who}: both refused`);
    t.notOk(desk.threads().get(THREAD), `${who}: the deleted thread stays deleted`);
  }
  // Also after a restart (the memory is in notes.json).
  const b2 = new DeskNotes(api, B, join(root, 'b'), () => current);
  await b2.sync();
  t.notOk(b2.threads().get(THREAD), 'after a restart too');
});
