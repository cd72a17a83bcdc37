// Desk notes (crypto/desk-notes.ts, FORMAT.md §Desk notes): every listed desk opens a note and nobody else does;
// any changed byte fails; a note cannot claim a signer that did not sign it; sizes say nothing about the kind of
// operation; hostile shapes are refused; the merge gives one state whatever the order and duplicates, and loses
// no concurrent edit.
import t from 'tap';
import fc from 'fast-check';
import { initCrypto } from '../crypto/node.js';
import { generateDeskKey, sign, type DeskKeyPair } from '../crypto/keys.js';
import { concatBytes, toBase64, toBase64Url, utf8Encode } from '../crypto/bytes.js';
import { _frame } from '../crypto/_frame.js';
import { _keyCommitment, _sealStanza } from '../crypto/envelope/seal.js';
import { sodium } from '../crypto/sodium.js';
import { isPadme } from '../crypto/padme.js';
import { BadSignatureError, NotForYouError, TiplineCryptoError } from '../crypto/errors.js';
import {
  MAX_NOTE_TEXT,
  MAX_TAG_LENGTH,
  NOTE_MIN_PADDED,
  NoteFormatError,
  canonicalNoteOp,
  mergeThread,
  noteEnvelopeLength,
  openNote,
  sealNote,
  validateNoteOp,
  type NoteOp,
  type NoteOpBody,
} from '../crypto/desk-notes.js';
import { TestPrng } from './vectors/helpers.js';
import { buildNotesFile, type NoteVector } from './vectors/notes.js';
import { readFileSync } from 'node:fs';
import { fromHex } from '../crypto/bytes.js';

await initCrypto();

const prng = new TestPrng(10);
const desks = [generateDeskKey(), generateDeskKey(), generateDeskKey()];
const outsider = generateDeskKey();
const id = (d: DeskKeyPair) => ({ boxPublic: d.boxPublic, boxSecret: d.boxSecret });
const signer = (d: DeskKeyPair) => ({ signPublic: d.signPublic, signSecret: d.signSecret });
const THREAD = 'tip:' + 'abcdefghijklmnopqrstuvwxyz'.slice(0, 26);
let seq = 0;
function opIdFor(n: number): string {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(12, n);
  return toBase64Url(b);
}
function op(body: NoteOpBody, over: Partial<NoteOp> = {}): NoteOp {
  return { v: 1, op: opIdFor(++seq), thread: THREAD, by: 'Desk A', at: '2026-11-27T01:00:00.000Z', clock: seq, ...body, ...over } as NoteOp;
}

t.test('round trip: one and several recipients, each opens, an outsider cannot', async (t) => {
  const one = op({ kind: 'status', status: 'in-progress' });
  const env1 = sealNote(one, [desks[0]!.boxPublic], signer(desks[0]!));
  const o1 = openNote(env1, id(desks[0]!));
  t.same(o1.op, one);
  t.equal(o1.signKey, toBase64(desks[0]!.signPublic));
  t.throws(() => openNote(env1, id(desks[1]!)), NotForYouError);

  const note = op({ kind: 'note', text: 'Called the source.\nTwice.\tOK — ünïcødé 🙂', supersedes: [opIdFor(1)] });
  const env = sealNote(note, desks.map((d) => d.boxPublic), signer(desks[1]!));
  for (const d of desks) {
    const o = openNote(env, id(d));
    t.same(o.op, note);
    t.equal(o.signKey, toBase64(desks[1]!.signPublic));
  }
  t.throws(() => openNote(env, id(outsider)), NotForYouError);
});

t.test('any flipped byte fails, and a cut or extended envelope too', async (t) => {
  const env = sealNote(op({ kind: 'tag-add', tag: 'urgent' }), [desks[0]!.boxPublic], signer(desks[0]!));
  let failures = 0;
  for (let i = 0; i < env.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const bad = env.slice();
      bad[i]! ^= bit;
      try {
        openNote(bad, id(desks[0]!));
      } catch (e) {
        if (e instanceof TiplineCryptoError) failures++;
      }
    }
  }
  t.equal(failures, env.length * 2, 'every one of the flips is refused with a crypto error');
  t.throws(() => openNote(env.subarray(0, env.length - 1), id(desks[0]!)), NoteFormatError);
  t.throws(() => openNote(concatBytes(env, Uint8Array.of(0)), id(desks[0]!)), NoteFormatError);
  t.throws(() => openNote(new Uint8Array(0), id(desks[0]!)), NoteFormatError);
});

