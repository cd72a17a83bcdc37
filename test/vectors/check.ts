// The known-answer checks of every format, written once and run both in Node (test/vectors_browser.test.ts,
// test/crypto_protocol_vectors.test.ts) and inside real browsers (test/vectors/browser-entry.ts, bundled by
// esbuild). No Node API here: the caller loads the JSON files (readFileSync or fetch) and libsodium.
//
// Each file is checked two ways: regenerated from its definitions and compared field by field (byte for byte,
// as hex), and read by the verifiers/decoders on its own contents (what another implementation would do).
import { fromBase64, fromHex, toBase64, toBase64Url, toHex } from '../../crypto/bytes.js';
import { checkFraming, decryptEnvelope, type Manifest } from '../../crypto/envelope/index.js';
import { fingerprint, verify } from '../../crypto/keys.js';
import { padme } from '../../crypto/padme.js';
import { verifyDocument } from '../../crypto/signed.js';
import { sodium } from '../../crypto/sodium.js';
import { genesisHash, headBytes, nextEntry, verifyChain, type ChainHead } from '../../crypto/audit-chain.js';
import { issuePowChallenge, powHash, powPricedBytes, powSizeBits, solvePow, verifyPowSolution } from '../../crypto/pow.js';
import { signStaffRequest, staffBodyHash, staffSigningInput, verifyStaffRequest } from '../../crypto/staff-request.js';
import { buildEnvelope, buildKeysFile, buildKeysFileCore, envelopeDefs, type EnvelopeVector } from './definitions.js';
import { fromBytes } from './helpers.js';
import { buildProtocolFile, type ProtocolFile } from './protocol.js';
import { buildRepliesFile, type RepliesFile } from './replies.js';
import { deriveCodenameKeys, generateCodename, parseCodename } from '../../crypto/codename.js';
import { findOwnTags, makeReplyTag } from '../../crypto/reply-tags.js';
import { REPLY_ENVELOPE_LENGTH, deleteHash, openReply, sealReply } from '../../crypto/reply.js';
import { fixedRandom } from './helpers.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** why it failed */
  detail?: string;
}

export interface VectorFiles {
  envelope: unknown;
  keys: unknown;
  protocol: unknown;
  replies: unknown;
}

const AES_BACKENDS = ['webcrypto', 'noble'] as const;

