// Uploads through the HTTP API land as tips a desk can list, download and decrypt: chunks in any order, a
// chunk sent twice, a one-chunk tip in three round trips (connect, challenge, one POST), deletion recorded in
// the audit chain.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import http from 'node:http';
import { makeEnvelope, uploadEnvelope, openUpload, powHeaders, staffHeaders, collect, bin } from './helpers/fixtures.js';
import { signedDelete } from './helpers/deletion.js';
import { listTips } from './helpers/tips.js';
import { PowChallenge, Receipt } from '../schema/wire.js';
import { solvePow } from '../crypto/pow.js';
import { readAudit } from '../server/audit.js';
import { verifyChain } from '../crypto/audit-chain.js';
import { decryptEnvelope } from '../crypto/envelope/index.js';
import { utf8Decode } from '../crypto/bytes.js';

for (const dialect of await dialects()) {
  t.test(`upload flow on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    // Above the smallest envelope (65 673 bytes), so a short tip is one upload chunk, as with the default 1 MiB.
    const { store, newsroom, server } = await newsroomServer(t, dialect, { uploadChunkSize: 128 * 1024 });

    const fileBytes = new Uint8Array(700_000).map((_, i) => (i * 7) % 251);
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
      const list = await fetch(server.staffUrl + path, { headers: staffHeaders(newsroom.desk, 'GET', path) });
      t.equal(list.status, 200);
      const { tips } = (await list.json()) as { tips: { id: string; size: number; received_day: string }[] };
      t.same(tips.map((x) => x.id), [receipt.tip_id]);

      const dl = `/api/v1/staff/tips/${receipt.tip_id}`;
      const res = await fetch(server.staffUrl + dl, { headers: staffHeaders(newsroom.desk, 'GET', dl) });
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
      const u = await openUpload(server.url, envelope);
      t.ok(u.chunk_count > 3);
      t.equal(u.chunk_size, 128 * 1024, 'the chunk size the server was configured with');
      const r2 = await fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/2`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(2 * u.chunk_size, 3 * u.chunk_size)) });
      t.equal(r2.status, 200);
      const status = (await (await fetch(`${server.url}/api/v1/uploads/${u.id}`)).json()) as { received: number[]; chunk_count: number };
      t.same(status.received, [0, 2], 'chunk 0 came with the request that opened the upload');
      t.equal(status.chunk_count, u.chunk_count);
    });

    await t.test('a one-chunk tip: one connection, the challenge, one POST', async (t) => {
      const small = await makeEnvelope(newsroom, 'short tip');
      let connections = 0;
      const onConnection = () => connections++;
      server.app.server.on('connection', onConnection);
      t.teardown(() => server.app.server.off('connection', onConnection));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      t.teardown(() => agent.destroy());
      let requests = 0;
      const call = (method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array) =>
        new Promise<{ status: number; json: unknown }>((resolve, reject) => {
          requests++;
          const req = http.request(`${server.url}${path}`, { method, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
          });
          req.on('error', reject);
          req.end(body);
        });
      const c = PowChallenge.parse((await call('GET', '/api/v1/pow')).json);
      t.equal(c.chunk_size, 128 * 1024, 'the challenge announces the chunk size');
      t.ok(small.length <= c.chunk_size);
      const pow = { token: c.token, nonce: await solvePow(c.token, c.difficulty) };
      const put = await call('POST', `/api/v1/uploads?size=${small.length}&finish=1`, { ...powHeaders(pow), 'content-type': 'application/octet-stream' }, small);
      t.equal(put.status, 201);
      const receipt = Receipt.parse(put.json);
      t.equal(receipt.size, small.length);
      t.equal(requests, 2, 'two requests');
      t.equal(connections, 1, 'on one new connection: three round trips in all');
      t.ok((await listTips(server.staffUrl, newsroom.desk)).includes(receipt.tip_id), 'the tip is stored');
    });

    await t.test('a desk deletes a tip and the audit chain records it', async (t) => {
      const path = '/api/v1/staff/tips';
      const { tips } = (await (await fetch(server.staffUrl + path, { headers: staffHeaders(newsroom.desk, 'GET', path) })).json()) as { tips: { id: string }[] };
      t.ok(tips.length >= 1);
      const victim = tips[0]!.id;
      const del = `/api/v1/staff/tips/${victim}`;
      const r = await fetch(server.staffUrl + del, signedDelete(newsroom.desk, server.staffUrl, del));
      t.equal(r.status, 200);
      const again = await fetch(server.staffUrl + del, signedDelete(newsroom.desk, server.staffUrl, del));
      t.equal(again.status, 404);
      const chunks = await store.db.selectFrom('blob_chunks').select('idx').where('blob_id', '=', victim).execute();
      t.equal(chunks.length, 0, 'its chunks are gone');
      const audit = await readAudit(store.db);
      t.match(verifyChain(audit, newsroom.fingerprint), { ok: true }, 'the audit chain verifies from its root-bound genesis');
      t.ok(audit.some((e) => e.kind === 'staff-delete' && e.detail.includes('desk-a')));
      const auditPath = '/api/v1/staff/audit';
      const viaApi = await fetch(server.staffUrl + auditPath, { headers: staffHeaders(newsroom.auditor, 'GET', auditPath) });
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
