// The known-answer vectors of crypto/PROTOCOL.md (staff requests, proof-of-work, audit chain): their inputs, and
// the code that turns them into test/vectors/protocol.json. Shared by generate-protocol.ts (writes the file) and
// check.ts (regenerates and compares, in Node and in the browsers). Every input is in the file: seeds, secrets,
// nonces, random ids and clocks, so another implementation needs nothing else.
import { _frame, _u64 } from '../../crypto/_frame.js';
import { genesisHash, headBytes, nextEntry, verifyChain, type AuditEntry, type ChainHead, type ChainBreakReason, type AuditDetail } from '../../crypto/audit-chain.js';
import { fromHex, toBase32, toBase64, toBase64Url, toHex, utf8Encode } from '../../crypto/bytes.js';
import { fingerprint, sign } from '../../crypto/keys.js';
import { encodePowToken, issuePowChallenge, leadingZeroBits, powHash, powPricedBytes, powSizeBits, solvePow, verifyPowSolution, type PowRejectReason } from '../../crypto/pow.js';
import { sodium } from '../../crypto/sodium.js';
import { signStaffRequest, staffBodyHash, staffSigningInput, verifyStaffRequest, type StaffRejectReason } from '../../crypto/staff-request.js';

export const PROTOCOL_VECTORS_VERSION = 1;

/** Deterministic bytes named by a label (only the generator needs this: the file holds every value it makes). */
export function protocolLabel(label: string, n = 32): Uint8Array {
  const seed = sodium().crypto_generichash(32, utf8Encode(`tipline protocol test vector: ${label}`), null);
  return n === 32 ? seed : sodium().randombytes_buf_deterministic(n, seed);
}

function signer(label: string) {
  const seed = protocolLabel(label);
  const kp = sodium().crypto_sign_seed_keypair(seed);
  return { seed, publicKey: kp.publicKey, secretKey: kp.privateKey };
}

// ---- staff requests ----

export interface StaffRequestVector {
  name: string;
  seed: string;
  public_key: string;
  host: string;
  method: string;
  path_and_query: string;
  timestamp: number;
  nonce: string;
  content_type: string;
  body: string;
  body_hash: string;
  signing_input: string;
  headers: Record<string, string>;
}

export interface StaffRequestCheck {
  name: string;
  /** base64 public keys the verifier knows (its directory) */
  known_keys: string[];
  /** the host the verifier is configured with */
  host: string;
  method: string;
  path_and_query: string;
  body: string;
  headers: Record<string, string>;
  expect: 'ok' | StaffRejectReason;
}

// A v3 onion address is 56 base32 characters: 35 bytes.
const ONION = () => `${toBase32(protocolLabel('onion', 35))}.onion`;

function staffDefs() {
  const desk = signer('desk');
  const auditor = signer('auditor');
  const onion = ONION();
  return {
    desk,
    auditor,
    onion,
    defs: [
      { name: 'GET without a body', who: desk, host: onion, method: 'GET', pathAndQuery: '/api/v1/staff/tips', timestamp: 1735732800, contentType: '', body: new Uint8Array(0) },
      {
        name: 'DELETE with a query; mixed-case host and method are signed lowercase/uppercase',
        who: desk,
        host: 'Tipline.Example:8443',
        method: 'delete',
        pathAndQuery: '/api/v1/staff/tips/abcdefghijklmnopqrstuvwxyz?reason=a%20b',
        timestamp: 1735732801,
        contentType: '',
        body: new Uint8Array(0),
      },
      {
        name: 'POST with a JSON body, by an auditor key',
        who: auditor,
        host: '127.0.0.1:8080',
        method: 'POST',
        pathAndQuery: '/api/v1/staff/replies',
        timestamp: 1767225600,
        contentType: 'application/json; charset=utf-8',
        body: utf8Encode('{"text":"line one\\nline two","n":1}'),
      },
      {
        name: 'PUT with a binary body',
        who: desk,
        host: '[::1]:9000',
        method: 'PUT',
        pathAndQuery: '/api/v1/staff/x/0',
        timestamp: 0,
        contentType: 'application/octet-stream',
        body: protocolLabel('binary body', 300),
      },
    ],
  };
}

