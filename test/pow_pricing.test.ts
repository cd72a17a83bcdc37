// The proof-of-work is priced by the bytes an upload claims and by load (PROTOCOL.md §Proof of work): a cheap
// challenge cannot open a big upload, a busy server's surcharge shows in what it issues and is bounded, wrong
// nonces cost a bounded amount of hashing per challenge, challenges work across instances on one database, and
// the clients ask for the right price and refuse an absurd one.
import t, { type Test } from 'tap';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { startServer } from './helpers/server.js';
import { makeEnvelope, postUpload, solvedPow } from './helpers/fixtures.js';
import { POW_FREE_BYTES, POW_MAX_LOAD_BITS, decodePowToken, leadingZeroBits, powHash, solvePow } from '../crypto/pow.js';
import { ErrorBody } from '../schema/errors.js';
import { PowChallenge, type Receipt } from '../schema/wire.js';
import { loadPowSecret } from '../server/store/pow.js';
import { publicRoutes } from '../server/routes/public.js';
import { resolveConfig } from '../server/config.js';
import { AppError } from '../server/errors.js';
import { POW_WRONG_PER_TOKEN } from '../server/pow.js';
import { idleGauge, type LoadGauge } from '../server/load.js';
import { MAX_POW_DIFFICULTY, SourceApi, maxPowDifficulty, type WireAnswer, type WireRequest } from '../client/shared/api.js';
import { MalformedAnswer } from '../client/shared/errors.js';
import { sendEnvelope } from '../client/shared/transfer.js';
import { utf8Encode } from '../crypto/bytes.js';

const MiB = 1024 * 1024;
const BASE = 4;

async function errorCode(t: Test, res: Response, status: number): Promise<string | undefined> {
  t.equal(res.status, status, `status ${status}`);
  const body = ErrorBody.safeParse(await res.json());
  t.ok(body.success, 'an ErrorBody');
  return body.data?.error.code;
}

/** Counts PBKDF2 calls made through WebCrypto (the server runs in this process) while `fn` runs. */
async function deriveCalls<T>(fn: () => Promise<T>): Promise<{ calls: number; value: T }> {
  const subtle = globalThis.crypto.subtle;
  const original = subtle.deriveBits;
  let calls = 0;
  subtle.deriveBits = ((...a: Parameters<SubtleCrypto['deriveBits']>) => {
    calls++;
    return original.apply(subtle, a);
  }) as SubtleCrypto['deriveBits'];
  try {
    return { value: await fn(), calls };
  } finally {
    subtle.deriveBits = original;
  }
}

