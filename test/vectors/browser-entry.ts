// The in-browser side of test/vectors_browser.test.ts: loads libsodium as the page does (the CommonJS build, with
// its asm.js fallback for Tor Browser at "Safer"), fetches the vector files from the loopback test server, runs
// the same checks as Node (check.ts) and leaves the results on `window.__vectors` for the test to read.
import sodium from 'libsodium-wrappers';
import { useSodium } from '../../crypto/sodium.js';
import { utf8Encode } from '../../crypto/bytes.js';
import { leadingZeroBits, powHash } from '../../crypto/pow.js';
import { checkAllVectors, VECTOR_FILES, type CheckResult } from './check.js';

export interface BrowserVectorReport {
  done: true;
  error?: string;
  results?: CheckResult[];
  ms?: number;
  env?: { webassembly: boolean; subtle: boolean; secureContext: boolean; userAgent: string };
  /** proof-of-work hashes per second here, for the record (the solver's inner loop), v2 and the old v1 input */
  powHashesPerSecond?: number;
  powV1HashesPerSecond?: number;
}

function rate(hash: (token: string, nonce: string) => Uint8Array): number {
  const t0 = performance.now();
  let n = 0;
  const token = 'A'.repeat(56);
  while (performance.now() - t0 < 500) {
    leadingZeroBits(hash(token, String(n)));
    n++;
  }
  return Math.round((n * 1000) / (performance.now() - t0));
}
const powV1Hash = (token: string, nonce: string) => sodium.crypto_generichash(32, utf8Encode(`tipline pow v1\n${token}\n${nonce}`), null);

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
  const results = await checkAllVectors(files);
  const ms = Math.round(performance.now() - t0);
  return {
    done: true,
    results,
    ms,
    env: { webassembly: typeof WebAssembly !== 'undefined', subtle: typeof crypto.subtle !== 'undefined', secureContext: isSecureContext, userAgent: navigator.userAgent },
    powHashesPerSecond: rate(powHash),
    powV1HashesPerSecond: rate(powV1Hash),
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