function staffVector(d: ReturnType<typeof staffDefs>['defs'][number]): StaffRequestVector {
  const nonce = protocolLabel(`${d.name}: nonce`, 16);
  const headers = signStaffRequest({ host: d.host, method: d.method, pathAndQuery: d.pathAndQuery, timestamp: d.timestamp, nonce, body: d.body, contentType: d.contentType }, d.who.secretKey);
  return {
    name: d.name,
    seed: toHex(d.who.seed),
    public_key: toHex(d.who.publicKey),
    host: d.host,
    method: d.method,
    path_and_query: d.pathAndQuery,
    timestamp: d.timestamp,
    nonce: toHex(nonce),
    content_type: d.contentType,
    body: toHex(d.body),
    body_hash: toHex(staffBodyHash(d.body)),
    signing_input: toHex(staffSigningInput({ ...d, publicKey: d.who.publicKey, nonce })),
    headers,
  };
}

/** The version 1 signing string (schema/wire.ts before v2), to show that a v1 signature is refused. */
function v1Signature(v: StaffRequestVector, secretKey: Uint8Array): string {
  const bodyHash = toBase64(sodium().crypto_generichash(32, fromHex(v.body), null));
  const text = `tipline staff request v1\n${v.host.toLowerCase()}\n${v.method.toUpperCase()}\n${v.path_and_query}\n${v.timestamp}\n${v.headers['tipline-nonce']}\n${bodyHash}`;
  return toBase64(sign(utf8Encode(text), secretKey));
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** 16 bytes take 22 characters, whose last 4 bits are unused: setting one gives another spelling of the bytes. */
function setUnusedBit(b64url: string): string {
  const last = B64URL.indexOf(b64url[b64url.length - 1]!);
  return b64url.slice(0, -1) + B64URL[last | 1]!;
}

function staffChecks(vectors: StaffRequestVector[], s: ReturnType<typeof staffDefs>): StaffRequestCheck[] {
  const [get, del, post] = [vectors[0]!, vectors[1]!, vectors[2]!];
  const known = [toBase64(s.desk.publicKey), toBase64(s.auditor.publicKey)];
  const base = (v: StaffRequestVector, name: string, expect: StaffRequestCheck['expect'], change: Partial<StaffRequestCheck> = {}, headerChange: Record<string, string | undefined> = {}): StaffRequestCheck => {
    const headers: Record<string, string> = { ...v.headers };
    for (const [k, val] of Object.entries(headerChange)) {
      if (val === undefined) delete headers[k];
      else headers[k] = val;
    }
    return { name, known_keys: known, host: v.host, method: v.method, path_and_query: v.path_and_query, body: v.body, headers, expect, ...change };
  };
  const flipB64 = (b64: string) => {
    const raw = sodium().from_base64(b64, sodium().base64_variants.ORIGINAL);
    raw[0]! ^= 1;
    return toBase64(raw);
  };
  const otherNonce = toBase64Url(protocolLabel('another nonce', 16));
  return [
    base(get, 'as signed', 'ok'),
    base(post, 'as signed, with a body and content type', 'ok'),
    base(del, 'the verifier spells its host in capitals: hosts compare lowercase', 'ok', { host: 'TIPLINE.EXAMPLE:8443' }),
    base(get, 'another path', 'bad_signature', { path_and_query: '/api/v1/staff/audit' }),
    base(get, 'the same path with a query added', 'bad_signature', { path_and_query: '/api/v1/staff/tips?all=1' }),
    base(get, 'another method', 'bad_signature', { method: 'DELETE' }),
    base(get, 'another tip line (the verifier is configured with another host)', 'bad_signature', { host: 'another-tipline.onion' }),
    base(post, 'another body', 'bad_signature', { body: toHex(utf8Encode('{"text":"line one\\nline two","n":2}')) }),
    base(get, 'a body added to a request signed without one', 'bad_signature', { body: '00' }),
    base(post, 'another content type', 'bad_signature', {}, { 'content-type': 'text/plain' }),
    base(post, 'content type removed', 'bad_signature', {}, { 'content-type': undefined }),
    base(get, 'a content type added', 'bad_signature', {}, { 'content-type': 'application/json' }),
    base(get, 'another timestamp', 'bad_signature', {}, { 'tipline-timestamp': String(get.timestamp + 1) }),
    base(get, 'another nonce', 'bad_signature', {}, { 'tipline-nonce': otherNonce }),
    base(get, 'one bit of the signature flipped', 'bad_signature', {}, { 'tipline-signature': flipB64(get.headers['tipline-signature']!) }),
    base(get, "another known key named in place of the signer's", 'bad_signature', {}, { 'tipline-key': toBase64(s.auditor.publicKey) }),
    base(get, 'a version 1 signature of the same request', 'bad_signature', {}, { 'tipline-signature': v1Signature(get, s.desk.secretKey) }),
    base(get, 'a key the verifier does not know', 'unknown_key', { known_keys: [toBase64(s.auditor.publicKey)] }),
    base(get, 'no signature header', 'unsigned', {}, { 'tipline-signature': undefined }),
    base(get, 'no headers at all', 'unsigned', {}, { 'tipline-key': undefined, 'tipline-timestamp': undefined, 'tipline-nonce': undefined, 'tipline-signature': undefined }),
    base(get, 'timestamp with a leading zero (not canonical)', 'malformed', {}, { 'tipline-timestamp': `0${get.timestamp}` }),
    base(get, 'timestamp not a number', 'malformed', {}, { 'tipline-timestamp': 'yesterday' }),
    base(get, 'nonce of 15 bytes', 'malformed', {}, { 'tipline-nonce': toBase64Url(protocolLabel('short nonce', 15)) }),
    base(get, 'nonce with non-zero unused bits (not canonical base64url)', 'malformed', {}, { 'tipline-nonce': setUnusedBit(get.headers['tipline-nonce']!) }),
    base(get, 'signature not base64', 'malformed', {}, { 'tipline-signature': `${'!'.repeat(86)}==` }),
    base(get, 'a path with a space cannot have been signed', 'malformed', { path_and_query: '/api/v1/staff/tips extra' }),
    base(get, 'the same from an unknown key: malformed is reported before unknown_key', 'malformed', { path_and_query: '/api/v1/staff/tips extra', known_keys: [] }),
    base(get, 'a verifier configured with an impossible host', 'malformed', { host: 'tipline.example/evil' }),
  ];
}

// ---- proof-of-work ----

export interface PowTokenVector {
  name: string;
  secret: string;
  now: string;
  difficulty: number;
  /** the size the challenge binds (the top of its price class) */
  size: number;
  random: string;
  token: string;
  expires: number;
  expires_in: number;
  mac_input: string;
  /** the PBKDF2 salt of the solving nonce */
  salt: string;
  nonce: string;
  hash: string;
}

export interface PowCheck {
  name: string;
  secret: string;
  now: string;
  min_difficulty: number;
  claimed_size: number;
  token: string;
  nonce: string;
  expect: 'ok' | PowRejectReason;
}

export interface PowSizeVector {
  size: number;
  bits: number;
  priced_bytes: number;
}

const powSecret = () => protocolLabel('pow secret');

// Small difficulties: the browsers regenerate these at "Safer" too (2^d PBKDF2 calls each).
function powDefs() {
  return [
    { name: 'difficulty 0: every nonce solves it', now: '2025-01-01T00:00:00.000Z', difficulty: 0, size: 1024 * 1024 },
    { name: 'difficulty 6, one chunk, expiry rounded up to ten minutes', now: '2025-01-01T12:34:56.789Z', difficulty: 6, size: 1024 * 1024 },
    { name: 'difficulty 9, priced for 16 MiB, issued on a ten-minute boundary', now: '2025-06-30T23:50:00.000Z', difficulty: 9, size: 16 * 1024 * 1024 },
  ];
}

async function powVector(d: ReturnType<typeof powDefs>[number]): Promise<PowTokenVector> {
  const secret = powSecret();
  const random = protocolLabel(`${d.name}: id`, 16);
  const c = issuePowChallenge(secret, d.difficulty, d.size, new Date(d.now), () => random.slice());
  const raw = sodium().from_base64(c.token, sodium().base64_variants.URLSAFE_NO_PADDING);
  const nonce = await solvePow(c.token, d.difficulty);
  return {
    name: d.name,
    secret: toHex(secret),
    now: d.now,
    difficulty: d.difficulty,
    size: c.size,
    random: toHex(random),
    token: c.token,
    expires: Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(1)),
    expires_in: c.expires_in,
    mac_input: toHex(_frame(utf8Encode('tipline pow token v3'), raw.subarray(0, 32))),
    salt: toHex(_frame(utf8Encode('tipline pow v3'), utf8Encode(nonce))),
    nonce,
    hash: toHex(await powHash(c.token, nonce)),
  };
}

