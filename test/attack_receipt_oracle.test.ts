// Attack (issue 7, items 7 and 8): finishing any stored tip's id again returned its receipt while an unknown id
// got 404, so whoever held a seized receipt could confirm the tip existed and had not been deleted; and the tip
// id was the upload id, so the finished upload's row (its expiry to the hour, kept as a dead tuple) joined the tip
// to a time finer than its day. Now the tip id is drawn at open and is not the upload id; a finished upload's id
// gives its receipt back only until the upload would have expired; a tip id, or that upload id afterwards,
// answers exactly like an id never seen; and after the retention pass no row holds the upload id.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { bin, makeEnvelope, openUpload } from './helpers/fixtures.js';
import { dumpDatabase, findLeaks } from './helpers/dump.js';
import { purgeExpired } from '../server/retention.js';

for (const dialect of await dialects()) {
  t.test(`receipt oracle and the upload-tip link on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    let clock = Date.parse('2026-06-10T09:41:27Z');
    const now = () => new Date(clock);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now, uploadChunkSize: 128 * 1024 });
    const envelope = await makeEnvelope(newsroom, 'seized later', [{ name: 'a.bin', bytes: new Uint8Array(200_000) }]);
    const u = await openUpload(server.url, envelope);
    const last = u.chunk_count - 1;
    for (let n = 1; n <= last; n++) {
      const r = await fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/${n}${n === last ? '?finish=1' : ''}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(n * u.chunk_size, (n + 1) * u.chunk_size)) });
      t.equal(r.status, n === last ? 201 : 200);
      if (n === last) var receipt = (await r.json()) as { tip_id: string; size: number; received_day: string };
    }
    const tipId = receipt!.tip_id;
    t.not(tipId, u.id, 'the tip id is not the upload id');
    t.same((await store.db.selectFrom('tips').select('id').execute()).map((r) => r.id), [tipId], 'the tip is stored under its own id');

    const finish = (id: string) => fetch(`${server.url}/api/v1/uploads/${id}/finish`, { method: 'POST' });
    const put = (id: string, q = '') => fetch(`${server.url}/api/v1/uploads/${id}/chunks/0${q}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(0, u.chunk_size)) });
    const status = (id: string) => fetch(`${server.url}/api/v1/uploads/${id}`);
    const answer = async (r: Promise<Response>) => {
      const res = await r;
      return { status: res.status, body: await res.text() };
    };
    const unknownId = 'q'.repeat(26);
    const asUnknown = { finish: await answer(finish(unknownId)), put: await answer(put(unknownId, '?finish=1')), status: await answer(status(unknownId)) };
    t.equal(asUnknown.finish.status, 404);

    // While the upload would still be open, its own id gets the receipt again (a source whose answer was lost).
    const again = await answer(finish(u.id));
    t.equal(again.status, 201, 'the upload id finishes again while the upload would still be open');
    t.same(JSON.parse(again.body), receipt!, 'with the same receipt');

    // The receipt oracle: a seized receipt names the tip id. Asking about it says nothing.
    t.same(await answer(finish(tipId)), asUnknown.finish, 'finishing a stored tip id answers exactly like an unknown id');
    t.same(await answer(put(tipId, '?finish=1')), asUnknown.put, 'sending its last chunk too');
    t.same(await answer(status(tipId)), asUnknown.status, 'and asking for its status');

    // After the upload's own expiry (idle expiry: minutes), its id is forgotten, before and after the purge.
    clock += 30 * 60_000;
    t.same(await answer(finish(u.id)), asUnknown.finish, 'past its expiry, the finished upload id answers like an unknown id');
    t.same(await answer(put(u.id, '?finish=1')), asUnknown.put, 'for its last chunk too');
    const purged = await purgeExpired(store.db, now());
    t.same(purged, { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'the purge deletes no tip and no open upload');
    t.same(await answer(finish(u.id)), asUnknown.finish, 'and after the purge');

    const dump = await dumpDatabase(store.db);
    t.same(findLeaks(dump, [u.id]), [], 'no row anywhere holds the upload id');
    t.same(findLeaks(dump, [tipId]), [tipId], '(the tip is still stored, under its own id)');
    const times = await store.db.selectFrom('upload_receipts').selectAll().execute();
    t.same(times, [], 'no receipt row (upload id, tip id, expiry) is left');
  });
}
