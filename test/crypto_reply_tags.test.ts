// Reply tags (crypto/reply-tags.ts, PROTOCOL.md §Reply tags): a tag is one AES-256 block over "tlreply1" || 8
// random bytes, checked here against an independent AES (@noble/ciphers' ECB, pure JavaScript) and Node's OpenSSL;
// findOwnTags, which computes every tag's decryption in one AES-CBC call, finds exactly a key's own tags (at the
// first and last positions too, where the CBC trick has its edge cases) among 10,000 others and other keys' tags.
import t from 'tap';
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ecb } from '@noble/ciphers/aes.js';
import { initCrypto } from '../crypto/node.js';
import { CryptoArgumentError } from '../crypto/errors.js';
import { REPLY_TAG_BYTES, findOwnTags, makeReplyTag } from '../crypto/reply-tags.js';

await initCrypto();

const LABEL = Buffer.from('tlreply1', 'ascii');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const key = () => new Uint8Array(randomBytes(32));
const ecbDecrypt = (k: Uint8Array, block: Uint8Array) => ecb(k, { disablePadding: true }).decrypt(block);
const ecbEncrypt = (k: Uint8Array, block: Uint8Array) => ecb(k, { disablePadding: true }).encrypt(block);

t.test('a tag is AES-256(tag key, "tlreply1" || r): checked by noble ECB and by OpenSSL', async (t) => {
  t.equal(REPLY_TAG_BYTES, 16);
  const k = key();
  const r = new Uint8Array(randomBytes(8));
  const asked: number[] = [];
  const tag = await makeReplyTag(k, (n) => (asked.push(n), r));
  t.same(asked, [8], 'asks for 8 random bytes once');
  t.equal(tag.length, 16);
  t.equal(tag.buffer.byteLength, 16, 'the tag owns its 16 bytes (no padding block hidden behind the view)');
  const plain = ecbDecrypt(k, tag);
  t.equal(Buffer.from(plain.subarray(0, 8)).toString('ascii'), 'tlreply1', 'noble ECB decrypts the tag to the label...');
  t.equal(hex(plain.subarray(8)), hex(r), '...followed by the 8 random bytes');
  t.equal(hex(ecbEncrypt(k, Buffer.concat([LABEL, r]))), hex(tag), 'noble ECB encrypts label || r to the tag');
  const ossl = createCipheriv('aes-256-ecb', k, null).setAutoPadding(false);
  t.equal(hex(Buffer.concat([ossl.update(Buffer.concat([LABEL, r])), ossl.final()])), hex(tag), 'OpenSSL agrees');
  for (let i = 0; i < 50; i++) {
    const fresh = await makeReplyTag(k);
    const p = ecbDecrypt(k, fresh);
    if (Buffer.from(p.subarray(0, 8)).toString('ascii') !== 'tlreply1') {
      t.fail(`tag ${hex(fresh)} does not decrypt to the label`);
      return;
    }
  }
  t.pass('50 tags with the default randomness decrypt to the label');
});

t.test('makeReplyTag: different every time, unrelated across keys; refuses bad input', async (t) => {
  const k = key();
  const a = await makeReplyTag(k);
  const b = await makeReplyTag(k);
  t.not(hex(a), hex(b), 'two tags of one key differ');
  t.not(hex(ecbDecrypt(k, a).subarray(8)), hex(ecbDecrypt(k, b).subarray(8)), 'their random halves differ');
  const many = new Set<string>();
  for (let i = 0; i < 1000; i++) many.add(hex(await makeReplyTag(k)));
  t.equal(many.size, 1000, '1000 tags of one key: 1000 distinct');
  const same = new Uint8Array(8).fill(7);
  const other = key();
  t.not(hex(await makeReplyTag(k, () => same)), hex(await makeReplyTag(other, () => same)), 'the same r under two keys: two tags');
  t.equal(hex(await makeReplyTag(k, () => same)), hex(await makeReplyTag(k, () => same)), 'the same key and r: the same tag (deterministic given r)');
  await t.rejects(makeReplyTag(new Uint8Array(16)), CryptoArgumentError, 'a 16-byte key (AES-128) is refused');
  await t.rejects(makeReplyTag(k, () => new Uint8Array(7)), CryptoArgumentError, '7 random bytes are refused');
});

