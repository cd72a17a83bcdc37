// Issue 7, item 6. (a) A staff request signed for one tip line, replayed to another that lists the same desk key,
// was accepted: the server checked the signature against whatever Host the client sent. (b) The staff API was
// served on the public onion, so client authorisation on the staff onion walled nothing off. Both attacks are
// performed here against the real `serve` (two listeners) and the test helper's servers, and both fail.
import t from 'tap';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects, seedPglite } from './helpers/databases.js';
import { makeNewsroom, staffHeaders } from './helpers/fixtures.js';
import { startServer } from './helpers/server.js';
import { runCli } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { buildServer, RouteOnWrongSurfaceError } from '../server/app.js';
import { serve } from '../server/serve.js';
import { publishDirectory } from '../server/directory.js';
import { canonicalStaffHost } from '../server/staff-auth.js';
import { errorResponses } from '../server/context.js';
import { ErrorBody } from '../schema/errors.js';

/** A request with a chosen Host header (fetch does not let a caller set one). */
function request(url: string, path: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname: u.hostname, port: u.port, path, method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const [pglite] = await dialects();

t.test('a request signed for another tip line that lists the same desk key is refused (401)', async (t) => {
  const newsroom = makeNewsroom();
  // Two tip lines, one newsroom's desk key in both directories, each with its own configured staff onion.
  const lines = [];
  for (const host of ['aaaa-tipline.onion', 'bbbb-tipline.onion']) {
    const store = await pglite!.open();
    t.teardown(() => store.drop());
    await publishDirectory(store.db, newsroom.doc, new Date());
    const server = await startServer({ db: store.db }, { hosts: [host] });
    t.teardown(() => server.close());
    lines.push({ host, store, server });
  }
  const [a, b] = lines as [(typeof lines)[0], (typeof lines)[0]];
  const path = '/api/v1/staff/tips';
  // What a desk sends to tip line A (through Tor the Host header is A's onion), captured by B's operator.
  const forA = { host: a.host, ...staffHeaders(newsroom.desk, 'GET', path, { host: a.host }) };
  const replayed = await request(b.server.staffUrl, path, { headers: forA });
  t.equal(replayed.status, 401, 'replayed to tip line B: refused');
  const err = ErrorBody.parse(JSON.parse(replayed.body)).error;
  t.equal(err.code, 'TIPLINE_ERR_UNAUTHENTICATED');
  t.match(err.message, /signed for another tip line \(aaaa-tipline\.onion\)/, 'and the refusal says why');
  // The same, with the Host header rewritten to B's: the signature still covers A's host.
  const rewritten = await request(b.server.staffUrl, path, { headers: { ...forA, host: b.host } });
  t.equal(rewritten.status, 401, 'with the Host header changed to B: refused too');
  t.equal(ErrorBody.parse(JSON.parse(rewritten.body)).error.code, 'TIPLINE_ERR_UNAUTHENTICATED');
  // The Host header is not what is checked: a request signed for B's host and sent with A's Host header passes at B.
  const forB = staffHeaders(newsroom.desk, 'GET', path, { host: b.host });
  t.equal((await request(b.server.staffUrl, path, { headers: { ...forB, host: a.host } })).status, 200, "signed for B's staff onion: accepted at B whatever the Host header says");
  // And A accepts its own (the nonce was never spent at B, and is fresh at A).
  t.equal((await request(a.server.staffUrl, path, { headers: forA })).status, 200, 'the original request is accepted where it was meant to go');
  const nonces = await b.store.db.selectFrom('staff_nonces').select('nonce').execute();
  t.equal(nonces.length, 1, "B spent only its own request's nonce: a refused request records nothing");
});

t.test('a staff address is written the way clients sign it', async (t) => {
  t.equal(canonicalStaffHost('ABCD.onion'), 'abcd.onion');
  t.equal(canonicalStaffHost('abcd.onion:80'), 'abcd.onion', 'the default port is left out, as in a URL');
  t.equal(canonicalStaffHost('abcd.onion.'), 'abcd.onion', 'a trailing dot names the same host');
  t.equal(canonicalStaffHost('127.0.0.1:8081'), '127.0.0.1:8081');
  t.equal(canonicalStaffHost('[::1]:8081'), '[::1]:8081');
  for (const bad of ['', 'http://abcd.onion', 'abcd.onion/api', 'user@abcd.onion', '::1', 'a b']) t.throws(() => canonicalStaffHost(bad), RangeError, `"${bad}" refused`);
});

t.test('each listener serves only its own routes; a route of the other is refused at startup', async (t) => {
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  const ok = async () => ({ ok: true });
  const pub = await buildServer({ db: store.db, logLevel: 'silent' }, 'public');
  pub.register(async (s) => void s.get('/tips', { config: { staff: ['desk'] }, schema: { response: errorResponses } }, ok), { prefix: '/api/v1/staff' });
  await t.rejects((async () => void (await pub.ready()))(), RouteOnWrongSurfaceError, 'a staff route on the public application: it does not start');
  await pub.close().catch(() => {});
  const staff = await buildServer({ db: store.db, logLevel: 'silent' }, 'staff');
  staff.register(async (s) => void s.get('/api/v1/pow2', { schema: { response: errorResponses } }, ok));
  await t.rejects((async () => void (await staff.ready()))(), RouteOnWrongSurfaceError, 'a public route on the staff application: it does not start');
  await staff.close().catch(() => {});
});

t.test('tipline serve: the staff API is not on the public listener, the public routes are not on the staff one', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-surface-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  await seedPglite(join(work, 'data', 'pg'));
  const newsroom = makeNewsroom();
  const directoryFile = join(work, 'directory.json');
  writeFileSync(directoryFile, JSON.stringify(newsroom.doc));
  const said: string[] = [];
  const running = await serve({ host: '127.0.0.1', port: 0, staffPort: 0, dataDir: join(work, 'data'), directoryFile, tuning: { logLevel: 'silent', powDifficulty: 4 }, retentionIntervalMs: 3_600_000, say: (l) => said.push(l) });
  t.teardown(() => running.close());
  t.not(running.url, running.staffUrl, 'two listeners');
  t.match(said.join('\n'), new RegExp(`staff API on ${running.staffUrl.replace(/[.:/]/g, '\\$&')}`), 'serve says where the staff API is');

  const notFound = await request(running.url, '/nowhere');
  const staffPaths: [string, string][] = [
    ['GET', '/api/v1/staff/tips'],
    ['GET', `/api/v1/staff/tips/${'a'.repeat(26)}`],
    ['DELETE', `/api/v1/staff/tips/${'a'.repeat(26)}`],
    ['GET', '/api/v1/staff/audit'],
    ['GET', '/api/v1/staff'],
  ];
  const publicHost = new URL(running.url).host;
  for (const [method, path] of staffPaths) {
    // Signed as a desk would for this very address: it is still not there.
    const r = await request(running.url, path, { method, headers: { host: publicHost, ...staffHeaders(newsroom.desk, method, path, { host: publicHost }) } });
    t.equal(r.status, 404, `public listener, ${method} ${path}: 404`);
    t.equal(r.body, notFound.body, `${method} ${path}: the same answer as any unknown path, no hint`);
    const headerNames = (h: http.IncomingHttpHeaders) => Object.keys(h).filter((k) => k !== 'date').sort();
    t.same(headerNames(r.headers), headerNames(notFound.headers), `${method} ${path}: the same headers too`);
  }
  const staffNotFound = await request(running.staffUrl, '/nowhere');
  t.equal(staffNotFound.status, 404);
  for (const [method, path] of [['GET', '/'], ['GET', '/api/v1/pow'], ['GET', '/api/v1/health'], ['GET', '/.well-known/tipline/directory'], ['POST', '/api/v1/uploads?size=1000'], ['GET', '/assets/app.js']] as const) {
    const r = await request(running.staffUrl, path, { method });
    t.equal(r.status, 404, `staff listener, ${method} ${path}: 404`);
    t.equal(r.body, staffNotFound.body, `${method} ${path}: the plain not-found answer`);
  }
  // Signed for the staff listener's own address (the development default), the staff API answers there.
  for (const host of [new URL(running.staffUrl).host, `localhost:${new URL(running.staffUrl).port}`]) {
    const path = '/api/v1/staff/tips';
    const r = await request(running.staffUrl, path, { headers: { host, ...staffHeaders(newsroom.desk, 'GET', path, { host }) } });
    t.equal(r.status, 200, `staff listener, signed for ${host}: 200`);
  }
  const forPublic = await request(running.staffUrl, '/api/v1/staff/tips', { headers: staffHeaders(newsroom.desk, 'GET', '/api/v1/staff/tips', { host: publicHost }) });
  t.equal(forPublic.status, 401, "signed for the sources' address: not this staff address");
});

