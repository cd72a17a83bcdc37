// Outside review of issue 8: memory amplification on the unauthenticated fetch route. Each answer is 262,696
// bytes made for a ~225-byte request. A client that pipelines hundreds of fetches in one write and never reads
// makes the server build every answer and keep it queued on the socket (Node parses a whole read of pipelined
// requests before pausing the socket; the route's in-flight cap counted only the handler, not the answer waiting
// to be sent), until the connection times out (180 s). Measured before the fix: one connection, 300 requests
// (68 KB sent) held about 70 MB; four connections about 290 MB -- a few hundred connections exhaust the host.
// The assertion: four such connections make the server hold under 32 MB more, and a real fetch still works.
import t from 'tap';
import net from 'node:net';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { fetchReplies } from './helpers/replies.js';

const CONNECTIONS = 4;
const PIPELINED = 300;
const [pglite] = await dialects();

t.test('pipelined fetches from a client that never reads do not pile up answers in memory', async (t) => {
  const { server } = await newsroomServer(t, pglite!);
  const u = new URL(server.url);
  const tag = 'A'.repeat(22);
  const body = JSON.stringify({ tags: [tag, tag, tag, tag] });
  const one = `POST /api/v1/replies/fetch HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  // Warm up (code paths, the first answer's buffers) before the baseline.
  t.equal((await fetchReplies(server.url, [tag, tag, tag, tag])).status, 200, 'a fetch works before');
  global.gc?.();
  const before = process.memoryUsage().arrayBuffers;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const s = net.connect(Number(u.port), u.hostname);
    s.on('error', () => {});
    s.pause(); // never reads: the server's writes stall once the kernel's buffers are full
    s.write(one.repeat(PIPELINED));
    sockets.push(s);
  }
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  let peak = before;
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => setTimeout(r, 250));
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }
  const grew = (peak - before) / 1e6;
  t.comment(`${CONNECTIONS} connections x ${PIPELINED} pipelined fetches (${((CONNECTIONS * PIPELINED * one.length) / 1e3).toFixed(0)} KB sent): the server holds ${grew.toFixed(0)} MB more`);
  t.ok(grew < 32, `answers queued for clients that do not read stay bounded (${grew.toFixed(0)} MB)`);
  const ok = await fetchReplies(server.url, [tag, tag, tag, tag]);
  t.equal(ok.status, 200, 'a real source’s fetch is still answered meanwhile');
  await ok.arrayBuffer();
});
