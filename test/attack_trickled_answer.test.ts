// Attack: a hostile (or broken) server answers the command line one byte at a time, each just inside the idle
// timeout. undici's headersTimeout and bodyTimeout are idle timers, so the answer never timed out: a 64 KiB
// JSON answer at one byte per 119 s holds `tipline submit` (and its Tor circuit, for the server to watch) for
// about 90 days. The page already bounds a whole exchange (AbortSignal.timeout); the command line now does too.
import t from 'tap';
import { Connection } from '../client/cli/http.js';
import { tricklingServer } from './helpers/loopback-proxies.js';
import { NetworkError } from '../client/shared/errors.js';

const BODY = JSON.stringify({ token: 'x'.repeat(56), difficulty: 0, expires_in: 600, chunk_size: 1024 });
const GAP_MS = 100; // well inside the idle timeout below: every byte resets it

t.test('an answer trickled inside the idle timeout still ends at the deadline', async (t) => {
  const c = new Connection(await tricklingServer(t, 'application/json', Buffer.from(BODY), GAP_MS), undefined);
  t.teardown(() => c.close());
  const started = Date.now();
  // Idle timeout 1 s, whole exchange 2 s; the server would take BODY.length × 100 ms ≈ 9 s.
  const outcome = await c.send({ method: 'GET', path: '/api/v1/pow' }, 64 * 1024, 1000, 2000).then(
    () => 'answered',
    (err: unknown) => err,
  );
  const took = Date.now() - started;
  t.ok(outcome instanceof NetworkError, `the exchange fails as a network error (got ${String(outcome)})`);
  t.match(String((outcome as Error).message), /timed out/);
  t.ok(took < 4000, `and ends at its deadline, not when the server is done (${took} ms)`);
});
