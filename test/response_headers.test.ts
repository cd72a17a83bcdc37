// Every route answers with the same protective headers: a strict Content-Security-Policy (no inline script,
// no eval), no referrer, no framing, no caching, no cookies, and nothing loaded from elsewhere.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';

const [pglite] = await dialects();

t.test('security headers on every route', async (t) => {
  const { server } = await newsroomServer(t, pglite!);
  const routes: [string, string, number, ('staff' | undefined)?][] = [
    ['GET', '/', 200],
    ['GET', '/es/', 200],
    ['GET', '/de/', 200],
    ['GET', '/assets/app.js', 200],
    ['GET', '/assets/worker.js', 200],
    ['GET', '/assets/style.css', 200],
    ['GET', '/.well-known/tipline/directory', 200],
    ['GET', '/api/v1/pow', 200],
    ['GET', '/api/v1/health', 200],
    ['GET', '/api/v1/staff/tips', 401, 'staff'],
    ['GET', '/api/v1/staff/tips', 404],
    ['POST', '/api/v1/uploads', 400],
    ['GET', '/nowhere', 404],
  ];
  for (const [method, path, status, listener] of routes) {
    const r = await fetch((listener === 'staff' ? server.staffUrl : server.url) + path, { method, headers: { 'accept-encoding': 'gzip' } });
    t.equal(r.status, status, `${method} ${path}: ${status}`);
    const csp = r.headers.get('content-security-policy') ?? '';
    t.match(csp, /default-src 'none'/, `${path}: default-src 'none'`);
    t.match(csp, /script-src 'self'(;|$)/, `${path}: scripts from this origin only`);
    t.notMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:/, `${path}: no inline script, no eval (not even of WebAssembly), no other origin`);
    t.match(csp, /frame-ancestors 'none'/);
    t.match(csp, /form-action 'none'/);
    t.equal(r.headers.get('referrer-policy'), 'no-referrer');
    t.equal(r.headers.get('cache-control'), 'no-store');
    t.equal(r.headers.get('x-frame-options'), 'DENY');
    t.equal(r.headers.get('x-content-type-options'), 'nosniff');
    t.match(r.headers.get('permissions-policy') ?? '', /geolocation=\(\)/);
    t.notOk(r.headers.get('set-cookie'), `${path}: no cookie`);
    t.notOk(r.headers.get('strict-transport-security'), 'no HSTS over an onion service');
  }

  const page = await (await fetch(`${server.url}/`)).text();
  t.notMatch(page, /<script(?![^>]*\bsrc="\/assets\/)[^>]*>/, 'no inline script in the page');
  t.notMatch(page, /\bstyle="/, 'no inline style');
  t.notMatch(page, /(src|href)="(https?:)?\/\//, 'no resource from another origin');
  t.match(page, /<html lang="en">/);
  t.match(await (await fetch(`${server.url}/de/`)).text(), /<html lang="de">/);
  const redirect = await fetch(`${server.url}/es`, { redirect: 'manual' });
  t.equal(redirect.status, 308);
  t.equal(redirect.headers.get('location'), '/es/');
  const gz = await fetch(`${server.url}/assets/worker.js`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(gz.headers.get('content-encoding'), 'gzip', 'assets are served compressed (page weight matters over Tor)');
});
