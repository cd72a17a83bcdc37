// Property-based tests of the parsers that read what an attacker sends: the envelope (server's framing check and
// the desk's decoder), the signed directory, the proof-of-work token and solution, staff request signatures.
// Each is fed random and mutated input and may only answer (a verdict, a value) or throw one of the documented
// input errors of crypto/errors.ts: never a TypeError, a RangeError, a hang or a large allocation. A mutated
// message must never be accepted as the original. Budgets and replay: test/fuzz/config.ts.
import t from 'tap';
import fc from 'fast-check';
import { initCrypto } from '../crypto/node.js';
import { checkFraming, decryptEnvelope, envelopeLength, headerLength, paddedLength, MAX_STANZAS, type DecryptEvent } from '../crypto/envelope/index.js';
import { MAGIC, VERSION } from '../crypto/envelope/format.js';
import { isPadme } from '../crypto/padme.js';
import { verifyDirectory } from '../crypto/directory.js';
import { signDocument } from '../crypto/signed.js';
import { fromBase64, toBase64, utf8Decode, utf8Encode, concatBytes } from '../crypto/bytes.js';
import { fingerprint, generateSigningKey, sign } from '../crypto/keys.js';
import { decodePowToken, issuePowChallenge, powSolves, solvePow, verifyPowSolution, POW_TTL_SECONDS } from '../crypto/pow.js';
import { signStaffRequest, verifyStaffRequest, STAFF_REQUEST_HEADERS } from '../crypto/staff-request.js';
import { CryptoArgumentError, FramingError } from '../crypto/errors.js';
import { sodium } from '../crypto/sodium.js';
import { makeEnvelope, makeNewsroom } from './helpers/fixtures.js';
import { holds } from './fuzz/config.js';
import { applyBytes, applyJson, byteOp, describe, documentedInputError, jsonOp, pieces, sameBytes } from './fuzz/mutate.js';
import { craftEnvelope, craftPlaintext, craftPlan } from './fuzz/envelope-craft.js';

await initCrypto();

/** External (ArrayBuffer) memory now: what a parser that allocates a declared length would raise. */
const external = () => process.memoryUsage().arrayBuffers;
/** More than any input here could need (inputs are at most a few hundred KiB): a declared length was allocated. */
const ALLOCATION_BOUND = 64 * 1024 * 1024;
/** One parse of a bounded input; far longer is a hang or a quadratic loop. */
const TIME_BOUND_MS = 2000;

const newsroom = makeNewsroom();
const short = await makeEnvelope(newsroom, 'A short tip: the shipment leaves on Tuesday.');
const twoChunks = await makeEnvelope(newsroom, 'With a file.', [{ name: 'scan.pdf', bytes: new Uint8Array(70_000).fill(7) }]);

async function decrypt(input: Uint8Array, sizes: number[], identity = newsroom.desk): Promise<{ events: DecryptEvent[]; err?: unknown; peak: number; ms: number }> {
  const base = external();
  let peak = 0;
  const started = performance.now();
  const events: DecryptEvent[] = [];
  async function* feed() {
    for (const p of pieces(input, sizes)) yield p;
  }
  try {
    for await (const ev of decryptEnvelope(feed(), identity)) {
      peak = Math.max(peak, external() - base);
      events.push(ev);
    }
  } catch (err) {
    return { events, err, peak: Math.max(peak, external() - base), ms: performance.now() - started };
  }
  return { events, peak: Math.max(peak, external() - base), ms: performance.now() - started };
}

const message = (events: DecryptEvent[]) => events.find((e): e is Extract<DecryptEvent, { kind: 'manifest' }> => e.kind === 'manifest')?.manifest.message;
const pieceSizes = fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 4 });