/** The first path at which two JSON-like values differ, or undefined when they are equal. */
export function firstDifference(got: unknown, want: unknown, path = '$'): string | undefined {
  if (Object.is(got, want)) return undefined;
  if (typeof got !== typeof want || got === null || want === null || typeof got !== 'object') {
    const show = (v: unknown) => {
      const s = JSON.stringify(v) ?? String(v);
      return s.length > 80 ? `${s.slice(0, 77)}...` : s;
    };
    return `${path}: got ${show(got)}, want ${show(want)}`;
  }
  if (Array.isArray(got) !== Array.isArray(want)) return `${path}: array vs object`;
  const g = got as Record<string, unknown>;
  const w = want as Record<string, unknown>;
  const keys = new Set([...Object.keys(g), ...Object.keys(w)]);
  for (const k of keys) {
    if (!(k in g)) return `${path}.${k}: missing`;
    if (!(k in w)) return `${path}.${k}: unexpected`;
    const d = firstDifference(g[k], w[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/** JSON round trip: compares what a file would hold (drops undefined, turns typed arrays away). */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

class Checks {
  readonly results: CheckResult[] = [];
  constructor(private readonly prefix: string) {}
  /** `fn` returns undefined when the check holds, else what is wrong. A throw is a failure with its message. */
  async run(name: string, fn: () => string | undefined | Promise<string | undefined>): Promise<void> {
    const full = `${this.prefix}: ${name}`;
    try {
      const problem = await fn();
      this.results.push(problem === undefined ? { name: full, ok: true } : { name: full, ok: false, detail: problem });
    } catch (e) {
      const err = e as Error;
      this.results.push({ name: full, ok: false, detail: `threw ${err?.name}: ${err?.message}` });
    }
  }
}

const all = (...problems: (string | undefined)[]): string | undefined => problems.filter((p) => p !== undefined).join('; ') || undefined;
const expectEqual = (what: string, got: unknown, want: unknown) => {
  const d = firstDifference(asJson(got), asJson(want));
  return d === undefined ? undefined : `${what}: ${d}`;
};

// ---- envelope.json ----

async function decryptAll(bytes: Uint8Array, identity: { boxPublic: Uint8Array; boxSecret: Uint8Array }, aes: 'webcrypto' | 'noble') {
  let manifest: Manifest | undefined;
  const files: string[] = [];
  let ended = false;
  for await (const ev of decryptEnvelope(fromBytes(bytes, 4096), identity, { aes })) {
    if (ev.kind === 'manifest') {
      manifest = ev.manifest;
      files.push(...ev.manifest.files.map(() => ''));
    }
    if (ev.kind === 'data') files[ev.file] += toHex(ev.bytes);
    if (ev.kind === 'end') ended = true;
  }
  return { manifest, files, ended };
}

export async function checkEnvelopeVectors(file: unknown): Promise<CheckResult[]> {
  const c = new Checks('envelope.json');
  const f = file as { version: number; vectors: EnvelopeVector[] };
  const defs = envelopeDefs();
  await c.run('one vector per definition', () => (Array.isArray(f?.vectors) && f.vectors.length === defs.length ? undefined : `expected ${defs.length} vectors`));
  for (const [i, def] of defs.entries()) {
    const want = f?.vectors?.[i];
    if (!want) continue;
    for (const aes of AES_BACKENDS) {
      await c.run(`${def.name}: regenerated byte for byte (${aes})`, async () => expectEqual('vector', await buildEnvelope(def, aes), want));
    }
    await c.run(`${def.name}: framing accepted`, () => {
      const bytes = fromHex(want.envelope);
      return bytes.length === want.length && checkFraming(bytes, bytes.length).stanzaCount === want.recipients.length ? undefined : 'length or stanza count differs';
    });
    for (const [r, key] of want.recipients.entries()) {
      for (const aes of AES_BACKENDS) {
        await c.run(`${def.name}: recipient ${r} decrypts (${aes})`, async () => {
          const got = await decryptAll(fromHex(want.envelope), { boxPublic: fromHex(key.box_public), boxSecret: fromHex(key.box_secret) }, aes);
          return all(got.ended ? undefined : 'did not reach the end', expectEqual('manifest', got.manifest, want.manifest), expectEqual('files', got.files, want.files));
        });
      }
    }
  }
  return c.results;
}

// ---- keys.json ----

export async function checkKeysVectors(file: unknown, opts: { keyFiles?: boolean } = {}): Promise<CheckResult[]> {
  const c = new Checks('keys.json');
  const all_ = file as ReturnType<typeof buildKeysFile>;
  const { key_files: _keyFiles, ...rest } = all_;
  const f = opts.keyFiles === false ? rest : all_;
  await c.run('regenerated byte for byte', () => expectEqual('file', opts.keyFiles === false ? buildKeysFileCore() : buildKeysFile(), f));
  await c.run('fingerprints', () => all(...(f.fingerprints ?? []).map((x) => expectEqual(x.public, fingerprint(fromHex(x.public)), x.fingerprint))));
  await c.run('signed documents verify', () =>
    all(
      ...(f.signed_documents ?? []).map((s) => {
        const pk = sodium().crypto_sign_seed_keypair(fromHex(s.seed)).publicKey;
        return expectEqual(s.type, verifyDocument(s.document, fingerprint(pk), s.type), s.payload);
      }),
    ),
  );
  await c.run('padme', () => all(...(f.padme ?? []).map(([n, p]) => expectEqual(`padme(${n})`, padme(n!), p))));
  return c.results;
}

// ---- protocol.json ----

function knownKeys(keys: string[]) {
  return (k: string) => (keys.includes(k) ? k : undefined);
}

export async function checkProtocolVectors(file: unknown): Promise<CheckResult[]> {
  const c = new Checks('protocol.json');
  const f = file as ProtocolFile;
  await c.run('regenerated byte for byte', async () => expectEqual('file', await buildProtocolFile(), f));

  for (const v of f.staff_requests ?? []) {
    await c.run(`staff request "${v.name}": sign, signing input, verify`, () => {
      const kp = sodium().crypto_sign_seed_keypair(fromHex(v.seed));
      const req = { host: v.host, method: v.method, pathAndQuery: v.path_and_query, timestamp: v.timestamp, nonce: fromHex(v.nonce), body: fromHex(v.body), contentType: v.content_type };
      const input = staffSigningInput({ ...req, publicKey: kp.publicKey });
      const verdict = verifyStaffRequest(v.headers, { host: v.host, method: v.method, pathAndQuery: v.path_and_query, body: fromHex(v.body) }, knownKeys([toBase64(kp.publicKey)]));
      return all(
        expectEqual('public key', toHex(kp.publicKey), v.public_key),
        expectEqual('body hash', toHex(staffBodyHash(fromHex(v.body))), v.body_hash),
        expectEqual('signing input', toHex(input), v.signing_input),
        expectEqual('headers', signStaffRequest(req, kp.privateKey), v.headers),
        verify(fromBase64(v.headers['tipline-signature']!), fromHex(v.signing_input), kp.publicKey) ? undefined : 'signature does not verify over signing_input',
        verdict.ok ? expectEqual('verdict', { t: verdict.timestamp, n: verdict.nonce }, { t: v.timestamp, n: v.headers['tipline-nonce'] }) : `refused: ${verdict.reason}`,
      );
    });
  }
  for (const k of f.staff_request_checks ?? []) {
    await c.run(`staff request check "${k.name}" → ${k.expect}`, () => {
      const r = verifyStaffRequest(k.headers, { host: k.host, method: k.method, pathAndQuery: k.path_and_query, body: fromHex(k.body) }, knownKeys(k.known_keys));
      return expectEqual('verdict', r.ok ? 'ok' : r.reason, k.expect);
    });
  }

  for (const v of f.pow_tokens ?? []) {
    await c.run(`pow token "${v.name}": issue, hash, solve, verify`, async () => {
      const secret = fromHex(v.secret);
      const issued = issuePowChallenge(secret, v.difficulty, v.size, new Date(v.now), () => fromHex(v.random));
      const r = await verifyPowSolution(secret, v.difficulty - powSizeBits(v.size), { token: v.token, nonce: v.nonce }, new Date(v.now), v.size);
      return all(
        expectEqual('challenge', issued, { token: v.token, difficulty: v.difficulty, expires_in: v.expires_in, size: v.size }),
        expectEqual('hash', toHex(await powHash(v.token, v.nonce)), v.hash),
        expectEqual('solver', await solvePow(v.token, v.difficulty), v.nonce),
        expectEqual('solver, one attempt at a time', await solvePow(v.token, v.difficulty, { inFlight: 1 }), v.nonce),
        expectEqual('verdict', r, { ok: true, id: toBase64Url(fromHex(v.random)), expires: v.expires, difficulty: v.difficulty, size: v.size }),
      );
    });
  }
  for (const k of f.pow_checks ?? []) {
    await c.run(`pow check "${k.name}" → ${k.expect}`, async () => {
      const r = await verifyPowSolution(fromHex(k.secret), k.min_difficulty, { token: k.token, nonce: k.nonce }, new Date(k.now), k.claimed_size);
      return expectEqual('verdict', r.ok ? 'ok' : r.reason, k.expect);
    });
  }
  await c.run('pow sizes: extra bits and priced bytes', () =>
    expectEqual('sizes', (f.pow_sizes ?? []).map((z) => ({ size: z.size, bits: powSizeBits(z.size), priced_bytes: powPricedBytes(z.size) })), f.pow_sizes),
  );

  for (const v of f.audit_chains ?? []) {
    await c.run(`audit chain "${v.name}": genesis, entries, head`, () => {
      const pk = sodium().crypto_sign_seed_keypair(fromHex(v.root_seed)).publicKey;
      let head: ChainHead = { seq: 0, hash: genesisHash(v.root_fingerprint) };
      const rebuilt = v.inputs.map((i) => {
        const e = nextEntry(head, i.day, i.kind, i.detail);
        head = { seq: e.seq, hash: e.hash };
        return e;
      });
      const verdict = verifyChain(v.entries, v.root_fingerprint);
      return all(
        expectEqual('root', [toHex(pk), fingerprint(pk)], [v.root_public, v.root_fingerprint]),
        expectEqual('genesis', genesisHash(v.root_fingerprint), v.genesis),
        expectEqual('entries', rebuilt, v.entries),
        expectEqual('head', head, v.head),
        expectEqual('head bytes', toHex(headBytes(v.head)), v.head_bytes),
        expectEqual('verdict', verdict, { ok: true, head: v.head }),
      );
    });
  }
  for (const k of f.audit_checks ?? []) {
    await c.run(`audit check "${k.name}" → ${typeof k.expect === 'string' ? k.expect : k.expect.reason}`, () => {
      const r = verifyChain(k.entries, k.root_fingerprint);
      return expectEqual('verdict', r.ok ? 'ok' : { index: r.index, seq: r.seq, reason: r.reason }, k.expect);
    });
  }
  await c.run('every kind of rejection is covered', () => {
    const seen = new Set([...(f.staff_request_checks ?? []).map((k) => `staff:${k.expect}`), ...(f.pow_checks ?? []).map((k) => `pow:${k.expect}`), ...(f.audit_checks ?? []).map((k) => `audit:${typeof k.expect === 'string' ? k.expect : k.expect.reason}`)]);
    const needed = ['staff:unsigned', 'staff:malformed', 'staff:unknown_key', 'staff:bad_signature', 'pow:malformed', 'pow:not_ours', 'pow:expired', 'pow:too_small', 'pow:too_easy', 'pow:wrong_solution', 'audit:malformed', 'audit:sequence', 'audit:link', 'audit:hash'];
    const missing = needed.filter((n) => !seen.has(n));
    return missing.length ? `no vector for ${missing.join(', ')}` : undefined;
  });
  return c.results;
}

// ---- replies.json ----

export async function checkRepliesVectors(file: unknown): Promise<CheckResult[]> {
  const c = new Checks('replies.json');
  const f = file as RepliesFile;
  await c.run('regenerated byte for byte', async () => expectEqual('file', await buildRepliesFile(), f));
  await c.run('one vector at the full KDF cost', () => ((f.codenames ?? []).some((v) => v.iterations === 1_000_000) ? undefined : 'no vector with 1,000,000 iterations'));
  for (const v of f.codenames ?? []) {
    await c.run(`codename "${v.name}": words, spellings, keys`, async () => {
      const made = generateCodename(() => fromHex(v.random));
      const parsed = [v.text, ...v.typed].map((typed) => parseCodename(typed));
      const notRead = parsed.findIndex((p) => !p.ok || p.codename.text !== v.text);
      const k = await deriveCodenameKeys({ indices: v.indices, words: [], text: '' }, v.root_fingerprint, v.iterations);
      return all(
        expectEqual('indices', made.indices, v.indices),
        expectEqual('text', made.text, v.text),
        notRead === -1 ? undefined : `spelling ${notRead} is not read as the codename`,
        expectEqual('keys', { box_public: toHex(k.boxPublic), box_secret: toHex(k.boxSecret), tag_key: toHex(k.tagKey) }, { box_public: v.box_public, box_secret: v.box_secret, tag_key: v.tag_key }),
        expectEqual('box pair', toHex(sodium().crypto_scalarmult_base(k.boxSecret)), v.box_public),
      );
    });
  }
  await c.run('codename problems', () => all(...(f.codename_problems ?? []).map((p) => expectEqual(p.typed, parseCodename(p.typed), { ok: false, problem: p.problem }))));
  await c.run('codename problems: every kind covered', () => {
    const kinds = new Set((f.codename_problems ?? []).map((p) => p.problem.kind));
    return ['unknown-word', 'count', 'check'].every((k) => kinds.has(k as never)) ? undefined : `kinds covered: ${[...kinds].join(', ')}`;
  });
  for (const v of f.tags ?? []) {
    await c.run(`tag "${v.name}": made, and found`, async () =>
      all(expectEqual('tag', toHex(await makeReplyTag(fromHex(v.tag_key), () => fromHex(v.random))), v.tag), expectEqual('found', await findOwnTags(fromHex(v.tag_key), fromHex(v.tag)), [0])),
    );
  }
  for (const v of f.tag_lists ?? []) {
    await c.run(`tag list "${v.name}": own positions`, async () => expectEqual('own', await findOwnTags(fromHex(v.tag_key), fromHex(v.list)), v.own));
  }
  for (const v of f.replies ?? []) {
    await c.run(`reply "${v.name}": sealed byte for byte, opened, deletion hash`, async () => {
      const desk = sodium().crypto_sign_seed_keypair(fromHex(v.desk_sign_seed));
      const sealed = await sealReply({ toBoxKey: fromHex(v.box_public), message: v.message, desk: { signPublic: desk.publicKey, signSecret: desk.privateKey }, now: new Date(v.now), random: fixedRandom(fromHex(v.random)) });
      const o = await openReply(fromHex(v.envelope), { boxPublic: fromHex(v.box_public), boxSecret: fromHex(v.box_secret) });
      return all(
        expectEqual('length', [v.length, fromHex(v.envelope).length], [REPLY_ENVELOPE_LENGTH, REPLY_ENVELOPE_LENGTH]),
        expectEqual('envelope', toHex(sealed.envelope), v.envelope),
        expectEqual('delete hash', toHex(sealed.deleteHash), v.delete_hash),
        expectEqual('opened', { message: o.message, sent_day: o.sentDay, desk_key: o.deskKey, delete_token: toHex(o.deleteToken) }, { message: v.message, sent_day: v.sent_day, desk_key: toBase64(fromHex(v.desk_sign_public)), delete_token: v.delete_token }),
        expectEqual('hash of the opened token', toHex(deleteHash(o.deleteToken)), v.delete_hash),
      );
    });
  }
  return c.results;
}

/** Every format's vectors. */
export async function checkAllVectors(files: VectorFiles, opts: { keyFiles?: boolean } = {}): Promise<CheckResult[]> {
  return [
    ...(await checkEnvelopeVectors(files.envelope)),
    ...(await checkKeysVectors(files.keys, opts)),
    ...(await checkProtocolVectors(files.protocol)),
    ...(await checkRepliesVectors(files.replies)),
  ];
}

/** The files the checks read, by name under test/vectors/. */
export const VECTOR_FILES = { envelope: 'envelope.json', keys: 'keys.json', protocol: 'protocol.json', replies: 'replies.json' } as const;
