// Replies (crypto/reply.ts, PROTOCOL.md §Replies, FORMAT.md manifest `answer`): every reply envelope is exactly
// REPLY_ENVELOPE_LENGTH, from the empty message to the longest replyFits allows; openReply gives back the text,
// day, desk key and deletion token; the signature binds the source's reply key (checked with Node's own Ed25519
// over a layout built from the spec); a reply to another key, a signature for another key, a tampered signature,
// and manifests mixing `answer` with files or `reply` are refused; weak (small-order) reply keys are refused;
// replyAuthor and threadId.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createDecipheriv, createPublicKey, pbkdf2Sync, randomBytes, verify as nodeVerify } from 'node:crypto';
import { initCrypto } from '../crypto/node.js';
import { concatBytes, toBase32, toBase64, utf8Encode } from '../crypto/bytes.js';
import { BadSignatureError, CryptoArgumentError, MalformedEnvelopeError, NotForYouError } from '../crypto/errors.js';
import { generateDeskKey, sign } from '../crypto/keys.js';
import { sodium } from '../crypto/sodium.js';
import { checkFraming, decryptEnvelope, encryptEnvelope, type Manifest } from '../crypto/envelope/index.js';
import { MAGIC, VERSION, paddedLength } from '../crypto/envelope/format.js';
import { _keyCommitment, _sealStanza } from '../crypto/envelope/seal.js';
import { _chunkCipher, _headerDigest, _payloadKey } from '../crypto/envelope/stream.js';
import type { Directory, Recipient } from '../crypto/directory.js';
import {
  REPLY_DELETE_HASH_BYTES,
  REPLY_DELETE_TOKEN_BYTES,
  REPLY_ENVELOPE_LENGTH,
  deleteHash,
  deleteTokenMatches,
  isWeakBoxKey,
  openReply,
  replyAuthor,
  replyFits,
  sealReply,
  threadId,
} from '../crypto/reply.js';
import { checkRepliesVectors } from './vectors/check.js';
import type { RepliesFile } from './vectors/replies.js';
import { lp } from './helpers/layout.js';

await initCrypto();

const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/replies.json', import.meta.url), 'utf8')) as RepliesFile;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const source = () => {
  const kp = sodium().crypto_box_keypair();
  return { boxPublic: kp.publicKey, boxSecret: kp.privateKey };
};
const desk = generateDeskKey();
const NOW = new Date('2026-11-26T17:30:00Z');

async function collect(s: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s) parts.push(p.slice());
  return concatBytes(...parts);
}

/** The signing input as PROTOCOL.md lays it out, built with Buffer. */
const specSigned = (boxKey: Uint8Array, day: string, message: string, deskKey: Uint8Array) => lp('tipline reply v1', boxKey, day, message, deskKey);
const nodeEd25519Verify = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) =>
  nodeVerify(null, msg, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk).toString('base64url') }, format: 'jwk' }), sig);

/** Every manifest of a reply is this JSON around the message: the bytes that are not the message. */
const OVERHEAD = Buffer.byteLength(
  `{"v":2,"sent_day":"2026-11-26","message":"","files":[],"answer":{"desk_key":"${'x'.repeat(44)}","delete_token":"${'x'.repeat(44)}","signature":"${'x'.repeat(88)}"}}`,
);
const MAX_ASCII = 65_536 - 4 - OVERHEAD;

t.test('REPLY_ENVELOPE_LENGTH: one stanza and one padded chunk', async (t) => {
  t.equal(REPLY_ENVELOPE_LENGTH, 9 + 80 + 32 + 65_536 + 16, 'header (magic, version, count, 1 stanza, commitment) + one 64 KiB chunk + tag');
  t.equal(REPLY_ENVELOPE_LENGTH, 65_673);
});