t.test('envelope: the server-side framing check', async (t) => {
  const headerOf = (n: number) => concatBytes(MAGIC, Uint8Array.of(VERSION, n), new Uint8Array(headerLength(Math.min(Math.max(n, 1), MAX_STANZAS)) - 9));
  const prefix = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.record({ n: fc.integer({ min: 0, max: 255 }), ops: fc.array(byteOp, { maxLength: 2 }) }).map(({ n, ops }) => applyBytes(headerOf(n), ops)),
    fc.constant(short.subarray(0, 200)),
  );
  const total = fc.oneof(
    fc.nat(),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(0, short.length, short.length - 1, short.length + 1, twoChunks.length, 2 ** 53 - 1, -1, 2 ** 53, 2 ** 64, NaN, Infinity, 0.5),
  );
  await holds(
    t,
    'checkFraming(random prefix, any length)',
    fc.property(prefix, total, (p, len) => {
      const base = external();
      const started = performance.now();
      try {
        const f = checkFraming(p, len);
        // Accepted: the length is exactly what an honest encoder makes for this many stanzas.
        if (f.stanzaCount < 1 || f.stanzaCount > MAX_STANZAS) return false;
        if (f.headerLength + f.paddedLength + 16 * f.chunkCount !== len) return false;
        if (!isPadme(f.paddedLength) || f.paddedLength < 65536) return false;
      } catch (err) {
        const argument = err instanceof CryptoArgumentError && !(Number.isSafeInteger(len) && len >= 0);
        if (!(err instanceof FramingError) && !argument) throw new Error(`undocumented: ${describe(err)}`);
      }
      return performance.now() - started < TIME_BOUND_MS && external() - base < ALLOCATION_BOUND;
    }),
    3000,
  );
  await holds(
    t,
    'checkFraming accepts every length an honest encoder makes',
    fc.property(fc.integer({ min: 1, max: MAX_STANZAS }), fc.integer({ min: 4, max: 2 ** 40 }), (n, content) => {
      const f = checkFraming(headerOf(n), envelopeLength(n, content));
      return f.stanzaCount === n && f.paddedLength === paddedLength(content);
    }),
    2000,
  );
});

t.test('envelope: the decoder, on random and mutated bytes', async (t) => {
  const base = fc.constantFrom(short, twoChunks);
  await holds(
    t,
    'decryptEnvelope(mutated envelope) fails with a documented error, or is the unmutated original',
    fc.asyncProperty(base, fc.array(byteOp, { minLength: 0, maxLength: 3 }), pieceSizes, async (original, ops, sizes) => {
      const input = applyBytes(original, ops);
      const r = await decrypt(input, sizes);
      if (r.ms > TIME_BOUND_MS || r.peak > ALLOCATION_BOUND) throw new Error(`${Math.round(r.ms)} ms, ${r.peak} bytes allocated`);
      if (r.err !== undefined) {
        if (!documentedInputError(r.err)) throw new Error(`undocumented: ${describe(r.err)}`);
        return !sameBytes(input, original); // the original must always open
      }
      // Opened: every byte is authenticated, so only the original itself may.
      return sameBytes(input, original) && r.events.at(-1)?.kind === 'end' && typeof message(r.events) === 'string';
    }),
    150,
  );
  await holds(
    t,
    'decryptEnvelope(random bytes, magic or not) fails with a documented error',
    fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 70_000 }), pieceSizes, async (withMagic, bytes, sizes) => {
      const input = withMagic ? concatBytes(MAGIC, Uint8Array.of(VERSION), bytes) : bytes;
      const r = await decrypt(input, sizes);
      if (r.ms > TIME_BOUND_MS || r.peak > ALLOCATION_BOUND) throw new Error(`${Math.round(r.ms)} ms, ${r.peak} bytes allocated`);
      if (r.err === undefined) return false;
      if (!documentedInputError(r.err)) throw new Error(`undocumented: ${describe(r.err)}`);
      return true;
    }),
    150,
  );
  await holds(
    t,
    'decryptEnvelope(envelope for another desk) is NotForYou, never content',
    fc.asyncProperty(base, pieceSizes, async (original, sizes) => {
      const r = await decrypt(original, sizes, newsroom.outsider);
      return r.err !== undefined && documentedInputError(r.err) && (r.err as Error).name === 'NotForYouError' && r.events.length === 0;
    }),
    10,
  );
});

t.test('envelope: the decoder, on authentic chunks around a hostile plaintext', async (t) => {
  const day = new Date().toISOString().slice(0, 10);
  await holds(
    t,
    'decryptEnvelope(hostile sender) fails with a documented error or yields a consistent tip',
    fc.asyncProperty(craftPlan, pieceSizes, async (plan, sizes) => {
      const input = await craftEnvelope(newsroom.desk.boxPublic, craftPlaintext(plan, day), plan.chunking);
      const r = await decrypt(input, sizes);
      if (r.ms > TIME_BOUND_MS || r.peak > ALLOCATION_BOUND) throw new Error(`${Math.round(r.ms)} ms, ${r.peak} bytes allocated`);
      if (r.err !== undefined) {
        if (!documentedInputError(r.err)) throw new Error(`undocumented: ${describe(r.err)}`);
        return true;
      }
      // Accepted: the data events add up to exactly what the manifest declares, file by file.
      const m = r.events.find((e): e is Extract<DecryptEvent, { kind: 'manifest' }> => e.kind === 'manifest')?.manifest;
      if (!m || r.events.at(-1)?.kind !== 'end') return false;
      const got = m.files.map(() => 0);
      for (const e of r.events) if (e.kind === 'data') got[e.file] = got[e.file]! + e.bytes.length;
      return m.files.every((f, i) => f.size === got[i]);
    }),
    200,
  );
});

