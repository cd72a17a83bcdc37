// Padmé (Nikitin, Barman, Lueks, Underwood, Bootle, Ford: "Reducing Metadata Leakage from Encrypted Files and
// Communication with PURBs", PETS 2019, §4). Rounds a length up so that only O(log log n) bits of it leak, at most
// ~12% overhead. Threat: a network observer or a seized server learning a tip's exact size.
//
// Float-only arithmetic on purpose: JavaScript's `<<`, `&`, `|` work on 32-bit integers and silently wrap at
// 2^31, which would make every file over 2 GiB pad wrongly. Powers of two and division by them are exact in
// IEEE doubles, so this is exact for every safe integer.

function guard(n: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`padme: expected a non-negative safe integer, got ${String(n)}`);
  }
}

/** floor(log2 n) for 1 <= n <= 2^53, corrected for Math.log2 rounding up near powers of two. */
function floorLog2(n: number): number {
  let e = Math.floor(Math.log2(n));
  while (2 ** e > n) e--;
  while (2 ** (e + 1) <= n) e++;
  return e;
}

/**
 * The Padmé length of `n`: n < 2 stays; otherwise E = floor(log2 n), S = floor(log2 E) + 1, and the low E - S
 * bits are rounded up to zero. The result is at most 2^53 (reached only for n just below 2^53).
 */
export function padme(n: number): number {
  guard(n);
  if (n < 2) return n;
  const e = floorLog2(n);
  const s = floorLog2(e) + 1;
  const step = 2 ** (e - s); // 2^z; (n + mask) - ((n + mask) mod 2^z) = ceil(n / 2^z) * 2^z
  return Math.ceil(n / step) * step;
}

/** True when `n` is its own Padmé length, i.e. a length an honest encoder can produce. */
export function isPadme(n: number): boolean {
  return padme(n) === n;
}