t.test('sealReply: every reply is exactly REPLY_ENVELOPE_LENGTH, empty, short and maximal; replyFits is the boundary', async (t) => {
  const s = source();
  t.ok(replyFits('a'.repeat(MAX_ASCII)), `${MAX_ASCII} ASCII characters fit (65,536 - 4 - ${OVERHEAD} bytes of JSON around the text)`);
  t.notOk(replyFits('a'.repeat(MAX_ASCII + 1)), 'one more does not');
  // JSON escaping and UTF-8 are counted: '"' is two bytes in JSON, 'é' two in UTF-8, '😀' four.
  t.ok(replyFits('"'.repeat(Math.floor(MAX_ASCII / 2))) && !replyFits('"'.repeat(Math.floor(MAX_ASCII / 2) + 1)), 'a quote counts as two bytes');
  t.ok(replyFits('😀'.repeat(Math.floor(MAX_ASCII / 4))) && !replyFits('😀'.repeat(Math.floor(MAX_ASCII / 4)) + 'a'.repeat((MAX_ASCII % 4) + 1)), 'an emoji counts as four bytes');
  t.ok(replyFits('\u0001'.repeat(Math.floor(MAX_ASCII / 6))) && !replyFits('\u0001'.repeat(Math.floor(MAX_ASCII / 6) + 1)), 'a control character counts as six (\\u0001)');

  for (const [what, message] of [
    ['empty', ''],
    ['short', 'Thank you. Can you tell us more about the second document?'],
    ['maximal ASCII', 'a'.repeat(MAX_ASCII)],
    ['maximal with emoji', '😀'.repeat(Math.floor(MAX_ASCII / 4))],
    ['maximal with quotes and newlines', '"\n'.repeat(Math.floor(MAX_ASCII / 4))],
  ] as const) {
    const r = await sealReply({ toBoxKey: s.boxPublic, message, desk, now: NOW });
    t.equal(r.envelope.length, REPLY_ENVELOPE_LENGTH, `${what}: ${r.envelope.length} bytes`);
    const f = checkFraming(r.envelope, r.envelope.length);
    t.same([f.stanzaCount, f.chunkCount], [1, 1], `${what}: one stanza, one chunk`);
    const o = await openReply(r.envelope, s);
    t.equal(o.message, message, `${what}: the text comes back`);
  }
  await t.rejects(sealReply({ toBoxKey: s.boxPublic, message: 'a'.repeat(MAX_ASCII + 1), desk, now: NOW }), { name: 'CryptoArgumentError', message: /too long/ }, 'one byte over is refused');
  await t.rejects(sealReply({ toBoxKey: s.boxPublic, message: 'a'.repeat(1_000_000), desk, now: NOW }), CryptoArgumentError, 'a megabyte is refused');
  await t.rejects(sealReply({ toBoxKey: s.boxPublic, message: 42 as unknown as string, desk, now: NOW }), CryptoArgumentError, 'a non-string');
  await t.rejects(sealReply({ toBoxKey: s.boxPublic, message: 'x', desk, now: new Date(NaN) }), CryptoArgumentError, 'an invalid clock');
  await t.rejects(sealReply({ toBoxKey: s.boxPublic.subarray(1), message: 'x', desk, now: NOW }), CryptoArgumentError, 'a 31-byte reply key');
  await t.rejects(sealReply({ toBoxKey: s.boxPublic, message: 'x', desk: { signPublic: desk.signPublic, signSecret: generateDeskKey().signSecret }, now: NOW }), { name: 'CryptoArgumentError', message: /does not belong/ }, 'a secret key that is not the named desk key');
});

