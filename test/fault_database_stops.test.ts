// PostgreSQL stops in the middle of uploads (a restart, a failover): every request answers 503 JSON with
// Retry-After in bounded time, never a 500 or a hang, and nothing half-done becomes visible; the server process
// survives its pool's connections dying; when the database is back the same process serves again by itself, and
// the source's client, retrying as it does, completes the tip, which a desk fetches and decrypts.
// The cluster is a throwaway one this test starts (test/helpers/pg-cluster.ts), never the shared server.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterSkip, startCluster, type PgCluster } from './helpers/pg-cluster.js';
import { startChildServer, killHard, type ChildServer } from './helpers/child-server.js';
import { sendAsSource, type Exchange } from './helpers/fault-client.js';
import { bin, makeEnvelope, makeNewsroom, openUpload, powHeaders, signFor, solvedPow, staffHeaders } from './helpers/fixtures.js';
import { listTips, readTip } from './helpers/tips.js';

const skip = clusterSkip();
const MB = 1024 * 1024;

/** Checks one answer given while the database is down: the contract a retrying client relies on. */
function checkUnavailable(t: Test, what: string, x: { status: number; headers: Headers; body: string; ms: number }) {
  t.equal(x.status, 503, `${what}: 503 while the database is down`);
  t.match(x.headers.get('content-type') ?? '', /^application\/json/, `${what}: a JSON answer`);
  t.match(x.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, `${what}: Retry-After says when to come back`);
  let code = '';
  try {
    code = (JSON.parse(x.body) as { error: { code: string } }).error.code;
  } catch {}
  t.equal(code, 'TIPLINE_ERR_BUSY', `${what}: the error code a client retries on`);
  t.ok(x.ms < 12_000, `${what}: answered in ${Math.round(x.ms)} ms (bounded, not a hang)`);
}

async function timed(url: string, init: RequestInit = {}) {
  const started = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, headers: res.headers, body: await res.text(), ms: performance.now() - started };
}

