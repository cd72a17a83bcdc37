// The in-browser side of test/vectors_browser.test.ts: loads libsodium as the page does (the CommonJS build, with
// its asm.js fallback for Tor Browser at "Safer"), fetches the vector files from the loopback test server, runs
// the same checks as Node (check.ts) and leaves the results on `window.__vectors` for the test to read.
import sodium from 'libsodium-wrappers';
import { useSodium } from '../../crypto/sodium.js';
import { POW_ITERATIONS, solvePow } from '../../crypto/pow.js';
import { CODENAME_KDF_ITERATIONS, deriveCodenameKeys, generateCodename } from '../../crypto/codename.js';
import { findOwnTags, makeReplyTag } from '../../crypto/reply-tags.js';
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
  /** deriveCodenameKeys at its full cost (CODENAME_KDF_ITERATIONS), ms: each of 3 runs */
  codenameKdfMs?: number[];
  /** findOwnTags over 10,000 tags (3 of them its own), ms: each of 3 runs; and the positions found */
  findTagsMs?: number[];
  findTagsFound?: number[];
}

/** What a source waits for on "I have a codename": the KDF, then the search of a 10,000-tag list. */
async function replyTimings(): Promise<Pick<BrowserVectorReport, 'codenameKdfMs' | 'findTagsMs' | 'findTagsFound'>> {
  const fp = 'aaaa bbbb cccc dddd eeee ffff gggg hhhh';
  const codenameKdfMs: number[] = [];
  let tagKey: Uint8Array = new Uint8Array(32);
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    tagKey = (await deriveCodenameKeys(generateCodename(), fp, CODENAME_KDF_ITERATIONS)).tagKey;
    codenameKdfMs.push(Math.round(performance.now() - t0));
  }
  const list = new Uint8Array(10_000 * 16);
  for (let off = 0; off < list.length; off += 65_536) crypto.getRandomValues(list.subarray(off, off + 65_536));
  for (const p of [0, 5000, 9999]) list.set(await makeReplyTag(tagKey), p * 16);
  const findTagsMs: number[] = [];
  let findTagsFound: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    findTagsFound = await findOwnTags(tagKey, list);
    findTagsMs.push(Math.round((performance.now() - t0) * 10) / 10);
  }
  return { codenameKdfMs, findTagsMs, findTagsFound };
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
  const files = { envelope: await load(VECTOR_FILES.envelope), keys: await load(VECTOR_FILES.keys), protocol: await load(VECTOR_FILES.protocol), replies: await load(VECTOR_FILES.replies) };
  const t0 = performance.now();
  const results = await checkAllVectors(files, { keyFiles: false });
  const ms = Math.round(performance.now() - t0);
  return {
    done: true,
    results,
    ms,
    env: { webassembly: typeof WebAssembly !== 'undefined', subtle: typeof crypto.subtle !== 'undefined', secureContext: isSecureContext, userAgent: navigator.userAgent },
    ...(await powRate().then((r) => ({ powAttemptsPerSecond: r, powIterationsPerSecond: r * POW_ITERATIONS }))),
    ...(await replyTimings()),
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