t.test('openReply: text, day, desk key and token; deleteHash(token) is the sealed hash', async (t) => {
  const s = source();
  const message = 'Hello — we read your tip. Ça va?\nLine two.';
  const r = await sealReply({ toBoxKey: s.boxPublic, message, desk, now: NOW });
  const o = await openReply(r.envelope, s);
  t.equal(o.message, message);
  t.equal(o.sentDay, '2026-11-26', 'the UTC day of `now`');
  t.equal(o.deskKey, toBase64(desk.signPublic), 'the desk\'s signing key, base64');
  t.equal(o.deleteToken.length, REPLY_DELETE_TOKEN_BYTES);
  t.equal(r.deleteHash.length, REPLY_DELETE_HASH_BYTES);
  t.equal(hex(deleteHash(o.deleteToken)), hex(r.deleteHash), 'deleteHash(opened token) = the hash the desk posts');
  t.equal(hex(r.deleteHash), hex(sodium().crypto_generichash(32, lp('tipline reply delete v1', o.deleteToken), null)), 'BLAKE2b-256(frame(domain, token)), as the spec says');
  t.not(hex(r.deleteHash), hex(o.deleteToken), 'the hash is not the token');
  t.ok(deleteTokenMatches(o.deleteToken, r.deleteHash), 'the token matches its hash');
  t.notOk(deleteTokenMatches(new Uint8Array(randomBytes(32)), r.deleteHash), 'another token does not');
  t.notOk(deleteTokenMatches(o.deleteToken.subarray(1), r.deleteHash), 'a 31-byte token does not (no throw)');
  t.notOk(deleteTokenMatches('token' as unknown as Uint8Array, r.deleteHash), 'a string does not (no throw)');
  t.notOk(deleteTokenMatches(o.deleteToken, r.deleteHash.subarray(0, 16)), 'a stored hash of the wrong length does not');
  t.equal(new Date('2026-11-26T23:59:59.999Z').toISOString().slice(0, 10), '2026-11-26');
  t.equal((await openReply((await sealReply({ toBoxKey: s.boxPublic, message: 'x', desk, now: new Date('2026-11-26T23:59:59.999Z') })).envelope, s)).sentDay, '2026-11-26', 'the last millisecond of a day');
  t.equal((await openReply((await sealReply({ toBoxKey: s.boxPublic, message: 'x', desk, now: new Date('2026-11-27T00:00:00Z') })).envelope, s)).sentDay, '2026-11-27', 'midnight UTC starts the next');

  // The manifest inside, decrypted without openReply: the answer's signature over the spec's layout, verified by Node.
  let manifest: Manifest | undefined;
  for await (const ev of decryptEnvelope((async function* () { yield r.envelope; })(), s)) if (ev.kind === 'manifest') manifest = ev.manifest;
  t.same(Object.keys(manifest!), ['v', 'sent_day', 'message', 'files', 'answer']);
  t.same(manifest!.files, []);
  const sig = Buffer.from(manifest!.answer!.signature, 'base64');
  t.ok(nodeEd25519Verify(sig, specSigned(s.boxPublic, '2026-11-26', message, desk.signPublic), desk.signPublic), 'OpenSSL verifies the signature over frame("tipline reply v1", box_key, day, message, desk_key)');
  t.notOk(nodeEd25519Verify(sig, specSigned(source().boxPublic, '2026-11-26', message, desk.signPublic), desk.signPublic), '...and it is over this source\'s key, not another\'s');

  const again = await sealReply({ toBoxKey: s.boxPublic, message, desk, now: NOW });
  t.not(hex(again.envelope), hex(r.envelope), 'the same reply sealed twice: different envelopes');
  t.not(hex(again.deleteHash), hex(r.deleteHash), 'and different deletion hashes (fresh tokens)');
});

t.test('sealReply with injected randomness is deterministic', async (t) => {
  const s = source();
  const counter = () => {
    let i = 0;
    return (n: number) => sodium().randombytes_buf_deterministic(n, sodium().crypto_generichash(32, utf8Encode(`reply test ${i++}`), null));
  };
  const a = await sealReply({ toBoxKey: s.boxPublic, message: 'same', desk, now: NOW, random: counter() });
  const b = await sealReply({ toBoxKey: s.boxPublic, message: 'same', desk, now: NOW, random: counter() });
  t.equal(hex(a.envelope), hex(b.envelope), 'identical envelopes');
  t.equal(hex(a.deleteHash), hex(b.deleteHash), 'identical deletion hashes');
  const first = counter()(32);
  t.equal(hex((await openReply(a.envelope, s)).deleteToken), hex(first), 'the first 32 random bytes are the deletion token');
});

/** An envelope with any plaintext manifest (bypassing the encoder's checks): what a hostile desk or server could make. */
async function rawReply(to: Uint8Array, manifest: unknown): Promise<Uint8Array> {
  const m = utf8Encode(JSON.stringify(manifest));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, m.length, false);
  const body = concatBytes(len, m);
  const p = concatBytes(body, new Uint8Array(paddedLength(body.length) - body.length));
  const k = new Uint8Array(randomBytes(32));
  const header = concatBytes(MAGIC, Uint8Array.of(VERSION, 1), _sealStanza(k, to, new Uint8Array(randomBytes(32))), _keyCommitment(k));
  const cipher = await _chunkCipher(_payloadKey(k), _headerDigest(header), 'noble');
  return concatBytes(header, await cipher.seal(0, true, p));
}