/** The smallest counter whose hash has at least `min` and fewer than `max` leading zero bits. */
async function nonceWithBits(token: string, min: number, max: number): Promise<string> {
  for (let n = 0; ; n++) {
    const z = leadingZeroBits(await powHash(token, String(n)));
    if (z >= min && z < max) return String(n);
  }
}

async function powChecks(vectors: PowTokenVector[]): Promise<PowCheck[]> {
  const [v0, v6, v9] = [vectors[0]!, vectors[1]!, vectors[2]!];
  const at = (v: PowTokenVector, name: string, expect: PowCheck['expect'], change: Partial<PowCheck> = {}): PowCheck => ({
    name,
    secret: v.secret,
    now: v.now,
    min_difficulty: v.difficulty - powSizeBits(v.size),
    claimed_size: v.size,
    token: v.token,
    nonce: v.nonce,
    expect,
    ...change,
  });
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const raw = sodium().from_base64(v6.token, sodium().base64_variants.URLSAFE_NO_PADDING);
  const lowered = raw.slice();
  lowered[9] = 0; // difficulty byte set to 0: the MAC no longer matches
  const bigger = raw.slice();
  bigger[10] = 1; // size raised by 2^40: the MAC no longer matches
  const v2 = raw.slice();
  v2[0] = 2;
  const id = fromHex(v6.random);
  const foreign = encodePowToken({ expires: v6.expires, difficulty: 6, size: v6.size, id }, protocolLabel('another server'));
  const easy = encodePowToken({ expires: v6.expires, difficulty: 3, size: v6.size, id }, fromHex(v6.secret));
  // A size of 0 cannot be encoded (encodePowToken refuses it): its MAC'd form is built by hand.
  const body0 = raw.slice(0, 32);
  body0.fill(0, 10, 16);
  const size0 = new Uint8Array(48);
  size0.set(body0);
  size0.set(sodium().crypto_generichash(16, _frame(utf8Encode('tipline pow token v3'), body0), fromHex(v6.secret)), 32);
  const MiB = 1024 * 1024;
  return [
    at(v0, 'difficulty 0, nonce "0"', 'ok'),
    at(v6, 'as solved', 'ok'),
    at(v9, 'as solved (16 MiB claimed: 2 bits above the base of 7)', 'ok'),
    at(v9, 'a smaller upload than priced for', 'ok', { claimed_size: 1000 }),
    at(v6, 'checked at the last second of its validity', 'ok', { now: iso(v6.expires) }),
    at(v6, 'a server asking fewer bits accepts a harder token', 'ok', { min_difficulty: 4 }),
    at(v6, 'one second after expiry', 'expired', { now: new Date(v6.expires * 1000 + 1).toISOString() }),
    at(v6, 'a one-chunk challenge opening a 1 MiB + 1 byte upload', 'too_small', { claimed_size: MiB + 1 }),
    at(v9, 'a 16 MiB challenge opening a 2.5 GiB upload', 'too_small', { claimed_size: 2.5 * 1024 * MiB }),
    at(v9, 'the base raised by one bit since it was issued', 'too_easy', { min_difficulty: 8 }),
    at(v6, 'a token of difficulty 3 where the server asks 6', 'too_easy', { token: easy, nonce: await solvePow(easy, 3) }),
    at(v6, 'a wrong nonce', 'wrong_solution', { nonce: await nonceWithBits(v6.token, 0, 6) }),
    at(v9, 'a nonce that solves 5 bits but not 9', 'wrong_solution', { nonce: await nonceWithBits(v9.token, 5, 9) }),
    at(v6, 'issued by another server (another secret)', 'not_ours', { token: foreign, nonce: await solvePow(foreign, 6) }),
    at(v6, 'difficulty byte lowered to 0', 'not_ours', { token: toBase64Url(lowered), nonce: '0' }),
    at(v6, 'size raised', 'not_ours', { token: toBase64Url(bigger) }),
    at(v6, 'size 0, MAC intact', 'malformed', { token: toBase64Url(size0) }),
    at(v6, 'version byte 2 (the BLAKE2b version)', 'malformed', { token: toBase64Url(v2) }),
    at(v6, 'one character short', 'malformed', { token: v6.token.slice(0, 63) }),
    at(v6, 'a character outside base64url (48 bytes fill 64 characters exactly: no other spelling exists)', 'malformed', { token: `${v6.token.slice(0, 63)}+` }),
    at(v6, 'padded base64', 'malformed', { token: `${v6.token.slice(0, 62)}==` }),
    at(v6, 'nonce not decimal', 'malformed', { nonce: '0x1' }),
    at(v6, 'nonce of 17 digits', 'malformed', { nonce: '1'.repeat(17) }),
  ];
}

