// A source's codename (PROTOCOL.md §Codenames): the only way back to the replies a newsroom sends. Nine words
// from the BIP-39 English list: eight random (88 bits) and a check word, so a mistyped codename is told apart
// from one that has no replies before anything is asked of the server (every one-word mistake and every swap of
// two words). The keys come from the words' indices, stretched with PBKDF2 salted by the tip line's root fingerprint: whoever sees something computed from a
// codename (the server sees tags; a seized desk machine sees reply keys) pays a million hashes per guess, per
// tip line, on top of 2^88 guesses. Pure: WebCrypto and libsodium, no I/O.
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { _frame } from './_frame.js';
import { _abytes } from './_guard.js';
import { utf8Encode } from './bytes.js';
import { CryptoArgumentError } from './errors.js';
import { normalizeFingerprint } from './keys.js';
import { sodium } from './sodium.js';

export const CODENAME_WORDLIST: readonly string[] = wordlist;
/** Random words (11 bits each): 88 bits. */
export const CODENAME_RANDOM_WORDS = 8;
/** Words a source writes down: the random ones and the check word. */
export const CODENAME_WORDS = CODENAME_RANDOM_WORDS + 1;
/** PBKDF2-HMAC-SHA256 iterations: about 0.3 s in WebCrypto at Tor Browser's Safer level (3.5 M/s measured). */
export const CODENAME_KDF_ITERATIONS = 1_000_000;

const WORD_BITS = 11;
const INDEX: ReadonlyMap<string, number> = new Map(wordlist.map((w, i) => [w, i]));
// BIP-39 words are unique in their first four letters: a source may stop typing there.
const PREFIX: ReadonlyMap<string, number> = new Map(wordlist.map((w, i) => [w.slice(0, 4), i]));
const KDF_DOMAIN = utf8Encode('tipline codename v1');
const SALT_DOMAIN = utf8Encode('tipline codename v1 salt');
const LABEL_REPLY_KEY = utf8Encode('tipline codename v1 reply key');
const LABEL_TAG_KEY = utf8Encode('tipline codename v1 tag key');

/** A codename read back: its eight random indices (what the keys come from) and its canonical spelling. */
export interface Codename {
  indices: number[];
  words: string[];
  /** The nine words joined by single spaces: how it is shown. */
  text: string;
}

export type CodenameProblem =
  /** A word that is not on the list (`position` is 1-based, `word` as typed, normalised). */
  | { kind: 'unknown-word'; position: number; word: string }
  /** Not nine words. */
  | { kind: 'count'; count: number }
  /** Every word is on the list but the check word does not match: a word is wrong or two are swapped. */
  | { kind: 'check' };

export type ParsedCodename = { ok: true; codename: Codename } | { ok: false; problem: CodenameProblem };

/** What the codename yields on the source's device. Only boxPublic and tagKey ever leave it, inside a tip. */
export interface CodenameKeys {
  /** X25519: replies are sealed to it. */
  boxPublic: Uint8Array;
  boxSecret: Uint8Array;
  /** AES-256 key of the source's reply tags (crypto/reply-tags.ts): given to desks so they can address replies. */
  tagKey: Uint8Array;
}

/** Multiplication in GF(2^11) modulo x^11 + x^2 + 1 (a primitive polynomial: x generates every non-zero element). */
function gfMul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < WORD_BITS; i++) {
    if (b & 1) r ^= a;
    b >>= 1;
    a <<= 1;
    if (a & 0x800) a ^= 0x805;
  }
  return r;
}

/**
 * The check word: c = x^1·i_1 + x^2·i_2 + … + x^8·i_8 in GF(2^11). Every codeword satisfies Σ x^k·i_k + c = 0, so
 * one wrong word changes the sum by x^k·e ≠ 0, and two swapped words i_j, i_k by (x^j + x^k)(i_j + i_k) ≠ 0 (the
 * check word swapped in: (x^k + 1)(i_k + c) ≠ 0): every single-word mistake and every swap is caught, not 2047 of
 * 2048 as a hash would.
 */
function checkIndex(indices: readonly number[]): number {
  let sum = 0;
  let weight = 1;
  for (const v of indices) {
    weight = gfMul(weight, 2);
    sum ^= gfMul(weight, v);
  }
  return sum;
}

function codenameOf(indices: number[]): Codename {
  const words = [...indices, checkIndex(indices)].map((i) => wordlist[i]!);
  return { indices, words, text: words.join(' ') };
}

