// Attack: a hostile (or broken) server sends a tip's envelope one byte at a time, each just inside undici's idle
// timeout. A download has no whole-exchange deadline (an envelope may be gigabytes over Tor), so without a floor
// on its rate it would hold `tipline fetch`, and the desk's Tor circuit, for as long as the server liked.
import t, { type Test } from 'tap';
import { Connection } from '../client/cli/http.js';
import { tricklingServer } from './helpers/loopback-proxies.js';
import { NetworkError } from '../client/shared/errors.js';

const trickler = (t: Test, gapMs: number, total: number) => tricklingServer(t, 'application/octet-stream', new Uint8Array(total), gapMs);

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const p of body) n += p.length;
  return n;
}

t.test('a download trickled under the minimum rate fails instead of hanging', async (t) => {
  const c = new Connection(await trickler(t, 50, 1000), undefined);
  t.teardown(() => c.close());
  const started = Date.now();
  // Idle timeout 1 s (never tripped: a byte every 50 ms); the floor is 100 bytes a second, the server sends ~20.
  const res = await c.stream({ method: 'GET', path: '/api/v1/staff/tips/x' }, 1000, { minBytes: 100, windowMs: 1000 });
  const outcome = await drain(res.body).then((n) => `read ${n} bytes`, (err: unknown) => err);
  const took = Date.now() - started;
  t.ok(outcome instanceof NetworkError, `a network error (got ${String(outcome)})`);
  t.match(String((outcome as Error).message), /download too slow/);
  t.ok(took < 4000, `ended after about one window, not when the server is done (~50 s): ${took} ms`);
});

t.test('a download at the minimum rate or faster completes', async (t) => {
  const c = new Connection(await trickler(t, 2, 600), undefined);
  t.teardown(() => c.close());
  const res = await c.stream({ method: 'GET', path: '/api/v1/staff/tips/x' }, 1000, { minBytes: 100, windowMs: 1000 });
  t.equal(await drain(res.body), 600, 'every byte arrives');
});