/** Sizes and their price: extra bits and the bytes a challenge priced for them binds. */
function powSizes(): PowSizeVector[] {
  const MiB = 1024 * 1024;
  return [1, 64 * 1024, MiB, MiB + 1, 4 * MiB, 4 * MiB + 1, 10 * MiB, 64 * MiB, 1024 * MiB, 2 * 1024 * MiB, 2.5 * 1024 * MiB].map((size) => ({
    size,
    bits: powSizeBits(size),
    priced_bytes: powPricedBytes(size),
  }));
}

// ---- audit chain ----

export interface AuditInput {
  day: string;
  kind: string;
  detail: AuditDetail;
}

export interface AuditChainVector {
  name: string;
  root_seed: string;
  root_public: string;
  root_fingerprint: string;
  genesis: string;
  inputs: AuditInput[];
  entries: AuditEntry[];
  head: ChainHead;
  head_bytes: string;
}

export interface AuditCheck {
  name: string;
  root_fingerprint: string;
  entries: AuditEntry[];
  expect: 'ok' | { index: number; seq: number; reason: ChainBreakReason };
}

function auditDefs(): { name: string; root: string; inputs: AuditInput[] }[] {
  const three: AuditInput[] = [
    { day: '2025-01-01', kind: 'directory-published', detail: { recipients: 3, expires: '2025-04-01T00:00:00Z' } },
    { day: '2025-01-02', kind: 'purge', detail: { uploads: 0, tips: 12 } },
    { day: '2025-01-02', kind: 'staff-delete', detail: { by: 'Desk "0"\nsecond line', tips: 1, é: true } },
  ];
  return [
    { name: 'empty chain: the head is the genesis', root: 'root A', inputs: [] },
    { name: 'three entries', root: 'root A', inputs: three },
    { name: 'the same entries on another tip line', root: 'root B', inputs: three },
  ];
}