/** Seals an arbitrary padded plaintext exactly as FORMAT.md §Desk notes says (an independent sealer). */
function rawSeal(padded: Uint8Array, recipients: Uint8Array[]): Uint8Array {
  const K = prng.bytes(32);
  const stanzas = recipients.map((r) => _sealStanza(K, r, prng.bytes(32)));
  const header = concatBytes(utf8Encode('tipnote'), Uint8Array.of(1, recipients.length), ...stanzas, _keyCommitment(K));
  const key = sodium().crypto_generichash(32, utf8Encode('tipline note payload v1'), K);
  return concatBytes(header, sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(padded, header, null, new Uint8Array(24), key));
}
function plaintext(json: Uint8Array, signPublic: Uint8Array, signature: Uint8Array, size = NOTE_MIN_PADDED): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, json.length);
  p.set(json, 4);
  p.set(signPublic, 4 + json.length);
  p.set(signature, 4 + json.length + 32);
  return p;
}

t.test('the independent sealer agrees; a note signed by X claiming key Y fails; non-canonical notes fail', async (t) => {
  const o = op({ kind: 'assign', desk: 'Desk B' });
  const json = canonicalNoteOp(o);
  const msg = (pk: Uint8Array, j: Uint8Array) => _frame(utf8Encode('tipline desk note v1'), pk, j);
  const [x, y] = [desks[0]!, desks[1]!];
  const good = rawSeal(plaintext(json, x.signPublic, sign(msg(x.signPublic, json), x.signSecret)), [x.boxPublic]);
  t.same(openNote(good, id(x)).op, o, 'an envelope built from the written format opens');
  // Signed by X, but the plaintext names Y's key: the signature does not verify under Y.
  const forged = rawSeal(plaintext(json, y.signPublic, sign(msg(x.signPublic, json), x.signSecret)), [x.boxPublic]);
  t.throws(() => openNote(forged, id(x)), BadSignatureError);
  const forged2 = rawSeal(plaintext(json, y.signPublic, sign(msg(y.signPublic, json), x.signSecret)), [x.boxPublic]);
  t.throws(() => openNote(forged2, id(x)), BadSignatureError);
  // A signature by X over another domain (a bare JSON signature) does not verify.
  t.throws(() => openNote(rawSeal(plaintext(json, x.signPublic, sign(json, x.signSecret)), [x.boxPublic]), id(x)), BadSignatureError);
  // Same operation with spaces: valid JSON, valid signature, but not canonical.
  const spaced = utf8Encode(JSON.stringify(JSON.parse(new TextDecoder().decode(json)), null, 1));
  t.throws(() => openNote(rawSeal(plaintext(spaced, x.signPublic, sign(msg(x.signPublic, spaced), x.signSecret)), [x.boxPublic]), id(x)), NoteFormatError);
  // Non-zero padding, a lying length prefix, a padded size Padmé never makes.
  const p = plaintext(json, x.signPublic, sign(msg(x.signPublic, json), x.signSecret));
  p[NOTE_MIN_PADDED - 1] = 1;
  t.throws(() => openNote(rawSeal(p, [x.boxPublic]), id(x)), NoteFormatError);
  const q = plaintext(json, x.signPublic, sign(msg(x.signPublic, json), x.signSecret));
  new DataView(q.buffer).setUint32(0, 100_000);
  t.throws(() => openNote(rawSeal(q, [x.boxPublic]), id(x)), NoteFormatError);
  t.throws(() => openNote(rawSeal(plaintext(json, x.signPublic, sign(msg(x.signPublic, json), x.signSecret), 513), [x.boxPublic]), id(x)), NoteFormatError);
  // A hostile but signed shape (control character in a tag) is refused after the signature is known good.
  const hostile = utf8Encode(new TextDecoder().decode(json).replace('Desk B', 'Desk\u202eB'));
  t.throws(() => openNote(rawSeal(plaintext(hostile, x.signPublic, sign(msg(x.signPublic, hostile), x.signSecret)), [x.boxPublic]), id(x)), NoteFormatError);
});