t.test('openReply refuses: another source\'s keys, a signature for another reply key, another desk\'s signature, tampering', async (t) => {
  const a = source();
  const b = source();
  const r = await sealReply({ toBoxKey: a.boxPublic, message: 'for A', desk, now: NOW });
  await t.rejects(openReply(r.envelope, b), NotForYouError, 'B cannot open a reply sealed to A');
  const tampered = r.envelope.slice();
  tampered[tampered.length - 100]! ^= 1;
  await t.rejects(openReply(tampered, a), { name: 'TamperedError' }, 'a flipped ciphertext bit');

  // A reply signed for A's key, then sealed to B (through the envelope's public API): B must not accept it.
  const day = '2026-11-26';
  const msg = 'written for A';
  const sigForA = sign(specSigned(a.boxPublic, day, msg, desk.signPublic), desk.signSecret);
  const answer = (signature: Uint8Array, deskKey = desk.signPublic) => ({ desk_key: toBase64(deskKey), delete_token: toBase64(new Uint8Array(32)), signature: toBase64(signature) });
  const sealTo = async (to: Uint8Array, m: Manifest) => collect(encryptEnvelope({ recipients: [to], manifest: m, files: [] }).stream);
  const base = { v: 2 as const, sent_day: day, message: msg, files: [] };
  const toA = await sealTo(a.boxPublic, { ...base, answer: answer(sigForA) });
  t.equal((await openReply(toA, a)).message, msg, 'control: the hand-made reply opens for A');
  await t.rejects(openReply(await sealTo(b.boxPublic, { ...base, answer: answer(sigForA) }), b), BadSignatureError, 'signed for A, sealed to B: bad signature');
  const other = generateDeskKey();
  await t.rejects(openReply(await sealTo(a.boxPublic, { ...base, answer: answer(sigForA, other.signPublic) }), a), BadSignatureError, 'a signature by one desk naming another desk\'s key');
  await t.rejects(openReply(await sealTo(a.boxPublic, { ...base, message: 'changed', answer: answer(sigForA) }), a), BadSignatureError, 'another text under the signature');
  await t.rejects(openReply(await sealTo(a.boxPublic, { ...base, sent_day: '2026-11-25', answer: answer(sigForA) }), a), BadSignatureError, 'another day under the signature');
  const flipped = sigForA.slice();
  flipped[0]! ^= 1;
  await t.rejects(openReply(await sealTo(a.boxPublic, { ...base, answer: answer(flipped) }), a), BadSignatureError, 'a flipped signature bit');
  // A signature over the fields without the frame's lengths (plain concatenation) is not accepted.
  const unframed = sign(Buffer.concat([Buffer.from('tipline reply v1'), a.boxPublic, Buffer.from(day), Buffer.from(msg), desk.signPublic]), desk.signSecret);
  await t.rejects(openReply(await sealTo(a.boxPublic, { ...base, answer: answer(unframed) }), a), BadSignatureError, 'an unframed signing input');

  await t.rejects(openReply(await sealTo(a.boxPublic, base), a), MalformedEnvelopeError, 'a tip (no answer) is not a reply');
  await t.rejects(openReply(await sealTo(a.boxPublic, { ...base, reply: { box_key: toBase64(b.boxPublic), mailbox: 'x' } }), a), MalformedEnvelopeError, 'a follow-up (reply field) is not a reply');
});

