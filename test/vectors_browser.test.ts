// The known-answer vectors of every format (test/vectors/envelope.json, keys.json, protocol.json) checked inside
// real browsers: Firefox ESR with Tor Browser's "Safer" prefs (no JIT, no WebAssembly, no asm.js: libsodium and
// the noble AES fallback run interpreted) and Chromium. The checks are test/vectors/check.ts, run first here in
// Node and then, bundled by esbuild, in each browser from a loopback server under the app's CSP style.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { initCrypto } from '../crypto/node.js';
import { browserSkip, launchChromium, launchFirefox, CHROMIUM, FIREFOX, SAFER_PREFS } from './helpers/browser.js';
import { checkAllVectors, VECTOR_FILES, type CheckResult } from './vectors/check.js';
import type { BrowserVectorReport } from './vectors/browser-entry.js';
import type { Browser } from 'puppeteer-core';

await initCrypto();

const root = fileURLToPath(new URL('../../', import.meta.url)); // compiled to dist/test/
const vectorsDir = join(root, 'test', 'vectors');
const readVector = (name: string) => readFileSync(join(vectorsDir, name), 'utf8');
const files = {
  envelope: JSON.parse(readVector(VECTOR_FILES.envelope)),
  keys: JSON.parse(readVector(VECTOR_FILES.keys)),
  protocol: JSON.parse(readVector(VECTOR_FILES.protocol)),
  replies: JSON.parse(readVector(VECTOR_FILES.replies)),
};

const nodeResults = await checkAllVectors(files, { keyFiles: false });

t.test('Node: every vector of every format holds', async (t) => {
  t.ok(nodeResults.length >= 90, `${nodeResults.length} checks`);
  for (const prefix of ['envelope.json', 'keys.json', 'protocol.json', 'replies.json']) t.ok(nodeResults.some((r) => r.name.startsWith(prefix)), `${prefix} is checked`);
  for (const r of nodeResults) t.ok(r.ok, r.name, r.ok ? {} : { detail: r.detail });
});

// The vector generators import a Node helper module for an unrelated stream hash; the browser never calls it.
const nodeStub: Plugin = {
  name: 'node-stub',
  setup(b) {
    b.onResolve({ filter: /^node:crypto$/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ contents: 'export function createHash() { throw new Error("node:crypto is not in the browser"); }', loader: 'js' }));
  },
};

const require = createRequire(join(root, 'package.json'));
const bundle = await build({
  entryPoints: [join(vectorsDir, 'browser-entry.ts')],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: ['firefox115', 'chrome110'],
  logLevel: 'warning',
  // As client/web/build.ts: the CommonJS libsodium, whose asm.js fallback is what runs at "Safer".
  alias: { 'libsodium-wrappers': require.resolve('libsodium-wrappers') },
  plugins: [nodeStub],
});
const script = bundle.outputFiles[0]!.contents;

// The app's CSP (server/app.ts): this origin only, no inline script, no eval, no WebAssembly source.
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vectors</title></head><body>running<script src="/check.js"></script></body></html>';
const server: Server = createServer((req, res) => {
  const send = (status: number, type: string, body: string | Uint8Array) => {
    res.writeHead(status, { 'content-type': type, 'content-security-policy': CSP, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };
  const url = req.url ?? '/';
  if (url === '/') return send(200, 'text/html; charset=utf-8', PAGE);
  if (url === '/check.js') return send(200, 'text/javascript; charset=utf-8', script);
  if (url === '/favicon.ico') return send(204, 'text/plain', '');
  const m = /^\/vectors\/(envelope|keys|protocol|replies)\.json$/.exec(url);
  if (m) return send(200, 'application/json', readVector(`${m[1]}.json`));
  return send(404, 'text/plain', 'not found');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => new Promise<void>((r) => server.close(() => r())));
const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

async function runIn(t: Test, browser: Browser, expectWasm: boolean): Promise<void> {
  t.comment(`browser: ${await browser.version()}`);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => (window as unknown as { __vectors?: unknown }).__vectors !== undefined, { timeout: 600_000, polling: 500 });
  const report = (await page.evaluate(() => (window as unknown as { __vectors: unknown }).__vectors)) as BrowserVectorReport;
  t.equal(report.error, undefined, 'the checks ran to the end');
  // libsodium tries WebAssembly first and falls back to asm.js; that first try is refused (CSP in Chromium, no
  // WebAssembly at "Safer") and surfaces as a page error, as on the real page. Anything else is a failure.
  const WASM_FALLBACK = /WebAssembly\.instantiate\(\).*Content Security Policy|WebAssembly is not defined/s;
  t.same(errors.filter((e) => !WASM_FALLBACK.test(e)), [], 'no other page error');
  t.equal(report.env?.webassembly, expectWasm, expectWasm ? 'WebAssembly available' : 'no WebAssembly (Tor Browser "Safer")');
  t.ok(report.env?.subtle, 'crypto.subtle present (secure context on 127.0.0.1): the webcrypto AES backend is tested');
  const results: CheckResult[] = report.results ?? [];
  t.same(results.map((r) => r.name), nodeResults.map((r) => r.name), 'the same checks as in Node, in the same order');
  for (const r of results) t.ok(r.ok, r.name, r.ok ? {} : { detail: r.detail });
  t.comment(`${results.length} checks in ${report.ms} ms; proof-of-work ${report.powAttemptsPerSecond} solver attempts/s = ${report.powIterationsPerSecond} PBKDF2 iterations/s`);
  // A source's wait on "I have a codename": the codename KDF at full cost, then finding its tags among 10,000.
  t.same(report.findTagsFound, [0, 5000, 9999], 'findOwnTags finds its 3 tags among 10,000');
  t.ok(report.codenameKdfMs?.length === 3 && report.codenameKdfMs.every((ms) => ms > 0 && ms < 30_000), `codename KDF (1,000,000 iterations): ${report.codenameKdfMs?.join(', ')} ms`);
  t.comment(`codename KDF at full cost: ${report.codenameKdfMs?.join(', ')} ms; findOwnTags over 10,000 tags: ${report.findTagsMs?.join(', ')} ms`);
}

t.test('Chromium: every vector of every format holds', { skip: browserSkip(CHROMIUM, 'Chromium'), timeout: 600_000 }, async (t) => {
  const browser = await launchChromium();
  try {
    await runIn(t, browser, true);
  } finally {
    await browser.close();
  }
});

t.test('Firefox ESR at Tor Browser\'s "Safer": every vector of every format holds', { skip: browserSkip(FIREFOX, 'Firefox ESR'), timeout: 600_000 }, async (t) => {
  const browser = await launchFirefox(SAFER_PREFS);
  try {
    await runIn(t, browser, false);
  } finally {
    await browser.close();
  }
});
