// The transport shared by the command line and the page (client/shared/): answers checked against the wire
// schemas and against what was asked, one retry policy acting on error codes, chunks sent several at a time;
// and the command line's use of it: one connection per run, a malformed answer refused with one clear line.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_POW_DIFFICULTY, SourceApi, type Transport, type WireAnswer, type WireRequest } from '../client/shared/api.js';
import { ApiError, MalformedAnswer, NetworkError } from '../client/shared/errors.js';
import { backoff, needsFreshPow, retryable, withRetry } from '../client/shared/retry.js';
import { rechunk, sendEnvelope } from '../client/shared/transfer.js';
import { utf8Encode } from '../crypto/bytes.js';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { countingForwarder, tamperingProxy } from './helpers/loopback-proxies.js';

const json = (status: number, value: unknown): WireAnswer => ({ status, body: utf8Encode(JSON.stringify(value)) });
const errorAnswer = (status: number, code: string) => json(status, { error: { code, message: `server says ${code}` } });
const ID = 'a'.repeat(26);
const receipt = { tip_id: ID, size: 0, received_day: '2026-11-26', expires_day: '2026-12-26' };
const challenge = (chunkSize: number, token = 'token-1') => ({ token, difficulty: 0, expires_in: 600, size: 2 ** 40, chunk_size: chunkSize });

/** A scripted server: answers each request with the first matching handler, and records what it was sent. */
function fakeServer(handle: (req: WireRequest, i: number) => WireAnswer | Promise<WireAnswer>) {
  const sent: WireRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const transport: Transport = {
    async send(req) {
      sent.push(req);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 5));
        return await handle(req, sent.length - 1);
      } finally {
        inFlight--;
      }
    },
  };
  return { api: new SourceApi(transport), sent, maxInFlight: () => maxInFlight };
}

async function* pieces(bytes: Uint8Array, size = 1000): AsyncIterable<Uint8Array> {
  for (let off = 0; off < bytes.length; off += size) yield bytes.subarray(off, off + size);
}
const envelopeOf = (bytes: Uint8Array) => ({ length: bytes.length, stream: pieces(bytes) });
const noWait = { retryForMs: 60_000, sleep: async () => {} };