function auditVector(d: ReturnType<typeof auditDefs>[number]): AuditChainVector {
  const root = signer(d.root);
  const fp = fingerprint(root.publicKey);
  let head: ChainHead = { seq: 0, hash: genesisHash(fp) };
  const entries: AuditEntry[] = [];
  for (const i of d.inputs) {
    const e = nextEntry(head, i.day, i.kind, i.detail);
    entries.push(e);
    head = { seq: e.seq, hash: e.hash };
  }
  return { name: d.name, root_seed: toHex(root.seed), root_public: toHex(root.publicKey), root_fingerprint: fp, genesis: genesisHash(fp), inputs: d.inputs, entries, head, head_bytes: toHex(headBytes(head)) };
}

/** The version 1 chain (server/audit.ts before v2): zero genesis, newline-joined fields. */
function v1Chain(entries: AuditEntry[]): AuditEntry[] {
  let prev = '0'.repeat(64);
  return entries.map(({ seq, day, kind, detail }) => {
    const hash = toHex(sodium().crypto_generichash(32, utf8Encode(`tipline audit v1\n${prev}\n${seq}\n${day}\n${kind}\n${detail}`), null));
    const e = { seq, day, kind, detail, prev_hash: prev, hash };
    prev = hash;
    return e;
  });
}