/** A list of `n` random tags with `own` tags of `k` put at the given positions; returns the list. */
async function listWith(n: number, k: Uint8Array, positions: number[]): Promise<Uint8Array> {
  const list = new Uint8Array(randomBytes(n * 16));
  for (const p of positions) list.set(await makeReplyTag(k), p * 16);
  return list;
}

t.test('findOwnTags: exactly its own among 10,000 random tags, with positions (first and last included)', async (t) => {
  const k = key();
  const n = 10_000;
  const positions = [0, 1, 17, 4999, 5000, 9998, 9999];
  for (let i = 0; i < 5; i++) positions.push(randomInt(2, 9998));
  const want = [...new Set(positions)].sort((a, b) => a - b);
  const list = await listWith(n, k, want);
  const t0 = performance.now();
  const got = await findOwnTags(k, list);
  const ms = performance.now() - t0;
  t.same(got, want, `found exactly positions ${want.join(', ')}`);
  t.comment(`MEASURED findOwnTags over ${n} tags in Node: ${ms.toFixed(1)} ms`);
  t.same(await findOwnTags(key(), list), [], 'another key finds none of them');
  // The same list read from an offset inside a larger buffer (a Buffer slice of a network body).
  const big = Buffer.alloc(list.length + 37);
  big.set(list, 37);
  t.same(await findOwnTags(k, big.subarray(37)), want, 'a view at an odd byte offset gives the same positions');
  t.same(hex(big.subarray(37)), hex(list), 'and the list is not modified');
});

t.test('findOwnTags: among other keys\' tags (all real tags), each key finds only its own', async (t) => {
  const keys = Array.from({ length: 5 }, key);
  const owner: number[] = [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const o = randomInt(5);
    owner.push(o);
    parts.push(await makeReplyTag(keys[o]!));
  }
  const list = Buffer.concat(parts);
  for (const [o, k] of keys.entries()) {
    const want = owner.flatMap((x, i) => (x === o ? [i] : []));
    t.same(await findOwnTags(k, list), want, `key ${o}: its ${want.length} tags`);
  }
});

t.test('findOwnTags: one-tag lists, the empty list, the label compared in all 8 bytes', async (t) => {
  const k = key();
  const own = await makeReplyTag(k);
  t.same(await findOwnTags(k, own), [0], 'a list of only its own tag');
  t.same(await findOwnTags(k, new Uint8Array(randomBytes(16))), [], 'a list of one stranger');
  t.same(await findOwnTags(k, new Uint8Array(0)), [], 'the empty list');
  // Blocks whose decryption differs from the label in exactly one byte are not matches; any r is.
  const blocks: Uint8Array[] = [];
  for (let j = 0; j < 8; j++) {
    const p = Buffer.concat([LABEL, randomBytes(8)]);
    p[j]! ^= 1 << randomInt(8);
    blocks.push(ecbEncrypt(k, p));
  }
  blocks.push(ecbEncrypt(k, Buffer.concat([LABEL, Buffer.alloc(8)])), ecbEncrypt(k, Buffer.concat([LABEL, Buffer.alloc(8, 0xff)])));
  t.same(await findOwnTags(k, Buffer.concat(blocks)), [8, 9], 'a one-byte difference in the label is no match; r = 0 and r = ff… are');
  // A list that is the same tag repeated (a server replaying it): every copy found.
  t.same(await findOwnTags(k, Buffer.concat([own, own, own])), [0, 1, 2], 'repeated copies are each found');
  // Blocks made with another label (PKCS#7-looking plaintext) do not confuse the padding trick.
  const pad = ecbEncrypt(k, new Uint8Array(16).fill(16));
  t.same(await findOwnTags(k, Buffer.concat([pad, own, pad])), [1], 'blocks that decrypt to PKCS#7 padding are not mistaken');
});

t.test('findOwnTags: refuses what is not a list of tags', async (t) => {
  const k = key();
  for (const n of [1, 15, 17, 31, 16 * 100 + 8]) {
    await t.rejects(findOwnTags(k, new Uint8Array(n)), { name: 'CryptoArgumentError', message: /multiple of 16/ }, `${n} bytes`);
  }
  await t.rejects(findOwnTags(k, [1, 2, 3] as unknown as Uint8Array), CryptoArgumentError, 'not bytes');
  await t.rejects(findOwnTags(new Uint8Array(31), new Uint8Array(16)), CryptoArgumentError, 'a 31-byte key');
});
