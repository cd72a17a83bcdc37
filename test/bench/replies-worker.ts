// The in-browser side of test/bench/replies.ts: what the page's worker does on a source's visit for replies,
// timed inside the worker — the codename's key derivation (PBKDF2, 1M iterations, WebCrypto) and the search for
// one's own tags in the list every visitor downloads (crypto/reply-tags.ts findOwnTags). Never run by Node: tsc
// only type-checks it; replies.ts bundles it with esbuild.
import { loadSodium } from '../../client/web/sodium-browser.js';
import { deriveCodenameKeys, parseCodename } from '../../crypto/codename.js';
import { findOwnTags } from '../../crypto/reply-tags.js';

export type RepliesCommand =
  | { cmd: 'init' }
  /** Derives the keys of each codename at `fingerprint` (all different: Firefox's NSS keeps the last PBKDF2
   * result and answers the same inputs again from it); answers the times and the last one's tag key (hex). */
  | { cmd: 'derive'; codenames: string[]; fingerprint: string }
  /** Fetches the list at `url` once, then finds the tags of `tagKey` (hex) in it `runs` times. */
  | { cmd: 'find'; url: string; tagKey: string; runs: number };

export interface RepliesAnswer {
  error?: string;
  wasm?: boolean;
  sodiumMs?: number;
  /** One per run, in ms. */
  times?: number[];
  tagKey?: string;
  positions?: number[];
  listBytes?: number;
}

const scope = globalThis as unknown as { postMessage(m: RepliesAnswer): void; onmessage: ((e: MessageEvent<RepliesCommand>) => void) | null };
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));

async function run(c: RepliesCommand): Promise<RepliesAnswer> {
  if (c.cmd === 'init') {
    const t = performance.now();
    await loadSodium();
    let wasm = false;
    try {
      wasm = typeof WebAssembly !== 'undefined' && WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    } catch {
      wasm = false;
    }
    return { wasm, sodiumMs: performance.now() - t };
  }
  if (c.cmd === 'derive') {
    const times: number[] = [];
    let tagKey = '';
    for (const typed of c.codenames) {
      const parsed = parseCodename(typed);
      if (!parsed.ok) return { error: `codename did not parse: ${parsed.problem.kind}` };
      const t = performance.now();
      const k = await deriveCodenameKeys(parsed.codename, c.fingerprint);
      times.push(performance.now() - t);
      tagKey = hex(k.tagKey);
    }
    return { times, tagKey };
  }
  const res = await fetch(c.url);
  const list = new Uint8Array(await res.arrayBuffer());
  const key = unhex(c.tagKey);
  const times: number[] = [];
  let positions: number[] = [];
  for (let i = 0; i < c.runs; i++) {
    const t = performance.now();
    positions = await findOwnTags(key, list);
    times.push(performance.now() - t);
  }
  return { times, positions, listBytes: list.length };
}

scope.onmessage = (e) => {
  run(e.data).then(
    (a) => scope.postMessage(a),
    (err: unknown) => scope.postMessage({ error: String(err) }),
  );
};