t.test('signed directory: verifyDirectory on mutated documents', async (t) => {
  const { doc, root, fingerprint: fp } = newsroom;
  const payload = JSON.parse(utf8Decode(fromBase64(doc.payload))) as unknown;
  const other = generateSigningKey();
  const now = new Date();
  const check = (d: unknown, expected: string, at: Date): { ok: boolean } => {
    const started = performance.now();
    try {
      const dir = verifyDirectory(d, expected, at);
      if (performance.now() - started > TIME_BOUND_MS) throw new Error('slow');
      if (!Array.isArray(dir.recipients)) throw new Error('accepted a directory without recipients');
      return { ok: true };
    } catch (err) {
      if (!documentedInputError(err)) throw new Error(`undocumented: ${describe(err)}`);
      return { ok: false };
    }
  };
  await holds(
    t,
    'verifyDirectory(mutated signed document) fails with a documented error unless unchanged',
    fc.property(fc.array(jsonOp, { minLength: 1, maxLength: 3 }), (ops) => {
      const mutated = applyJson(doc, ops);
      const { ok } = check(mutated, fp, now);
      return !ok || JSON.stringify(mutated) === JSON.stringify(doc);
    }),
    1500,
  );
  await holds(
    t,
    'verifyDirectory(hostile payload signed by the root) fails with a documented error or is a directory',
    fc.property(fc.array(jsonOp, { minLength: 1, maxLength: 3 }), fc.boolean(), (ops, otherRoot) => {
      const signed = signDocument('directory', applyJson(payload, ops), otherRoot ? other : root);
      const { ok } = check(signed, fp, now);
      return !(ok && otherRoot); // another root's document is never accepted under this fingerprint
    }),
    1000,
  );
  await holds(
    t,
    'verifyDirectory(signed bytes that are not JSON, random times) fails with a documented error',
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 8.64e15 }), (bytes, ms) => {
      const signature = sign(concatBytes(utf8Encode('tipline signed document v1\ndirectory\n'), bytes), root.secretKey);
      const d = { v: 1, type: 'directory', payload: toBase64(bytes), root_key: toBase64(root.publicKey), signature: toBase64(signature) };
      check(d, fp, new Date(ms));
      check(doc, fingerprint(other.publicKey), new Date(ms));
      return true;
    }),
    1000,
  );
});

t.test('proof-of-work: token and solution', async (t) => {
  const secret = sodium().randombytes_buf(32);
  const issuedAt = new Date();
  const issued = await Promise.all([0, 1, 4, 8].map(async (d) => {
    const c = issuePowChallenge(secret, d, 65536, issuedAt);
    return { ...c, nonce: await solvePow(c.token, d) };
  }));
  const tokenMutation = fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.record({ kind: fc.constant('char' as const), at: fc.nat({ max: 200 }), ch: fc.constantFrom(...'AZaz09-_=+/ .\u0000é') }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: 60 }) }),
    fc.record({ kind: fc.constant('append' as const), s: fc.string({ maxLength: 20 }) }),
    fc.record({ kind: fc.constant('random' as const), s: fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.base64String({ maxLength: 64 })) }),
  );
  const nonceMutation = fc.oneof(
    fc.constant(undefined),
    fc.stringMatching(/^[0-9]{1,20}$/),
    fc.constantFrom('', '0', '00', '-1', '1e3', ' 1', '١', '9'.repeat(16), '9'.repeat(17), '0x10'),
    fc.string({ maxLength: 30 }),
  );
  await holds(
    t,
    'verifyPowSolution(mutated token and nonce) answers a verdict and accepts only a real solution',
    fc.asyncProperty(
      fc.nat({ max: issued.length - 1 }),
      tokenMutation,
      nonceMutation,
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: -2 * POW_TTL_SECONDS, max: 3 * POW_TTL_SECONDS }),
      async (which, tm, nm, minDifficulty, skewS) => {
        const c = issued[which]!;
        let token = c.token;
        if (tm.kind === 'char') token = token.slice(0, tm.at % token.length) + tm.ch + token.slice((tm.at % token.length) + 1);
        else if (tm.kind === 'truncate') token = token.slice(0, tm.at);
        else if (tm.kind === 'append') token += tm.s;
        else if (tm.kind === 'random') token = tm.s;
        const nonce = nm ?? c.nonce;
        const now = new Date(issuedAt.getTime() + skewS * 1000);
        const v = await verifyPowSolution(secret, minDifficulty, { token, nonce }, now, 65536);
        if (!v.ok) return true;
        // Accepted: only the issued token, a nonce that solves it, hard enough and not expired.
        return token === c.token && /^[0-9]{1,16}$/.test(nonce) && (await powSolves(token, nonce, c.difficulty)) && c.difficulty >= minDifficulty && v.expires * 1000 >= now.getTime();
      },
    ),
    3000,
  );
  await holds(
    t,
    'the issued solutions verify (the property above can tell right from wrong)',
    fc.asyncProperty(fc.nat({ max: issued.length - 1 }), async (which) => {
      const c = issued[which]!;
      return (await verifyPowSolution(secret, 0, { token: c.token, nonce: c.nonce }, issuedAt, 65536)).ok;
    }),
    20,
  );
  await holds(
    t,
    'decodePowToken(any string) answers, never throws, and accepts no forgery',
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.base64String({ minLength: 56, maxLength: 56 }), fc.stringMatching(/^[A-Za-z0-9_-]{56}$/)), (s) => {
      const d = decodePowToken(s, secret);
      return !d.ok || issued.some((c) => c.token === s);
    }),
    3000,
  );
});

