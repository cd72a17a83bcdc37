// `tipline serve` stopped by SIGTERM (systemd's stop, a deploy) drains: chunk uploads and a finish caught in
// progress complete with their normal answers, new connections are refused, and the process exits 0 within a
// bound. A second SIGTERM, or a drain longer than TIPLINE_DRAIN_SECONDS, stops it at once (exit 1); what was
// acknowledged is still there when it starts again.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedPglite } from './helpers/databases.js';
import { startChildServer, killHard, type ChildServer } from './helpers/child-server.js';
import { accepts, heldRequest } from './helpers/fault-client.js';
import { makeEnvelope, makeNewsroom, openUpload, signFor } from './helpers/fixtures.js';
import { readTip } from './helpers/tips.js';

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'tipline-fault-drain-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const newsroom = makeNewsroom();
const directory = join(work, 'directory.json');
writeFileSync(directory, JSON.stringify(newsroom.doc));
await seedPglite(join(work, 'data', 'pg'));
const args = (port: string) => ['--port', port, '--data', join(work, 'data'), '--directory', directory];
const env = { DATABASE_URL: '', TIPLINE_POW_DIFFICULTY: '4' };
const octets = { 'content-type': 'application/octet-stream' };

/** Resolves with the exit code, or 'still running' after `ms`. */
const exitWithin = (s: ChildServer, ms: number) => Promise.race([s.exited, sleep(ms).then(() => 'still running')]);

let port = '0';
let finishedTip: { id: string; file: Uint8Array } | undefined;
/** The server a test leaves running for the next one (each start costs PGlite's start-up: seconds on a busy machine). */
let next: ChildServer | undefined;
const live = new Set<ChildServer>();
/** Starts a server on the data folder, after making sure none before it (a test that failed midway) holds it. */
async function start(t: Test, extra: Record<string, string> = {}): Promise<ChildServer> {
  await Promise.all([...live].map(killHard));
  live.clear();
  const began = Date.now();
  const s = await startChildServer(args(port), { ...env, ...extra });
  live.add(s);
  t.comment(`tipline serve started in ${Date.now() - began} ms`);
  port = new URL(s.url).port;
  return s;
}
t.teardown(() => Promise.all([...live].map(killHard)));

t.test('SIGTERM: requests in progress get their normal answers, new connections are refused, exit 0', { timeout: 240_000 }, async (t) => {
  const server = await start(t);
  t.teardown(() => killHard(server));
  const { url } = server;

  const fileA = new Uint8Array(randomBytes(2.5 * MB));
  const a = await makeEnvelope(newsroom, 'chunk in flight', [{ name: 'a.bin', bytes: fileA }]);
  const fileB = new Uint8Array(randomBytes(1.5 * MB));
  const b = await makeEnvelope(newsroom, 'finished while draining', [{ name: 'b.bin', bytes: fileB }]);
  const ua = await openUpload(url, a);
  const ub = await openUpload(url, b);
  t.equal(ub.chunk_count, 2, 'upload B needs one more chunk, which finishes it');
  // An idle keep-alive connection from an earlier exchange must not hold the exit back.
  t.equal((await fetch(`${url}/api/v1/pow`)).status, 200);

  const sz = ua.chunk_size;
  const chunkA = a.subarray(sz, 2 * sz);
  const lastB = b.subarray(sz);
  const heldA = heldRequest(`${url}/api/v1/uploads/${ua.id}/chunks/1`, 'PUT', octets, chunkA, chunkA.length >> 1);
  const heldB = heldRequest(`${url}/api/v1/uploads/${ub.id}/chunks/1?finish=1`, 'PUT', octets, lastB, lastB.length >> 1);
  await sleep(300); // both requests are routed and reading their bodies

  const signalled = Date.now();
  server.kill('SIGTERM');
  let refusedAfter = -1;
  while (Date.now() - signalled < 5000) {
    if (!(await accepts(url))) {
      refusedAfter = Date.now() - signalled;
      break;
    }
    await sleep(20);
  }
  t.ok(refusedAfter >= 0, `new connections are refused ${refusedAfter} ms after SIGTERM`);
  await sleep(500);
  t.ok(server.alive(), 'the process waits for the requests in progress');

  heldA.finish();
  heldB.finish();
  const [ra, rb] = await Promise.all([heldA.answer, heldB.answer]);
  t.equal(ra.status, 200, `the chunk in progress is stored (${ra.status} ${ra.error ?? ra.body})`);
  t.same(JSON.parse(ra.body || '{}'), { received: 1 });
  t.equal(rb.status, 201, `the finish in progress answers with its receipt (${rb.status} ${rb.error ?? rb.body})`);
  const receipt = JSON.parse(rb.body || '{}') as { tip_id: string; size: number };
  t.equal(receipt.size, b.length);

  const code = await exitWithin(server, 10_000);
  t.equal(code, 0, `the process exits 0, ${Date.now() - signalled} ms after SIGTERM`);
  t.match(server.output(), /stopping: letting requests in progress finish/);
  t.notMatch(server.output(), /"status":5\d\d/, 'no 5xx during the drain');

  // What the drain answered is there after a restart.
  const again = (next = await start(t));
  signFor(again.staffUrl);
  const tip = await readTip(again.staffUrl, newsroom.desk, receipt.tip_id);
  t.equal(tip.message, 'finished while draining');
  t.ok(Buffer.from(fileB).equals(tip.files[0]!.bytes), 'the tip finished during the drain decrypts whole');
  const status = (await (await fetch(`${again.url}/api/v1/uploads/${ua.id}`)).json()) as { received: number[] };
  t.same(status.received, [0, 1], 'the chunk stored during the drain is kept');
  finishedTip = { id: receipt.tip_id, file: fileB };
});

