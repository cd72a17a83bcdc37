// An HTTP forwarder in front of a real server that changes its answers on the way, as an operator's reverse
// proxy (or whoever controls the server) could: another CSP header, an extra Link header, a redirect elsewhere.
// Tests of `tipline verify-site` use it for what a changed copy of dist/web cannot express (headers), without a
// test-only switch in the server itself.
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Returns the answer to send instead (Content-Length is set from the body). */
export type Rewrite = (path: string, answer: Upstream) => { status: number; headers: OutgoingHttpHeaders; body: Buffer };

export async function rewritingProxy(target: string, rewrite: Rewrite): Promise<{ url: string; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.host;
    const up = request({ host: hostname, port: Number(port), path: req.url, method: req.method, headers }, (ans) => {
      const parts: Buffer[] = [];
      ans.on('data', (d: Buffer) => parts.push(d));
      ans.on('end', () => {
        const out = rewrite(req.url ?? '/', { status: ans.statusCode ?? 502, headers: ans.headers, body: Buffer.concat(parts) });
        const h: OutgoingHttpHeaders = { ...out.headers };
        delete h['transfer-encoding'];
        delete h.connection;
        delete h['keep-alive'];
        h['content-length'] = String(out.body.length);
        res.writeHead(out.status, h);
        res.end(out.body);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
