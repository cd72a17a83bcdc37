// Passphrase-encrypted key files (Argon2id + XSalsa20-Poly1305 secretbox). Threat: a stolen staff laptop or
// backup; the attacker gets the file, and must guess the passphrase at Argon2id cost per guess.
import { _abytes, _astring, _hasExactKeys, _isPlainObject } from './_guard.js';
import { equalBytes, fromBase64, toBase64, utf8Decode, utf8Encode } from './bytes.js';
import { CryptoArgumentError, KeyFileFormatError, WrongPassphraseError } from './errors.js';
import { _signingPairMatches } from './keys.js';
import { sodium, sumo } from './sodium.js';

/** signer: the directory signing key the root certifies (FORMAT.md §Directory); same shape as root. */
export type KeyRole = 'root' | 'signer' | 'desk' | 'auditor';

export interface KdfParams {
  opslimit: number;
  memlimit: number; // bytes
}

/** libsodium's MODERATE: 3 passes over 256 MiB. About 0.7 s in Node 20 (see FORMAT.md §Key files). */
export const DEFAULT_KDF: KdfParams = { opslimit: 3, memlimit: 256 * 1024 * 1024 };

/**
 * Limits on what a key file may ask for. A hostile or corrupted file must not make `openKeyFile` allocate
 * gigabytes or spin for minutes (denial of service against a newsroom machine).
 */
export const MAX_KDF: KdfParams = { opslimit: 10, memlimit: 1024 * 1024 * 1024 };

/**
 * The least cost a key file may be sealed or opened with: libsodium's INTERACTIVE (2 passes over 64 MiB), which
 * is also RFC 9106's memory floor for its second recommended setting and above OWASP's Argon2id minimum
 * (19 MiB, 2 passes). Threat: a stolen file sealed cheaply (libsodium allows 1 pass over 8 KiB) falls to an
 * offline guessing run on GPUs; 64 MiB per guess is what keeps GPU parallelism down. Refused on opening too: a
 * file sealed below it by another tool is already weak on disk, and its owner should be told so.
 */
export const MIN_KDF: KdfParams = { opslimit: 2, memlimit: 64 * 1024 * 1024 };

export interface KeyFile {
  v: 1;
  kind: 'tipline-key';
  role: KeyRole;
  name: string;
  public: Record<string, string>; // base64
  kdf: { alg: 'argon2id13'; opslimit: number; memlimit: number; salt: string };
  nonce: string;
  ciphertext: string;
}

export interface KeyMaterial {
  role: KeyRole;
  name: string;
  public: Record<string, Uint8Array>;
  secret: Record<string, Uint8Array>;
  /** Desk only: box secret keys of earlier periods, kept until their tips expire (`tipline keys rotate`). */
  kept?: KeptBoxKey[];
}

/** An earlier period's box secret key and when that period ended (ISO UTC): rotate deletes it once every tip
 * sealed to it is past retention. */
export interface KeptBoxKey {
  box: Uint8Array;
  ended: string;
}

const MAX_KEPT = 64;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

function checkKept(role: KeyRole, kept: unknown, fail: (m: string) => Error): KeptBoxKey[] {
  if (!Array.isArray(kept) || kept.length > MAX_KEPT) throw fail(`kept must be an array of at most ${MAX_KEPT}`);
  if (kept.length > 0 && role !== 'desk') throw fail('only a desk key keeps earlier box keys');
  return kept.map((k: unknown, i: number) => {
    if (!_isPlainObject(k) || !_hasExactKeys(k, ['box', 'ended'])) throw fail(`kept[${i}] must be {box, ended}`);
    if (!(k.box instanceof Uint8Array) || k.box.length !== KEY_BYTES) throw fail(`kept[${i}].box must be ${KEY_BYTES} bytes`);
    if (typeof k.ended !== 'string' || !ISO_UTC.test(k.ended) || !Number.isFinite(Date.parse(k.ended))) throw fail(`kept[${i}].ended must be an ISO-8601 UTC time`);
    return { box: k.box, ended: k.ended };
  });
}

const SALT_BYTES = 16; // crypto_pwhash_SALTBYTES
const NONCE_BYTES = 24; // crypto_secretbox_NONCEBYTES
const KEY_BYTES = 32;
const MAC_BYTES = 16;
const MAX_NAME = 200;

/** Which keys each role holds, and their lengths. Decoders reject anything else. */
const SHAPES: Record<KeyRole, { public: Record<string, number>; secret: Record<string, number> }> = {
  root: { public: { sign: 32 }, secret: { sign: 64 } },
  signer: { public: { sign: 32 }, secret: { sign: 64 } },
  desk: { public: { box: 32, sign: 32 }, secret: { box: 32, sign: 64 } },
  auditor: { public: { box: 32, sign: 32 }, secret: { box: 32, sign: 64 } },
};

function isRole(r: unknown): r is KeyRole {
  return r === 'root' || r === 'signer' || r === 'desk' || r === 'auditor';
}

