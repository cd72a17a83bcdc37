// Attack (issue 7, items 1 and 3): eight openings that each claimed 2.5 GiB and sent nothing more filled the
// 20 GiB in-progress cap for a day, so every honest source got 503 (under a second of CPU); the cap's check and
// the insert were not atomic; finished tips had no bound at all. Now uploads are charged for bytes RECEIVED,
// atomically on one counter row (also for two server instances on one database), an upload that receives
// nothing expires in minutes, and stored tips have their own quota, refused with 503 + Retry-After.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { startServer } from './helpers/server.js';
import { openDatabase } from '../server/db.js';
import { bin, makeEnvelope, openUpload, postUpload, signFor, solvedPow, uploadEnvelope } from './helpers/fixtures.js';
import { claimedLength, openClaim } from './helpers/upload-flood.js';
import { purgeExpired } from '../server/retention.js';
import { quotaState } from '../server/store/uploads.js';

const GiB = 1024 ** 3;
// Quotas are under test here, not load: a slow shared machine must not turn these openings away as overload.
const load = { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 };

for (const dialect of await dialects()) {
  t.test(`upload quotas on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    await t.test('eight openings claiming 2.5 GiB each do not lock honest sources out', async (t) => {
      // The defaults: 20 GiB in progress, 2.5 GiB per envelope, 1 MiB chunks.
      const { store, newsroom, server } = await newsroomServer(t, dialect, { load });
      const envelope = await makeEnvelope(newsroom, 'the flooder copies a real header');
      const claimed = claimedLength(2.4 * GiB);
      t.ok(claimed > 2.3 * GiB && claimed <= 2.5 * GiB, `each claims ${claimed} bytes`);
      // Twelve, not eight: 30 GiB claimed, half again over the cap the claims used to count against.
      for (let i = 0; i < 12; i++) {
        const r = await openClaim(server.url, envelope, claimed);
        t.equal(r.status, 201, `claim ${i + 1} opens (it paid its PoW and sent its first chunk)${r.status === 201 ? '' : `: ${await r.text()}`}`);
      }
      const q = await quotaState(store.db);
      t.equal(q.pending, 12 * 1024 * 1024, 'charged for the 12 MiB received, not the 30 GiB claimed');
      const honest = await uploadEnvelope(server.url, await makeEnvelope(newsroom, 'an honest source after the flood'));
      t.match(honest.tip_id, /^[a-z2-7]{26}$/, 'an honest source still gets its tip stored');
      const state = await quotaState(store.db);
      t.equal(state.stored, honest.size, 'the stored quota holds the finished tip');
      t.equal(state.pending, 12 * 1024 * 1024, 'and the finished upload left the in-progress quota');
    });

    await t.test('concurrent openings on two server instances cannot pass the cap together', async (t) => {
      const chunk = 128 * 1024;
      const { store, newsroom, server } = await newsroomServer(t, dialect, { load, uploadChunkSize: chunk, maxPendingBytes: 5 * chunk });
      // A second instance on the same database (its own connection pool on PostgreSQL).
      const other = dialect.name === 'postgres' ? await openDatabase({ url: store.where }) : undefined;
      const second = await startServer({ db: other?.db ?? store.db, load, uploadChunkSize: chunk, maxPendingBytes: 5 * chunk });
      signFor(server.url);
      t.teardown(async () => {
        await second.close();
        await other?.close();
      });
      const envelope = await makeEnvelope(newsroom, 'concurrent', [{ name: 'a.bin', bytes: new Uint8Array(400_000) }]);
      t.ok(envelope.length > chunk, 'more than one chunk: each opening is charged one full chunk');
      // Solved first, then sent all at once: the check-and-charge is what races.
      const pows = await Promise.all(Array.from({ length: 16 }, (_, i) => solvedPow(i % 2 ? second.url : server.url)));
      const answers = await Promise.all(pows.map((pow, i) => postUpload(i % 2 ? second.url : server.url, { pow, size: envelope.length, body: envelope.subarray(0, chunk) })));
      const statuses = answers.map((r) => r.status);
      t.equal(statuses.filter((s) => s === 201).length, 5, `exactly five fit under the cap (${statuses.join(' ')})`);
      t.equal(statuses.filter((s) => s === 503).length, 11, 'the others are refused');
      for (const r of answers.filter((a) => a.status === 503)) {
        t.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'with Retry-After');
        t.equal(((await r.json()) as { error: { code: string } }).error.code, 'TIPLINE_ERR_BUSY');
      }
      const rows = await store.db.selectFrom('uploads').select(['received_bytes']).execute();
      t.equal(rows.length, 5, 'five uploads stored');
      t.equal((await quotaState(store.db)).pending, 5 * chunk, 'the counter matches what was stored');
      t.equal((await store.db.selectFrom('pow_redeemed').select('id').execute()).length, 5, 'refused openings did not spend their PoW');
    });

    await t.test('an upload that receives nothing expires in minutes; chunks keep it alive', async (t) => {
      let clock = Date.parse('2026-05-04T10:00:00Z');
      const now = () => new Date(clock);
      const chunk = 128 * 1024;
      const { store, newsroom, server } = await newsroomServer(t, dialect, { load, now, uploadChunkSize: chunk });
      const envelope = await makeEnvelope(newsroom, 'slow source', [{ name: 'a.bin', bytes: new Uint8Array(500_000) }]);
      const idle = await openUpload(server.url, envelope);
      const busy = await openUpload(server.url, envelope);
      t.ok(idle.expires_in <= 15 * 60, `the opening says it lasts ${idle.expires_in} s idle`);
      const put = (id: string, n: number) => fetch(`${server.url}/api/v1/uploads/${id}/chunks/${n}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(n * chunk, (n + 1) * chunk)) });
      for (let n = 1; n <= 3; n++) {
        clock += 8 * 60_000;
        t.equal((await put(busy.id, n)).status, 200, `chunk ${n}, ${n * 8} minutes in`);
      }
      t.equal((await fetch(`${server.url}/api/v1/uploads/${idle.id}`)).status, 404, '24 minutes without a chunk: the idle upload is gone');
      t.equal((await fetch(`${server.url}/api/v1/uploads/${busy.id}`)).status, 200, 'the one receiving chunks is still open');
      t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 1, replies: 0, notes: 0 }, 'the retention pass deletes it');
      t.equal((await quotaState(store.db)).pending, envelope.length, 'and its bytes leave the quota (the other has all of its own)');
    });

    await t.test('stored tips are bounded: 503 + Retry-After at the quota, nothing kept unpaid', async (t) => {
      const { store, newsroom, server } = await newsroomServer(t, dialect, { load, maxStoredBytes: 3 * 70_000 });
      const tip = () => makeEnvelope(newsroom, 'junk with a valid header is still stored ciphertext');
      const first = await tip();
      t.ok(first.length < 70_000, `a short tip is ${first.length} bytes`);
      for (let i = 0; i < 3; i++) t.ok(await uploadEnvelope(server.url, await tip()), `tip ${i + 1} stored`);
      const pow = await solvedPow(server.url);
      const refused = await postUpload(server.url, { pow, size: first.length, body: await tip(), finish: true });
      t.equal(refused.status, 503, 'the fourth would pass the stored quota');
      t.match(refused.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'and says when to look again');
      t.match(((await refused.json()) as { error: { message: string } }).error.message, /cannot store more tips/);
      t.equal((await store.db.selectFrom('tips').select('id').execute()).length, 3, 'three tips, not four');
      t.equal((await quotaState(store.db)).stored, 3 * first.length, 'the counter holds exactly what is stored');
      t.equal((await store.db.selectFrom('uploads').select('id').execute()).length, 0, 'the refused one left no upload behind');
      // An upload under way when the quota fills is refused at finish, not stored unpaid.
      const big = await makeEnvelope(newsroom, 'two chunks', [{ name: 'a.bin', bytes: new Uint8Array(1_200_000) }]);
      t.ok(big.length > 3 * 70_000, 'larger than the whole stored quota');
      const r = await openClaim(server.url, big, big.length);
      t.equal(r.status, 503, 'an opening that could never be stored is refused when it opens');
    });
  });
}