for (const dialect of await dialects()) {
  t.test(`size-priced proof-of-work on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect, { powDifficulty: BASE, uploadChunkSize: 64 * 1024 });
    // Just over one free chunk's worth: one extra bit.
    const envelope = await makeEnvelope(newsroom, 'the contract, all of it', [{ name: 'contract.pdf', bytes: new Uint8Array(MiB + 4096).map((_, i) => i % 253) }]);
    t.ok(envelope.length > POW_FREE_BYTES && envelope.length <= 4 * MiB, `envelope of ${envelope.length} bytes`);
    const chunk0 = envelope.subarray(0, 64 * 1024);
    const uploads = async () => (await store.db.selectFrom('uploads').select('id').execute()).length;

    await t.test('a cheap challenge cannot open a big upload', async (t) => {
      const before = await uploads();
      const cheap = await solvedPow(server.url);
      const c = decodePowToken(cheap.token, await loadPowSecret(store.db));
      t.ok(c.ok && c.fields.size === POW_FREE_BYTES && c.fields.difficulty === BASE, 'without a size: priced for one chunk, at the base');
      const res = await postUpload(server.url, { pow: cheap, size: envelope.length, body: chunk0 });
      t.equal(await errorCode(t, res, 403), 'TIPLINE_ERR_POW_TOO_SMALL');
      // A solution of the cheap challenge that also meets the bigger upload's difficulty is still refused:
      // the size binds, not the luck of the nonce.
      let lucky = 0;
      while (leadingZeroBits(await powHash(cheap.token, String(lucky))) < BASE + 1) lucky++;
      const again = await postUpload(server.url, { pow: { token: cheap.token, nonce: String(lucky) }, size: envelope.length, body: chunk0 });
      t.equal(await errorCode(t, again, 403), 'TIPLINE_ERR_POW_TOO_SMALL', 'even a solution hard enough for the size');
      t.equal(await uploads(), before, 'no upload opened');
    });

    await t.test('a challenge priced for the size opens it; the price grows one bit per 4x', async (t) => {
      const ask = async (q: string) => PowChallenge.parse(await (await fetch(`${server.url}/api/v1/pow${q}`)).json());
      t.same([await ask(''), await ask('?size=1'), await ask(`?size=${MiB}`)].map((c) => [c.difficulty, c.size]), [[BASE, MiB], [BASE, MiB], [BASE, MiB]], 'up to one MiB: the base');
      t.same([await ask(`?size=${MiB + 1}`), await ask(`?size=${10 * MiB}`), await ask(`?size=${2048 * MiB}`)].map((c) => [c.difficulty, c.size]), [[BASE + 1, 4 * MiB], [BASE + 2, 16 * MiB], [BASE + 6, 4096 * MiB]], '1 MiB + 1, 10 MiB, 2 GiB');
      const before = await uploads();
      const pow = await solvedPow(server.url, {}, envelope.length);
      const res = await postUpload(server.url, { pow, size: envelope.length, body: chunk0 });
      t.equal(res.status, 201, await res.clone().text());
      t.equal(await uploads(), before + 1);
    });

    await t.test('a size the server would refuse is refused when asked', async (t) => {
      t.equal(await errorCode(t, await fetch(`${server.url}/api/v1/pow?size=${3 * 1024 * MiB}`), 413), 'TIPLINE_ERR_ENVELOPE_TOO_LARGE');
      for (const q of ['0', '-1', 'abc', '1e9', '9'.repeat(16), '']) t.equal(await errorCode(t, await fetch(`${server.url}/api/v1/pow?size=${q}`), 400), 'TIPLINE_ERR_BAD_REQUEST', `size=${q}`);
    });

    await t.test('wrong nonces: a few per challenge are hashed, then refused before hashing', async (t) => {
      const c = PowChallenge.parse(await (await fetch(`${server.url}/api/v1/pow`)).json());
      const wrongs: string[] = [];
      for (let n = 0; wrongs.length < POW_WRONG_PER_TOKEN + 2; n++) if (leadingZeroBits(await powHash(c.token, String(n))) < c.difficulty) wrongs.push(String(n));
      // 100,000 bytes claimed (within the challenge's one MiB), chunk 0 of 64 KiB sent.
      for (const nonce of wrongs.slice(0, POW_WRONG_PER_TOKEN)) {
        const r = await deriveCalls(() => postUpload(server.url, { pow: { token: c.token, nonce }, size: 100_000, body: chunk0 }));
        t.equal(await errorCode(t, r.value, 403), 'TIPLINE_ERR_POW_WRONG');
        t.equal(r.calls, 1, 'hashed once');
      }
      for (const nonce of wrongs.slice(POW_WRONG_PER_TOKEN)) {
        const r = await deriveCalls(() => postUpload(server.url, { pow: { token: c.token, nonce }, size: 100_000, body: chunk0 }));
        const body = ErrorBody.parse(await r.value.json());
        t.equal(r.value.status, 403);
        t.equal(body.error.code, 'TIPLINE_ERR_POW_WRONG');
        t.match(body.error.message, /too many wrong solutions/);
        t.equal(r.calls, 0, 'past the budget: refused without hashing');
      }
    });

    await t.test('a challenge from one instance is redeemed on another sharing the database', async (t) => {
      const other = await startServer({ db: store.db, powDifficulty: BASE, uploadChunkSize: 64 * 1024 });
      t.teardown(() => other.close());
      const pow = await solvedPow(server.url, {}, envelope.length);
      const res = await postUpload(other.url, { pow, size: envelope.length, body: chunk0 });
      t.equal(res.status, 201, 'sized challenge from A opens on B');
      const cheap = await solvedPow(other.url);
      t.equal(await errorCode(t, await postUpload(server.url, { pow: cheap, size: envelope.length, body: chunk0 }), 403), 'TIPLINE_ERR_POW_TOO_SMALL', 'and the size binds on either');
    });
  });
}

t.test('the load surcharge appears in issued difficulty, bounded, and falls back', async (t) => {
  const [pglite] = await dialects();
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  let extra = 0;
  const load: LoadGauge = { ...idleGauge(), powExtraBits: () => extra };
  // publicRoutes on a bare Fastify with the server's zod compilers, given a context whose gauge is stubbed.
  const app = Fastify().withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(async (err, _req, reply) => (err instanceof AppError ? reply.code(err.status).send(err.body()) : reply.code(400).send({ error: { code: 'TIPLINE_ERR_BAD_REQUEST', message: 'bad request' } })));
  const config = resolveConfig({ db: store.db, powDifficulty: BASE });
  await app.register(publicRoutes, { ctx: { db: store.db, config, powSecret: await loadPowSecret(store.db), load } });
  t.teardown(() => app.close());
  const issued = async (q = '') => PowChallenge.parse((await app.inject({ method: 'GET', url: `/api/v1/pow${q}` })).json()).difficulty;
  t.equal(await issued(), BASE, 'idle: the base');
  extra = 2;
  t.equal(await issued(), BASE + 2, 'under load: base + the gauge\'s bits');
  t.equal(await issued(`?size=${10 * MiB}`), BASE + 2 + 2, 'and on top of the size\'s bits');
  extra = 40;
  t.equal(await issued(), BASE + POW_MAX_LOAD_BITS, `a gauge asking more gets at most ${POW_MAX_LOAD_BITS} bits (what clients budget for)`);
  extra = NaN;
  t.equal(await issued(), BASE, 'a gauge answering nonsense adds nothing');
  extra = 0;
  t.equal(await issued(), BASE, 'falls back when the load does');
});

// ---- the clients ----

const json = (status: number, value: unknown): WireAnswer => ({ status, body: utf8Encode(JSON.stringify(value)) });

function fakeApi(handle: (req: WireRequest) => WireAnswer) {
  const sent: WireRequest[] = [];
  return {
    sent,
    api: new SourceApi({
      async send(req) {
        sent.push(req);
        return handle(req);
      },
    }),
  };
}

t.test('the client asks for the envelope\'s size and refuses an absurd price', async (t) => {
  const at = (difficulty: number, size: number) => fakeApi((req) => json(200, { token: 'T'.repeat(64), difficulty, expires_in: 600, size: Math.max(size, Number(new URL(req.path, 'http://x').searchParams.get('size') ?? 1)), chunk_size: MiB }));
  const small = at(MAX_POW_DIFFICULTY, MiB);
  t.equal((await small.api.pow()).difficulty, MAX_POW_DIFFICULTY);
  t.equal(small.sent[0]!.path, '/api/v1/pow', 'no size: a one-chunk challenge');
  t.equal(MAX_POW_DIFFICULTY, 17, 'one chunk: base up to 13 plus 4 bits of load');
  await t.rejects(at(MAX_POW_DIFFICULTY + 1, MiB).api.pow(), { name: 'MalformedAnswer', message: /proof-of-work of 18 bits, more than a source's device should do \(at most 17/ });
  const big = 2.5 * 1024 * MiB;
  t.equal(maxPowDifficulty(big), 23, '2.5 GiB: 6 more bits');
  const sized = at(23, big);
  t.equal((await sized.api.pow(big)).difficulty, 23);
  t.equal(sized.sent[0]!.path, `/api/v1/pow?size=${big}`);
  await t.rejects(at(24, big).api.pow(big), MalformedAnswer, 'beyond the size\'s cap: refused');
  await t.rejects(at(32, 0).api.pow(), { message: /32 bits/ }, 'a hostile server\'s 32 bits: refused before any hashing');
  // A server that claims the challenge covers a huge size does not buy itself a higher cap.
  const claimsBig = fakeApi(() => json(200, { token: 'T'.repeat(64), difficulty: 23, expires_in: 600, size: big, chunk_size: MiB }));
  await t.rejects(claimsBig.api.pow(), MalformedAnswer, 'the cap follows the size asked for, not the size answered');
  const shrinks = fakeApi(() => json(200, { token: 'T'.repeat(64), difficulty: 1, expires_in: 600, size: MiB, chunk_size: MiB }));
  await t.rejects(shrinks.api.pow(10 * MiB), /priced it for 1048576 bytes, not the 10485760 asked for/, 'a challenge for fewer bytes than asked: refused');
});

t.test('sendEnvelope fetches a challenge for the envelope\'s size when the first covers fewer bytes', async (t) => {
  const chunk = 64 * 1024;
  const size = 2 * MiB + 5;
  const receipt: Receipt = { tip_id: 'a'.repeat(26), size, received_day: '2026-11-26', expires_day: '2026-12-26' };
  const { api, sent } = fakeApi((req) => {
    if (req.path.startsWith('/api/v1/pow')) return json(200, { token: 'S'.repeat(64), difficulty: 1, expires_in: 600, size: 4 * MiB, chunk_size: chunk });
    if (req.method === 'POST') return json(201, { id: 'a'.repeat(26), chunk_size: chunk, chunk_count: Math.ceil(size / chunk), expires_in: 86400 });
    return req.path.includes('finish=1') ? json(201, receipt) : json(200, { received: 1 });
  });
  const bytes = new Uint8Array(size);
  async function* stream() {
    yield bytes;
  }
  const first = { token: 'F'.repeat(64), difficulty: 1, expires_in: 600, size: MiB, chunk_size: chunk };
  const r = await sendEnvelope(api, first, { length: size, stream: stream() }, { retryForMs: 1000 });
  t.equal(r.size, size);
  t.equal(sent[0]!.path, `/api/v1/pow?size=${size}`, 'the one-chunk challenge is not used: one priced for the size is asked first');
  t.equal(sent[1]!.headers?.['tipline-pow-token'], 'S'.repeat(64), 'and its solution opens the upload');
  t.equal(sent[1]!.headers?.['tipline-pow-nonce'], await solvePow('S'.repeat(64), 1), 'solved');
  const small = fakeApi(() => json(201, { ...receipt, size: 100 }));
  await sendEnvelope(small.api, first, { length: 100, stream: (async function* () { yield new Uint8Array(100); })() }, { retryForMs: 1000 });
  t.equal(small.sent.length, 1, 'a one-chunk tip uses the challenge in hand: one request');
});