t.test('staff requests: verifyStaffRequest on mutated signatures and targets', async (t) => {
  const desk = newsroom.desk;
  const deskKey = toBase64(desk.signPublic);
  const target = { host: 'tipline.test:8080', method: 'DELETE', pathAndQuery: `/api/v1/staff/tips/${'a'.repeat(26)}`, body: new Uint8Array(0) };
  const timestamp = Math.floor(Date.now() / 1000);
  const signed = signStaffRequest({ ...target, timestamp, nonce: sodium().randombytes_buf(16) }, desk.signSecret);
  const names = [...Object.values(STAFF_REQUEST_HEADERS), 'content-type'];
  const hostile = fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('', ' ', '\r\n', '0', '-1', '1e9', '99999999999999999999', deskKey, `${deskKey} `));
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('header' as const), name: fc.constantFrom(...names), value: fc.oneof(hostile, fc.constant(undefined), fc.array(hostile, { minLength: 2, maxLength: 3 })) }),
    fc.record({ kind: fc.constant('flip' as const), name: fc.constantFrom(...names.slice(0, 4)), at: fc.nat({ max: 100 }) }),
    fc.record({ kind: fc.constant('target' as const), field: fc.constantFrom('host' as const, 'method' as const, 'pathAndQuery' as const), value: hostile }),
    fc.record({ kind: fc.constant('body' as const), body: fc.uint8Array({ minLength: 1, maxLength: 100 }) }),
    fc.record({ kind: fc.constant('upper-host' as const) }),
  );
  await holds(
    t,
    'verifyStaffRequest(mutated request) answers a verdict and accepts only the request as signed',
    fc.property(fc.array(mutation, { maxLength: 3 }), (ms) => {
      const headers: Record<string, string | string[] | undefined> = { ...signed };
      const tg = { ...target };
      let changed = false;
      for (const m of ms) {
        if (m.kind === 'header') {
          changed ||= JSON.stringify(headers[m.name]) !== JSON.stringify(m.value);
          headers[m.name] = m.value;
        } else if (m.kind === 'flip') {
          const v = headers[m.name];
          if (typeof v !== 'string' || v.length === 0) continue;
          const i = m.at % v.length;
          const nv = v.slice(0, i) + (v[i] === 'A' ? 'B' : 'A') + v.slice(i + 1);
          changed ||= nv !== v;
          headers[m.name] = nv;
        } else if (m.kind === 'target') {
          changed ||= tg[m.field] !== m.value;
          tg[m.field] = m.value;
        } else if (m.kind === 'body') {
          changed = true;
          tg.body = m.body;
        } else {
          tg.host = tg.host.toUpperCase(); // the same host: must still verify
        }
      }
      const started = performance.now();
      let v;
      try {
        v = verifyStaffRequest(headers, tg, (k) => (k === deskKey ? desk.name : undefined));
      } catch (err) {
        throw new Error(`threw instead of answering: ${describe(err)}`);
      }
      if (performance.now() - started > TIME_BOUND_MS) return false;
      if (!changed) return v.ok; // unmutated (or only the host's case): the signature holds
      // Changed but accepted: only if every signed field still reads the same (e.g. a method's case).
      return !v.ok || (tg.host.toLowerCase() === target.host && tg.method.toUpperCase() === target.method && tg.pathAndQuery === target.pathAndQuery && tg.body.length === 0 && names.every((n) => (headers[n] ?? '') === (signed[n] ?? '')));
    }),
    3000,
  );
});
