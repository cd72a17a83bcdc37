// Padmé: known values, agreement with an independent BigInt reference across the whole safe range (the
// float-only implementation must not break at 2^31 or 2^32), idempotence, monotonicity and overhead.
import t from 'tap';
import { isPadme, padme } from '../crypto/padme.js';
import { TestPrng } from './vectors/helpers.js';

/** The paper's definition on BigInt, with bit operations that cannot overflow. */
function reference(n: number): number {
  if (n < 2) return n;
  const bn = BigInt(n);
  const e = bn.toString(2).length - 1; // floor(log2 n)
  const s = e.toString(2).length; // floor(log2 E) + 1
  const mask = (1n << BigInt(e - s)) - 1n;
  return Number((bn + mask) & ~mask);
}

t.test('known values', async (t) => {
  t.same([...Array(11).keys()].map(padme), [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 10]);
  const known: [number, number][] = [
    [1000, 1024],
    [65535, 65536],
    [65536, 65536],
    [65537, 67584], // E=16, S=5, z=11: next multiple of 2048
    [2 ** 31 - 1, 2 ** 31],
    [2 ** 31, 2147483648],
    [2 ** 31 + 1, 2214592512], // 2^31 + 2^26
    [3_000_000_000, 3019898880], // 45 * 2^26
    [2 ** 32 - 1, 4294967296],
    [2 ** 32, 4294967296],
    [2 ** 32 + 1, 4362076160], // 2^32 + 2^26
    [2 ** 40, 1099511627776],
    [2 ** 40 + 1, 1116691496960], // 2^40 + 2^34
    [2 ** 53 - 1, 9007199254740992], // rounds up to 2^53 itself
  ];
  for (const [n, want] of known) {
    t.equal(padme(n), want, `padme(${n})`);
    t.equal(reference(n), want, `reference(${n})`);
  }
});

t.test('matches the BigInt reference around every power of two and on random samples', async (t) => {
  let wrong = 0;
  let checked = 0;
  for (let e = 1; e <= 53; e++) {
    for (let d = -3; d <= 3; d++) {
      const n = 2 ** e + d;
      if (n < 0 || !Number.isSafeInteger(n)) continue;
      checked++;
      if (padme(n) !== reference(n)) wrong++;
    }
  }
  const prng = new TestPrng(3);
  for (let i = 0; i < 20000; i++) {
    const bits = 1 + (prng.bytes(1)[0]! % 53);
    const r = prng.bytes(7).reduce((a, b) => a * 256 + b, 0) % 2 ** bits;
    checked++;
    if (padme(r) !== reference(r)) wrong++;
  }
  for (let n = 0; n < 100000; n++) {
    checked++;
    if (padme(n) !== reference(n)) wrong++;
  }
  t.equal(wrong, 0, `${checked} values agree`);
});

t.test('idempotent, never smaller, monotone, overhead at most 12% from 2^10', async (t) => {
  const prng = new TestPrng(4);
  let bad = 0;
  let prev = 0;
  for (let n = 0; n < 200000; n++) {
    const p = padme(n);
    if (p < n || padme(p) !== p || !isPadme(p) || p < prev) bad++;
    if (n >= 1024 && (p - n) / n > 0.12) bad++;
    prev = p;
  }
  for (let i = 0; i < 20000; i++) {
    const n = 1024 + (prng.bytes(7).reduce((a, b) => a * 256 + b, 0) % (2 ** 53 - 2048));
    const p = padme(n);
    if (p < n || padme(Math.min(p, 2 ** 53 - 1)) < Math.min(p, 2 ** 53 - 1) || (p - n) / n > 0.12) bad++;
  }
  t.equal(bad, 0);
  t.ok(isPadme(10));
  t.notOk(isPadme(9));
});

t.test('guards', async (t) => {
  for (const v of [-1, 1.5, NaN, Infinity, 2 ** 53, '5' as unknown as number]) {
    t.throws(() => padme(v), RangeError, `padme(${String(v)})`);
    t.throws(() => isPadme(v), RangeError, `isPadme(${String(v)})`);
  }
});
