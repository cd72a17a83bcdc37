// HTTP from a chosen loopback source address, so a test can later search for that address in what was stored.
import http from 'node:http';

export function rawRequest(url: string, init: { method: string; headers?: Record<string, string>; body?: Uint8Array | string; localAddress?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    const req = http.request(
      { method: init.method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) }, localAddress: init.localAddress, agent: false },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
