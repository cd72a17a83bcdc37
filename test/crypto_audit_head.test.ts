// A signed head of the audit chain (PROTOCOL.md §Signed heads): signed by the server's head key, verified by the
// key it names or by the key an auditor pinned; a head signed by another key than the pinned one, and any edit
// of seq, hash, day or key under a kept signature, is refused; signHead refuses a malformed head; and the
// audit-head vectors of test/vectors/documents.json (their chain recomputed from the genesis).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { initCrypto } from '../crypto/node.js';
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import { fingerprint, generateSigningKey } from '../crypto/keys.js';
import { genesisHead, nextEntry, verifyChain } from '../crypto/audit-chain.js';
import { signHead, verifySignedHead } from '../crypto/audit-head.js';
import { checkDocumentVectors, type DocumentsFile } from './vectors/documents.js';

await initCrypto();

const file = JSON.parse(readFileSync(new URL('../../test/vectors/documents.json', import.meta.url), 'utf8')) as DocumentsFile;
const key = generateSigningKey();
const keyB64 = toBase64(key.publicKey);
const fp = fingerprint(generateSigningKey().publicKey);
const e1 = nextEntry(genesisHead(fp), '2026-02-01', 'purge', { tips: 2 });
const e2 = nextEntry(e1, '2026-02-02', 'canary', { serial: 7 });

t.test('audit-head vectors: each verifies, or is refused with its error', async (t) => {
  const results = checkDocumentVectors(file, 'audit-head');
  t.ok(results.length >= 8, `${results.length} head vectors`);
  for (const [name, problem] of results) t.equal(problem, undefined, name);
  const v = verifyChain(file.chain, file.keys.fingerprint);
  const head = file.positive.find((p) => p.kind === 'audit-head')!.result as { seq: number; hash: string };
  t.same(v, { ok: true, head: { seq: head.seq, hash: head.hash } }, 'the vector head is the head of the vector chain');
});

t.test('round trip, by the key it names and by the key pinned', async (t) => {
  const h = signHead({ seq: e2.seq, hash: e2.hash }, '2026-02-03', key);
  t.same(Object.keys(h), ['v', 'seq', 'hash', 'day', 'key', 'signature']);
  t.same([h.v, h.seq, h.hash, h.day, h.key], [1, 2, e2.hash, '2026-02-03', keyB64]);
  t.same(verifySignedHead(h), h);
  t.same(verifySignedHead(JSON.parse(JSON.stringify(h)), keyB64), h, 'through JSON, by the pinned key');
  const g = genesisHead(fp);
  t.same(verifySignedHead(signHead(g, '2026-02-01', key), keyB64).seq, 0, 'an empty chain: the genesis, seq 0');
});

t.test('verifySignedHead refuses', async (t) => {
  const h = signHead({ seq: e2.seq, hash: e2.hash }, '2026-02-03', key);
  const other = generateSigningKey();
  const byOther = signHead({ seq: e2.seq, hash: e2.hash }, '2026-02-03', other);
  t.same(verifySignedHead(byOther), byOther, 'another key\'s head verifies by the key it names…');
  t.throws(() => verifySignedHead(byOther, keyB64), { code: 'TIPLINE_ERR_BAD_SIGNATURE', message: /signed by another key than the one pinned/ }, '…and is refused against the pinned key');
  const sig = fromBase64(h.signature);
  sig[32] = sig[32]! ^ 1;
  const cases: [string, unknown, string | undefined, string, RegExp][] = [
    ['a flipped signature byte', { ...h, signature: toBase64(sig) }, keyB64, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['the hash of an earlier entry, signature kept', { ...h, hash: e1.hash }, keyB64, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['seq lowered, signature kept', { ...h, seq: 1 }, keyB64, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['day moved, signature kept', { ...h, day: '2026-02-04' }, undefined, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['another key named, signature kept', { ...h, key: toBase64(other.publicKey) }, undefined, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['the pinned key named over another key\'s signature', { ...byOther, key: keyB64 }, keyB64, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['version 2', { ...h, v: 2 }, undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /unsupported version 2/],
    ['a negative seq', { ...h, seq: -1 }, undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /seq must be a whole number/],
    ['an uppercase hash', { ...h, hash: h.hash.toUpperCase() }, undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /hash must be 64 lowercase hex digits/],
    ['a day with a time', { ...h, day: '2026-02-03T00:00:00Z' }, undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /day must be YYYY-MM-DD/],
    ['a signature of 63 bytes', { ...h, signature: toBase64(fromBase64(h.signature).subarray(1)) }, undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /signature 64/],
    ['a key not base64', { ...h, key: '!!' }, undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /must be base64/],
    ['a field missing', (({ day: _, ...rest }) => rest)(h), undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /expected \{v, seq, hash, day, key, signature\}/],
    ['not an object', [h], undefined, 'TIPLINE_ERR_DOCUMENT_FORMAT', /expected/],
  ];
  for (const [what, d, k, code, re] of cases) t.throws(() => verifySignedHead(d, k), { code, message: re }, what);
  t.ok(verifySignedHead(h, keyB64), 'the untouched head still verifies');
});

t.test('signHead refuses a malformed head', async (t) => {
  const arg = { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' };
  t.throws(() => signHead({ seq: -1, hash: e1.hash }, '2026-02-01', key), arg, 'a negative seq');
  t.throws(() => signHead({ seq: 1.5, hash: e1.hash }, '2026-02-01', key), arg, 'a fractional seq');
  t.throws(() => signHead({ seq: 1, hash: e1.hash.slice(1) }, '2026-02-01', key), arg, 'a short hash');
  t.throws(() => signHead({ seq: 1, hash: e1.hash }, '1 Feb 2026', key), { ...arg, message: /YYYY-MM-DD/ }, 'a day in words');
  t.throws(() => signHead({ seq: 1, hash: e1.hash }, '2026-02-01', { publicKey: generateSigningKey().publicKey, secretKey: key.secretKey }), 'a mismatched key pair');
});