t.test('manifest `answer`: refused with files or with `reply`, or malformed — when sealing and when opening', async (t) => {
  const a = source();
  const good = { desk_key: toBase64(desk.signPublic), delete_token: toBase64(new Uint8Array(32)), signature: toBase64(new Uint8Array(64)) };
  const base = { v: 2, sent_day: '2026-11-26', message: 'x', files: [] as unknown[] };
  const file = { name: 'a.txt', type: 'text/plain', size: 0 };
  const reply = { box_key: toBase64(a.boxPublic), mailbox: toBase64(new Uint8Array(32)) };
  const bad: [string, unknown, RegExp][] = [
    ['answer plus files', { ...base, files: [file], answer: good }, /no files and no reply/],
    ['answer plus reply', { ...base, reply, answer: good }, /no files and no reply/],
    ['answer with an extra field', { ...base, answer: { ...good, extra: 1 } }, /answer must be/],
    ['answer missing its signature', { ...base, answer: { desk_key: good.desk_key, delete_token: good.delete_token } }, /answer must be/],
    ['answer as a string', { ...base, answer: 'yes' }, /answer must be/],
    ['a 31-byte desk key', { ...base, answer: { ...good, desk_key: toBase64(new Uint8Array(31)) } }, /desk_key/],
    ['a 33-byte token', { ...base, answer: { ...good, delete_token: toBase64(new Uint8Array(33)) } }, /delete_token/],
    ['a 63-byte signature', { ...base, answer: { ...good, signature: toBase64(new Uint8Array(63)) } }, /signature/],
    ['a desk key that is not base64', { ...base, answer: { ...good, desk_key: '!'.repeat(44) } }, /desk_key/],
    ['a signature that is a number', { ...base, answer: { ...good, signature: 5 } }, /signature/],
  ];
  t.doesNotThrow(() => encryptEnvelope({ recipients: [a.boxPublic], manifest: { ...base, answer: good } as Manifest, files: [] }), 'control: a well-formed answer is sealed');
  for (const [what, m, re] of bad) {
    t.throws(() => encryptEnvelope({ recipients: [a.boxPublic], manifest: m as Manifest, files: [] }), { name: 'CryptoArgumentError', message: re }, `sealing: ${what}`);
    // The decoder refuses the same manifest made by hand (a hostile sender skips the encoder's checks).
    let thrown: unknown;
    try {
      for await (const _ of decryptEnvelope((async function* () { yield await rawReply(a.boxPublic, m); })(), a)) void _;
    } catch (e) {
      thrown = e;
    }
    t.match(thrown, { name: 'MalformedEnvelopeError', message: re }, `opening: ${what}`);
  }
  // The control for the hand-made path: a well-formed answer decrypts.
  let ok = false;
  for await (const ev of decryptEnvelope((async function* () { yield await rawReply(a.boxPublic, { ...base, answer: good }); })(), a)) if (ev.kind === 'end') ok = true;
  t.ok(ok, 'control: the hand-made envelope with a well-formed answer decrypts');
});

// Curve25519's points of small order (orders 1, 2, 4, 8) and their non-canonical encodings; see libsodium's
// has_small_order blocklist and https://cr.yp.to/ecdh.html#validate.
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000', // 0 (order 4)
  '0100000000000000000000000000000000000000000000000000000000000000', // 1 (order 1)
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p - 1 (order 2)
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p = 0, non-canonical
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p + 1 = 1, non-canonical
];
const withTopBit = (h: string) => h.slice(0, 62) + (parseInt(h.slice(62), 16) | 0x80).toString(16).padStart(2, '0');

t.test('isWeakBoxKey: the small-order points (and their encodings with the top bit set); sealReply refuses them', async (t) => {
  const points = [...SMALL_ORDER, ...SMALL_ORDER.map(withTopBit)];
  t.equal(new Set(points).size, 14);
  for (const h of points) {
    const k = Uint8Array.from(Buffer.from(h, 'hex'));
    t.ok(isWeakBoxKey(k), `weak: ${h}`);
    await t.rejects(sealReply({ toBoxKey: k, message: 'x', desk, now: NOW }), { name: 'CryptoArgumentError', message: /weak/ }, `sealReply refuses ${h.slice(0, 8)}…`);
  }
  for (let i = 0; i < 50; i++) {
    if (isWeakBoxKey(source().boxPublic)) {
      t.fail('a real public key was called weak');
      return;
    }
  }
  t.pass('50 real public keys are not weak');
  t.notOk(isWeakBoxKey(Uint8Array.from(Buffer.from('0900000000000000000000000000000000000000000000000000000000000000', 'hex'))), 'the base point (9) is not weak');
  t.throws(() => isWeakBoxKey(new Uint8Array(31)), CryptoArgumentError, 'a 31-byte key is an argument error');
});