t.test('PostgreSQL stops mid-upload: 503 with Retry-After, nothing half-visible, the same process resumes by itself', { skip, timeout: 180_000 }, async (t) => {
  const began = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'tipline-fault-db-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const newsroom = makeNewsroom();
  const directory = join(work, 'directory.json');
  writeFileSync(directory, JSON.stringify(newsroom.doc));

  const cluster: PgCluster = await startCluster();
  t.teardown(() => cluster.destroy());
  t.comment(`throwaway cluster up in ${Date.now() - began} ms on port ${cluster.port}`);
  const server: ChildServer = await startChildServer(['--port', '0', '--data', join(work, 'data'), '--directory', directory], { DATABASE_URL: cluster.url, TIPLINE_POW_DIFFICULTY: '4', TIPLINE_ROOT_FINGERPRINT: newsroom.fingerprint });
  t.teardown(() => killHard(server));
  signFor(server.staffUrl);
  const { url, staffUrl } = server;

  // An upload of three chunks, opened with its first.
  const firstFile = new Uint8Array(randomBytes(2.5 * MB));
  const first = await makeEnvelope(newsroom, 'opened before the outage', [{ name: 'a.bin', bytes: firstFile }]);
  const u = await openUpload(url, first);
  t.equal(u.chunk_count, 3, 'an upload of three chunks is open');
  const chunk = (n: number) => bin(first.subarray(n * u.chunk_size, (n + 1) * u.chunk_size));

  const other = await makeEnvelope(newsroom, 'opened during the outage');
  const pow = await solvedPow(url);
  const stopping = Date.now();
  await cluster.stop('fast');
  t.comment(`cluster stopped in ${Date.now() - stopping} ms`);

  checkUnavailable(t, 'a chunk', await timed(`${url}/api/v1/uploads/${u.id}/chunks/1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: chunk(1) }));
  checkUnavailable(t, 'finishing', await timed(`${url}/api/v1/uploads/${u.id}/finish`, { method: 'POST' }));
  checkUnavailable(t, 'the last chunk with finish=1', await timed(`${url}/api/v1/uploads/${u.id}/chunks/2?finish=1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: chunk(2) }));
  checkUnavailable(t, "the upload's status", await timed(`${url}/api/v1/uploads/${u.id}`));
  checkUnavailable(t, 'opening an upload', await timed(`${url}/api/v1/uploads?size=${other.length}&finish=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...powHeaders(pow) },
    body: bin(other),
  }));
  checkUnavailable(t, 'a desk listing tips', await timed(`${staffUrl}/api/v1/staff/tips`, { headers: staffHeaders(newsroom.desk, 'GET', '/api/v1/staff/tips') }));
  t.ok(server.alive(), 'the server process survived its connections being cut');

  // Back: the same process serves again, with no restart.
  const restarting = Date.now();
  await cluster.start();
  let status = await timed(`${url}/api/v1/uploads/${u.id}`);
  while (status.status !== 200 && Date.now() - restarting < 30_000) {
    await new Promise((r) => setTimeout(r, 200));
    status = await timed(`${url}/api/v1/uploads/${u.id}`);
  }
  t.equal(status.status, 200, `the upload answers again ${Date.now() - restarting} ms after the database was started`);
  t.same((JSON.parse(status.body) as { received: number[] }).received, [0], 'only what was acknowledged is stored: no chunk from the outage');
  t.same(await listTips(staffUrl, newsroom.desk), [], 'the upload whose finish failed is not a tip: no tip is listed');

  // The first source goes on where it stopped: the missing chunks, then finish.
  t.equal((await fetch(`${url}/api/v1/uploads/${u.id}/chunks/1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: chunk(1) })).status, 200, 'chunk 1 again');
  const fin = await fetch(`${url}/api/v1/uploads/${u.id}/chunks/2?finish=1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: chunk(2) });
  t.equal(fin.status, 201, 'the last chunk finishes the tip');
  const finReceipt = (await fin.json()) as { tip_id: string; size: number };
  t.equal(finReceipt.size, first.length, 'its receipt gives the size sent');
  t.same(await listTips(staffUrl, newsroom.desk), [finReceipt.tip_id], "it is the one tip listed, under its receipt's id");
  const opened = await readTip(staffUrl, newsroom.desk, finReceipt.tip_id);
  t.equal(opened.message, 'opened before the outage');
  t.ok(Buffer.from(firstFile).equals(opened.files[0]!.bytes), 'its file decrypts to the bytes sent');

  // The source's client (the shared transfer code) meets an outage between two chunks and rides it out.
  const file = new Uint8Array(randomBytes(2.5 * MB));
  const envelope = await makeEnvelope(newsroom, 'sent through an outage', [{ name: 'b.bin', bytes: file }]);
  const exchanges: Exchange[] = [];
  let stopped = false;
  let refused = 0;
  const receipt = await sendAsSource(url, envelope, {
    exchanges,
    hooks: {
      async before(req) {
        if (!stopped && req.method === 'PUT') {
          stopped = true;
          await cluster.stop('fast');
        }
      },
      async after(x) {
        if (x.status === 503 && ++refused === 2) await cluster.start();
      },
    },
  });
  t.ok(stopped && refused >= 2, `the client met the outage (${refused} refusals) and retried`);
  for (const x of exchanges.filter((x) => x.status === 503)) checkUnavailable(t, `${x.req.method} ${x.req.path.replace(/\?.*/, '')}`, x);
  t.same(exchanges.filter((x) => x.status >= 500 && x.status !== 503).map((x) => x.status), [], 'no other 5xx');
  t.equal(receipt.size, envelope.length, 'the source got its receipt');
  const tips = await listTips(staffUrl, newsroom.desk);
  t.same([...tips].sort(), [finReceipt.tip_id, receipt.tip_id].sort(), 'the tip is listed once, beside the first and nothing else');
  const got = await readTip(staffUrl, newsroom.desk, receipt.tip_id);
  t.equal(got.message, 'sent through an outage');
  t.ok(Buffer.from(file).equals(got.files[0]!.bytes), 'the file sent through the outage decrypts whole');

  // A connection a request holds between two queries (inside a transaction) when the database goes: the pool
  // does not listen to it, so without its own listener its 'error' event would end the process.
  const script = `
    const { openDatabase } = await import(${JSON.stringify(new URL('../server/db.js', import.meta.url).href)});
    const { sql } = await import(${JSON.stringify(import.meta.resolve('kysely'))});
    const opened = await openDatabase({ url: process.env.URL });
    const outcome = await opened.db.transaction().execute(async (trx) => {
      await sql\`select 1\`.execute(trx);
      console.log('holding');
      await new Promise((r) => setTimeout(r, 3000));
      return sql\`select 1\`.execute(trx).then(() => 'query worked', (e) => 'query failed: ' + e.message);
    }).catch((e) => 'transaction failed: ' + e.message);
    console.log('survived: ' + outcome);
    await opened.close().catch(() => {});
  `;
  const { spawn } = await import('node:child_process');
  const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, URL: cluster.url }, stdio: ['ignore', 'pipe', 'pipe'], cwd: work });
  let said = '';
  holder.stdout.on('data', (d) => (said += d));
  holder.stderr.on('data', (d) => (said += d));
  const holderExit = new Promise<number | null>((r) => holder.once('exit', (code) => r(code)));
  while (!said.includes('holding') && holder.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  await cluster.stop('fast');
  const code = await Promise.race([holderExit, new Promise<string>((r) => setTimeout(() => r('hung'), 30_000))]);
  if (code === 'hung') holder.kill('SIGKILL');
  t.equal(code, 0, `the process holding the connection survives the database going away (${said.trim().replace(/\s+/g, ' ')})`);
  t.match(said, /survived: (query|transaction) failed/, 'and its next query fails (a 503 for a request), no crash');
  await cluster.start();

  t.ok(server.alive(), 'one server process throughout');
  t.notMatch(server.output(), /"status":500|internal error/, 'no 500 and no internal error logged');
  t.comment(`test took ${Date.now() - began} ms`);
});
