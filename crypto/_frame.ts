// Length-prefixed framing for every hashed or signed protocol message (PROTOCOL.md §Framing). Internal.
// Fields joined by a separator are ambiguous as soon as a field may contain the separator ("a\nb" + "c" vs
// "a" + "b\nc"); a length before every field makes the split unique, so two messages never share bytes.
import { _abytes } from './_guard.js';
import { CryptoArgumentError } from './errors.js';

/** `u32 BE length || bytes` for each field, concatenated. The first field is always the domain string. */
export function _frame(...fields: Uint8Array[]): Uint8Array {
  let len = 0;
  fields.forEach((f, i) => {
    _abytes(`field ${i}`, f);
    if (f.length > 0xffffffff) throw new CryptoArgumentError(`field ${i}: longer than 2^32 - 1 bytes`);
    len += 4 + f.length;
  });
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const f of fields) {
    view.setUint32(off, f.length);
    out.set(f, off + 4);
    off += 4 + f.length;
  }
  return out;
}

/** A non-negative safe integer as 8 bytes, big-endian. */
export function _u64(name: string, n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new CryptoArgumentError(`${name}: expected an integer 0..2^53-1, got ${String(n)}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}