for (const how of ['a second SIGTERM', 'TIPLINE_DRAIN_SECONDS=2'] as const) {
  t.test(`${how} stops a drain that a stalled request holds up`, { timeout: 180_000 }, async (t) => {
    const server = next ?? (await start(t, how === 'a second SIGTERM' ? {} : { TIPLINE_DRAIN_SECONDS: '2' }));
    next = undefined;
    t.teardown(() => killHard(server));
    const { url } = server;
    const e = await makeEnvelope(newsroom, 'stalled', [{ name: 'c.bin', bytes: new Uint8Array(randomBytes(1.5 * MB)) }]);
    const u = await openUpload(url, e);
    const chunk = e.subarray(u.chunk_size);
    // A client that stops sending halfway (a dead circuit) and is never heard from again.
    const stalled = heldRequest(`${url}/api/v1/uploads/${u.id}/chunks/1`, 'PUT', octets, chunk, chunk.length >> 1);
    await sleep(300);
    const signalled = Date.now();
    server.kill('SIGTERM');
    t.equal(await exitWithin(server, 700), 'still running', 'the first SIGTERM waits for the stalled request');
    if (how === 'a second SIGTERM') server.kill('SIGTERM');
    const code = await exitWithin(server, 8000);
    const took = Date.now() - signalled;
    t.equal(code, 1, `the process stops (exit 1) ${took} ms after the first SIGTERM`);
    t.ok(how === 'a second SIGTERM' ? took < 5000 : took >= 1900 && took < 8000, `in the bound (${took} ms)`);
    t.match(server.output(), /stopping now: /, 'and says it stopped without finishing the drain');
    const r = await stalled.answer;
    t.equal(r.status, 0, `the stalled request was cut, not acknowledged (${r.error ?? r.status})`);

    // It starts again on the same data (the lock of the process that stopped is taken over), nothing lost.
    const again = (next = await start(t, how === 'a second SIGTERM' ? { TIPLINE_DRAIN_SECONDS: '2' } : {}));
    signFor(again.staffUrl);
    const st = (await (await fetch(`${again.url}/api/v1/uploads/${u.id}`)).json()) as { received: number[] };
    t.same(st.received, [0], 'the cut chunk was not stored; the upload waits for it');
    if (finishedTip) t.ok(Buffer.from(finishedTip.file).equals((await readTip(again.staffUrl, newsroom.desk, finishedTip.id)).files[0]!.bytes), 'the tip acknowledged before is intact');
  });
}

t.test('an idle server stops at once on SIGTERM, with 0', { timeout: 180_000 }, async (t) => {
  const server = next ?? (await start(t));
  next = undefined;
  t.teardown(() => killHard(server));
  const signalled = Date.now();
  server.kill('SIGTERM');
  t.equal(await exitWithin(server, 10_000), 0, `exit 0 in ${Date.now() - signalled} ms`);
});
