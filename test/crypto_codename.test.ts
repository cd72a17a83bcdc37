// Codenames (crypto/codename.ts, PROTOCOL.md §Codenames): 88 random bits read as eight 11-bit indices, every index
// value reachable at every position; the check word, with its miss rate measured against single-word
// substitutions and adjacent swaps; tolerant entry; the problems a mistyped codename reports; and the keys,
// recomputed independently (Node's OpenSSL PBKDF2, layouts built with Buffer from the spec) and compared.
import t, { type Test } from 'tap';
import { pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { initCrypto } from '../crypto/node.js';
import {
  CODENAME_KDF_ITERATIONS,
  CODENAME_RANDOM_WORDS,
  CODENAME_WORDLIST,
  CODENAME_WORDS,
  deriveCodenameKeys,
  generateCodename,
  parseCodename,
  type Codename,
} from '../crypto/codename.js';
import { CryptoArgumentError, FingerprintFormatError } from '../crypto/errors.js';
import { fingerprint } from '../crypto/keys.js';
import { sodium } from '../crypto/sodium.js';
import { lp } from './helpers/layout.js';

await initCrypto();

// ---- independent layouts (PROTOCOL.md), built with Buffer ----
const u16s = (indices: readonly number[]) => Buffer.concat(indices.map((i) => Buffer.from([i >> 8, i & 0xff])));
/** The check index as the spec states it: Σ x^k·i_k (k = 1..8) in GF(2^11) modulo x^11 + x^2 + 1, computed here
 * with BigInt carry-less products reduced at the end (the code reduces bit by bit). */
const specCheck = (indices: readonly number[]) => {
  const clmul = (a: bigint, b: bigint) => {
    let r = 0n;
    for (let i = 0n; b >> i; i++) if ((b >> i) & 1n) r ^= a << i;
    return r;
  };
  const reduce = (v: bigint) => {
    for (let d = 40n; d >= 11n; d--) if ((v >> d) & 1n) v ^= 0x805n << (d - 11n);
    return v;
  };
  let sum = 0n;
  indices.forEach((v, k) => (sum ^= clmul(1n << BigInt(k + 1), BigInt(v))));
  return Number(reduce(sum));
};
/** Eight 11-bit big-endian numbers of 11 bytes, read with BigInt. */
const splitBits = (bytes: Uint8Array) => {
  const n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  return Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(77 - 11 * i)) & 0x7ffn));
};
const bytesOf = (indices: readonly number[]) => {
  const n = indices.reduce((a, v) => (a << 11n) | BigInt(v), 0n);
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(22, '0'), 'hex'));
};
const words = (indices: readonly number[]) => indices.map((i) => CODENAME_WORDLIST[i]!);
const textOf = (indices: readonly number[]) => [...words(indices), CODENAME_WORDLIST[specCheck(indices)]!].join(' ');
const randomIndices = () => Array.from({ length: 8 }, () => randomInt(2048));

const FP = fingerprint(sodium().crypto_sign_keypair().publicKey);
const FP2 = fingerprint(sodium().crypto_sign_keypair().publicKey);

t.test('the list is BIP-39 English: 2048 words, unique in their first four letters', async (t) => {
  t.equal(CODENAME_WORDLIST.length, 2048);
  t.equal(CODENAME_WORDLIST[0], 'abandon');
  t.equal(CODENAME_WORDLIST[2047], 'zoo');
  t.equal(new Set(CODENAME_WORDLIST.map((w) => w.slice(0, 4))).size, 2048, 'first four letters are unique');
  t.ok(CODENAME_WORDLIST.every((w) => /^[a-z]{3,8}$/.test(w)), 'lowercase a-z only');
  t.equal(CODENAME_WORDS, 9);
  t.equal(CODENAME_RANDOM_WORDS, 8);
});

