// Issue 7: 429/503 with Retry-After before anything breaks, and proof-of-work that costs more under load. The
// gauge watches the event loop's delay, the process's memory and the data folder's free space; new uploads are
// refused first (soft), chunks of uploads under way only under hard pressure. Thresholds and the clock come
// from the configuration, so nothing here depends on how fast this machine is.
import t from 'tap';
import { processGauge, type Readings } from '../server/load.js';
import { LOAD_DEFAULTS } from '../server/config.js';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { startServer } from './helpers/server.js';
import { bin, makeEnvelope, openUpload, signFor, solvedPow, postUpload } from './helpers/fixtures.js';

function fakeProbe(r: Readings) {
  return { read: () => ({ ...r }), close: () => {} };
}

t.test('extra proof-of-work bits rise under a burst of openings and fall back after', async (t) => {
  let clock = Date.parse('2026-07-01T12:00:00Z');
  const g = processGauge({ thresholds: { ...LOAD_DEFAULTS, opensPerSecondFree: 1, windowSeconds: 10, maxExtraBits: 6 }, now: () => new Date(clock), probe: fakeProbe({ loopDelayMs: 0, rssBytes: 0, diskFreeBytes: undefined }) });
  t.teardown(() => g.close());
  t.equal(g.powExtraBits(), 0, 'idle: no extra bits');
  for (let i = 0; i < 10; i++) g.noteOpen(); // 1 per second over the window: still free
  t.equal(g.powExtraBits(), 0, 'the free rate costs nothing extra');
  for (let i = 0; i < 30; i++) g.noteOpen(); // 4 per second
  t.equal(g.powExtraBits(), 3, 'four times the free rate: three extra bits');
  for (let i = 0; i < 600; i++) g.noteOpen();
  t.equal(g.powExtraBits(), 6, 'a flood: capped at maxExtraBits');
  clock += 5_000;
  t.equal(g.powExtraBits(), 6, 'still within the window');
  clock += 6_000;
  t.equal(g.powExtraBits(), 0, 'the window slid past the burst: back to 0');
});

t.test('pressure from the event loop, memory and disk: soft refuses opens, hard refuses chunks', async (t) => {
  const r: Readings = { loopDelayMs: 0, rssBytes: 100, diskFreeBytes: 10_000 };
  const th = { ...LOAD_DEFAULTS, loopDelaySoftMs: 100, loopDelayHardMs: 500, loopDelaySamples: 3, rssSoftBytes: 1000, rssHardBytes: 2000, diskSoftFreeBytes: 500, diskHardFreeBytes: 100, opensPerSecondFree: 1000 };
  const g = processGauge({ thresholds: th, now: () => new Date(), probe: { read: () => ({ ...r }), close: () => {} } });
  t.teardown(() => g.close());
  t.equal(g.pressure(), 'ok');
  t.equal(g.retryAfterSeconds(), 5);
  r.loopDelayMs = 200;
  g.sample();
  t.equal(g.pressure(), 'ok', 'one slow sample is not load');
  g.sample();
  g.sample();
  t.equal(g.pressure(), 'soft', 'a slow loop for three samples is');
  t.equal(g.powExtraBits(), 2, 'and makes proofs-of-work dearer');
  r.loopDelayMs = 800;
  g.sample();
  g.sample();
  g.sample();
  t.equal(g.pressure(), 'hard');
  t.ok(g.retryAfterSeconds() > 5, 'refused clients wait longer under hard pressure');
  r.loopDelayMs = 0;
  g.sample();
  t.equal(g.pressure(), 'ok', 'and it falls back');
  t.equal(g.powExtraBits(), 0);
  r.rssBytes = 1500;
  g.sample();
  t.equal(g.pressure(), 'soft', 'memory');
  r.rssBytes = 2500;
  g.sample();
  t.equal(g.pressure(), 'hard');
  r.rssBytes = 100;
  r.diskFreeBytes = 400;
  g.sample();
  t.equal(g.pressure(), 'soft', 'disk');
  r.diskFreeBytes = 50;
  g.sample();
  t.equal(g.pressure(), 'hard');
});

t.test('free disk space of a real folder is read', async (t) => {
  const g = processGauge({ thresholds: { ...LOAD_DEFAULTS, diskSoftFreeBytes: Number.MAX_SAFE_INTEGER, diskHardFreeBytes: 0 }, now: () => new Date(), dataDir: process.cwd() });
  t.teardown(() => g.close());
  t.equal(g.pressure(), 'soft', 'a folder with less free space than the (absurd) soft threshold is soft pressure');
});

const [pglite] = await dialects();
t.test('over HTTP: 503 + Retry-After for new uploads first, then for chunks', async (t) => {
  const chunk = 128 * 1024;
  const { store, newsroom, server } = await newsroomServer(t, pglite!, { uploadChunkSize: chunk });
  // Two more instances on the same database, one under soft and one under hard memory pressure.
  const soft = await startServer({ db: store.db, uploadChunkSize: chunk, load: { rssSoftBytes: 1 } });
  const hard = await startServer({ db: store.db, uploadChunkSize: chunk, load: { rssSoftBytes: 1, rssHardBytes: 1 } });
  signFor(server.url);
  t.teardown(async () => {
    await soft.close();
    await hard.close();
  });
  const envelope = await makeEnvelope(newsroom, 'under load', [{ name: 'a.bin', bytes: new Uint8Array(300_000) }]);
  const refusedOpen = await postUpload(soft.url, { pow: await solvedPow(soft.url), size: envelope.length, body: envelope.subarray(0, chunk) });
  t.equal(refusedOpen.status, 503, 'soft pressure: a new upload is refused');
  t.match(refusedOpen.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'with Retry-After');
  t.equal(refusedOpen.headers.get('connection'), 'close', 'and the connection closed, its body unread');
  const u = await openUpload(server.url, envelope);
  const put = (url: string, n: number) => fetch(`${url}/api/v1/uploads/${u.id}/chunks/${n}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(n * chunk, (n + 1) * chunk)) });
  t.equal((await put(soft.url, 1)).status, 200, 'soft pressure: a chunk of an upload under way is still taken');
  const refusedChunk = await put(hard.url, 2);
  t.equal(refusedChunk.status, 503, 'hard pressure: chunks are refused too');
  t.match(refusedChunk.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'with Retry-After');
  t.equal((await put(server.url, 2)).status, 200, 'and the source sends it again once the server is well');
});
