// The in-browser side of test/vectors_browser.test.ts: loads libsodium as the page does (the CommonJS build, with
// its asm.js fallback for Tor Browser at "Safer"), fetches the vector files from the loopback test server, runs
// the same checks as Node (check.ts) and leaves the results on `window.__vectors` for the test to read.
import sodium from 'libsodium-wrappers';
import { useSodium } from '../../crypto/sodium.js';
import { POW_ITERATIONS, solvePow } from '../../crypto/pow.js';
import { checkAllVectors, VECTOR_FILES, type CheckResult } from './check.js';

export interface BrowserVectorReport {
  done: true;
  error?: string;
  results?: CheckResult[];
  ms?: number;
  env?: { webassembly: boolean; subtle: boolean; secureContext: boolean; userAgent: string };
  /** proof-of-work solver attempts per second here (PBKDF2-SHA256 of POW_ITERATIONS iterations each), for the record */
  powAttemptsPerSecond?: number;
  powIterationsPerSecond?: number;
}

/** Attempts per second of the solver (its default attempts in flight), over fresh tokens at difficulty 6; the
 * median of 5 rounds of about 300 ms (the machine is shared, so one long window says little). */
async function powRate(): Promise<number> {
  const rounds: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    let attempts = 0;
    for (let j = 0; performance.now() - t0 < 300; j++) await solvePow(`${'A'.repeat(50)}${i}-${j}`, 6, { onAttempt: () => attempts++ });
    rounds.push((attempts * 1000) / (performance.now() - t0));
  }
  return Math.round(rounds.sort((a, b) => a - b)[2]!);
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
    ...(await powRate().then((r) => ({ powAttemptsPerSecond: r, powIterationsPerSecond: r * POW_ITERATIONS }))),
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