t.test('generateCodename: 11 random bytes read as eight 11-bit big-endian indices, and the spec\'s check word', async (t) => {
  const asked: number[] = [];
  const zero = generateCodename((n) => (asked.push(n), new Uint8Array(n)));
  t.same(asked, [11], 'asks for exactly 11 bytes (88 bits), once');
  t.same(zero.indices, [0, 0, 0, 0, 0, 0, 0, 0]);
  t.same(zero.words.slice(0, 8), Array(8).fill('abandon'));
  t.equal(zero.words[8], CODENAME_WORDLIST[specCheck(zero.indices)]);
  t.equal(zero.text, zero.words.join(' '));
  const ones = generateCodename((n) => new Uint8Array(n).fill(0xff));
  t.same(ones.words.slice(0, 8), Array(8).fill('zoo'));
  // Indices 1..8 as eleven bytes, written out by hand: 00000000001 00000000010 00000000011 … 00000001000.
  const counting = Uint8Array.from(Buffer.from('0020080180400a01803808', 'hex'));
  t.same(splitBits(counting), [1, 2, 3, 4, 5, 6, 7, 8], 'the hand-written bytes are indices 1..8');
  const c = generateCodename(() => counting);
  t.same(c.words.slice(0, 8), ['ability', 'able', 'about', 'above', 'absent', 'absorb', 'abstract', 'absurd'], 'indices 1..8 are the list\'s 2nd..9th words');
  for (let k = 0; k < 2000; k++) {
    const b = randomBytes(11);
    const got = generateCodename(() => b);
    if (JSON.stringify(got.indices) !== JSON.stringify(splitBits(b)) || got.text !== textOf(splitBits(b))) {
      t.fail(`bytes ${b.toString('hex')}: got ${got.text}`);
      break;
    }
  }
  t.pass('2000 random byte strings: indices and text agree with an independent BigInt reading and the spec\'s check');
  t.throws(() => generateCodename(() => new Uint8Array(10)), CryptoArgumentError, 'ten bytes are refused');
});

t.test('generateCodename: every one of the 2048 values is reachable at each of the 8 positions; each of the 88 bits matters', async (t) => {
  let bad = 0;
  for (let p = 0; p < 8; p++) {
    const seen = new Set<number>();
    for (let v = 0; v < 2048; v++) {
      const ind = randomIndices();
      ind[p] = v;
      const c = generateCodename(() => bytesOf(ind));
      if (c.indices[p] !== v) bad++;
      seen.add(c.indices[p]!);
    }
    t.equal(seen.size, 2048, `position ${p + 1}: 2048 distinct values`);
  }
  t.equal(bad, 0, 'each value lands where it was put');
  const base = randomBytes(11);
  const baseText = generateCodename(() => base).text;
  const texts = new Set<string>([baseText]);
  for (let bit = 0; bit < 88; bit++) {
    const b = Uint8Array.from(base);
    b[bit >> 3]! ^= 0x80 >> (bit & 7);
    texts.add(generateCodename(() => b).text);
  }
  t.equal(texts.size, 89, 'flipping any one of the 88 bits gives another codename');
  const fresh = new Set(Array.from({ length: 2000 }, () => generateCodename().text));
  t.equal(fresh.size, 2000, 'the default generator: 2000 distinct codenames');
  const first = Array.from({ length: 4000 }, () => generateCodename().indices[0]!);
  t.ok(first.some((i) => i >= 1024) && first.some((i) => i < 1024), 'the default generator uses the top bit of an index');
});

t.test('generateCodename output parses back to itself', async (t) => {
  for (let k = 0; k < 200; k++) {
    const c = generateCodename();
    const p = parseCodename(c.text);
    if (!p.ok || p.codename.text !== c.text || JSON.stringify(p.codename.indices) !== JSON.stringify(c.indices)) {
      t.fail(`${c.text} did not round-trip`);
      return;
    }
  }
  t.pass('200 codenames round-trip');
});

/** Runs `trials` mistakes; every outcome must be what the spec's check predicts; returns how many passed the check. */
function mistakes(t: Test, trials: number, make: (ind: number[], check: number) => { typed: number[]; predictedOk: boolean } | undefined): number {
  let passed = 0;
  let wrongPrediction = 0;
  let done = 0;
  while (done < trials) {
    const ind = randomIndices();
    const m = make(ind, specCheck(ind));
    if (!m) continue;
    done++;
    const p = parseCodename(words(m.typed).join(' '));
    if (p.ok) passed++;
    if (p.ok !== m.predictedOk || (!p.ok && p.problem.kind !== 'check')) wrongPrediction++;
  }
  t.equal(wrongPrediction, 0, 'every outcome is the spec\'s prediction, and a caught mistake is reported as "check"');
  return passed;
}

