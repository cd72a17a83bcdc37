// Two small loopback stand-ins for what sits between a client and the tip line: a TCP forwarder that counts the
// connections a client opens, and an HTTP forwarder that answers some routes itself, as a hostile or broken
// server would.
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';

export interface Counting {
  url: string;
  connections(): number;
  close(): Promise<void>;
}

/** Forwards TCP connections to `target` (http://host:port) and counts them. */
export async function countingForwarder(target: string): Promise<Counting> {
  const { hostname, port } = new URL(target);
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    n++;
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (client.destroy(), upstream.destroy()));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => n,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface Tampering {
  url: string;
  /** "METHOD /path" of every request the proxy answered itself. */
  answered: string[];
  /** "METHOD /path" of every request it received. */
  seen: string[];
  close(): Promise<void>;
}

export interface Rule {
  method: string;
  path: RegExp;
  status: number;
  json: unknown;
}

/** Forwards HTTP requests to `target`, except those a rule matches: those it answers itself (body read and dropped). */
export async function tamperingProxy(target: string, rules: Rule[]): Promise<Tampering> {
  const up = new URL(target);
  const answered: string[] = [];
  const seen: string[] = [];
  const server = createHttpServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    const rule = rules.find((r) => r.method === req.method && r.path.test(req.url ?? ''));
    if (rule) {
      answered.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(rule.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(rule.json)));
      return;
    }
    const fwd = httpRequest({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    answered,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A server that answers every request with `body`, one byte every `gapMs` (each inside a client's idle timeout),
 * on a loopback port; closed with the test. */
export async function tricklingServer(t: { teardown(fn: () => void): void }, contentType: string, body: Uint8Array, gapMs: number): Promise<URL> {
  const sockets = new Set<Socket>();
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      res.write(body.subarray(i, ++i));
      if (i === body.length) {
        clearInterval(timer);
        res.end();
      }
    }, gapMs);
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
}