function checkName(name: unknown, fail: (m: string) => Error): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) {
    throw fail(`name must be a string of 1..${MAX_NAME} characters`);
  }
  return name;
}

function checkKeys(
  what: 'public' | 'secret',
  role: KeyRole,
  keys: Record<string, Uint8Array>,
  fail: (m: string) => Error,
): void {
  const shape = SHAPES[role][what];
  const names = Object.keys(shape);
  if (!_hasExactKeys(keys, names)) throw fail(`${role} ${what} keys must be exactly {${names.join(', ')}}`);
  for (const k of names) {
    const v = keys[k];
    if (!(v instanceof Uint8Array) || v.length !== shape[k]) {
      throw fail(`${role} ${what} key "${k}" must be ${shape[k]} bytes`);
    }
  }
}

/** Secret keys must match the public keys stored beside them, or the file would decrypt to the wrong identity. */
function checkPairs(pub: Record<string, Uint8Array>, sec: Record<string, Uint8Array>, fail: (m: string) => Error) {
  // The Ed25519 public key is derived from the seed, not only compared with the secret key's copy of it.
  if (!_signingPairMatches(pub.sign!, sec.sign!)) throw fail('secret signing key does not match public key');
  if (sec.box && !equalBytes(sodium().crypto_scalarmult_base(sec.box), pub.box!)) {
    throw fail('secret box key does not match public key');
  }
}

function checkKdf(p: KdfParams, fail: (m: string) => Error): void {
  if (!Number.isSafeInteger(p.opslimit) || p.opslimit < MIN_KDF.opslimit || p.opslimit > MAX_KDF.opslimit) {
    throw fail(`kdf opslimit must be an integer in ${MIN_KDF.opslimit}..${MAX_KDF.opslimit}, got ${p.opslimit}`);
  }
  if (!Number.isSafeInteger(p.memlimit) || p.memlimit < MIN_KDF.memlimit || p.memlimit > MAX_KDF.memlimit) {
    throw fail(`kdf memlimit must be an integer in ${MIN_KDF.memlimit}..${MAX_KDF.memlimit} (64 MiB..1 GiB), got ${p.memlimit}`);
  }
}

function encodeMap(m: Record<string, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = toBase64(m[k]!);
  return out;
}

function decodeMap(m: unknown, fail: (msg: string) => Error): Record<string, Uint8Array> {
  if (!_isPlainObject(m)) throw fail('key map must be an object');
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw fail(`key "${k}" must be a base64 string`);
    try {
      out[k] = fromBase64(v);
    } catch {
      throw fail(`key "${k}" is not valid base64`);
    }
  }
  return out;
}

/** Passphrases are NFC-normalised: the same passphrase typed on macOS and Linux may differ in code points. */
function deriveKey(passphrase: string, salt: Uint8Array, p: KdfParams): Uint8Array {
  const s = sumo();
  return s.crypto_pwhash(
    KEY_BYTES,
    utf8Encode(passphrase.normalize('NFC')),
    salt,
    p.opslimit,
    p.memlimit,
    s.crypto_pwhash_ALG_ARGON2ID13,
  );
}

export function sealKeyFile(opts: {
  role: KeyRole;
  name: string;
  public: Record<string, Uint8Array>;
  secret: Record<string, Uint8Array>;
  passphrase: string;
  kdf?: KdfParams;
  random?: (n: number) => Uint8Array;
  kept?: KeptBoxKey[];
}): KeyFile {
  const arg = (m: string) => new CryptoArgumentError(`sealKeyFile: ${m}`);
  if (!isRole(opts.role)) throw arg(`role must be root, signer, desk or auditor, got ${String(opts.role)}`);
  const role = opts.role;
  const name = checkName(opts.name, arg);
  checkKeys('public', role, opts.public, arg);
  checkKeys('secret', role, opts.secret, arg);
  checkPairs(opts.public, opts.secret, arg);
  const kept = checkKept(role, opts.kept ?? [], arg);
  _astring('passphrase', opts.passphrase);
  if (opts.passphrase.length === 0) throw arg('passphrase must not be empty');
  const kdf = opts.kdf ?? DEFAULT_KDF;
  checkKdf(kdf, arg);
  const random = opts.random ?? ((n: number) => sodium().randombytes_buf(n));

  const salt = _abytes('random(16)', random(SALT_BYTES), SALT_BYTES);
  const nonce = _abytes('random(24)', random(NONCE_BYTES), NONCE_BYTES);
  const publicB64 = encodeMap(opts.public);
  // role, name and public keys are repeated inside the encryption: the outer copies are only for display, and
  // openKeyFile refuses a file whose outer copy differs (an attacker swapping in their own public key).
  // `kept` only when there is one: a file without earlier keys stays byte-compatible with older readers.
  const inner = { v: 1, role, name, public: publicB64, secret: encodeMap(opts.secret), ...(kept.length ? { kept: kept.map((k) => ({ box: toBase64(k.box), ended: k.ended })) } : {}) };
  const key = deriveKey(opts.passphrase, salt, kdf);
  const ciphertext = sodium().crypto_secretbox_easy(utf8Encode(JSON.stringify(inner)), nonce, key);
  key.fill(0);
  return {
    v: 1,
    kind: 'tipline-key',
    role,
    name,
    public: publicB64,
    kdf: { alg: 'argon2id13', opslimit: kdf.opslimit, memlimit: kdf.memlimit, salt: toBase64(salt) },
    nonce: toBase64(nonce),
    ciphertext: toBase64(ciphertext),
  };
}