t.test('check word: every single-word substitution (20,000 tried) and every adjacent swap (20,000 tried) is caught', async (t) => {
  const N = 20_000;
  let checkWordSubs = 0;
  let randomWordSubs = 0;
  const subsPassed = mistakes(t, N, (ind, check) => {
    const typed = [...ind, check];
    const p = randomInt(9);
    const w = (typed[p]! + 1 + randomInt(2047)) % 2048;
    typed[p] = w;
    if (p === 8) checkWordSubs++;
    else randomWordSubs++;
    return { typed, predictedOk: p < 8 && specCheck(typed.slice(0, 8)) === typed[8] };
  });
  // The check word substituted is never accepted (the check of unchanged words is unchanged).
  t.ok(checkWordSubs > 1500, `${checkWordSubs} substitutions of the check word itself`);
  // The check is linear over GF(2^11) with distinct non-zero weights: no single substitution can pass.
  t.equal(subsPassed, 0, `substitutions that pass the check: ${subsPassed} of ${N} (${randomWordSubs} of a random word)`);
  t.comment(`MEASURED check word misses: ${subsPassed} of ${N} single-word substitutions (${((subsPassed / N) * 100).toFixed(3)}%)`);

  const swapsPassed = mistakes(t, N, (ind, check) => {
    const typed = [...ind, check];
    const p = randomInt(8); // swap p and p+1; p = 7 swaps the last random word with the check word
    if (typed[p] === typed[p + 1]) return undefined; // a swap of equal words is no mistake
    [typed[p], typed[p + 1]] = [typed[p + 1]!, typed[p]!];
    return { typed, predictedOk: specCheck(typed.slice(0, 8)) === typed[8] };
  });
  t.equal(swapsPassed, 0, `adjacent swaps that pass the check: ${swapsPassed} of ${N}`);
  t.comment(`MEASURED check word misses: ${swapsPassed} of ${N} adjacent swaps (${((swapsPassed / N) * 100).toFixed(3)}%)`);
});

