// Defences that the ordinary paths do not exercise: a hostile server answering `tipline fetch`, an .onion
// address without Tor, a repeated finish after a lost receipt, the in-progress quota and the busy cap,
// malformed HTTP and bad URL encoding answered in JSON.
import t from 'tap';
import Fastify from 'fastify';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { bin, makeEnvelope, openUpload, postUpload, solvedPow } from './helpers/fixtures.js';
import { encryptEnvelope } from '../crypto/envelope/index.js';

const [pglite] = await dialects();

t.test('fetch refuses tip ids from a hostile server that would escape the output folder', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-hostile-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  t.equal((await quickKeysInit(keys)).code, 0);
  const desk = JSON.parse(readFileSync(join(keys, 'desk.key'), 'utf8')) as { public: { box: string } };
  const boxPublic = new Uint8Array(Buffer.from(desk.public.box, 'base64'));
  const env = encryptEnvelope({ recipients: [boxPublic], manifest: { v: 2, sent_day: '2025-01-01', message: 'echo pwned', files: [] }, files: [] });
  const parts: Uint8Array[] = [];
  for await (const p of env.stream) parts.push(p);
  const evil = Fastify();
  const escape = '../../../../../../tmp/escaped-by-tipline-test';
  evil.get('/api/v1/staff/tips', async () => ({ tips: [{ id: escape, size: env.length, received_day: '\u001b]0;pwned\u0007\u001b[31m', expires_day: '2030-01-01' }] }));
  evil.get('/api/v1/staff/tips/*', async (_req, reply) => reply.type('application/octet-stream').send(Buffer.concat(parts)));
  await evil.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => evil.close());
  const url = `http://127.0.0.1:${(evil.server.address() as { port: number }).port}`;
  const out = join(work, 'inbox');
  const r = await runCli(['fetch', '--server', url, '--key', join(keys, 'desk.key'), '--out', out]);
  t.equal(r.code, 1);
  t.match(r.stderr, /tip list: the server's answer is malformed/);
  t.notOk(existsSync('/tmp/escaped-by-tipline-test'), 'nothing was written outside the output folder');
  t.notMatch(r.stdout + r.stderr, /\u001b/, 'no escape sequence from the server reached the terminal');
});

t.test('an .onion address without --socks is refused before any lookup', async (t) => {
  const r = await runCli(['submit', '--server', 'http://abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz23.onion', '--fingerprint', 'a'.repeat(32), '-m', 'x']);
  t.equal(r.code, 2);
  t.match(r.stderr, /\.onion address needs Tor: add --socks/);
});