function auditChecks(chains: AuditChainVector[]): AuditCheck[] {
  const a = chains[1]!;
  const b = chains[2]!;
  const e = a.entries;
  const fail = (index: number, reason: ChainBreakReason) => ({ index, seq: e[index]?.seq ?? NaN, reason });
  const edited = e.map((x) => ({ ...x }));
  edited[1]!.detail = edited[1]!.detail.replace('12', '13');
  const rehashed = e.map((x) => ({ ...x }));
  rehashed[1]!.detail = rehashed[1]!.detail.replace('12', '13');
  rehashed[1]!.hash = recomputed(rehashed[1]!);
  const badDay = e.map((x) => ({ ...x }));
  badDay[0]!.day = '2025-1-1';
  const longDetail = e.map((x) => ({ ...x }));
  longDetail[2]!.detail = `"${'x'.repeat(4095)}"`;
  const v1 = v1Chain(e);
  return [
    { name: 'the whole chain', root_fingerprint: a.root_fingerprint, entries: e, expect: 'ok' },
    { name: 'a prefix of the chain (the log may be read before later entries)', root_fingerprint: a.root_fingerprint, entries: e.slice(0, 2), expect: 'ok' },
    { name: 'the fingerprint as displayed, in capitals', root_fingerprint: a.root_fingerprint.toUpperCase(), entries: e, expect: 'ok' },
    { name: "checked against another tip line's root (a transplanted chain)", root_fingerprint: b.root_fingerprint, entries: e, expect: { index: 0, seq: 1, reason: 'link' } },
    { name: 'a detail edited', root_fingerprint: a.root_fingerprint, entries: edited, expect: fail(1, 'hash') },
    { name: 'a detail edited and that entry rehashed', root_fingerprint: a.root_fingerprint, entries: rehashed, expect: fail(2, 'link') },
    { name: 'the middle entry removed', root_fingerprint: a.root_fingerprint, entries: [e[0]!, e[2]!], expect: { index: 1, seq: 3, reason: 'sequence' } },
    { name: 'the first entry removed', root_fingerprint: a.root_fingerprint, entries: e.slice(1), expect: { index: 0, seq: 2, reason: 'sequence' } },
    { name: 'two entries swapped', root_fingerprint: a.root_fingerprint, entries: [e[0]!, e[2]!, e[1]!], expect: { index: 1, seq: 3, reason: 'sequence' } },
    { name: 'a version 1 chain', root_fingerprint: a.root_fingerprint, entries: v1, expect: { index: 0, seq: 1, reason: 'link' } },
    { name: 'a day not in YYYY-MM-DD form', root_fingerprint: a.root_fingerprint, entries: badDay, expect: fail(0, 'malformed') },
    { name: 'a detail longer than 4096 characters (refused before hashing)', root_fingerprint: a.root_fingerprint, entries: longDetail, expect: fail(2, 'malformed') },
  ];
}

function recomputed(x: AuditEntry): string {
  return toHex(sodium().crypto_generichash(32, _frame(utf8Encode('tipline audit entry v2'), _u64('seq', x.seq), utf8Encode(x.day), utf8Encode(x.kind), utf8Encode(x.detail), fromHex(x.prev_hash)), null));
}

// ---- the file ----

export interface ProtocolFile {
  version: number;
  staff_requests: StaffRequestVector[];
  staff_request_checks: StaffRequestCheck[];
  pow_tokens: PowTokenVector[];
  pow_checks: PowCheck[];
  pow_sizes: PowSizeVector[];
  audit_chains: AuditChainVector[];
  audit_checks: AuditCheck[];
}

export async function buildProtocolFile(): Promise<ProtocolFile> {
  const s = staffDefs();
  const staff_requests = s.defs.map(staffVector);
  const pow_tokens: PowTokenVector[] = [];
  for (const d of powDefs()) pow_tokens.push(await powVector(d));
  const audit_chains = auditDefs().map(auditVector);
  // Sanity, so the generator cannot write a file whose positive vectors do not verify.
  for (const c of audit_chains) if (!verifyChain(c.entries, c.root_fingerprint).ok) throw new Error(`generator: ${c.name} does not verify`);
  for (const v of pow_tokens) if (!(await verifyPowSolution(fromHex(v.secret), v.difficulty - powSizeBits(v.size), v, new Date(v.now), v.size)).ok) throw new Error(`generator: ${v.name} does not verify`);
  for (const v of staff_requests) {
    const r = verifyStaffRequest(v.headers, { host: v.host, method: v.method, pathAndQuery: v.path_and_query, body: fromHex(v.body) }, (k) => (k === toBase64(fromHex(v.public_key)) ? true : undefined));
    if (!r.ok) throw new Error(`generator: ${v.name} does not verify: ${r.message}`);
  }
  return {
    version: PROTOCOL_VECTORS_VERSION,
    staff_requests,
    staff_request_checks: staffChecks(staff_requests, s),
    pow_tokens,
    pow_checks: await powChecks(pow_tokens),
    pow_sizes: powSizes(),
    audit_chains,
    audit_checks: auditChecks(audit_chains),
  };
}
