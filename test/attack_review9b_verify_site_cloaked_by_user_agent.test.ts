// Attack (review of issue 9): a compelled operator's reverse proxy serves the signed files to verify-site and a
// changed script to browsers, telling them apart by the request alone. verify-site sent no User-Agent and no
// Accept at all (undici's bare request), so "no User-Agent" was enough to cloak: verify-site PASSed while every
// browser got the changed script. verify-site now asks as Tor Browser asks (its User-Agent, Accept and
// Accept-Language), so this cloak is caught. A proxy that tells them apart by finer means (header order, TLS)
// is not: only a check in the browser itself closes that (SECURITY.md).
import t from 'tap';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { cliNewsroomServer } from './helpers/setup.js';
import { runCli } from './helpers/cli.js';
import { publishDocumentsBeside } from '../server/documents.js';
import { normalizeFingerprint } from '../crypto/keys.js';

/** Forwards to `target`; a request whose User-Agent is a browser's gets /assets/app.js with one byte changed. */
async function cloakingProxy(target: string): Promise<{ url: string; browserHits: () => number; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  let hits = 0;
  const server = createServer((req, res) => {
    const headers = { ...req.headers, 'accept-encoding': 'identity' };
    delete headers.host;
    const browser = /^Mozilla\//.test(req.headers['user-agent'] ?? '');
    const up = request({ host: hostname, port: Number(port), path: req.url, method: req.method, headers }, (ans) => {
      const parts: Buffer[] = [];
      ans.on('data', (d: Buffer) => parts.push(d));
      ans.on('end', () => {
        const body = Buffer.concat(parts);
        if (browser && req.url === '/assets/app.js' && body.length > 1000) {
          hits++;
          body[1000] = body[1000]! ^ 1;
        }
        const h = { ...ans.headers };
        delete h['transfer-encoding'];
        delete h['content-encoding'];
        delete h.connection;
        h['content-length'] = String(body.length);
        res.writeHead(ans.statusCode ?? 502, h);
        res.end(body);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    browserHits: () => hits,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

t.test('verify-site is served what a browser is served', { timeout: 300_000 }, async (t) => {
  const { keys, fingerprint, store, server } = await cliNewsroomServer(t);
  t.equal((await runCli(['keys', 'sign-manifest', '--dir', keys])).code, 0);
  await publishDocumentsBeside(store.db, join(keys, 'directory.json'), new Date(), normalizeFingerprint(fingerprint), () => {});
  const plain = await runCli(['verify-site', server.url, '--fingerprint', fingerprint]);
  t.equal(plain.code, 0, `passes against the real server:\n${plain.stdout}${plain.stderr}`);

  const proxy = await cloakingProxy(server.url);
  t.teardown(() => proxy.close());
  const browser = await fetch(`${proxy.url}/assets/app.js`, { headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0' } });
  await browser.arrayBuffer();
  t.equal(proxy.browserHits(), 1, 'a browser gets the changed script');
  const r = await runCli(['verify-site', proxy.url, '--fingerprint', fingerprint]);
  t.equal(r.code, 1, `verify-site fails:\n${r.stdout}`);
  t.match(r.stdout, /^FAIL \/assets\/app\.js: /m, 'naming the changed script');
});
