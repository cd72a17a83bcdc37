// Attack (issue 7, item 2): one upload id and 64 connections that send a chunk's headers and trickle its body
// held every body slot for 180 s, so no other source could send a chunk. Now one upload holds at most its
// share of the slots (the rest are refused at once with 429 + Retry-After, before a byte of body is read), and a
// body that sends less than the minimum in a window is cut off and its slot freed.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { bin, makeEnvelope, openUpload, signFor, uploadEnvelope } from './helpers/fixtures.js';
import { startServer } from './helpers/server.js';

const CHUNK = 128 * 1024;
const WINDOW_S = 1;
const MIN_BYTES = 4096;

interface Trickler {
  socket: Socket;
  answer: Promise<string>;
  closedAt: Promise<number>;
}

/** Sends a chunk's headers, then 10 bytes of its body every 200 ms (50 B/s, far under the minimum rate). */
function trickle(url: string, id: string, n: number, stops: (() => void)[]): Trickler {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  let got = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (d) => {
      got += d.toString('latin1');
      resolve(got.split('\r\n')[0] ?? '');
    });
    socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
  });
  const closedAt = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write(`PUT /api/v1/uploads/${id}/chunks/${n} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${CHUNK}\r\n\r\n`);
    const timer = setInterval(() => {
      if (socket.writable) socket.write(Buffer.alloc(10, 7));
    }, 200);
    stops.push(() => clearInterval(timer));
    socket.on('close', () => clearInterval(timer));
  });
  return { socket, answer, closedAt };
}

const settle = async (what: () => boolean, ms: number) => {
  for (const until = Date.now() + ms; !what() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
};

for (const dialect of await dialects()) {
  t.test(`trickled chunk bodies on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const limits = { load: { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 }, uploadChunkSize: CHUNK, maxConcurrentChunks: 64, maxConcurrentChunksPerUpload: 8, minBodyBytesPerWindow: MIN_BYTES };
    // Two instances on one database: one whose rate window is long (to count who holds a slot), one whose
    // window is the short one under test.
    const { store, newsroom, server } = await newsroomServer(t, dialect, { ...limits, bodyRateWindowSeconds: 60 });
    const quick = await startServer({ db: store.db, ...limits, bodyRateWindowSeconds: WINDOW_S });
    signFor(server.url);
    t.teardown(() => quick.close());
    const envelope = await makeEnvelope(newsroom, 'the flooder opened one upload', [{ name: 'a.bin', bytes: new Uint8Array(300_000) }]);
    const target = await openUpload(server.url, envelope);
    t.ok(target.chunk_count >= 2);
    const stops: (() => void)[] = [];
    t.teardown(() => stops.forEach((s) => s()));

    await t.test('64 trickling bodies of one upload hold at most its share of the slots', async (t) => {
      const tricklers = Array.from({ length: 64 }, () => trickle(server.url, target.id, 1, stops));
      t.teardown(() => tricklers.forEach((x) => x.socket.destroy()));
      const answered: string[] = [];
      const refusedOnes: Trickler[] = [];
      tricklers.forEach((x) => void x.answer.then((a) => {
        answered.push(a);
        if (a.startsWith('HTTP/1.1 429')) refusedOnes.push(x);
      }));
      await settle(() => answered.length >= 56, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      const refused = answered.filter((a) => a.startsWith('HTTP/1.1 429')).length;
      t.equal(refused, 56, `56 of 64 refused with 429 before their body is read (${answered.length} answered)`);
      t.equal(answered.length, 56, 'the other 8 hold their slots, trickling');
      // Another source, on another upload, while the 8 trickle: its chunks get slots.
      const honest = await makeEnvelope(newsroom, 'an honest source during the trickle', [{ name: 'b.bin', bytes: new Uint8Array(400_000) }]);
      const receipt = await uploadEnvelope(server.url, honest);
      t.equal(receipt.size, honest.length, 'another upload is stored while the trickle goes on');
      const refusedClosed = await Promise.race([
        Promise.all(refusedOnes.map((x) => x.closedAt)).then(() => true),
        new Promise((r) => setTimeout(() => r(false), 5000)),
      ]);
      t.ok(refusedClosed, 'the refused connections are closed by the server, not left to trickle on');
    });

    await t.test('a body under the minimum rate is cut off within the window and its slot freed', async (t) => {
      const started = Date.now();
      const tricklers = Array.from({ length: 8 }, () => trickle(quick.url, target.id, 1, stops));
      t.teardown(() => tricklers.forEach((x) => x.socket.destroy()));
      const closed = await Promise.all(tricklers.map((x) => x.closedAt));
      const answers = await Promise.all(tricklers.map((x) => x.answer));
      t.same(answers, Array(8).fill(''), 'closed without an answer (their slots were taken, not refused)');
      const slowest = Math.max(...closed) - started;
      // Cut at the first check that sees too little progress, one window after its headers: generous for a
      // loaded machine, and far under the 180 s a trickler used to hold a slot.
      t.ok(slowest < 6000 * WINDOW_S, `every trickling connection is closed within a few windows (the last after ${slowest} ms)`);
      const put = await fetch(`${quick.url}/api/v1/uploads/${target.id}/chunks/1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(CHUNK, 2 * CHUNK)) });
      t.equal(put.status, 200, 'slots are free again: a chunk sent at a normal rate is stored');
    });
  });
}
