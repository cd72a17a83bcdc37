// Two `tipline serve` processes on one PostgreSQL (behind a load balancer, or one restarting while the other
// serves): a proof-of-work issued by one opens an upload on the other, chunks land on either, a finish sent to
// both at once stores the tip once, a spent solution is refused by both, and a desk reads the tip from either.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase, dialects } from './helpers/databases.js';
import { startChildServer, killHard } from './helpers/child-server.js';
import { fetchTransport, sendAsSource } from './helpers/fault-client.js';
import { bin, makeEnvelope, makeNewsroom, postUpload, signFor, solvedPow } from './helpers/fixtures.js';
import { listTips, readTip } from './helpers/tips.js';

const MB = 1024 * 1024;
const [, postgres] = await dialects();

t.test('two instances on one PostgreSQL serve one upload between them', { skip: postgres!.skip, timeout: 240_000 }, async (t) => {
  const began = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'tipline-fault-two-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const newsroom = makeNewsroom();
  const directory = join(work, 'directory.json');
  writeFileSync(directory, JSON.stringify(newsroom.doc));
  const db = await createPgDatabase();
  t.teardown(() => db.drop());
  const env = { DATABASE_URL: db.url, TIPLINE_POW_DIFFICULTY: '4', TIPLINE_ROOT_FINGERPRINT: newsroom.fingerprint };
  // The second starts while the first runs: both publish the same directory, both migrate (a no-op for one).
  const [a, b] = await Promise.all([
    startChildServer(['--port', '0', '--data', join(work, 'a'), '--directory', directory], env),
    startChildServer(['--port', '0', '--data', join(work, 'b'), '--directory', directory], env),
  ]);
  t.teardown(() => Promise.all([killHard(a), killHard(b)]));
  t.comment(`both started in ${Date.now() - began} ms`);

  const file = new Uint8Array(randomBytes(3.5 * MB));
  const envelope = await makeEnvelope(newsroom, 'begun on one, finished on the other', [{ name: 'x.bin', bytes: file }]);
  const pow = await solvedPow(a.url, {}, envelope.length);
  const opened = await postUpload(b.url, { pow, size: envelope.length, body: envelope.subarray(0, pow.chunk_size) });
  t.equal(opened.status, 201, `a challenge issued by A opens an upload on B (${opened.status === 201 ? '' : await opened.clone().text()})`);
  const u = (await opened.json()) as { id: string; chunk_size: number; chunk_count: number };
  t.equal(u.chunk_count, 4);
  const put = (url: string, n: number) =>
    fetch(`${url}/api/v1/uploads/${u.id}/chunks/${n}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(n * u.chunk_size, (n + 1) * u.chunk_size)) });
  t.equal((await put(a.url, 1)).status, 200, 'chunk 1 on A');
  t.equal((await put(b.url, 2)).status, 200, 'chunk 2 on B');
  t.equal((await put(a.url, 3)).status, 200, 'chunk 3 on A');
  const status = (await (await fetch(`${b.url}/api/v1/uploads/${u.id}`)).json()) as { received: number[] };
  t.same(status.received, [0, 1, 2, 3], 'B sees the chunks A stored');

  // Finishing on both at once: one tip, the same receipt for both.
  const [fa, fb] = await Promise.all([a, b].map((s) => fetch(`${s.url}/api/v1/uploads/${u.id}/finish`, { method: 'POST' })));
  t.equal(fa!.status, 201, 'finish on A');
  t.equal(fb!.status, 201, 'finish on B');
  const [ra, rb] = await Promise.all([fa!.json(), fb!.json()]);
  t.same(ra, rb, 'both answer with the same receipt');
  const firstTip = (ra as { tip_id: string; size: number }).tip_id;
  t.equal((ra as { size: number }).size, envelope.length, 'the receipt gives the size sent');

  // The spent solution is refused by both instances, for another envelope.
  const other = await makeEnvelope(newsroom, 'replayed solution');
  for (const s of [a, b]) {
    const r = await postUpload(s.url, { pow, size: other.length, body: other, finish: true });
    t.equal(r.status, 403, `the spent solution is refused by ${s === a ? 'A' : 'B'}`);
    t.equal(((await r.json()) as { error: { code: string } }).error.code, 'TIPLINE_ERR_POW_REUSED');
  }

  // The source's client with every request going to the other instance than the one before.
  const second = new Uint8Array(randomBytes(2.5 * MB));
  const alternating = await makeEnvelope(newsroom, 'every request on the other instance', [{ name: 'y.bin', bytes: second }]);
  const transports = [fetchTransport(a.url), fetchTransport(b.url)];
  let i = 0;
  const receipt = await sendAsSource(a.url, alternating, { transport: { send: (req, limit) => transports[i++ % 2]!.send(req, limit) } });
  t.ok(i >= 4, `${i} requests alternated between A and B`);

  for (const s of [a, b]) {
    signFor(s.staffUrl);
    const tips = await listTips(s.staffUrl, newsroom.desk);
    t.same([...tips].sort(), [firstTip, receipt.tip_id].sort(), `${s === a ? 'A' : 'B'} lists both tips, once each`);
    const one = await readTip(s.staffUrl, newsroom.desk, firstTip);
    t.ok(one.message === 'begun on one, finished on the other' && Buffer.from(file).equals(one.files[0]!.bytes), `the first tip decrypts whole from ${s === a ? 'A' : 'B'}`);
    const two = await readTip(s.staffUrl, newsroom.desk, receipt.tip_id);
    t.ok(Buffer.from(second).equals(two.files[0]!.bytes), `the second tip decrypts whole from ${s === a ? 'A' : 'B'}`);
  }
  t.ok(a.alive() && b.alive(), 'both instances still run');
  t.notMatch(a.output() + b.output(), /"status":5\d\d|internal error/, 'no 5xx on either');
  t.comment(`test took ${Date.now() - began} ms`);
});