function b64Field(v: unknown, field: string, len?: number): Uint8Array {
  if (typeof v !== 'string') throw new KeyFileFormatError(`key file: ${field} must be a base64 string`);
  let b: Uint8Array;
  try {
    b = fromBase64(v);
  } catch {
    throw new KeyFileFormatError(`key file: ${field} is not valid base64`);
  }
  if (len !== undefined && b.length !== len) {
    throw new KeyFileFormatError(`key file: ${field} must be ${len} bytes, got ${b.length}`);
  }
  return b;
}

export function openKeyFile(file: unknown, passphrase: string): KeyMaterial {
  _astring('passphrase', passphrase);
  const fmt = (m: string) => new KeyFileFormatError(`key file: ${m}`);
  if (!_isPlainObject(file)) throw fmt('not a JSON object');
  if (!_hasExactKeys(file, ['v', 'kind', 'role', 'name', 'public', 'kdf', 'nonce', 'ciphertext'])) {
    throw fmt('unexpected or missing fields');
  }
  if (file.kind !== 'tipline-key') throw fmt('kind is not "tipline-key"');
  if (file.v !== 1) throw fmt(`unsupported version ${String(file.v)}`);
  if (!isRole(file.role)) throw fmt('role must be root, signer, desk or auditor');
  const role = file.role;
  const name = checkName(file.name, fmt);
  const outerPublic = decodeMap(file.public, fmt);
  checkKeys('public', role, outerPublic, fmt);

  const kdf = file.kdf;
  if (!_isPlainObject(kdf) || !_hasExactKeys(kdf, ['alg', 'opslimit', 'memlimit', 'salt'])) {
    throw fmt('kdf must be {alg, opslimit, memlimit, salt}');
  }
  if (kdf.alg !== 'argon2id13') throw fmt(`unsupported kdf ${String(kdf.alg)}`);
  const params = { opslimit: kdf.opslimit as number, memlimit: kdf.memlimit as number };
  checkKdf(params, fmt); // before any work: a hostile file must not exhaust memory
  const salt = b64Field(kdf.salt, 'kdf.salt', SALT_BYTES);
  const nonce = b64Field(file.nonce, 'nonce', NONCE_BYTES);
  const ciphertext = b64Field(file.ciphertext, 'ciphertext');
  if (ciphertext.length < MAC_BYTES) throw fmt('ciphertext too short');

  const key = deriveKey(passphrase, salt, params);
  let plain: Uint8Array;
  try {
    plain = sodium().crypto_secretbox_open_easy(ciphertext, nonce, key);
  } catch {
    throw new WrongPassphraseError('wrong passphrase (or the key file was modified)');
  } finally {
    key.fill(0);
  }

  let inner: unknown;
  try {
    inner = JSON.parse(utf8Decode(plain));
  } catch {
    throw fmt('sealed content is not JSON');
  } finally {
    plain.fill(0);
  }
  if (!_isPlainObject(inner) || !(_hasExactKeys(inner, ['v', 'role', 'name', 'public', 'secret']) || _hasExactKeys(inner, ['v', 'role', 'name', 'public', 'secret', 'kept'])) || inner.v !== 1) {
    throw fmt('sealed content has the wrong shape');
  }
  if (inner.role !== role || inner.name !== name) throw fmt('role or name outside the seal differs from inside');
  const innerPublic = decodeMap(inner.public, fmt);
  checkKeys('public', role, innerPublic, fmt);
  for (const k of Object.keys(innerPublic)) {
    if (!equalBytes(innerPublic[k]!, outerPublic[k]!)) {
      throw fmt(`public key "${k}" outside the seal differs from inside (substituted?)`);
    }
  }
  const secret = decodeMap(inner.secret, fmt);
  checkKeys('secret', role, secret, fmt);
  checkPairs(innerPublic, secret, fmt);
  const keptRaw = inner.kept === undefined ? [] : inner.kept;
  if (!Array.isArray(keptRaw)) throw fmt('kept must be an array');
  const kept = checkKept(role, keptRaw.map((k: unknown) => (_isPlainObject(k) ? { ...k, box: typeof k.box === 'string' ? b64Field(k.box, 'kept.box', KEY_BYTES) : k.box } : k)), fmt);
  return { role, name, public: innerPublic, secret, ...(kept.length ? { kept } : {}) };
}