t.test(`server defences on ${pglite!.name}`, async (t) => {
  const { store, newsroom, server } = await newsroomServer(t, pglite!, { maxPendingBytes: 200_000 });

  await t.test('finishing again after a lost receipt returns the same receipt', async (t) => {
    const envelope = await makeEnvelope(newsroom, 'twice');
    const u = await openUpload(server.url, envelope);
    t.equal(u.chunk_count, 1);
    const put = () => fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/0?finish=1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope) });
    const first = await put();
    t.equal(first.status, 201);
    const receipt = await first.json();
    const second = await put();
    t.equal(second.status, 201, 'the retried last chunk is answered with the receipt');
    t.same(await second.json(), receipt);
    const viaFinish = await fetch(`${server.url}/api/v1/uploads/${u.id}/finish`, { method: 'POST' });
    t.equal(viaFinish.status, 201);
    t.same(await viaFinish.json(), receipt);
    const overwrite = await fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/0`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope) });
    t.equal(overwrite.status, 404, 'but a finished tip cannot be written to');
    t.equal((await store.db.selectFrom('tips').select('id').execute()).length, 1, 'and there is still one tip');
  });

  await t.test('a one-request tip sent again after a lost receipt is stored once', async (t) => {
    const envelope = await makeEnvelope(newsroom, 'once only');
    const tipsBefore = (await store.db.selectFrom('tips').select('id').execute()).length;
    const pow = await solvedPow(server.url);
    const send = () => postUpload(server.url, { pow, size: envelope.length, body: envelope, finish: true });
    const first = await send();
    t.equal(first.status, 201);
    const receipt = (await first.json()) as { tip_id: string };
    const second = await send();
    t.equal(second.status, 201, 'the same request is answered with the same receipt, not refused as a reused PoW');
    t.same(await second.json(), receipt);
    t.equal((await store.db.selectFrom('tips').select('id').execute()).length, tipsBefore + 1, 'one tip, not two');
    const other = await makeEnvelope(newsroom, 'another tip, same solution');
    const reused = await postUpload(server.url, { pow, size: other.length, body: other, finish: true });
    t.equal(reused.status, 403, 'another envelope cannot ride on the same solution');
    t.equal(((await reused.json()) as { error: { code: string } }).error.code, 'TIPLINE_ERR_POW_REUSED');
  });

  await t.test('uploads in progress are capped in total bytes', async (t) => {
    const envelope = await makeEnvelope(newsroom, 'big', [{ name: 'a.bin', bytes: new Uint8Array(140_000) }]);
    t.ok(envelope.length > 100_000 && envelope.length < 200_000, `envelope of ${envelope.length} bytes: one fits under the cap, two do not`);
    const powRows = async () => (await store.db.selectFrom('pow_redeemed').select('id').execute()).length;
    const spent = await powRows();
    const ok = await postUpload(server.url, { pow: await solvedPow(server.url), size: envelope.length, body: envelope });
    t.equal(ok.status, 201);
    const over = await postUpload(server.url, { pow: await solvedPow(server.url), size: envelope.length, body: envelope });
    t.equal(over.status, 503);
    t.equal(((await over.json()) as { error: { code: string } }).error.code, 'TIPLINE_ERR_BUSY');
    t.equal(await powRows(), spent + 1, 'the refused opening did not spend its proof-of-work');
  });

  await t.test('bad URL encoding and malformed HTTP get JSON errors', async (t) => {
    const badUrl = await fetch(`${server.url}/api/v1/uploads/%E0%A4%A/finish`, { method: 'POST' });
    t.equal(badUrl.status, 400);
    t.equal(((await badUrl.json()) as { error: { code: string } }).error.code, 'TIPLINE_ERR_BAD_REQUEST');
    const raw = await new Promise<string>((resolve, reject) => {
      const port = Number(new URL(server.url).port);
      const s = connect(port, '127.0.0.1', () => s.write('GARBAGE / HTTP/9.9\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    t.match(raw, /^HTTP\/1\.1 400/);
    t.match(raw, /"code":"TIPLINE_ERR_BAD_REQUEST"/);
  });

  await t.test('a staff request with an unsigned body is refused', async (t) => {
    const { staffHeaders } = await import('./helpers/fixtures.js');
    const path = '/api/v1/staff/tips';
    const r = await fetch(server.staffUrl + path, { method: 'DELETE', headers: { ...staffHeaders(newsroom.desk, 'DELETE', path), 'content-type': 'application/json' }, body: '{"x":1}' });
    t.ok(r.status === 400 || r.status === 404, `refused (${r.status})`);
    const tipsBefore = (await store.db.selectFrom('tips').select('id').execute()).length;
    const tipId = (await store.db.selectFrom('tips').select('id').executeTakeFirstOrThrow()).id;
    const del = `/api/v1/staff/tips/${tipId}`;
    const withBody = await fetch(server.staffUrl + del, { method: 'DELETE', headers: { ...staffHeaders(newsroom.desk, 'DELETE', del), 'content-type': 'application/json' }, body: '{"x":1}' });
    // The signature covers the body received (server/staff-auth.ts): one signed as empty does not verify with it.
    t.equal(withBody.status, 401);
    t.match(await withBody.text(), /"code":"TIPLINE_ERR_UNAUTHENTICATED"/);
    t.equal((await store.db.selectFrom('tips').select('id').execute()).length, tipsBefore, 'nothing was deleted');
  });

  t.notMatch(server.logs(), /"status":500/, 'no internal errors');
});
