// Uploads through the HTTP API land as tips a desk can list, download and decrypt: chunks in any order, a
// chunk sent twice, a one-chunk tip in three round trips, deletion recorded in the audit chain.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope, uploadEnvelope, solvedPow, staffHeaders, collect } from './helpers/fixtures.js';
import { bin } from './helpers/fixtures.js';
import { readAudit, verifyChain } from '../server/audit.js';
import { decryptEnvelope } from '../crypto/envelope/index.js';
import { utf8Decode } from '../crypto/bytes.js';

for (const dialect of await dialects()) {
  t.test(`upload flow on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    // Above the smallest envelope (65 673 bytes), so a short tip is one upload chunk, as with the default 1 MiB.
    const { store, newsroom, server } = await newsroomServer(t, dialect, { uploadChunkSize: 128 * 1024 });

    const fileBytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    const envelope = await makeEnvelope(newsroom, 'the agency asked for every critic', [{ name: 'demand.pdf', bytes: fileBytes }]);

    await t.test('chunks in reverse order, one sent twice, then finish', async (t) => {
      let sentTwice = false;
      const receipt = await uploadEnvelope(server.url, envelope, {
        order: (n) => {
          const order = [...Array(n).keys()].reverse();
          order.splice(2, 0, order[1]!); // a chunk repeated, as after a dropped connection
          sentTwice = true;
          return order;
        },
      });
      t.ok(sentTwice);
      t.match(receipt.tip_id, /^[a-z2-7]{26}$/);
      t.equal(receipt.size, envelope.length);
      t.match(receipt.received_day, /^\d{4}-\d{2}-\d{2}$/);

      const path = '/api/v1/staff/tips';
      const list = await fetch(server.url + path, { headers: staffHeaders(newsroom.desk, 'GET', path) });
      t.equal(list.status, 200);
      const { tips } = (await list.json()) as { tips: { id: string; size: number; received_day: string }[] };
      t.same(tips.map((x) => x.id), [receipt.tip_id]);

      const dl = `/api/v1/staff/tips/${receipt.tip_id}`;
      const res = await fetch(server.url + dl, { headers: staffHeaders(newsroom.desk, 'GET', dl) });
      t.equal(res.status, 200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      t.equal(bytes.length, envelope.length);
      t.ok(Buffer.from(bytes).equals(Buffer.from(envelope)), 'downloaded envelope is byte-identical');

      let message = '';
      const file: Uint8Array[] = [];
      async function* one() {
        yield bytes;
      }
      for await (const ev of decryptEnvelope(one(), newsroom.desk)) {
        if (ev.kind === 'manifest') message = ev.manifest.message;
        if (ev.kind === 'data') file.push(ev.bytes);
      }
      t.equal(message, 'the agency asked for every critic');
      t.ok(Buffer.from(await collect((async function* () { yield* file; })())).equals(Buffer.from(fileBytes)));
    });

    await t.test('upload status lists the chunks received so far', async (t) => {
      const created = await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pow: await solvedPow(server.url), size: envelope.length }) });
      const u = (await created.json()) as { id: string; chunk_size: number; chunk_count: number };
      await fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/2`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(2 * u.chunk_size, 3 * u.chunk_size)) });
      const status = (await (await fetch(`${server.url}/api/v1/uploads/${u.id}`)).json()) as { received: number[]; chunk_count: number };
      t.same(status.received, [2]);
      t.equal(status.chunk_count, u.chunk_count);
    });

    await t.test('a one-chunk tip completes in three sequential round trips', async (t) => {
      const small = await makeEnvelope(newsroom, 'short tip');
      let trips = 0;
      const f: typeof fetch = (input, init) => {
        trips++;
        return fetch(input, init);
      };
      const c = (await (await f(`${server.url}/api/v1/pow`)).json()) as { token: string; difficulty: number };
      const { solvePow } = await import('../crypto/pow.js');
      const pow = { token: c.token, nonce: solvePow(c.token, c.difficulty) };
      const created = await f(`${server.url}/api/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pow, size: small.length }) });
      const u = (await created.json()) as { id: string; chunk_count: number };
      t.equal(u.chunk_count, 1);
      const put = await f(`${server.url}/api/v1/uploads/${u.id}/chunks/0?finish=1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(small) });
      t.equal(put.status, 201);
      const receipt = (await put.json()) as { tip_id: string };
      t.equal(receipt.tip_id, u.id);
      t.equal(trips, 3);
    });

    await t.test('a desk deletes a tip and the audit chain records it', async (t) => {
      const path = '/api/v1/staff/tips';
      const { tips } = (await (await fetch(server.url + path, { headers: staffHeaders(newsroom.desk, 'GET', path) })).json()) as { tips: { id: string }[] };
      t.ok(tips.length >= 1);
      const victim = tips[0]!.id;
      const del = `/api/v1/staff/tips/${victim}`;
      const r = await fetch(server.url + del, { method: 'DELETE', headers: staffHeaders(newsroom.desk, 'DELETE', del) });
      t.equal(r.status, 200);
      const again = await fetch(server.url + del, { method: 'DELETE', headers: staffHeaders(newsroom.desk, 'DELETE', del) });
      t.equal(again.status, 404);
      const chunks = await store.db.selectFrom('blob_chunks').select('idx').where('blob_id', '=', victim).execute();
      t.equal(chunks.length, 0, 'its chunks are gone');
      const audit = await readAudit(store.db);
      t.equal(verifyChain(audit), undefined);
      t.ok(audit.some((e) => e.kind === 'staff-delete' && e.detail.includes('desk-a')));
      const auditPath = '/api/v1/staff/audit';
      const viaApi = await fetch(server.url + auditPath, { headers: staffHeaders(newsroom.auditor, 'GET', auditPath) });
      t.equal(viaApi.status, 200, 'an auditor key reads the audit log');
      t.equal(((await viaApi.json()) as { entries: unknown[] }).entries.length, audit.length);
    });

    await t.test('the published directory is served byte-for-byte', async (t) => {
      const r = await fetch(`${server.url}/.well-known/tipline/directory`);
      t.equal(r.status, 200);
      t.same(JSON.parse(utf8Decode(new Uint8Array(await r.arrayBuffer()))), newsroom.doc);
      t.equal(r.headers.get('cache-control'), 'no-store');
      t.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      t.equal(r.headers.get('referrer-policy'), 'no-referrer');
      t.notOk(r.headers.get('set-cookie'));
    });
  });
}