t.test('replyAuthor: current desk, desk outside its validity, unknown key, auditor key', async (t) => {
  const k = () => toBase64(generateDeskKey().signPublic);
  const rec = (name: string, role: 'desk' | 'auditor', sign_key: string, not_before: string, not_after: string): Recipient => ({ name, role, box_key: toBase64(source().boxPublic), sign_key, not_before, not_after });
  const [current, expired, future, auditor, renewed] = [k(), k(), k(), k(), k()];
  const dir: Directory = {
    v: 2,
    serial: 1,
    issued: '2026-11-20T00:00:00Z',
    expires: '2026-12-01T00:00:00Z',
    recipients: [
      rec('Ana (desk)', 'desk', current, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'),
      rec('Old desk', 'desk', expired, '2025-01-01T00:00:00Z', '2026-11-01T00:00:00Z'),
      rec('Future desk', 'desk', future, '2026-12-01T00:00:00Z', '2027-12-01T00:00:00Z'),
      rec('Auditor', 'auditor', auditor, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'),
      rec('Renewed (old name)', 'desk', renewed, '2025-01-01T00:00:00Z', '2026-06-01T00:00:00Z'),
      rec('Renewed', 'desk', renewed, '2026-06-01T00:00:00Z', '2027-06-01T00:00:00Z'),
    ],
  };
  t.same(replyAuthor(dir, current, NOW), { name: 'Ana (desk)', current: true }, 'a current desk');
  t.same(replyAuthor(dir, expired, NOW), { name: 'Old desk', current: false }, 'a desk whose validity ended');
  t.same(replyAuthor(dir, future, NOW), { name: 'Future desk', current: false }, 'a desk not yet valid');
  t.equal(replyAuthor(dir, k(), NOW), undefined, 'a key the directory never listed');
  t.equal(replyAuthor(dir, auditor, NOW), undefined, 'an auditor\'s key is not a desk');
  t.same(replyAuthor(dir, renewed, NOW), { name: 'Renewed', current: true }, 'a key listed twice: the entry valid now');
  t.same(replyAuthor(dir, expired, new Date('2026-11-01T00:00:00Z')), { name: 'Old desk', current: false }, 'not_after itself is outside');
  t.same(replyAuthor(dir, expired, new Date('2026-10-31T23:59:59.999Z')), { name: 'Old desk', current: true }, 'the millisecond before is inside');
  t.same(replyAuthor(dir, future, new Date('2026-12-01T00:00:00Z')), { name: 'Future desk', current: true }, 'not_before itself is inside');
  t.equal(replyAuthor(dir, '', NOW), undefined, 'an empty key');
});

t.test('threadId: stable, different for another key, as the spec computes it', async (t) => {
  const a = toBase64(source().boxPublic);
  const b = toBase64(source().boxPublic);
  t.equal(threadId(a), threadId(a), 'stable');
  t.not(threadId(a), threadId(b), 'another key, another thread');
  t.equal(threadId(a), toBase32(sodium().crypto_generichash(32, lp('tipline thread v1', Buffer.from(a, 'base64')), null).subarray(0, 10)), 'base32 of the first 10 bytes of BLAKE2b-256(frame(domain, key))');
  t.match(threadId(a), /^[a-z2-7]{16}$/, '16 base32 characters');
  t.throws(() => threadId(toBase64(new Uint8Array(31))), CryptoArgumentError, 'a 31-byte key');
  t.throws(() => threadId('not base64!'), 'not base64');
  const ids = new Set(Array.from({ length: 1000 }, () => threadId(toBase64(source().boxPublic))));
  t.equal(ids.size, 1000, '1000 keys, 1000 threads');
});

t.test('replies.json: every vector regenerates and every check holds (the checker the browsers run)', async (t) => {
  const results = await checkRepliesVectors(vectors);
  t.ok(results.length >= 12, `${results.length} checks`);
  for (const r of results) t.ok(r.ok, r.name, r.ok ? {} : { detail: r.detail });
});

t.test('replies.json: the checker notices a changed vector', async (t) => {
  const tampered = JSON.parse(JSON.stringify(vectors)) as RepliesFile;
  tampered.codenames[4]!.tag_key = tampered.codenames[4]!.tag_key.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  tampered.tags[1]!.tag = tampered.tags[1]!.tag.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
  tampered.tag_lists[0]!.own = [0, 4];
  tampered.replies[0]!.message += '!';
  tampered.codename_problems[3]!.problem = { kind: 'count', count: 9 };
  const failed = (await checkRepliesVectors(tampered)).filter((r) => !r.ok).map((r) => r.name);
  t.ok(failed.includes('replies.json: regenerated byte for byte'));
  t.ok(failed.some((n) => n.includes('full cost')), 'the full-cost codename');
  t.ok(failed.some((n) => n.includes('tag "labelled r"')));
  t.ok(failed.some((n) => n.includes('tag list')));
  t.ok(failed.some((n) => n.includes('reply "a short reply"')));
  t.ok(failed.includes('replies.json: codename problems'));
});

t.test('replies.json agrees with independent implementations (OpenSSL PBKDF2 and AES, Node Ed25519, spec layouts)', async (t) => {
  const u16s = (ind: number[]) => Buffer.concat(ind.map((i) => Buffer.from([i >> 8, i & 0xff])));
  t.ok(vectors.codenames.some((v) => v.iterations === 1_000_000) && vectors.codenames.some((v) => v.iterations < 10_000), 'a low-cost and a full-cost vector');
  for (const v of vectors.codenames) {
    const seed = pbkdf2Sync(lp('tipline codename v1', u16s(v.indices)), lp('tipline codename v1 salt', v.root_fingerprint.replace(/ /g, '')), v.iterations, 32, 'sha256');
    t.equal(hex(sodium().crypto_generichash(32, Buffer.from('tipline codename v1 tag key'), seed)), v.tag_key, `${v.name}: tag key`);
    const pair = sodium().crypto_box_seed_keypair(sodium().crypto_generichash(32, Buffer.from('tipline codename v1 reply key'), seed));
    t.equal(hex(pair.publicKey), v.box_public, `${v.name}: reply key`);
    const n = BigInt(`0x${v.random}`);
    t.same(v.indices, Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(77 - 11 * i)) & 0x7ffn)), `${v.name}: indices are the random bytes' 11-bit groups`);
  }
  t.equal(vectors.codenames[0]!.text.split(' ').slice(0, 8).join(' '), Array(8).fill('abandon').join(' '));
  t.not(vectors.codenames[2]!.tag_key, vectors.codenames[3]!.tag_key, 'the same words at another tip line: another tag key');
  const ecbDecrypt = (key: string, block: Buffer) => {
    const d = createDecipheriv('aes-256-ecb', Buffer.from(key, 'hex'), null).setAutoPadding(false);
    return Buffer.concat([d.update(block), d.final()]);
  };
  for (const v of vectors.tags) t.equal(ecbDecrypt(v.tag_key, Buffer.from(v.tag, 'hex')).toString('hex'), Buffer.from('tlreply1').toString('hex') + v.random, `tag "${v.name}": OpenSSL decrypts it to "tlreply1" || r`);
  const l = vectors.tag_lists[0]!;
  const blocks = Buffer.from(l.list, 'hex');
  const own = Array.from({ length: blocks.length / 16 }, (_, i) => i).filter((i) => ecbDecrypt(l.tag_key, blocks.subarray(i * 16, i * 16 + 16)).subarray(0, 8).toString() === 'tlreply1');
  t.same(own, l.own, 'tag list: OpenSSL finds the same positions');
  const r = vectors.replies[0]!;
  const env = Buffer.from(r.envelope, 'hex');
  t.equal(env.length, REPLY_ENVELOPE_LENGTH);
  t.equal(hex(sodium().crypto_box_seal_open(env.subarray(9, 89), Buffer.from(r.box_public, 'hex'), Buffer.from(r.box_secret, 'hex'))), r.random.slice(64, 128), 'the stanza (a libsodium sealed box) opens to K, the random bytes after the token');
  t.equal(hex(sodium().crypto_generichash(32, lp('tipline reply delete v1', Buffer.from(r.delete_token, 'hex')), null)), r.delete_hash, 'delete_hash = BLAKE2b-256(frame(domain, token))');
  t.equal(r.delete_token, r.random.slice(0, 64), 'the token is the first 32 random bytes');
  const o = await openReply(env, { boxPublic: Buffer.from(r.box_public, 'hex'), boxSecret: Buffer.from(r.box_secret, 'hex') });
  let manifest: Manifest | undefined;
  for await (const ev of decryptEnvelope((async function* () { yield env; })(), { boxPublic: Buffer.from(r.box_public, 'hex'), boxSecret: Buffer.from(r.box_secret, 'hex') })) if (ev.kind === 'manifest') manifest = ev.manifest;
  t.ok(nodeEd25519Verify(Buffer.from(manifest!.answer!.signature, 'base64'), specSigned(Buffer.from(r.box_public, 'hex'), r.sent_day, r.message, Buffer.from(r.desk_sign_public, 'hex')), Buffer.from(r.desk_sign_public, 'hex')), 'OpenSSL verifies the desk signature');
  t.equal(o.message, r.message);
});
