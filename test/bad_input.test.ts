// Bad input gets a clear 4xx JSON error, never a 500 or a stack trace, and stores nothing.
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { startServer } from './helpers/server.js';
import { bin, makeEnvelope, openUpload, postUpload, signFor, solvedPow, staffHeaders } from './helpers/fixtures.js';
import { ErrorBody } from '../schema/errors.js';

const json = { 'content-type': 'application/json' };
const octets = { 'content-type': 'application/octet-stream' };

for (const dialect of await dialects()) {
  t.test(`bad input on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect, { uploadChunkSize: 64 * 1024 });
    const envelope = await makeEnvelope(newsroom, 'x', [{ name: 'a.bin', bytes: new Uint8Array(100_000) }]);

    const counts = async () => ({
      tips: (await store.db.selectFrom('tips').select('id').execute()).length,
      chunks: (await store.db.selectFrom('blob_chunks').select('idx').execute()).length,
    });
    async function expectError(t: Test, res: Response, status: number, code: string) {
      t.equal(res.status, status, `status ${status} for ${code}`);
      t.match(res.headers.get('content-type') ?? '', /application\/json/);
      const parsed = ErrorBody.safeParse(await res.json());
      t.ok(parsed.success, `${code}: the answer is an ErrorBody with a known code`);
      t.equal(parsed.data?.error.code, code);
      t.notMatch(parsed.data?.error.message ?? '', /at .*\.js:\d+/, 'no stack trace');
    }
    const open = (o: { pow: { token: string; nonce: string }; size?: number; body?: Uint8Array; finish?: boolean }) =>
      postUpload(server.url, { size: envelope.length, body: envelope.subarray(0, 64 * 1024), ...o });
    async function newUpload() {
      return openUpload(server.url, envelope);
    }
    const put = (id: string, n: number | string, body: Uint8Array, query = '') =>
      fetch(`${server.url}/api/v1/uploads/${id}/chunks/${n}${query}`, { method: 'PUT', headers: octets, body: bin(body) });
    const powRows = async () => (await store.db.selectFrom('pow_redeemed').select('id').execute()).length;

    await t.test('malformed envelope framing', async (t) => {
      const before = await powRows();
      const garbage = envelope.slice(0, 64 * 1024);
      garbage[0] = 0x41;
      await expectError(t, await open({ pow: await solvedPow(server.url), body: garbage }), 400, 'TIPLINE_ERR_FRAMING');
      const wrongVersion = envelope.slice(0, 64 * 1024);
      wrongVersion[7] = 1; // version 1 envelopes are refused
      await expectError(t, await open({ pow: await solvedPow(server.url), body: wrongVersion }), 400, 'TIPLINE_ERR_FRAMING');
      // A length no envelope can have.
      await expectError(t, await open({ pow: await solvedPow(server.url), size: envelope.length + 1 }), 400, 'TIPLINE_ERR_FRAMING');
      t.same(await counts(), { tips: 0, chunks: 0 });
      t.equal(await powRows(), before, 'a refused opening does not spend its proof-of-work');
      const u = await newUpload();
      await expectError(t, await put(u.id, 0, garbage), 400, 'TIPLINE_ERR_FRAMING');
      await expectError(t, await put(u.id, 0, wrongVersion), 400, 'TIPLINE_ERR_FRAMING');
      t.same(await counts(), { tips: 0, chunks: 1 }, 'chunk 0 as it came with the opening request, not replaced');
      await store.db.deleteFrom('blob_chunks').execute();
    });

    await t.test('a chunk too large, or of the wrong length', async (t) => {
      const u = await newUpload();
      await store.db.deleteFrom('blob_chunks').execute();
      await expectError(t, await put(u.id, 1, new Uint8Array(u.chunk_size + 1)), 413, 'TIPLINE_ERR_BODY_TOO_LARGE');
      await expectError(t, await put(u.id, 1, new Uint8Array(10)), 400, 'TIPLINE_ERR_CHUNK_SIZE');
      await expectError(t, await open({ pow: await solvedPow(server.url), body: envelope.subarray(0, 100) }), 400, 'TIPLINE_ERR_CHUNK_SIZE');
      await expectError(t, await open({ pow: await solvedPow(server.url), body: envelope.subarray(0, 64 * 1024 + 1) }), 413, 'TIPLINE_ERR_BODY_TOO_LARGE');
      t.same(await counts(), { tips: 0, chunks: 0 });
    });

    await t.test('chunk index out of range', async (t) => {
      const u = await newUpload();
      await store.db.deleteFrom('blob_chunks').execute();
      await expectError(t, await put(u.id, u.chunk_count, new Uint8Array(10)), 400, 'TIPLINE_ERR_CHUNK_OUT_OF_RANGE');
      await expectError(t, await put(u.id, -1, new Uint8Array(10)), 400, 'TIPLINE_ERR_BAD_REQUEST');
      await expectError(t, await put(u.id, 'x', new Uint8Array(10)), 400, 'TIPLINE_ERR_BAD_REQUEST');
      t.same(await counts(), { tips: 0, chunks: 0 });
    });

    await t.test('finish with a missing chunk', async (t) => {
      const u = await newUpload();
      t.ok(u.chunk_count >= 2);
      const fin = await fetch(`${server.url}/api/v1/uploads/${u.id}/finish`, { method: 'POST' });
      await expectError(t, fin, 409, 'TIPLINE_ERR_UPLOAD_INCOMPLETE');
      // finish=1 on an envelope of several chunks is refused before anything is read or stored.
      await expectError(t, await open({ pow: await solvedPow(server.url), finish: true }), 409, 'TIPLINE_ERR_UPLOAD_INCOMPLETE');
      t.equal((await counts()).tips, 0, 'no tip appears');
      await store.db.deleteFrom('blob_chunks').execute();
    });

    await t.test('unknown upload', async (t) => {
      await expectError(t, await put('a'.repeat(26), 0, new Uint8Array(10)), 404, 'TIPLINE_ERR_UPLOAD_UNKNOWN');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads/${'b'.repeat(26)}/finish`, { method: 'POST' }), 404, 'TIPLINE_ERR_UPLOAD_UNKNOWN');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads/${'b'.repeat(26)}`), 404, 'TIPLINE_ERR_UPLOAD_UNKNOWN');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads/not-an-id/finish`, { method: 'POST' }), 400, 'TIPLINE_ERR_BAD_REQUEST');
    });

    await t.test('bad, forged, expired, too easy or reused proof-of-work: one code for each', async (t) => {
      const before = (await store.db.selectFrom('uploads').select('id').execute()).length;
      const c = (await (await fetch(`${server.url}/api/v1/pow`)).json()) as { token: string; difficulty: number };
      // Difficulty 4 in tests: find a counter that does NOT solve it.
      const { powHash, leadingZeroBits, solvePow } = await import('../crypto/pow.js');
      let bad = 0;
      while (leadingZeroBits(await powHash(c.token, String(bad))) >= c.difficulty) bad++;
      await expectError(t, await open({ pow: { token: c.token, nonce: String(bad) } }), 403, 'TIPLINE_ERR_POW_WRONG');
      const forged = c.token.slice(0, -4) + (c.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      await expectError(t, await open({ pow: { token: forged, nonce: '1' } }), 403, 'TIPLINE_ERR_POW_FOREIGN');
      await expectError(t, await open({ pow: { token: 'not base64!', nonce: '1' } }), 403, 'TIPLINE_ERR_POW_MALFORMED');
      await expectError(t, await open({ pow: { token: c.token.slice(0, 20), nonce: '1' } }), 403, 'TIPLINE_ERR_POW_MALFORMED');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads?size=${envelope.length}`, { method: 'POST', headers: { ...octets, 'tipline-pow-token': c.token }, body: bin(envelope.subarray(0, 64 * 1024)) }), 400, 'TIPLINE_ERR_BAD_REQUEST');
      // Challenges issued by servers sharing this database (and so its PoW secret): one a day behind, one easier.
      const solve = async (url: string) => {
        const x = (await (await fetch(`${url}/api/v1/pow`)).json()) as { token: string; difficulty: number };
        return { token: x.token, nonce: await solvePow(x.token, x.difficulty) };
      };
      const yesterday = await startServer({ db: store.db, now: () => new Date(Date.now() - 86_400_000) });
      const easier = await startServer({ db: store.db, powDifficulty: 1 });
      signFor(server.staffUrl);
      try {
        await expectError(t, await open({ pow: await solve(yesterday.url) }), 403, 'TIPLINE_ERR_POW_EXPIRED');
        await expectError(t, await open({ pow: await solve(easier.url) }), 403, 'TIPLINE_ERR_POW_TOO_EASY');
      } finally {
        await yesterday.close();
        await easier.close();
      }
      const good = await solvedPow(server.url);
      const first = await open({ pow: good });
      t.equal(first.status, 201);
      const again = await open({ pow: good });
      t.equal(again.status, 201, 'the same opening request again (its answer lost) finds the same upload');
      t.same(await again.json(), await first.json());
      await expectError(t, await open({ pow: good, size: envelope.length + 64 * 1024 }), 403, 'TIPLINE_ERR_POW_REUSED');
      t.equal((await store.db.selectFrom('uploads').select('id').execute()).length, before + 1, 'only the valid one opened an upload');
      await store.db.deleteFrom('blob_chunks').execute();
    });

    await t.test('wrong content type, sizes refused before the body, malformed JSON', async (t) => {
      const pow = { token: 'x', nonce: '1' };
      await expectError(t, await open({ pow, size: 1e12 }), 413, 'TIPLINE_ERR_ENVELOPE_TOO_LARGE');
      await expectError(t, await open({ pow, size: 10 }), 400, 'TIPLINE_ERR_FRAMING');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: octets, body: bin(envelope.subarray(0, 100)) }), 400, 'TIPLINE_ERR_BAD_REQUEST');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads?size=-5`, { method: 'POST', headers: octets, body: bin(envelope.subarray(0, 100)) }), 400, 'TIPLINE_ERR_BAD_REQUEST');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads?size=${envelope.length}`, { method: 'POST', headers: json, body: '{"pow":{}}' }), 415, 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads?size=${envelope.length}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }), 415, 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE');
      const u = await newUpload();
      await expectError(t, await fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/1`, { method: 'PUT', headers: json, body: '{}' }), 415, 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE');
      const del = `/api/v1/staff/tips/${u.id}`;
      await expectError(t, await fetch(server.staffUrl + del, { method: 'DELETE', headers: { ...staffHeaders(newsroom.desk, 'DELETE', del), ...json }, body: '{"x":' }), 400, 'TIPLINE_ERR_BAD_REQUEST');
      await expectError(t, await fetch(server.staffUrl + del, { method: 'DELETE', headers: { ...staffHeaders(newsroom.desk, 'DELETE', del), ...json }, body: JSON.stringify({ x: 'y'.repeat(20_000) }) }), 413, 'TIPLINE_ERR_BODY_TOO_LARGE');
      await expectError(t, await fetch(`${server.url}/no/such/route`), 404, 'TIPLINE_ERR_NOT_FOUND');
      await store.db.deleteFrom('blob_chunks').execute();
    });

    await t.test('a chunk for an id that is not one is refused before its body, like an unknown upload', async (t) => {
      // Headers announce a full chunk and no byte of it follows: an answer can only come before the body.
      const { hostname, port } = new URL(server.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const s = connect(Number(port), hostname, () =>
          s.write(`PUT /api/v1/uploads/not-an-id/chunks/0 HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n`),
        );
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d;
          if (got.includes('\r\n\r\n')) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        s.setTimeout(10_000, () => (s.destroy(), resolve('(no answer before the body)')));
      });
      t.match(answer, /^HTTP\/1\.1 400 /, 'a 400 before the body: junk ids cannot send bodies past the cap on bodies in flight');
    });

    await t.test('unsigned, badly signed, stale, replayed and unauthorised staff requests', async (t) => {
      const path = '/api/v1/staff/tips';
      const get = (headers: Record<string, string>) => fetch(server.staffUrl + path, { headers });
      await expectError(t, await get({}), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      const h = staffHeaders(newsroom.desk, 'GET', path);
      const bad = { ...h, 'tipline-signature': staffHeaders(newsroom.desk, 'GET', '/other')['tipline-signature']! };
      await expectError(t, await get(bad), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      await expectError(t, await get(staffHeaders(newsroom.desk, 'GET', path, { timestamp: Math.floor(Date.now() / 1000) - 3600 })), 401, 'TIPLINE_ERR_STALE_REQUEST');
      t.equal((await get(h)).status, 200, 'a fresh signed request passes');
      await expectError(t, await get(h), 401, 'TIPLINE_ERR_REPLAYED');
      await expectError(t, await get(staffHeaders(newsroom.outsider, 'GET', path)), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      await expectError(t, await get(staffHeaders(newsroom.desk, 'GET', path, { host: 'another-tipline.onion' })), 401, 'TIPLINE_ERR_UNAUTHENTICATED'); // signed for another server
      t.equal((await get(staffHeaders(newsroom.auditor, 'GET', path))).status, 200, 'an auditor lists the tips (metadata)');
      const one = `/api/v1/staff/tips/${'a'.repeat(26)}`;
      await expectError(t, await fetch(server.staffUrl + one, { headers: staffHeaders(newsroom.auditor, 'GET', one) }), 403, 'TIPLINE_ERR_FORBIDDEN'); // but reads no tip
      await expectError(t, await get({ ...h, 'tipline-key': 'nonsense' }), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      const fresh = staffHeaders(newsroom.desk, 'GET', path);
      await expectError(t, await get({ ...fresh, 'tipline-signature': `${'A'.repeat(85)}B==` }), 401, 'TIPLINE_ERR_UNAUTHENTICATED'); // non-canonical base64
    });

    t.notMatch(server.logs(), /"status":5\d\d/, 'no request ended in a 5xx');
  });
}