t.test('sizes: Padmé above a 512-byte floor; a status and a tag look alike', async (t) => {
  const r = [desks[0]!.boxPublic, desks[1]!.boxPublic];
  const s = sealNote(op({ kind: 'status', status: 'not-relevant' }), r, signer(desks[0]!));
  const g = sealNote(op({ kind: 'tag-add', tag: 'x'.repeat(MAX_TAG_LENGTH) }), r, signer(desks[0]!));
  const a = sealNote(op({ kind: 'assign', desk: 'D'.repeat(128) }), r, signer(desks[0]!));
  const n = sealNote(op({ kind: 'note', text: 'short', supersedes: [] }), r, signer(desks[0]!));
  const header = 9 + 2 * 80 + 32;
  t.equal(s.length, header + NOTE_MIN_PADDED + 16);
  t.equal(g.length, s.length, 'a status and the longest tag have the same length');
  t.equal(a.length, s.length);
  t.equal(n.length, s.length);
  for (const len of [1000, 5000, 30_000, MAX_NOTE_TEXT]) {
    const e = sealNote(op({ kind: 'note', text: 'n'.repeat(len), supersedes: [] }), r, signer(desks[0]!));
    const padded = e.length - header - 16;
    t.ok(isPadme(padded) && padded > len, `${len} characters pad to ${padded}`);
    t.equal(e.length, noteEnvelopeLength(2, padded));
  }
  // The largest note sealed to 64 desks fits the server's 96 KiB limit (schema/wire.ts MAX_NOTE_ENVELOPE_BYTES).
  const many = Array.from({ length: 64 }, () => generateDeskKey().boxPublic);
  const big = sealNote(op({ kind: 'note', text: 'é'.repeat(32 * 1024), supersedes: [] }), many, signer(desks[0]!));
  t.ok(big.length <= 96 * 1024, `${big.length} <= 96 KiB`);
  t.throws(() => sealNote(op({ kind: 'note', text: '€'.repeat(30_000), supersedes: [] }), r, signer(desks[0]!)), /UTF-8 bytes/);
});

