// The in-browser side of test/vectors_browser.test.ts: loads libsodium as the page does (the CommonJS build, with
// its asm.js fallback for Tor Browser at "Safer"), fetches the vector files from the loopback test server, runs
// the same checks as Node (check.ts) and leaves the results on `window.__vectors` for the test to read.
import sodium from 'libsodium-wrappers';
import { useSodium } from '../../crypto/sodium.js';
import { utf8Encode } from '../../crypto/bytes.js';
import { leadingZeroBits, solvePow } from '../../crypto/pow.js';
import { checkAllVectors, VECTOR_FILES, type CheckResult } from './check.js';

export interface BrowserVectorReport {
  done: true;
  error?: string;
  results?: CheckResult[];
  ms?: number;
  env?: { webassembly: boolean; subtle: boolean; secureContext: boolean; userAgent: string };
  /** proof-of-work solver hashes per second here, for the record: v2 and the version 1 solver */
  powHashesPerSecond?: number;
  powV1HashesPerSecond?: number;
}

/** Hashes per second of a solver over fresh tokens at difficulty 8 (the hashes a solve took: its nonce + 1). */
function rate(solve: (token: string, difficulty: number) => string): number {
  const t0 = performance.now();
  let hashes = 0;
  for (let i = 0; performance.now() - t0 < 200; i++) hashes += Number(solve(`${'A'.repeat(50)}${i}`, 8)) + 1;
  return (hashes * 1000) / (performance.now() - t0);
}

// The version 1 solver as it was (crypto/pow.ts before v2), for comparison only.
const solveV1 = (token: string, difficulty: number): string => {
  for (let n = 0; ; n++) {
    if (leadingZeroBits(sodium.crypto_generichash(32, utf8Encode(`tipline pow v1\n${token}\n${n}`), null)) >= difficulty) return String(n);
  }
};

/** Medians of interleaved 200 ms rounds: the machine is shared, so one long window says little. */
function rates(): { v2: number; v1: number } {
  const v2: number[] = [];
  const v1: number[] = [];
  for (let i = 0; i < 7; i++) {
    v2.push(rate(solvePow));
    v1.push(rate(solveV1));
  }
  const median = (x: number[]) => Math.round(x.sort((a, b) => a - b)[3]!);
  return { v2: median(v2), v1: median(v1) };
}

async function main(): Promise<BrowserVectorReport> {
  await sodium.ready;
  useSodium(sodium);
  const load = async (name: string): Promise<unknown> => {
    const res = await fetch(`/vectors/${name}`);
    if (!res.ok) throw new Error(`GET /vectors/${name}: ${res.status}`);
    return res.json();
  };
  const files = { envelope: await load(VECTOR_FILES.envelope), keys: await load(VECTOR_FILES.keys), protocol: await load(VECTOR_FILES.protocol) };
  const t0 = performance.now();
  const results = await checkAllVectors(files, { keyFiles: false });
  const ms = Math.round(performance.now() - t0);
  return {
    done: true,
    results,
    ms,
    env: { webassembly: typeof WebAssembly !== 'undefined', subtle: typeof crypto.subtle !== 'undefined', secureContext: isSecureContext, userAgent: navigator.userAgent },
    ...(({ v2, v1 }) => ({ powHashesPerSecond: v2, powV1HashesPerSecond: v1 }))(rates()),
  };
}

const w = window as unknown as { __vectors?: BrowserVectorReport };
main().then(
  (r) => {
    w.__vectors = r;
    const failed = r.results!.filter((x) => !x.ok).length;
    document.body.textContent = `${r.results!.length - failed} passed, ${failed} failed`;
  },
  (e: unknown) => {
    w.__vectors = { done: true, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) };
    document.body.textContent = 'error';
  },
);
