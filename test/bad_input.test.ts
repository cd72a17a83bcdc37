// Bad input gets a clear 4xx JSON error, never a 500 or a stack trace, and stores nothing.
import t, { type Test } from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope, solvedPow, staffHeaders } from './helpers/fixtures.js';
import { bin } from './helpers/fixtures.js';

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
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      t.equal(body.error?.code, code);
      t.type(body.error?.message, 'string');
      t.notMatch(body.error?.message ?? '', /at .*\.js:\d+/, 'no stack trace');
    }
    async function newUpload(size = envelope.length) {
      const r = await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: json, body: JSON.stringify({ pow: await solvedPow(server.url), size }) });
      return (await r.json()) as { id: string; chunk_size: number; chunk_count: number };
    }
    const put = (id: string, n: number | string, body: Uint8Array, query = '') =>
      fetch(`${server.url}/api/v1/uploads/${id}/chunks/${n}${query}`, { method: 'PUT', headers: octets, body: bin(body) });

    await t.test('malformed envelope framing', async (t) => {
      const u = await newUpload();
      const garbage = envelope.slice(0, u.chunk_size);
      garbage[0] = 0x41;
      await expectError(t, await put(u.id, 0, garbage), 400, 'TIPLINE_ERR_FRAMING');
      const wrongVersion = envelope.slice(0, u.chunk_size);
      wrongVersion[7] = 1; // version 1 envelopes are refused
      await expectError(t, await put(u.id, 0, wrongVersion), 400, 'TIPLINE_ERR_FRAMING');
      const u2 = await newUpload(envelope.length + 1); // a length no envelope can have
      await expectError(t, await put(u2.id, 0, envelope.slice(0, u2.chunk_size)), 400, 'TIPLINE_ERR_FRAMING');
      t.same(await counts(), { tips: 0, chunks: 0 });
    });

    await t.test('a chunk too large, or of the wrong length', async (t) => {
      const u = await newUpload();
      await expectError(t, await put(u.id, 1, new Uint8Array(u.chunk_size + 1)), 413, 'TIPLINE_ERR_BODY_TOO_LARGE');
      await expectError(t, await put(u.id, 1, new Uint8Array(10)), 400, 'TIPLINE_ERR_CHUNK_SIZE');
      t.same(await counts(), { tips: 0, chunks: 0 });
    });

    await t.test('chunk index out of range', async (t) => {
      const u = await newUpload();
      await expectError(t, await put(u.id, u.chunk_count, new Uint8Array(10)), 400, 'TIPLINE_ERR_CHUNK_OUT_OF_RANGE');
      await expectError(t, await put(u.id, -1, new Uint8Array(10)), 400, 'TIPLINE_ERR_BAD_REQUEST');
      await expectError(t, await put(u.id, 'x', new Uint8Array(10)), 400, 'TIPLINE_ERR_BAD_REQUEST');
      t.same(await counts(), { tips: 0, chunks: 0 });
    });

    await t.test('finish with a missing chunk', async (t) => {
      const u = await newUpload();
      t.ok(u.chunk_count >= 2);
      const r0 = await put(u.id, 0, envelope.subarray(0, u.chunk_size));
      t.equal(r0.status, 200);
      const fin = await fetch(`${server.url}/api/v1/uploads/${u.id}/finish`, { method: 'POST' });
      await expectError(t, fin, 409, 'TIPLINE_ERR_UPLOAD_INCOMPLETE');
      t.equal((await counts()).tips, 0, 'no tip appears');
      await store.db.deleteFrom('blob_chunks').execute();
    });

    await t.test('unknown upload', async (t) => {
      await expectError(t, await put('a'.repeat(26), 0, new Uint8Array(10)), 404, 'TIPLINE_ERR_UPLOAD_UNKNOWN');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads/${'b'.repeat(26)}/finish`, { method: 'POST' }), 404, 'TIPLINE_ERR_UPLOAD_UNKNOWN');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads/not-an-id/finish`, { method: 'POST' }), 400, 'TIPLINE_ERR_BAD_REQUEST');
    });

    await t.test('bad, forged or reused proof-of-work', async (t) => {
      const before = (await store.db.selectFrom('uploads').select('id').execute()).length;
      const create = (pow: unknown) => fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: json, body: JSON.stringify({ pow, size: envelope.length }) });
      const c = (await (await fetch(`${server.url}/api/v1/pow`)).json()) as { token: string; difficulty: number };
      // Difficulty 4 in tests: find a counter that does NOT solve it.
      const { powHash, leadingZeroBits } = await import('../crypto/pow.js');
      let bad = 0;
      while (leadingZeroBits(powHash(c.token, String(bad))) >= c.difficulty) bad++;
      await expectError(t, await create({ token: c.token, nonce: String(bad) }), 403, 'TIPLINE_ERR_POW_INVALID');
      const forged = c.token.slice(0, -4) + (c.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      await expectError(t, await create({ token: forged, nonce: '1' }), 403, 'TIPLINE_ERR_POW_INVALID');
      await expectError(t, await create({ token: 'not base64!', nonce: '1' }), 403, 'TIPLINE_ERR_POW_INVALID');
      await expectError(t, await create({ nonce: '1' }), 400, 'TIPLINE_ERR_BAD_REQUEST');
      const good = await solvedPow(server.url);
      t.equal((await create(good)).status, 201);
      await expectError(t, await create(good), 403, 'TIPLINE_ERR_POW_REUSED');
      t.equal((await store.db.selectFrom('uploads').select('id').execute()).length, before + 1, 'only the valid one opened an upload');
    });

    await t.test('oversized or malformed JSON, wrong content type', async (t) => {
      const big = JSON.stringify({ pow: { token: 'x'.repeat(20_000), nonce: '1' }, size: 100 });
      await expectError(t, await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: json, body: big }), 413, 'TIPLINE_ERR_BODY_TOO_LARGE');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: json, body: '{"pow":' }), 400, 'TIPLINE_ERR_BAD_REQUEST');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }), 415, 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE');
      await expectError(t, await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: json, body: JSON.stringify({ pow: await solvedPow(server.url), size: 1e12 }) }), 413, 'TIPLINE_ERR_ENVELOPE_TOO_LARGE');
      const u = await newUpload();
      await expectError(t, await fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/0`, { method: 'PUT', headers: json, body: '{}' }), 415, 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE');
      await expectError(t, await fetch(`${server.url}/no/such/route`), 404, 'TIPLINE_ERR_NOT_FOUND');
    });

    await t.test('unsigned, badly signed, stale, replayed and unauthorised staff requests', async (t) => {
      const path = '/api/v1/staff/tips';
      const get = (headers: Record<string, string>) => fetch(server.url + path, { headers });
      await expectError(t, await get({}), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      const h = staffHeaders(newsroom.desk, 'GET', path);
      const bad = { ...h, 'tipline-signature': staffHeaders(newsroom.desk, 'GET', '/other')['tipline-signature']! };
      await expectError(t, await get(bad), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      await expectError(t, await get(staffHeaders(newsroom.desk, 'GET', path, { timestamp: Math.floor(Date.now() / 1000) - 3600 })), 401, 'TIPLINE_ERR_STALE_REQUEST');
      t.equal((await get(h)).status, 200, 'a fresh signed request passes');
      await expectError(t, await get(h), 401, 'TIPLINE_ERR_REPLAYED');
      await expectError(t, await get(staffHeaders(newsroom.outsider, 'GET', path)), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      await expectError(t, await get(staffHeaders(newsroom.desk, 'GET', path, { host: 'another-tipline.onion' })), 401, 'TIPLINE_ERR_UNAUTHENTICATED'); // signed for another server
      await expectError(t, await get(staffHeaders(newsroom.auditor, 'GET', path)), 403, 'TIPLINE_ERR_FORBIDDEN');
      await expectError(t, await get({ ...h, 'tipline-key': 'nonsense' }), 401, 'TIPLINE_ERR_UNAUTHENTICATED');
      const fresh = staffHeaders(newsroom.desk, 'GET', path);
      await expectError(t, await get({ ...fresh, 'tipline-signature': `${'A'.repeat(85)}B==` }), 401, 'TIPLINE_ERR_UNAUTHENTICATED'); // non-canonical base64
    });

    t.notMatch(server.logs(), /"status":5\d\d/, 'no request ended in a 5xx');
  });
}
