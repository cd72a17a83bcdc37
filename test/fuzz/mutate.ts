// Generators of damage: byte-level mutations of a valid message and structural mutations of a valid JSON document.
// They know nothing of the formats they damage (only where a valid instance is), so they keep working when a
// format gains a field; a test pairs them with a format's public parser.
import fc from 'fast-check';
import { TiplineCryptoError, CryptoArgumentError } from '../../crypto/errors.js';

// ---------------------------------------------------------------- bytes

export type ByteOp =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'truncate'; at: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'duplicate'; at: number; length: number };

/** Positions are drawn as fractions of the length (0..1e6): a mutation lands anywhere in any message. */
const at = fc.integer({ min: 0, max: 1_000_000 });
const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 64 });

export const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), at, byte: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('append' as const), bytes: smallBytes }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at, bytes: smallBytes }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 70_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at, length: fc.integer({ min: 1, max: 70_000 }) }) },
);

/** Positions biased to the first bytes too (headers live there), not only spread over the whole length. */
function pos(x: number, len: number): number {
  if (len === 0) return 0;
  return x % 2 === 0 ? Math.floor((x / 1_000_000) * len) % len : (x >> 1) % Math.min(len, 256);
}

export function applyBytes(input: Uint8Array, ops: readonly ByteOp[]): Uint8Array {
  let b = input;
  for (const o of ops) {
    const p = 'at' in o ? pos(o.at, b.length) : 0;
    switch (o.op) {
      case 'flip':
        if (b.length === 0) break;
        b = b.slice();
        b[p] = b[p]! ^ (1 << o.bit);
        break;
      case 'set':
        if (b.length === 0) break;
        b = b.slice();
        b[p] = o.byte;
        break;
      case 'truncate':
        b = b.slice(0, p);
        break;
      case 'append':
        b = concat(b, o.bytes);
        break;
      case 'insert':
        b = concat(b.subarray(0, p), o.bytes, b.subarray(p));
        break;
      case 'delete':
        b = concat(b.subarray(0, p), b.subarray(p + o.length));
        break;
      case 'duplicate':
        b = concat(b.subarray(0, p + o.length), b.subarray(p, p + o.length), b.subarray(p + o.length));
        break;
    }
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Splits bytes into pieces of the given sizes (cycled), as a network or a file reader might deliver them. */
export function pieces(b: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  for (let o = 0; o < b.length; i++) {
    const n = Math.max(1, sizes.length === 0 ? b.length : sizes[i % sizes.length]!);
    out.push(b.subarray(o, o + n));
    o += n;
  }
  return out;
}

// ---------------------------------------------------------------- JSON

export type JsonOp = { op: 'replace' | 'delete' | 'add'; node: number; key: string; value: unknown };

/** Values that break parsers: wrong types, huge numbers, long strings, deep nesting, prototype keys. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, '', ' ', '\u0000', 'Z', '2025-01-31T12:00:00Z', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2025-02-30T00:00:00Z', 'desk', 'auditor', '__proto__', [], {}),
  fc.string({ maxLength: 5000 }),
  fc.record({ ['__proto__']: fc.jsonValue({ maxDepth: 1 }) }, { noNullPrototype: true }),
  fc.integer({ min: 1, max: 40 }).map((d) => JSON.parse('['.repeat(d) + ']'.repeat(d)) as unknown),
);

export const jsonOp: fc.Arbitrary<JsonOp> = fc.record({
  op: fc.constantFrom('replace' as const, 'delete' as const, 'add' as const),
  node: fc.nat({ max: 10_000 }),
  key: fc.oneof(fc.constantFrom('v', 'type', 'payload', 'name', 'role', 'recipients', '__proto__', 'constructor', 'extra'), fc.string({ maxLength: 8 })),
  value: hostileJson,
});

type Container = Record<string, unknown> | unknown[];

function containers(v: unknown, out: Container[] = []): Container[] {
  if (v !== null && typeof v === 'object') {
    out.push(v as Container);
    for (const c of Object.values(v)) containers(c, out);
  }
  return out;
}

/** Applies structural mutations to a deep copy (JSON round trip) of `doc`. */
export function applyJson(doc: unknown, ops: readonly JsonOp[]): unknown {
  let root = JSON.parse(JSON.stringify(doc)) as unknown;
  for (const o of ops) {
    const all = containers(root);
    if (all.length === 0) {
      root = o.value;
      continue;
    }
    const c = all[o.node % all.length]!;
    const keys = Object.keys(c);
    if (Array.isArray(c)) {
      const i = keys.length === 0 ? 0 : o.node % keys.length;
      if (o.op === 'replace' && keys.length > 0) c[i] = o.value;
      else if (o.op === 'delete' && keys.length > 0) c.splice(i, 1);
      else c.splice(i, 0, o.value);
    } else {
      const k = o.op === 'add' || keys.length === 0 ? o.key : keys[o.node % keys.length]!;
      // defineProperty: an own "__proto__" key, as JSON.parse makes it, not a prototype change.
      if (o.op === 'delete') delete c[k];
      else Object.defineProperty(c, k, { value: o.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

// ---------------------------------------------------------------- errors

/** True for an error crypto/ throws on purpose about its input (crypto/errors.ts), not a programming error. */
export function documentedInputError(err: unknown): boolean {
  return err instanceof TiplineCryptoError && !(err instanceof CryptoArgumentError);
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.constructor.name}: ${err.message.slice(0, 300)}` : String(err);
}
