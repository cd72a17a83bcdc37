// Review attack (flood controls, body slots): the rate floor is set per window (16 KiB per 15 s by default), far
// below what a chunk needs to arrive within the request timeout (1 MiB in 180 s). A trickler that sends just over
// the floor is never cut off: it holds its slot until the 180 s request timeout, then reconnects. With the
// defaults, 64 slots / 8 per upload = 8 upload ids (8 PoWs; a redeemed opening may be resent) and 64 × 16 KiB /
// 15 s ≈ 70 KB/s deny every source's chunks and openings indefinitely. Scaled here: 16 slots, 8 per upload,
// 4 KiB per 1 s window; 16 sockets at 8 KB/s each; an honest source is then refused (503) for as long as they go on.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope, openUpload, uploadEnvelope } from './helpers/fixtures.js';

const CHUNK = 128 * 1024;
const PER_SECOND = 8000; // twice the 4096 B/s floor (margin for a loaded machine); still 16 s per 128 KiB chunk

function trickle(url: string, id: string, n: number): Socket {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write(`PUT /api/v1/uploads/${id}/chunks/${n} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${CHUNK}\r\n\r\n`);
    const timer = setInterval(() => socket.writable && socket.write(Buffer.alloc(PER_SECOND / 8, 7)), 125);
    socket.on('close', () => clearInterval(timer));
  });
  return socket;
}

const [dialect] = await dialects();
t.test('tricklers just over the floor hold every body slot', { skip: dialect!.skip }, async (t) => {
  const { newsroom, server } = await newsroomServer(t, dialect!, {
    load: { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 },
    uploadChunkSize: CHUNK, maxConcurrentChunks: 16, maxConcurrentChunksPerUpload: 8, minBodyBytesPerWindow: 4096, bodyRateWindowSeconds: 1,
  });
  const big = await makeEnvelope(newsroom, 'the flooder', [{ name: 'a.bin', bytes: new Uint8Array(300_000) }]);
  const ids = [(await openUpload(server.url, big)).id, (await openUpload(server.url, big)).id];
  const sockets = ids.flatMap((id) => Array.from({ length: 8 }, () => trickle(server.url, id, 1)));
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  // Four windows: a body under the floor would have been cut off by now.
  await new Promise((r) => setTimeout(r, 4000));
  t.equal(sockets.filter((s) => !s.destroyed).length, 16, 'all 16 tricklers still connected after four windows');
  let honest = 'stored';
  try {
    await uploadEnvelope(server.url, await makeEnvelope(newsroom, 'an honest source during the trickle'));
  } catch (err) {
    honest = (err as Error).message.slice(0, 120);
  }
  t.equal(honest, 'stored', 'an honest source can still send its tip while 16 sockets trickle at 8 KB/s');
});