/** A fresh codename: 88 random bits from libsodium's generator (`random` is for test vectors only). */
export function generateCodename(random: (n: number) => Uint8Array = (n) => sodium().randombytes_buf(n)): Codename {
  const bytes = _abytes('random(11)', random(11), 11);
  const indices: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    if (bits >= WORD_BITS) {
      bits -= WORD_BITS;
      indices.push((acc >> bits) & 0x7ff);
      acc &= (1 << bits) - 1;
    }
  }
  return codenameOf(indices);
}

/** One typed word to its index: the exact word, or a prefix of four letters or more of exactly one word. */
function wordIndex(token: string): number | undefined {
  const exact = INDEX.get(token);
  if (exact !== undefined) return exact;
  if (token.length < 4) return undefined;
  const i = PREFIX.get(token.slice(0, 4));
  return i !== undefined && wordlist[i]!.startsWith(token) ? i : undefined;
}

/** The words of what a person typed, as parseCodename reads them: accents dropped, lower case, split on anything
 * that is not a-z (the page's copy check uses the same reading). */
export function codenameTokens(typed: string): string[] {
  return typed
    .slice(0, 4096)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((t) => t !== '');
}

/**
 * Reads a codename as a person types it: any case, any spacing, punctuation between words, accents dropped
 * ("Ábandon, ABILITY" reads as "abandon ability"). Never throws on what a person typed.
 */
export function parseCodename(typed: string): ParsedCodename {
  if (typeof typed !== 'string') throw new CryptoArgumentError('parseCodename: expected a string');
  const tokens = codenameTokens(typed);
  const indices: number[] = [];
  for (let p = 0; p < tokens.length && p < CODENAME_WORDS; p++) {
    const i = wordIndex(tokens[p]!);
    if (i === undefined) return { ok: false, problem: { kind: 'unknown-word', position: p + 1, word: tokens[p]!.slice(0, 40) } };
    indices.push(i);
  }
  if (tokens.length !== CODENAME_WORDS) return { ok: false, problem: { kind: 'count', count: tokens.length } };
  const random = indices.slice(0, CODENAME_RANDOM_WORDS);
  if (checkIndex(random) !== indices[CODENAME_RANDOM_WORDS]) return { ok: false, problem: { kind: 'check' } };
  return { ok: true, codename: codenameOf(random) };
}

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!s) throw new CryptoArgumentError('codenames need WebCrypto (crypto.subtle): a secure context in a browser, Node 20 or later');
  return s;
}

/** The 32-byte seed of a codename at one tip line: PBKDF2 over the indices (never the typed text), salted by the root. */
async function codenameSeed(indices: readonly number[], rootFingerprint: string, iterations: number): Promise<Uint8Array> {
  if (!Array.isArray(indices) || indices.length !== CODENAME_RANDOM_WORDS || !indices.every((i) => Number.isInteger(i) && i >= 0 && i < 2048)) {
    throw new CryptoArgumentError(`codename: expected ${CODENAME_RANDOM_WORDS} word indices 0..2047`);
  }
  const bytes = new Uint8Array(indices.length * 2);
  indices.forEach((v, i) => {
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  });
  const password = _frame(KDF_DOMAIN, bytes);
  const salt = _frame(SALT_DOMAIN, utf8Encode(normalizeFingerprint(rootFingerprint)));
  const key = await subtle().importKey('raw', password as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle().deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations }, key, 256);
  password.fill(0);
  return new Uint8Array(bits);
}

/**
 * The codename's keys at the tip line whose root fingerprint is given (the same words at another tip line give
 * other keys). One labelled subkey per purpose: the reply key pair and the tag key share nothing but the seed.
 * `iterations` is for tests only.
 */
export async function deriveCodenameKeys(codename: Codename, rootFingerprint: string, iterations = CODENAME_KDF_ITERATIONS): Promise<CodenameKeys> {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new CryptoArgumentError('iterations: expected a positive integer');
  const seed = await codenameSeed(codename.indices, rootFingerprint, iterations);
  const s = sodium();
  const replySeed = s.crypto_generichash(32, LABEL_REPLY_KEY, seed);
  const tagKey = s.crypto_generichash(32, LABEL_TAG_KEY, seed);
  const pair = s.crypto_box_seed_keypair(replySeed);
  seed.fill(0);
  replySeed.fill(0);
  return { boxPublic: pair.publicKey, boxSecret: pair.privateKey, tagKey };
}
