// Reply tags (PROTOCOL.md §Reply tags): how a source finds its replies in a list the server hands to anyone,
// without telling the server which are its own. A tag is one AES-256 block under the source's tag key:
//   tag = AES-256-Encrypt(tag_key, "tlreply1" || r)          r: 8 fresh random bytes per reply
// Without the key a tag is a random-looking 16 bytes: two tags of one source are as unrelated as tags of two
// sources, and a tag says nothing about the tip it answers. With the key, decrypting a tag shows the label.
// WebCrypto has no single-block (ECB) mode, so both directions are computed with AES-CBC: encrypting one block
// with a zero IV is AES of that block; decrypting a run of blocks in CBC gives D(C_i) XOR C_{i-1}, from which
// D(C_i) is one XOR away, for thousands of tags in one native call (Tor Browser's Safer level runs page
// JavaScript without its JIT, but WebCrypto at native speed). Pure: WebCrypto only, no I/O.
import { _abytes } from './_guard.js';
import { CryptoArgumentError } from './errors.js';
import { sodium } from './sodium.js';
import { utf8Encode } from './bytes.js';

export const REPLY_TAG_BYTES = 16;
const LABEL = utf8Encode('tlreply1'); // 8 bytes: a random tag shows it by chance with probability 2^-64
const BLOCK = 16;

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!s) throw new CryptoArgumentError('reply tags need WebCrypto (crypto.subtle): a secure context in a browser, Node 20 or later');
  return s;
}

function importTagKey(tagKey: Uint8Array, usage: KeyUsage[]): Promise<CryptoKey> {
  _abytes('tagKey', tagKey, 32);
  return subtle().importKey('raw', tagKey as Uint8Array<ArrayBuffer>, 'AES-CBC', false, usage);
}

/** AES-256 of one block: CBC with a zero IV, first output block (the second is PKCS#7 padding). A copy, not a
 * view: a caller that sends `tag.buffer` must not send the padding block behind it too. */
async function encryptBlock(key: CryptoKey, block: Uint8Array, iv = new Uint8Array(BLOCK)): Promise<Uint8Array> {
  const out = await subtle().encrypt({ name: 'AES-CBC', iv: iv as Uint8Array<ArrayBuffer> }, key, block as Uint8Array<ArrayBuffer>);
  return new Uint8Array(out, 0, BLOCK).slice();
}

/** A new tag for a reply to the source whose tag key this is. `random` is for test vectors only. */
export async function makeReplyTag(tagKey: Uint8Array, random: (n: number) => Uint8Array = (n) => sodium().randombytes_buf(n)): Promise<Uint8Array> {
  const key = await importTagKey(tagKey, ['encrypt']);
  const block = new Uint8Array(BLOCK);
  block.set(LABEL, 0);
  block.set(_abytes('random(8)', random(8), 8), 8);
  return encryptBlock(key, block);
}

/**
 * The positions, in a list of tags laid end to end (16 bytes each), of those made with this tag key. Two native
 * calls whatever the list's length: one block to make the decryption's padding valid, then the whole list.
 */
export async function findOwnTags(tagKey: Uint8Array, list: Uint8Array): Promise<number[]> {
  _abytes('list', list);
  if (list.length % REPLY_TAG_BYTES !== 0) throw new CryptoArgumentError(`list: expected a multiple of ${REPLY_TAG_BYTES} bytes, got ${list.length}`);
  const n = list.length / REPLY_TAG_BYTES;
  if (n === 0) return [];
  const key = await importTagKey(tagKey, ['encrypt', 'decrypt']);
  const last = list.subarray(list.length - BLOCK);
  // A block that decrypts, after the list, to a full block of PKCS#7 padding (sixteen 0x10): E(0x10… XOR C_last).
  const padding = await encryptBlock(key, new Uint8Array(BLOCK).fill(BLOCK), last.slice());
  const input = new Uint8Array(list.length + BLOCK);
  input.set(list, 0);
  input.set(padding, list.length);
  const plain = new Uint8Array(await subtle().decrypt({ name: 'AES-CBC', iv: new Uint8Array(BLOCK) }, key, input));
  if (plain.length !== list.length) throw new Error('internal: AES-CBC returned an unexpected length');
  const own: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * BLOCK;
    let diff = 0;
    // D(C_i) = P_i XOR C_{i-1}; only the label's 8 bytes are compared.
    for (let j = 0; j < LABEL.length; j++) diff |= plain[at + j]! ^ (i === 0 ? 0 : list[at - BLOCK + j]!) ^ LABEL[j]!;
    if (diff === 0) own.push(i);
  }
  return own;
}
