// Outside review of issue 8: floods on the unauthenticated reply routes with 1,000 live replies. Measures, for
// 10 s per route, what a flooder (a child process, 16 requests in flight on keep-alive connections) gets served,
// the server process's RSS, and whether a real source's visit (list + fetch of four, through the CLI's
// transport) still completes meanwhile. Numbers are printed as TAP comments; the assertions are the bounds a
// working server must keep: no 5xx, the visit completes in under 30 s, RSS grows by under 512 MB.
import t from 'tap';
import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeReply, postReply, sourceKeys } from './helpers/replies.js';
import { Connection } from '../client/cli/http.js';
import { SourceApi } from '../client/shared/api.js';
import { visitReplies } from '../client/shared/replies.js';
import { generateCodename } from '../crypto/codename.js';
import { toBase64Url } from '../crypto/bytes.js';

const SECONDS = Number(process.env.FLOOD_SECONDS ?? 10);

/** A child process flooding `url` with `kind` requests; prints {ok, statuses, bytes} as JSON at the end. */
function flood(url: string, kind: 'fetch' | 'list' | 'delete', tags: string[]): Promise<{ n: number; statuses: Record<string, number>; bytes: number }> {
  const script = `
    const url = ${JSON.stringify(url)}, kind = ${JSON.stringify(kind)}, tags = ${JSON.stringify(tags)};
    const end = Date.now() + ${SECONDS * 1000};
    const statuses = {}; let n = 0, bytes = 0;
    const pick = () => tags[Math.floor(Math.random() * tags.length)];
    async function one() {
      while (Date.now() < end) {
        let r;
        try {
          if (kind === 'list') r = await fetch(url + '/api/v1/replies');
          else if (kind === 'fetch') r = await fetch(url + '/api/v1/replies/fetch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: [pick(), pick(), pick(), pick()] }) });
          else r = await fetch(url + '/api/v1/replies/delete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tag: pick(), token: 'A'.repeat(43) }) });
          const b = await r.arrayBuffer();
          bytes += b.byteLength; n++;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        } catch (e) { statuses.err = (statuses.err ?? 0) + 1; }
      }
    }
    Promise.all(Array.from({ length: 16 }, one)).then(() => console.log(JSON.stringify({ n, statuses, bytes })));`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', () => { try { resolve(JSON.parse(out)); } catch (e) { reject(e); } });
  });
}

for (const dialect of await dialects()) {
  t.test(`reply route floods on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect);
    const real = await makeReply(newsroom.desk, await sourceKeys(newsroom.fingerprint), 'filler');
    // 999 rows carrying a real-length envelope, plus one real reply to the visiting source.
    await sql`insert into replies (tag, delete_hash, envelope, posted_day, expires_day)
      select decode(lpad(to_hex(i), 32, '0'), 'hex'), ${real.deleteHash}, ${real.envelope}, '2026-01-01', '2999-01-01'
      from generate_series(1, 999) as i`.execute(store.db);
    const codename = generateCodename();
    const { deriveCodenameKeys } = await import('../crypto/codename.js');
    const keys = await deriveCodenameKeys(codename, newsroom.fingerprint, 1000);
    const mine = await makeReply(newsroom.desk, keys, 'the real reply');
    t.equal((await postReply(server.staffUrl, newsroom.desk, mine.post)).status, 201);
    const tags = Array.from({ length: 999 }, (_, i) => toBase64Url(new Uint8Array(Buffer.from((i + 1).toString(16).padStart(32, '0'), 'hex'))));

    for (const kind of ['fetch', 'list', 'delete'] as const) {
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
      const flooding = flood(server.url, kind, tags);
      await new Promise((r) => setTimeout(r, 2000));
      const conn = new Connection(new URL(server.url), undefined);
      const t0 = performance.now();
      const outcome = await visitReplies(new SourceApi(conn), { typed: codename.text, fingerprint: newsroom.fingerprint, now: new Date(), iterations: 1000 });
      const visitMs = performance.now() - t0;
      await conn.close();
      const f = await flooding;
      clearInterval(sampler);
      const rps = f.n / SECONDS;
      t.comment(`${dialect.name} ${kind}: ${f.n} requests in ${SECONDS} s = ${rps.toFixed(0)}/s, statuses ${JSON.stringify(f.statuses)}, ${(f.bytes / SECONDS / 1e6).toFixed(1)} MB/s served, RSS ${(rss0 / 1e6).toFixed(0)} -> peak ${(peak / 1e6).toFixed(0)} MB, a real visit took ${visitMs.toFixed(0)} ms`);
      t.ok(outcome.codename === 'ok' && outcome.replies.length === 1 && outcome.replies[0]!.message === 'the real reply', `${kind}: the real visit completes during the flood`);
      t.ok(visitMs < 30_000, `${kind}: within 30 s`);
      // The fetch route sheds load beyond MAX_FETCHES_IN_FLIGHT with 503 + Retry-After (the source's client waits
      // and asks again); nothing else may fail.
      t.notOk(Object.keys(f.statuses).some((s) => (s.startsWith('5') && !(kind === 'fetch' && s === '503')) || s === 'err'), `${kind}: no 5xx but the fetch route's 503, no dropped connection`);
      t.ok(peak - rss0 < 512e6, `${kind}: RSS grows by less than 512 MB`);
    }
    t.equal(Number((await sql<{ n: string }>`select count(*) as n from replies`.execute(store.db)).rows[0]!.n), 1000, 'delete flood with wrong tokens removed nothing');
  });
}
