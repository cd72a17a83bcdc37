// Entry guards shared by every module. Internal: not part of the public API.
import { CryptoArgumentError } from './errors.js';

/** True for Uint8Array, including subclasses (Node's Buffer) and arrays from another realm (iframe, worker). */
export function _isBytes(a: unknown): a is Uint8Array {
  return a instanceof Uint8Array || (ArrayBuffer.isView(a) && a.constructor.name === 'Uint8Array');
}

/** Throws unless `value` is a Uint8Array (of exactly `length` bytes when given). */
export function _abytes(name: string, value: unknown, length?: number): Uint8Array {
  if (!_isBytes(value)) {
    const got = value === null ? 'null' : typeof value;
    throw new CryptoArgumentError(`${name}: expected Uint8Array, got type=${got}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new CryptoArgumentError(
      `${name}: expected Uint8Array of length ${length}, got length=${value.length}`,
    );
  }
  return value;
}

export function _astring(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new CryptoArgumentError(`${name}: expected string, got type=${typeof value}`);
  return value;
}

export function _isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Exact key set: decoders reject unknown fields so one document has one meaning. */
export function _hasExactKeys(o: Record<string, unknown>, required: string[], optional: string[] = []): boolean {
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) return false;
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) return false;
  return true;
}

/** A signed statement as an object or its JSON text (an audit entry's detail, a file), with exactly `fields`;
 * `fail` names what is being read. */
export function _exactObject(s: unknown, fields: string[], fail: (m: string) => Error): Record<string, unknown> {
  let v = s;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw fail('not JSON');
    }
  }
  if (!_isPlainObject(v) || !_hasExactKeys(v, fields)) throw fail(`expected {${fields.join(', ')}}`);
  return v;
}