t.test('answers are checked against the wire schemas and against the request', async (t) => {
  const pow0 = fakeServer(() => json(200, challenge(0)));
  await t.rejects(pow0.api.pow(), MalformedAnswer, 'a challenge with chunk_size 0 is refused');
  await t.rejects(pow0.api.pow(), /proof-of-work challenge: the server's answer is malformed \(chunk_size/, 'and the message says which field');
  const tooHard = fakeServer(() => json(200, { ...challenge(1 << 20), difficulty: MAX_POW_DIFFICULTY + 1 }));
  await t.rejects(tooHard.api.pow(), { name: 'MalformedAnswer', message: new RegExp(`proof-of-work of ${MAX_POW_DIFFICULTY + 1} bits, more than a source's device should do`) }, 'a challenge no source device should attempt is refused before any hashing');
  const hardest = fakeServer(() => json(200, { ...challenge(1 << 20), difficulty: MAX_POW_DIFFICULTY }));
  t.equal((await hardest.api.pow()).difficulty, MAX_POW_DIFFICULTY, 'up to the cap it is taken');
  const notJson = fakeServer(() => ({ status: 200, body: utf8Encode('<html>') }));
  await t.rejects(notJson.api.pow(), MalformedAnswer);
  const created0 = fakeServer(() => json(201, { id: ID, chunk_size: 0, chunk_count: 3, expires_in: 86400 }));
  await t.rejects(created0.api.open({ token: 'x', nonce: '0' }, 3000, new Uint8Array(1024), 1024), MalformedAnswer, 'an opened upload with chunk_size 0 is refused');
  const contradicts = fakeServer(() => json(201, { id: ID, chunk_size: 1024, chunk_count: 7, expires_in: 86400 }));
  await t.rejects(contradicts.api.open({ token: 'x', nonce: '0' }, 3000, new Uint8Array(1024), 1024), /chunk_count 7 for 3000 bytes/, 'an answer that contradicts the request is refused');
  const hostileId = fakeServer(() => json(201, { id: '../../etc', chunk_size: 1024, chunk_count: 3, expires_in: 86400 }));
  await t.rejects(hostileId.api.open({ token: 'x', nonce: '0' }, 3000, new Uint8Array(1024), 1024), MalformedAnswer, 'ids must be ids');
  const coded = fakeServer(() => errorAnswer(403, 'TIPLINE_ERR_POW_EXPIRED'));
  const err = await coded.api.pow().catch((e: unknown) => e);
  t.ok(err instanceof ApiError && err.code === 'TIPLINE_ERR_POW_EXPIRED' && err.status === 403, 'an error answer carries its code and status');
  const noBody = fakeServer(() => ({ status: 502, body: utf8Encode('Bad Gateway') }));
  const e2 = await noBody.api.pow().catch((e: unknown) => e);
  t.ok(e2 instanceof ApiError && e2.code === 'unknown' && retryable(e2), 'an error without the wire body still has a status to act on');
  await t.rejects(rechunk(pieces(new Uint8Array(10)), 0)[Symbol.asyncIterator]().next(), RangeError, 'rechunk refuses a chunk size of 0 rather than loop');
});

t.test('one retry policy, by type and code', async (t) => {
  t.ok(retryable(new NetworkError('ECONNRESET')));
  t.ok(retryable(new ApiError(503, 'TIPLINE_ERR_BUSY', 'busy')));
  t.notOk(retryable(new ApiError(403, 'TIPLINE_ERR_POW_WRONG', 'wrong')));
  t.notOk(retryable(new MalformedAnswer('malformed')), 'a malformed answer is final');
  for (const code of ['TIPLINE_ERR_POW_EXPIRED', 'TIPLINE_ERR_POW_REUSED', 'TIPLINE_ERR_POW_TOO_EASY', 'TIPLINE_ERR_POW_FOREIGN']) t.ok(needsFreshPow(new ApiError(403, code, 'any text')), `${code}: a fresh challenge`);
  for (const code of ['TIPLINE_ERR_POW_WRONG', 'TIPLINE_ERR_POW_MALFORMED']) t.notOk(needsFreshPow(new ApiError(403, code, 'proof-of-work challenge has expired')), `${code}: never decided by the message`);
  for (let a = 0; a < 10; a++) {
    const d = backoff(a, () => 0.999);
    const lo = backoff(a, () => 0);
    t.ok(lo >= Math.min(250 * 2 ** a, 5000) * 0.75 - 1 && d <= Math.min(250 * 2 ** a, 5000) * 1.25 + 1, `attempt ${a}: ${lo}..${d} ms`);
  }
  let tries = 0;
  await t.rejects(withRetry('x', noWait, async () => (tries++, Promise.reject(new ApiError(400, 'TIPLINE_ERR_FRAMING', 'no')))), ApiError);
  t.equal(tries, 1, 'a final error is not retried');
  tries = 0;
  t.equal(await withRetry('x', noWait, async () => (++tries < 3 ? Promise.reject(new NetworkError('reset')) : 'ok')), 'ok');
  t.equal(tries, 3, 'a lost connection is');
});

t.test('sendEnvelope', async (t) => {
  await t.test('a one-chunk tip is one request: the opening, finished', async (t) => {
    const s = fakeServer(() => json(201, { ...receipt, size: 5000 }));
    const r = await sendEnvelope(s.api, challenge(1 << 20), envelopeOf(randomBytes(5000)), noWait);
    t.same(r, { ...receipt, size: 5000 });
    t.equal(s.sent.length, 1);
    t.match(s.sent[0]!.path, /^\/api\/v1\/uploads\?size=5000&finish=1$/);
    t.equal(s.sent[0]!.body!.length, 5000);
    t.equal(s.sent[0]!.headers!['tipline-pow-token'], 'token-1');
  });

  await t.test('other chunks travel several at a time, within the window, the last one finishing', async (t) => {
    const bytes = randomBytes(10 * 1000 + 123);
    const got = new Map<number, Uint8Array>();
    const s = fakeServer((req) => {
      if (req.method === 'POST') {
        got.set(0, req.body!);
        return json(201, { id: ID, chunk_size: 1000, chunk_count: 11, expires_in: 86400 });
      }
      const n = Number(/chunks\/(\d+)/.exec(req.path)![1]);
      got.set(n, req.body!);
      return req.path.endsWith('?finish=1') ? json(201, { ...receipt, size: bytes.length }) : json(200, { received: n });
    });
    let last = 0;
    const r = await sendEnvelope(s.api, challenge(1000), envelopeOf(bytes), { ...noWait, windowBytes: 3000, onProgress: (sent) => (last = sent) });
    t.equal(r.size, bytes.length);
    t.equal(got.size, 11);
    t.same(Buffer.concat([...got.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)), bytes, 'the chunks make the envelope');
    t.ok(s.maxInFlight() > 1, `several chunks in flight (${s.maxInFlight()})`);
    t.ok(s.maxInFlight() <= 3, 'no more than the window');
    t.equal(s.sent.filter((q) => q.path.endsWith('?finish=1')).length, 1, 'one finishing request');
    t.equal(last, bytes.length, 'progress reaches the end');
  });

  await t.test('a last chunk that overtook an earlier one is finished once all are stored', async (t) => {
    const stored = new Set<number>();
    const s = fakeServer(async (req) => {
      if (req.method === 'POST' && req.path.endsWith('/finish')) return stored.size === 4 ? json(201, { ...receipt, size: 350 }) : errorAnswer(409, 'TIPLINE_ERR_UPLOAD_INCOMPLETE');
      if (req.method === 'POST') return stored.add(0), json(201, { id: ID, chunk_size: 100, chunk_count: 4, expires_in: 86400 });
      const n = Number(/chunks\/(\d+)/.exec(req.path)![1]);
      // Chunk 1 is slow to store; the last one is answered first and finds it missing.
      if (n === 1) await new Promise((r) => setTimeout(r, 50));
      stored.add(n);
      if (req.path.endsWith('?finish=1')) return stored.size === 4 ? json(201, { ...receipt, size: 350 }) : errorAnswer(409, 'TIPLINE_ERR_UPLOAD_INCOMPLETE');
      return json(200, { received: n });
    });
    t.same(await sendEnvelope(s.api, challenge(100), envelopeOf(randomBytes(350)), noWait), { ...receipt, size: 350 });
    t.equal(s.sent.at(-1)!.path, `/api/v1/uploads/${ID}/finish`, 'finished by a separate request after the others');
  });

  await t.test('the opening: the same solution again after a lost answer, a fresh challenge when the server says so', async (t) => {
    let opens = 0;
    const s = fakeServer((req) => {
      if (req.method === 'GET') return json(200, challenge(1 << 20, 'token-2'));
      opens++;
      if (opens === 1) throw new NetworkError('ECONNRESET');
      if (opens === 2) return errorAnswer(403, 'TIPLINE_ERR_POW_EXPIRED');
      return json(201, { ...receipt, size: 100 });
    });
    t.same(await sendEnvelope(s.api, challenge(1 << 20, 'token-1'), envelopeOf(randomBytes(100)), noWait), { ...receipt, size: 100 });
    const tokens = s.sent.filter((q) => q.method === 'POST').map((q) => q.headers!['tipline-pow-token']);
    t.same(tokens, ['token-1', 'token-1', 'token-2'], 'resent as it was, then with a fresh solution');
    t.equal(s.sent.filter((q) => q.method === 'GET').length, 1, 'one fresh challenge, fetched only when the server said so');
  });

  await t.test('a receipt for other bytes is not taken as proof the tip is stored', async (t) => {
    const s = fakeServer(() => json(201, { ...receipt, size: 4999 }));
    await t.rejects(sendEnvelope(s.api, challenge(1 << 20), envelopeOf(randomBytes(5000)), noWait), { name: 'MalformedAnswer', message: /receipt is for 4999 bytes, not the 5000 sent/ });
  });

  await t.test('a chunk refused for good stops the upload with that error', async (t) => {
    const s = fakeServer((req) => {
      if (req.method === 'POST') return json(201, { id: ID, chunk_size: 100, chunk_count: 5, expires_in: 86400 });
      return req.path.includes('/chunks/2') ? errorAnswer(404, 'TIPLINE_ERR_UPLOAD_UNKNOWN') : json(200, { received: 0 });
    });
    await t.rejects(sendEnvelope(s.api, challenge(100), envelopeOf(randomBytes(450)), noWait), { code: 'TIPLINE_ERR_UPLOAD_UNKNOWN' });
  });
});

t.test('the command line: one connection per run; malformed answers refused with one clear line', async (t) => {
  const { work, keys, fingerprint, server, store } = await cliNewsroomServer(t, { uploadChunkSize: 64 * 1024 });
  const file = join(work, 'several-chunks.bin');
  writeFileSync(file, randomBytes(300 * 1024));

  await t.test('submit and fetch each open one connection, with or without a proxy', async (t) => {
    const counting = await countingForwarder(server.url);
    t.teardown(() => counting.close());
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['submit', '--server', counting.url, '--fingerprint', fingerprint, '-m', `tip ${i}`, ...(i === 0 ? ['--file', file] : [])]);
      t.equal(r.code, 0, r.stderr);
    }
    t.equal(counting.connections(), 3, 'one connection for each submit, the one of several chunks included');
    const out = join(work, 'inbox');
    // Desks fetch from the staff listener; signed for the forwarder's address, which the server is told is its own.
    const staffCounting = await countingForwarder(server.staffUrl);
    t.teardown(() => staffCounting.close());
    server.allowStaffHost(new URL(staffCounting.url).host);
    const f = await runCli(['fetch', '--server', staffCounting.url, '--key', join(keys, 'desk.key'), '--out', out]);
    t.equal(f.code, 0, f.stderr);
    t.match(f.stdout, /3 fetched, 0 already here, 0 failed/);
    t.equal(readdirSync(out).filter((d) => !d.startsWith('.')).length, 3);
    t.equal(staffCounting.connections(), 1, 'one connection for the fetch of three tips');
  });

  await t.test('a challenge with chunk_size 0 is refused, and nothing is sent', async (t) => {
    const before = (await store.db.selectFrom('uploads').select('id').execute()).length;
    const proxy = await tamperingProxy(server.url, [{ method: 'GET', path: /^\/api\/v1\/pow/, status: 200, json: { token: 'x'.repeat(64), difficulty: 0, expires_in: 600, size: 1048576, chunk_size: 0 } }]);
    t.teardown(() => proxy.close());
    const r = await runCli(['submit', '--server', proxy.url, '--fingerprint', fingerprint, '-m', 'never sent'], { timeoutMs: 60_000 });
    t.equal(r.code, 1);
    t.match(r.stderr, /^tipline: fetching a proof-of-work challenge: the server's answer is malformed \(chunk_size: .+\)$/m);
    t.equal(r.stderr.split('\n').filter((l) => l.startsWith('tipline:')).length, 1, 'one error line');
    t.equal((await store.db.selectFrom('uploads').select('id').execute()).length, before, 'no upload opened');
  });

  await t.test('an opened upload with chunk_size 0 is refused', async (t) => {
    const proxy = await tamperingProxy(server.url, [{ method: 'POST', path: /^\/api\/v1\/uploads\?/, status: 201, json: { id: ID, chunk_size: 0, chunk_count: 5, expires_in: 86400 } }]);
    t.teardown(() => proxy.close());
    const r = await runCli(['submit', '--server', proxy.url, '--fingerprint', fingerprint, '-m', 'never finished', '--file', file], { timeoutMs: 60_000 });
    t.equal(r.code, 1);
    t.match(r.stderr, /^tipline: opening the upload: the server's answer is malformed \(chunk_size: .+\)$/m);
    t.equal(proxy.answered.length, 1, 'asked once: a malformed answer is not retried');
  });
});