t.test('tolerant entry: case, spacing, punctuation, line breaks, accents and 4-letter prefixes read as the same codename', async (t) => {
  const c = generateCodename(() => bytesOf([0, 1, 2, 3, 4, 5, 6, 7]));
  const w = c.words;
  const accent = (s: string) => s.normalize('NFD').replace(/[aeiou]/, (v) => `${v}\u0301`).normalize('NFC');
  const spellings: [string, string][] = [
    ['capitals', w.map((x, i) => (i % 2 ? x.toUpperCase() : x[0]!.toUpperCase() + x.slice(1))).join(' ')],
    ['extra spaces and tabs', `   ${w.join('    \t ')}   `],
    ['commas', w.join(', ')],
    ['dots', w.join('. ') + '.'],
    ['hyphens and slashes', w.join('-').replace(/-(?=[^-]*-[^-]*$)/, ' / ')],
    ['line breaks', w.slice(0, 3).join(' ') + '\n' + w.slice(3, 6).join('\r\n') + '\n\n' + w.slice(6).join(' ')],
    ['accents (precomposed)', w.map(accent).join(' ')],
    ['accents (combining)', w.map((x) => x.replace(/[aeiou]/, (v) => `${v}\u0300`)).join(' ')],
    ['4-letter prefixes', w.map((x) => x.slice(0, 4)).join(' ')],
    ['5-letter prefixes where longer', w.map((x) => x.slice(0, Math.max(4, Math.min(5, x.length)))).join(' ')],
    ['full-width letters (a phone keyboard in CJK mode)', w.map((x) => [...x].map((ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).join('')).join('\u3000')],
    ['Turkish capital dotted I', w.map((x) => x.toUpperCase().replace(/I/g, '\u0130')).join(' ')],
    ['all at once', `  ${w.map((x, i) => (i % 3 === 0 ? x.slice(0, 4).toUpperCase() : accent(x))).join(' ,\n ')} .`],
  ];
  t.equal(w[0], 'abandon', 'the first word is abandon');
  t.equal(parseCodename(['aban', ...w.slice(1)].join(' ')).ok && (parseCodename(['aban', ...w.slice(1)].join(' ')) as { codename: Codename }).codename.words[0], 'abandon', '"aban" reads as abandon');
  for (const [what, typed] of spellings) {
    const p = parseCodename(typed);
    t.ok(p.ok, `${what}: accepted (${JSON.stringify(typed).slice(0, 60)}…)`);
    if (p.ok) {
      t.equal(p.codename.text, c.text, `${what}: canonical text`);
      t.same(p.codename.indices, c.indices, `${what}: indices`);
    }
  }
  // Every word of the list, typed by its first four letters (or whole, when shorter), is that word.
  let prefixBad = 0;
  for (let i = 0; i < 2048; i += 8) {
    const ind = Array.from({ length: 8 }, (_, k) => i + k);
    const typed = [...words(ind), CODENAME_WORDLIST[specCheck(ind)]!].map((x) => x.slice(0, 4)).join(' ');
    const p = parseCodename(typed);
    if (!p.ok || JSON.stringify(p.codename.indices) !== JSON.stringify(ind)) prefixBad++;
  }
  t.equal(prefixBad, 0, 'all 2048 words are read from their first four letters');
});

t.test('mistyped codenames: unknown word and its position, word count, check', async (t) => {
  const c = generateCodename(() => bytesOf([100, 200, 300, 400, 500, 600, 700, 800]));
  const w = [...c.words];
  const unknownAt = (i: number, token: string) => {
    const x = [...w];
    x[i] = token;
    return parseCodename(x.join(' '));
  };
  t.same(unknownAt(3, 'zzzz'), { ok: false, problem: { kind: 'unknown-word', position: 4, word: 'zzzz' } }, 'a made-up word at position 4');
  t.same(unknownAt(0, 'Qwerty'), { ok: false, problem: { kind: 'unknown-word', position: 1, word: 'qwerty' } }, 'position 1, reported normalised');
  t.same(unknownAt(8, 'abc'), { ok: false, problem: { kind: 'unknown-word', position: 9, word: 'abc' } }, 'the check word position; a 3-letter non-word');
  t.same(unknownAt(5, 'aba'), { ok: false, problem: { kind: 'unknown-word', position: 6, word: 'aba' } }, 'three letters are too few for a prefix');
  t.same(unknownAt(2, 'abandonx'), { ok: false, problem: { kind: 'unknown-word', position: 3, word: 'abandonx' } }, 'a word with letters after it is not a prefix');
  t.same(unknownAt(2, 'abax'), { ok: false, problem: { kind: 'unknown-word', position: 3, word: 'abax' } }, 'a 4-letter string that starts no word');
  t.same(parseCodename(w.slice(0, 8).join(' ')), { ok: false, problem: { kind: 'count', count: 8 } }, '8 words');
  t.same(parseCodename([...w, 'abandon'].join(' ')), { ok: false, problem: { kind: 'count', count: 10 } }, '10 words');
  t.same(parseCodename(''), { ok: false, problem: { kind: 'count', count: 0 } }, 'nothing');
  t.same(parseCodename(' ,.\n'), { ok: false, problem: { kind: 'count', count: 0 } }, 'only punctuation');
  const wrongCheck = [...w];
  wrongCheck[8] = CODENAME_WORDLIST[(specCheck(c.indices) + 1) % 2048]!;
  t.same(parseCodename(wrongCheck.join(' ')), { ok: false, problem: { kind: 'check' } }, 'a wrong check word');
  t.ok(parseCodename(w.join(' ')).ok, 'and the codename itself is read');
  t.same((unknownAt(1, 'x'.repeat(5000)) as { problem: { word: string } }).problem.word.length, 40, 'a long unknown word is cut in the report');
  t.doesNotThrow(() => parseCodename('\u0000\uffff\ud800 '.repeat(10_000)), 'odd and long input is read, not thrown on');
  t.throws(() => parseCodename(undefined as unknown as string), CryptoArgumentError, 'a non-string is a programming error');
});

// ---- keys ----

/** The keys as PROTOCOL.md states them, computed with Node's OpenSSL PBKDF2 and libsodium. */
function specKeys(indices: readonly number[], fp: string, iterations: number) {
  const compact = fp.replace(/[\s-]/g, '').toLowerCase();
  const seed = pbkdf2Sync(lp('tipline codename v1', u16s(indices)), lp('tipline codename v1 salt', compact), iterations, 32, 'sha256');
  const replySeed = sodium().crypto_generichash(32, Buffer.from('tipline codename v1 reply key'), seed);
  const tagKey = sodium().crypto_generichash(32, Buffer.from('tipline codename v1 tag key'), seed);
  const pair = sodium().crypto_box_seed_keypair(replySeed);
  return { seed: new Uint8Array(seed), replySeed, tagKey, boxPublic: pair.publicKey, boxSecret: pair.privateKey };
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('keys: as the spec computes them; deterministic; bound to the fingerprint and to the codename', async (t) => {
  const it = 1000;
  const c = generateCodename();
  const k1 = await deriveCodenameKeys(c, FP, it);
  const spec = specKeys(c.indices, FP, it);
  t.equal(hex(k1.boxPublic), hex(spec.boxPublic), 'boxPublic = crypto_box_seed_keypair(BLAKE2b(key=seed, label)).publicKey');
  t.equal(hex(k1.boxSecret), hex(spec.boxSecret));
  t.equal(hex(k1.tagKey), hex(spec.tagKey), 'tagKey = BLAKE2b(key=seed, label)');
  t.equal(hex(sodium().crypto_scalarmult_base(k1.boxSecret)), hex(k1.boxPublic), 'the pair is a real X25519 pair');
  t.equal(k1.boxPublic.length, 32);
  t.equal(k1.tagKey.length, 32);

  const k2 = await deriveCodenameKeys(c, FP, it);
  t.same([hex(k2.boxPublic), hex(k2.boxSecret), hex(k2.tagKey)], [hex(k1.boxPublic), hex(k1.boxSecret), hex(k1.tagKey)], 'the same codename and fingerprint: the same keys');
  const spelled = await deriveCodenameKeys(c, FP.toUpperCase().replace(/ /g, '-'), it);
  t.equal(hex(spelled.tagKey), hex(k1.tagKey), 'the fingerprint in another spelling: the same keys');

  const otherFp = await deriveCodenameKeys(c, FP2, it);
  t.not(hex(otherFp.boxPublic), hex(k1.boxPublic), 'another tip line (fingerprint): another reply key');
  t.not(hex(otherFp.tagKey), hex(k1.tagKey), 'another tip line: another tag key');
  t.equal(hex(otherFp.tagKey), hex(specKeys(c.indices, FP2, it).tagKey), 'the fingerprint is the salt');

  const ind = [...c.indices];
  ind[7] = (ind[7]! + 1) % 2048;
  const otherName = await deriveCodenameKeys(generateCodename(() => bytesOf(ind)), FP, it);
  t.not(hex(otherName.boxPublic), hex(k1.boxPublic), 'another codename (one word changed): another reply key');
  t.not(hex(otherName.tagKey), hex(k1.tagKey), 'another codename: another tag key');

  const moreIt = await deriveCodenameKeys(c, FP, it + 1);
  t.not(hex(moreIt.tagKey), hex(k1.tagKey), 'the iteration count is used');

  // Labelled subkeys: the reply key, the tag key and the seed are three different values.
  const seedHex = hex(spec.seed);
  t.not(hex(k1.tagKey), hex(spec.replySeed), 'tag key != reply seed');
  t.not(hex(k1.tagKey), hex(k1.boxSecret), 'tag key != reply secret');
  t.not(hex(k1.tagKey), seedHex, 'tag key != seed');
  t.not(hex(k1.boxSecret), seedHex, 'reply secret != seed');
  t.not(hex(spec.replySeed), seedHex, 'reply seed != seed');
  t.not(hex(k1.boxPublic), seedHex, 'reply public key != seed');
});

t.test('keys: from the indices, not the typed text (two spellings, one set of keys)', async (t) => {
  const c = generateCodename();
  const a = parseCodename(c.words.map((w) => w.toUpperCase()).join(',  '));
  const b = parseCodename(c.words.map((w) => w.slice(0, 4)).join('\n'));
  t.ok(a.ok && b.ok);
  if (!a.ok || !b.ok) return;
  const ka = await deriveCodenameKeys(a.codename, FP, 500);
  const kb = await deriveCodenameKeys(b.codename, FP, 500);
  t.equal(hex(ka.tagKey), hex(kb.tagKey));
  t.equal(hex(ka.boxPublic), hex(kb.boxPublic));
  // A Codename object whose words or text disagree with its indices: only the indices count.
  const forged: Codename = { indices: c.indices, words: Array(9).fill('zoo'), text: 'zoo zoo zoo zoo zoo zoo zoo zoo zoo' };
  t.equal(hex((await deriveCodenameKeys(forged, FP, 500)).tagKey), hex(ka.tagKey), 'words and text are not used');
  t.equal(hex(ka.tagKey), hex(specKeys(c.indices, FP, 500).tagKey));
});

t.test('keys: refused inputs', async (t) => {
  const c = generateCodename();
  await t.rejects(deriveCodenameKeys({ ...c, indices: c.indices.slice(0, 7) }, FP, 10), CryptoArgumentError, '7 indices');
  await t.rejects(deriveCodenameKeys({ ...c, indices: [...c.indices.slice(0, 7), 2048] }, FP, 10), CryptoArgumentError, 'an index of 2048');
  await t.rejects(deriveCodenameKeys({ ...c, indices: [...c.indices.slice(0, 7), 1.5] }, FP, 10), CryptoArgumentError, 'a fractional index');
  await t.rejects(deriveCodenameKeys({ ...c, indices: [...c.indices, 0] }, FP, 10), CryptoArgumentError, '9 indices (the check word is not key material)');
  await t.rejects(deriveCodenameKeys(c, 'not a fingerprint', 10), FingerprintFormatError, 'a bad fingerprint');
  await t.rejects(deriveCodenameKeys(c, FP, 0), CryptoArgumentError, 'zero iterations');
  await t.rejects(deriveCodenameKeys(c, FP, 1.5), CryptoArgumentError, 'fractional iterations');
});

t.test('keys at full cost (1,000,000 iterations): the spec\'s value, and the time it takes in Node', async (t) => {
  t.equal(CODENAME_KDF_ITERATIONS, 1_000_000);
  const c = generateCodename();
  const times: number[] = [];
  let keys;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    keys = await deriveCodenameKeys(c, FP);
    times.push(performance.now() - t0);
  }
  const spec = specKeys(c.indices, FP, 1_000_000);
  t.equal(hex(keys!.tagKey), hex(spec.tagKey), 'the default cost is 1,000,000 iterations (OpenSSL agrees)');
  t.equal(hex(keys!.boxPublic), hex(spec.boxPublic));
  const median = times.sort((a, b) => a - b)[1]!;
  t.ok(median < 10_000, `deriveCodenameKeys in Node: median ${median.toFixed(0)} ms of 3`);
  t.comment(`MEASURED deriveCodenameKeys (1,000,000 PBKDF2-SHA256 iterations) in Node: ${times.map((x) => x.toFixed(0)).join(', ')} ms; median ${median.toFixed(0)} ms = ${((1_000_000 / median) * 1000 / 1e6).toFixed(2)} M iterations/s`);
});

t.test('check word: a swap of any two different words, at any two positions, is caught', async (t) => {
  let tried = 0;
  let passed = 0;
  for (let n = 0; n < 300; n++) {
    const ind = randomIndices();
    const full = [...ind, specCheck(ind)];
    for (let i = 0; i < 9; i++) {
      for (let j = i + 1; j < 9; j++) {
        if (full[i] === full[j]) continue;
        const typed = [...full];
        [typed[i], typed[j]] = [typed[j]!, typed[i]!];
        tried++;
        if (parseCodename(words(typed).join(' ')).ok) passed++;
      }
    }
  }
  t.ok(tried > 10_000, `${tried} swaps tried`);
  t.equal(passed, 0, 'no swap passes the check');
});