t.test('tipline serve refuses listener settings it cannot honour, before opening anything', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-surface-bad-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const base = { dataDir: join(work, 'data'), say: () => {} };
  await t.rejects(serve({ ...base, host: '0.0.0.0', port: 0, staffPort: 0 }), /the staff address cannot be guessed: give --staff-host/);
  await t.rejects(serve({ ...base, host: '127.0.0.1', port: 8090, staffPort: 8090 }), /two ports/);
  await t.rejects(serve({ ...base, host: '127.0.0.1', port: 0, staffPort: 0, staffHost: 'http://x.onion/' }), /--staff-host: .*not a host name/);
  const cli = await runCli(['serve', '--port', '0', '--staff-host', '', '--data', join(work, 'data')], { env: { DATABASE_URL: '' } });
  t.equal(cli.code, 2);
  t.match(cli.stderr, /--staff-host is empty/);
  const same = await runCli(['serve', '--port', '8090', '--staff-port', '8090', '--data', join(work, 'data')], { env: { DATABASE_URL: '' } });
  t.equal(same.code, 2);
  t.match(same.stderr, /--staff-port must differ from --port/);
});

t.test('the CLI: fetch from the staff address works; pointed at the sources address it says what to change', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-surface-cli-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  t.equal((await quickKeysInit(keys)).code, 0);
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const server = await startServer({ db: store.db });
  t.teardown(() => server.close());
  const wrong = await runCli(['fetch', '--server', server.url, '--key', join(keys, 'desk.key'), '--out', join(work, 'inbox')]);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /does not serve the staff API: --server must be the tip line's staff address/);
  const right = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', join(work, 'inbox')]);
  t.equal(right.code, 0, right.stderr);
  t.match(right.stdout, /0 fetched/);
});