t.test('hostile shapes are refused', async (t) => {
  const bad: unknown[] = [
    null,
    [],
    'status',
    { ...op({ kind: 'status', status: 'new' }), extra: 1 },
    op({ kind: 'status', status: 'archived' as never }),
    op({ kind: 'status', status: 'new' }, { v: 2 as never }),
    op({ kind: 'status', status: 'new' }, { op: 'short' }),
    op({ kind: 'status', status: 'new' }, { op: 'AAAAAAAAAAAAAAAAAAAAAB' }), // non-canonical last character
    op({ kind: 'status', status: 'new' }, { thread: 'tip:ABC' }),
    op({ kind: 'status', status: 'new' }, { thread: '../../etc' }),
    op({ kind: 'status', status: 'new' }, { by: '' }),
    op({ kind: 'status', status: 'new' }, { by: 'x'.repeat(129) }),
    op({ kind: 'status', status: 'new' }, { by: 'Desk\u202eA' }),
    op({ kind: 'status', status: 'new' }, { by: 'Desk\u001b[31mA' }),
    op({ kind: 'status', status: 'new' }, { by: ' Desk' }),
    op({ kind: 'status', status: 'new' }, { at: 'yesterday' }),
    op({ kind: 'status', status: 'new' }, { clock: 0 }),
    op({ kind: 'status', status: 'new' }, { clock: 1.5 }),
    op({ kind: 'status', status: 'new' }, { clock: 2 ** 53 }),
    op({ kind: 'assign', desk: 'A\u2066B' }),
    op({ kind: 'tag-add', tag: 'x'.repeat(MAX_TAG_LENGTH + 1) }),
    op({ kind: 'tag-add', tag: 'a\u200fb' }),
    op({ kind: 'tag-add', tag: 'a\nb' }),
    op({ kind: 'tag-add', tag: '\ud800' }),
    op({ kind: 'tag-remove', tag: 'a', removes: ['nope'] }),
    op({ kind: 'tag-remove', tag: 'a', removes: [opIdFor(1), opIdFor(1)] }),
    op({ kind: 'tag-remove', tag: 'a', removes: Array.from({ length: 257 }, (_, i) => opIdFor(i)) }),
    op({ kind: 'note', text: 'a\u0007b', supersedes: [] }),
    op({ kind: 'note', text: 'a\u001b]0;x\u0007', supersedes: [] }),
    op({ kind: 'note', text: 'a\rb', supersedes: [] }),
    op({ kind: 'note', text: 'x'.repeat(MAX_NOTE_TEXT + 1), supersedes: [] }),
    op({ kind: 'note', text: 'a', supersedes: 'all' as never }),
    op({ kind: 'reply', tip: 'nope', text: 'hi' }),
    op({ kind: 'reply', tip: 'a'.repeat(26), text: '' }),
  ];
  for (const b of bad) t.throws(() => validateNoteOp(b), NoteFormatError, JSON.stringify(b)?.slice(0, 80));
  const selfRef = op({ kind: 'note', text: 'a', supersedes: [] });
  t.throws(() => validateNoteOp({ ...selfRef, supersedes: [selfRef.op] }), NoteFormatError, 'a note superseding itself');
  t.throws(() => sealNote(bad[4] as NoteOp, [desks[0]!.boxPublic], signer(desks[0]!)), /unknown status/);

  // Random JSON: either refused with NoteFormatError or a valid op whose canonical form validates again.
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), fc.record({ v: fc.constant(1), op: fc.string(), thread: fc.string(), by: fc.string(), at: fc.string(), clock: fc.integer(), kind: fc.constantFrom('status', 'tag-add', 'note'), status: fc.string(), tag: fc.string(), text: fc.string(), supersedes: fc.array(fc.string()) }, { requiredKeys: [] })), (v) => {
      try {
        const ok = validateNoteOp(v);
        validateNoteOp(JSON.parse(new TextDecoder().decode(canonicalNoteOp(ok))));
      } catch (e) {
        if (!(e instanceof NoteFormatError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

// ---- merge ----

const by = fc.constantFrom('Desk A', 'Desk B', 'Desk C');
const ids = Array.from({ length: 12 }, (_, i) => opIdFor(1000 + i));
const idArb = fc.constantFrom(...ids);
const tagArb = fc.constantFrom('a', 'b', 'c');
const bodyArb: fc.Arbitrary<NoteOpBody> = fc.oneof(
  fc.record({ kind: fc.constant('status' as const), status: fc.constantFrom('new' as const, 'in-progress' as const, 'done' as const, 'not-relevant' as const) }),
  fc.record({ kind: fc.constant('assign' as const), desk: fc.option(by, { nil: null }) }),
  fc.record({ kind: fc.constant('tag-add' as const), tag: tagArb }),
  fc.record({ kind: fc.constant('tag-remove' as const), tag: tagArb, removes: fc.uniqueArray(idArb, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('note' as const), text: fc.constantFrom('', 'x', 'y'), supersedes: fc.uniqueArray(idArb, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('reply' as const), tip: fc.constant('a'.repeat(26)), text: fc.constantFrom('r1', 'r2') }),
  fc.record({ kind: fc.constant('star' as const), starred: fc.boolean() }),
);
// Op ids repeat on purpose (a pool of 12): duplicates and clashing ids must still merge the same everywhere.
const opArb: fc.Arbitrary<NoteOp> = fc
  .record({ op: idArb, by, clock: fc.integer({ min: 1, max: 6 }), body: bodyArb })
  .map(({ op: o, by: b, clock, body }) => ({ v: 1, op: o, thread: THREAD, by: b, at: '2026-11-27T01:00:00Z', clock, ...body }) as NoteOp)
  .filter((o) => !(o.kind === 'note' && o.supersedes.includes(o.op)) && !(o.kind === 'tag-remove' && o.removes.includes(o.op)));

t.test('merge is order-independent and idempotent', async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 25 }), fc.func(fc.integer()), (ops, key) => {
      const a = mergeThread(ops);
      const shuffled = ops.map((o, i) => [key(i), o] as const).sort((x, y) => x[0] - y[0]).map(([, o]) => o);
      const b = mergeThread([...shuffled, ...ops.slice(0, 5)]);
      const c = mergeThread([...ops, ...ops]);
      checked++;
      return JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(a) === JSON.stringify(c) && a.clock === Math.max(0, ...ops.map((o) => o.clock));
    }),
    { numRuns: 1500 },
  );
  t.equal(checked, 1500);
});

t.test('last writer wins for status and assignment, in (clock, by, op) order', async (t) => {
  const s1 = op({ kind: 'status', status: 'done' }, { clock: 5, by: 'Desk B' });
  const s2 = op({ kind: 'status', status: 'in-progress' }, { clock: 5, by: 'Desk A' });
  const s3 = op({ kind: 'status', status: 'not-relevant' }, { clock: 4, by: 'Desk Z' });
  const m = mergeThread([s1, s2, s3]);
  t.equal(m.status, 'done', 'equal clocks: the later desk name wins');
  t.same(m.statusBy, { by: 'Desk B', at: s1.at });
  t.equal(m.clock, 5);
  t.equal(mergeThread([]).status, 'new');
  t.equal(mergeThread([]).statusBy, null);
  t.equal(mergeThread([op({ kind: 'assign', desk: 'Desk C' }, { clock: 2 }), op({ kind: 'assign', desk: null }, { clock: 1 })]).assignee, 'Desk C');
  t.equal(mergeThread([]).starred, false, 'not starred until a desk stars it');
  t.equal(mergeThread([op({ kind: 'star', starred: true }, { clock: 3, by: 'Desk A' }), op({ kind: 'star', starred: false }, { clock: 2, by: 'Desk B' })]).starred, true, 'the star is shared, last writer wins');
  t.throws(() => validateNoteOp({ ...op({ kind: 'star', starred: true }), starred: 'yes' }), NoteFormatError, 'starred must be a boolean');
});

t.test('concurrent note edits both survive; an edit superseding both leaves one', async (t) => {
  const base = op({ kind: 'note', text: 'first', supersedes: [] }, { clock: 1 });
  const a = op({ kind: 'note', text: 'A says', supersedes: [base.op] }, { clock: 2, by: 'Desk A' });
  const b = op({ kind: 'note', text: 'B says', supersedes: [base.op] }, { clock: 2, by: 'Desk B' });
  const m = mergeThread([b, base, a]);
  t.same(m.notes.map((n) => n.text), ['A says', 'B says']);
  const merged = op({ kind: 'note', text: 'A and B', supersedes: [a.op, b.op] }, { clock: 3 });
  t.same(mergeThread([a, merged, b, base]).notes.map((n) => n.text), ['A and B']);
  const cleared = op({ kind: 'note', text: '', supersedes: [merged.op] }, { clock: 4 });
  t.same(mergeThread([a, merged, b, base, cleared]).notes, [], 'an empty note clears it');
  const replies = mergeThread([op({ kind: 'reply', tip: 'b'.repeat(26), text: 'two' }, { clock: 9 }), op({ kind: 'reply', tip: 'b'.repeat(26), text: 'one' }, { clock: 3 })]);
  t.same(replies.replies.map((r) => r.text), ['one', 'two']);
});

t.test('tags: add wins over a concurrent remove; a remove removes only the adds it lists', async (t) => {
  const add1 = op({ kind: 'tag-add', tag: 'urgent' }, { clock: 1 });
  const rm = op({ kind: 'tag-remove', tag: 'urgent', removes: [add1.op] }, { clock: 2, by: 'Desk B' });
  const add2 = op({ kind: 'tag-add', tag: 'urgent' }, { clock: 2, by: 'Desk A' }); // concurrent with rm
  t.same(mergeThread([add1, rm]).tags, []);
  t.same(mergeThread([rm, add2, add1]).tags, ['urgent'], 'the add the remove had not seen survives');
  const rmOther = op({ kind: 'tag-remove', tag: 'other', removes: [add1.op] }, { clock: 3 });
  t.same(mergeThread([add1, rmOther]).tags, ['urgent'], 'a remove of another tag does not touch this one');
  const z = op({ kind: 'tag-add', tag: 'Zebra' });
  t.same(mergeThread([add1, z]).tags, ['Zebra', 'urgent'], 'code-unit order, not locale order');
});

t.test('fixed vectors (test/vectors/notes.json): regenerated byte for byte, and each recipient opens them', async (t) => {
  const file = JSON.parse(readFileSync(new URL('../../test/vectors/notes.json', import.meta.url), 'utf8')) as { v: 1; vectors: NoteVector[] };
  t.same(buildNotesFile(), file, 'the implementation makes exactly the stored envelopes');
  for (const v of file.vectors) {
    const env = fromHex(v.envelope);
    for (const s of v.recipient_secrets) {
      const secret = fromHex(s);
      const o = openNote(env, { boxPublic: sodium().crypto_scalarmult_base(secret), boxSecret: secret });
      t.same(o.op, v.op, v.name);
      t.equal(o.signKey, toBase64(sodium().crypto_sign_seed_keypair(fromHex(v.signer_seed)).publicKey));
    }
  }
});
