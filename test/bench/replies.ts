// Replies (issue 8, "Measured"): with 10,000 live replies, (1) the size of the list every visiting source
// downloads (GET /api/v1/replies), raw and compressed; (2) the time to find one's own tags in it
// (crypto/reply-tags.ts findOwnTags) in Firefox ESR at Tor Browser's Safer level, in a Worker as the page runs
// it, beside Node, and the codename's key derivation (crypto/codename.ts, PBKDF2 1M) in both; (3) a source's
// visit (client/shared/replies.ts visitReplies) through `tipline serve` over the Tor-like link (tor-link.ts):
// round trips counted as tor.ts counts them, wall time against a plain GET of the same bytes over the same link.
//   node dist/test/bench/replies.js        (or as a section of `npm run bench`; BENCH_REPLIES=0 skips it there)
// Knobs: BENCH_REPLIES_N (live replies, default 10000), BENCH_REPLIES_RUNS (find runs, default 9),
// BENCH_REPLIES_DERIVE (derivation runs, default 5), BENCH_REPLIES_VISITS (visits over the link, default 3),
// BENCH_REPLIES_BROWSER=0 to skip Firefox.
import { createServer, get as httpGet, request as httpRequest, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, constants as zc, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { sql } from 'kysely';
import { SocksClient } from 'socks';
import { FIREFOX, SAFER_PREFS, launchFirefox } from '../helpers/browser.js';
import { makeNewsroom } from '../helpers/fixtures.js';
import { initCrypto } from '../../crypto/node.js';
import { generateCodename, deriveCodenameKeys, CODENAME_KDF_ITERATIONS, CODENAME_WORDLIST, type Codename, type CodenameKeys } from '../../crypto/codename.js';
import { findOwnTags, makeReplyTag, REPLY_TAG_BYTES } from '../../crypto/reply-tags.js';
import { REPLY_ENVELOPE_LENGTH, sealReply } from '../../crypto/reply.js';
import { REPLY_FETCH_SLOTS, REPLY_LIST_PATH } from '../../schema/wire.js';
import { openDatabase } from '../../server/db.js';
import { visitReplies } from '../../client/shared/replies.js';
import { Api } from '../../client/cli/api.js';
import { TorLink, type LinkStats } from './tor-link.js';
import type { RepliesAnswer, RepliesCommand } from './replies-worker.js';
import { CLI, f1, f2, log, now, ratio, spawnUntil, stopChild } from './util.js';

type Row = (section: string, what: string, result: string, compared?: string) => void;

const N = Number(process.env.BENCH_REPLIES_N ?? 10_000);
const FIND_RUNS = Number(process.env.BENCH_REPLIES_RUNS ?? 9);
const DERIVE_RUNS = Math.max(1, Number(process.env.BENCH_REPLIES_DERIVE ?? 5));
const VISITS = Number(process.env.BENCH_REPLIES_VISITS ?? 3);
const OWN = 2; // real replies for the visiting codename
const LINK = { oneWayMs: 250, bytesPerSec: 1e6 };
const SEC = 'Replies';
const KB = 1e3;
const root = fileURLToPath(new URL('../../../', import.meta.url)); // compiled to dist/test/bench/
const CSP = "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; base-uri 'none'";
const sorted = (x: number[]) => [...x].sort((a, b) => a - b);
const median = (x: number[]) => sorted(x)[Math.floor(x.length / 2)]!;
const worst = (x: number[]) => Math.max(...x);
const ms = (x: number) => `${f1(x)} ms`;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface RepliesBenchOptions {
  work: string;
}

/** Fills a fresh PGlite data folder: N rows of random tags with one dummy envelope, and OWN real replies. */
async function populate(pgDir: string, newsroom: ReturnType<typeof makeNewsroom>, boxPublic: Uint8Array, tagKey: Uint8Array): Promise<{ list: Uint8Array; ownTags: Uint8Array[] }> {
  const opened = await openDatabase({ dataDir: pgDir });
  try {
    const day = new Date().toISOString().slice(0, 10);
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    // One statement: the tags and delete hashes go in as two byte strings cut up by the database, the dummy
    // envelope once (the column is stored uncompressed: ~N × 66 kB on disk, as real replies would be).
    const tags = randomBytes(N * REPLY_TAG_BYTES);
    const hashes = randomBytes(N * 32);
    const dummy = new Uint8Array(REPLY_ENVELOPE_LENGTH).fill(0x5a);
    await sql`insert into replies (tag, delete_hash, envelope, posted_day, expires_day)
      select substring(p.t from i * 16 + 1 for 16), substring(p.h from i * 32 + 1 for 32), p.e, ${day}::date, ${expires}::date
      from (select ${tags}::bytea as t, ${hashes}::bytea as h, ${dummy}::bytea as e) as p, generate_series(0, ${N - 1}) as i`.execute(opened.db);
    const ownTags: Uint8Array[] = [];
    for (let i = 0; i < OWN; i++) {
      const r = await sealReply({ toBoxKey: boxPublic, message: `Reply ${i + 1} from the desk: thank you, can you tell us more about the shipment?`, desk: newsroom.desk, now: new Date() });
      const tag = await makeReplyTag(tagKey);
      ownTags.push(tag);
      await opened.db.insertInto('replies').values({ tag, delete_hash: r.deleteHash, envelope: r.envelope, posted_day: day, expires_day: expires }).execute();
    }
    // The list as the route serves it: every live tag, sorted bytewise (bytea orders as memcmp).
    const rows = await opened.db.selectFrom('replies').select('tag').orderBy('tag').execute();
    const list = Buffer.concat(rows.map((r) => Buffer.from(r.tag)));
    return { list: new Uint8Array(list), ownTags };
  } finally {
    await opened.close();
  }
}

function positionsOf(list: Uint8Array, tags: Uint8Array[]): number[] {
  const b = Buffer.from(list.buffer, list.byteOffset, list.byteLength);
  return tags.map((t) => b.indexOf(Buffer.from(t)) / REPLY_TAG_BYTES).sort((a, c) => a - c);
}

/** GET on loopback with the headers a browser sends: status, body, content-encoding. */
function getDirect(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; encoding: string | undefined }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), encoding: res.headers['content-encoding'] }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function bundleWorker(): Promise<string> {
  const require = createRequire(join(root, 'package.json'));
  const out = await build({
    entryPoints: [join(root, 'test', 'bench', 'replies-worker.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['firefox115'],
    minify: true,
    logLevel: 'warning',
    // As client/web/build.ts: the CommonJS libsodium build, with the asm.js fallback that "Safer" needs.
    alias: { 'libsodium-wrappers': require.resolve('libsodium-wrappers') },
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return out.outputFiles[0]!.text;
}

/** Firefox at Safer with the worker under a CSP like the page's; the list served from the same origin. */
async function firefoxSafer(list: Uint8Array): Promise<{ version: string; ask(c: RepliesCommand): Promise<RepliesAnswer & { pageMs: number }>; close(): Promise<void> }> {
  const worker = await bundleWorker();
  const server = createServer((req, res) => {
    const h = { 'content-security-policy': CSP, 'cache-control': 'no-store' };
    if (req.url === '/') res.writeHead(200, { ...h, 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>replies bench</title><p>replies bench</p>');
    else if (req.url === '/w.js') res.writeHead(200, { ...h, 'content-type': 'text/javascript' }).end(worker);
    else if (req.url === '/list.bin') res.writeHead(200, { ...h, 'content-type': 'application/octet-stream' }).end(Buffer.from(list));
    else res.writeHead(404, h).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const browser = await launchFirefox(SAFER_PREFS, undefined, { unmonitored: true });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const ask = (c: RepliesCommand) =>
      page.evaluate(
        (cmd: RepliesCommand) =>
          new Promise<RepliesAnswer & { pageMs: number }>((resolve) => {
            const t = performance.now();
            const g = window as unknown as { __w?: Worker };
            const w = (g.__w ??= new Worker('/w.js'));
            w.onmessage = (e: MessageEvent<RepliesAnswer>) => resolve({ ...e.data, pageMs: performance.now() - t });
            w.onerror = (e) => resolve({ error: e.message, pageMs: performance.now() - t });
            w.postMessage(cmd);
          }),
        c,
      );
    return {
      version: await browser.version(),
      ask,
      async close() {
        await browser.close();
        server.close();
      },
    };
  } catch (err) {
    await browser.close();
    server.close();
    throw err;
  }
}

/** The plain side of the comparison: GET /bytes/N answers N bytes. */
async function plainServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    const n = Number(m[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) }).end(Buffer.alloc(n, 0x5a));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** One plain GET of `bytes` through the SOCKS front on a new connection (as a visit opens one); ms. */
async function plainGet(socksPort: number, port: number, bytes: number): Promise<number> {
  const t = now();
  const { socket } = await SocksClient.createConnection({ proxy: { host: '127.0.0.1', port: socksPort, type: 5 }, command: 'connect', destination: { host: '127.0.0.1', port } });
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest({ createConnection: () => socket, method: 'GET', host: '127.0.0.1', port, path: `/bytes/${bytes}` }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => (n === bytes ? resolve() : reject(new Error(`plain GET: ${n} of ${bytes} bytes`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const t1 = now() - t;
  socket.destroy();
  return t1;
}

/** A codename with one word changed and the check word kept: every word is on the list, the check fails. */
function mistype(c: Codename): string {
  const w = [...c.words];
  const i = CODENAME_WORDLIST.indexOf(w[3]!);
  w[3] = CODENAME_WORDLIST[(i + 1) % CODENAME_WORDLIST.length]!;
  return w.join(' ');
}

export async function repliesBench(o: RepliesBenchOptions, row: Row): Promise<void> {
  await initCrypto();
  const t0 = now();
  const dir = join(o.work, 'replies');
  mkdirSync(dir, { recursive: true });
  log(`\n== ${SECTION_TITLE()} ==`);
  const newsroom = makeNewsroom();
  const codename = generateCodename();
  const fp = newsroom.fingerprint;

  // ---- the codename's keys in Node (WebCrypto PBKDF2, full cost), a different codename each run (as in Firefox,
  // whose NSS answers a repeated PBKDF2 from a cache), the visiting one last
  const codenames = [...Array.from({ length: DERIVE_RUNS - 1 }, () => generateCodename()), codename];
  const nodeDerive: number[] = [];
  await deriveCodenameKeys(generateCodename(), fp); // warm-up: WebCrypto's first call
  let keys: CodenameKeys | undefined;
  for (const c of codenames) {
    const t = now();
    keys = await deriveCodenameKeys(c, fp);
    nodeDerive.push(now() - t);
  }
  if (!keys) throw new Error('no codename derived');

  // ---- the database
  const data = join(dir, 'data');
  let t = now();
  const { list: dbList, ownTags } = await populate(join(data, 'pg'), newsroom, keys.boxPublic, keys.tagKey);
  const expected = positionsOf(dbList, ownTags);
  log(`PGlite filled in ${f1((now() - t) / 1000)} s: ${N} rows (random 16-byte tags, one dummy ${REPLY_ENVELOPE_LENGTH}-byte envelope) + ${OWN} real replies (sealReply + makeReplyTag) for the visiting codename`);

  const dirFile = join(dir, 'directory.json');
  writeFileSync(dirFile, JSON.stringify(newsroom.doc));
  const env = { TIPLINE_POW_DIFFICULTY: '0', TIPLINE_PROGRESS: '0', TIPLINE_LOG_LEVEL: 'warn', DATABASE_URL: '' };
  t = now();
  const { child, match } = await spawnUntil([CLI, 'serve', '--port', '0', '--data', data, '--directory', dirFile], env, /listening on (http:\/\/\S+)[\s\S]*staff API on (http:\/\/[^\s,]+)/, 120_000);
  const url = match[1]!;
  const serverPort = Number(new URL(url).port);
  log(`tipline serve ready in ${f1((now() - t) / 1000)} s at ${url}`);
  const plain = await plainServer();
  const link = new TorLink(LINK);
  let ff: Awaited<ReturnType<typeof firefoxSafer>> | undefined;
  try {
    // ---- 1. the list's size, as served
    const asked = await getDirect(`${url}${REPLY_LIST_PATH}`);
    let list = dbList;
    let listNote = 'as served by GET /api/v1/replies';
    if (asked.status === 200 && asked.body.length === dbList.length) {
      if (!asked.body.equals(Buffer.from(dbList))) log('   note: the served list differs from the table read in tag order (not sorted bytewise?)');
      list = new Uint8Array(asked.body);
    } else {
      listNote = `built from the table (GET /api/v1/replies answered ${asked.status}, ${asked.body.length} bytes: route not on this build)`;
    }
    const withEncoding = await getDirect(`${url}${REPLY_LIST_PATH}`, { 'accept-encoding': 'gzip, deflate, br' });
    const served = withEncoding.status === 200 ? `the server answers Accept-Encoding: gzip, deflate, br with ${withEncoding.encoding ?? 'no encoding'} (${withEncoding.body.length} bytes)` : '';
    const raw = list.length;
    const gz = gzipSync(list, { level: 9 }).length;
    const br = brotliCompressSync(list, { params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: raw } }).length;
    const under = raw < 200 * KB ? 'MET' : 'NOT MET';
    log(`list of ${raw / REPLY_TAG_BYTES} tags (${listNote}): raw ${raw} bytes = ${f1(raw / KB)} kB, gzip -9 ${f1(gz / KB)} kB (${f2(gz / raw)}×), brotli q11 ${f1(br / KB)} kB (${f2(br / raw)}×) — target under 200 kB: ${under}${served ? `; ${served}` : ''}`);
    row(SEC, `list a source downloads, ${N + OWN} live replies (raw)`, `${f1(raw / KB)} kB`, `target < 200 kB: ${under}; 16 bytes a tag, random: compression gains nothing`);
    row(SEC, 'same list, gzip -9 / brotli q11 (node:zlib)', `${f1(gz / KB)} / ${f1(br / KB)} kB`, `${f2(gz / raw)}× / ${f2(br / raw)}× raw`);

    // ---- 2. finding one's own tags: Node, then Firefox at Safer
    const nodeFind: number[] = [];
    let nodePos: number[] = [];
    for (let i = 0; i < FIND_RUNS; i++) {
      const t1 = now();
      nodePos = await findOwnTags(keys.tagKey, list);
      nodeFind.push(now() - t1);
    }
    const nodeOk = JSON.stringify(nodePos) === JSON.stringify(expected);
    log(`Node ${process.version}, findOwnTags over ${raw / REPLY_TAG_BYTES} tags (${FIND_RUNS} runs): median ${ms(median(nodeFind))}, worst ${ms(worst(nodeFind))}; found ${nodePos.length} (${nodeOk ? 'the right ones' : `WRONG: ${nodePos.join(',')} vs ${expected.join(',')}`})`);
    log(`Node, deriveCodenameKeys (PBKDF2-HMAC-SHA256 ${CODENAME_KDF_ITERATIONS} iterations + BLAKE2b + X25519, ${DERIVE_RUNS} runs): median ${ms(median(nodeDerive))}, worst ${ms(worst(nodeDerive))}`);

    let saferFind: number[] | undefined;
    let saferDerive: number[] | undefined;
    if (process.env.BENCH_REPLIES_BROWSER === '0') log('(BENCH_REPLIES_BROWSER=0: Firefox skipped)');
    else if (!existsSync(FIREFOX)) log(`Firefox ESR not installed (${FIREFOX}): Safer skipped`);
    else {
      ff = await firefoxSafer(list);
      const init = await ff.ask({ cmd: 'init' });
      if (init.error) throw new Error(`replies worker: ${init.error}`);
      if (init.wasm) throw new Error('WebAssembly is available in the worker: the Safer prefs did not apply');
      const d = await ff.ask({ cmd: 'derive', codenames: codenames.map((c) => c.text), fingerprint: fp });
      if (d.error) throw new Error(`replies worker: ${d.error}`);
      if (d.tagKey !== hex(keys.tagKey)) throw new Error('the tag key derived in Firefox differs from Node\'s');
      const f = await ff.ask({ cmd: 'find', url: '/list.bin', tagKey: hex(keys.tagKey), runs: FIND_RUNS });
      if (f.error) throw new Error(`replies worker: ${f.error}`);
      saferDerive = d.times!;
      saferFind = f.times!;
      const ok = JSON.stringify(f.positions) === JSON.stringify(expected);
      log(`${ff.version} at Safer (${Object.keys(SAFER_PREFS).join(', ')} off; WebAssembly absent, worker start, bundle parse and libsodium's asm.js build ready in ${ms(init.pageMs)}), in a Worker under the page's CSP:`);
      log(`   findOwnTags over ${f.listBytes! / REPLY_TAG_BYTES} tags (${FIND_RUNS} runs): median ${ms(median(saferFind))}, worst ${ms(worst(saferFind))} (runs: ${saferFind.map((x) => x.toFixed(0)).join(', ')} ms); found ${f.positions!.length} (${ok ? 'the right ones' : 'WRONG'}) — target under 1 s: ${worst(saferFind) < 1000 ? 'MET' : 'NOT MET'}; ${ratio(median(saferFind), median(nodeFind))} Node's time`);
      log(`   deriveCodenameKeys, full cost (${DERIVE_RUNS} runs): median ${ms(median(saferDerive))}, worst ${ms(worst(saferDerive))} (runs: ${saferDerive.map((x) => x.toFixed(0)).join(', ')} ms); ${ratio(median(saferDerive), median(nodeDerive))} Node's time; same tag key as Node`);
      await ff.close();
      ff = undefined;
    }
    if (saferFind) {
      row(SEC, `find own tags in ${N + OWN} (findOwnTags), Firefox Safer worker: median / worst`, `${ms(median(saferFind))} / ${ms(worst(saferFind))}`, `target < 1 s: ${worst(saferFind) < 1000 ? 'MET' : 'NOT MET'}; Node ${ms(median(nodeFind))} / ${ms(worst(nodeFind))} (${ratio(median(saferFind), median(nodeFind))})`);
      row(SEC, `codename keys (PBKDF2 ${CODENAME_KDF_ITERATIONS / 1e6}M + X25519), Firefox Safer worker: median / worst`, `${ms(median(saferDerive!))} / ${ms(worst(saferDerive!))}`, `Node ${ms(median(nodeDerive))} / ${ms(worst(nodeDerive))} (${ratio(median(saferDerive!), median(nodeDerive))})`);
    } else {
      row(SEC, `find own tags in ${N + OWN} (findOwnTags), Node: median / worst`, `${ms(median(nodeFind))} / ${ms(worst(nodeFind))}`, 'Firefox at Safer not measured');
      row(SEC, 'codename keys (deriveCodenameKeys), Node: median / worst', `${ms(median(nodeDerive))} / ${ms(worst(nodeDerive))}`, 'Firefox at Safer not measured');
    }

    // ---- 3. a source's visit over the Tor-like link
    if (asked.status !== 200) {
      log(`visit over the Tor-like link skipped: GET ${REPLY_LIST_PATH} answered ${asked.status} (the replies routes are not on this build)`);
      row(SEC, 'source visit over the Tor-like link', 'n/a', 'replies routes not on this build');
      return;
    }
    const socks = await link.listenSocks();
    log(`visits (client/shared/replies.ts visitReplies, the CLI's transport: one connection, pipelined) through a SOCKS5 front: +${LINK.oneWayMs} ms each way (RTT ${link.rttMs} ms), one RTT per new connection, ${f1(LINK.bytesPerSec / 1e6)} MB/s each way`);
    const visit = async (typed: string) => {
      const api = new Api(new URL(url), { host: '127.0.0.1', port: socks });
      link.dropAll();
      link.reset();
      const t1 = now();
      try {
        const out = await visitReplies(api.source, { typed, fingerprint: fp, now: new Date() });
        return { ms: now() - t1, stats: link.stats(serverPort), out };
      } finally {
        await api.close();
      }
    };
    const runs: { ms: number; stats: LinkStats }[] = [];
    for (let i = 0; i < VISITS; i++) {
      const v = await visit(codename.text);
      if (v.out.codename !== 'ok' || v.out.replies.length !== OWN) throw new Error(`visit ${i}: expected ${OWN} replies, got ${JSON.stringify(v.out.codename === 'ok' ? { replies: v.out.replies.length, refused: v.out.refused } : v.out)}`);
      runs.push(v);
    }
    const none = await visit(generateCodename().text);
    if (none.out.codename !== 'ok' || none.out.replies.length !== 0) throw new Error('a fresh codename found replies');
    const typo = await visit(mistype(codename));
    if (typo.out.codename !== 'mistyped') throw new Error('the mistyped codename was not reported as mistyped');
    const mid = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)]!;
    const s = mid.stats;
    const plainMs: number[] = [];
    for (let i = 0; i < 2; i++) {
      link.dropAll();
      link.reset();
      plainMs.push(await plainGet(socks, plain.port, s.bytesDown));
    }
    const p = median(plainMs);
    const same = [none, typo].every((v) => v.stats.bytesUp === s.bytesUp && v.stats.bytesDown === s.bytesDown && v.stats.connections === s.connections && v.stats.turns === s.turns);
    log(`[visit, ${OWN} replies waiting] ${VISITS} visits: median ${f2(mid.ms / 1000)} s (runs: ${runs.map((r) => f2(r.ms / 1000)).join(', ')} s; PBKDF2 in Node runs beside the network); counted: ${s.connections} connection(s) + ${s.turns} request/response turn(s), ${s.waves} on the critical path; ${f1(s.bytesUp / KB)} kB up, ${f1(s.bytesDown / KB)} kB down (directory + list + ${REPLY_FETCH_SLOTS} slots) — target ≤ 3 round trips: ${s.waves <= 3 ? 'MET' : 'NOT MET'}`);
    log(`[plain GET of the same ${s.bytesDown} bytes, new connection, same link] ${f2(p / 1000)} s -> the visit takes ${ratio(mid.ms, p)} the plain transfer`);
    log(`[no replies / mistyped codename] ${f2(none.ms / 1000)} s / ${f2(typo.ms / 1000)} s; ${none.stats.waves} / ${typo.stats.waves} RT; ${none.stats.bytesUp}/${none.stats.bytesDown} and ${typo.stats.bytesUp}/${typo.stats.bytesDown} bytes up/down vs ${s.bytesUp}/${s.bytesDown} with replies: ${same ? 'the same requests and sizes' : 'DIFFERENT'}`);
    row(SEC, 'source visit over the Tor-like link: round trips', `${s.waves} (${s.connections} conn + ${s.turns} turns)`, `target ≤ 3: ${s.waves <= 3 ? 'MET' : 'NOT MET'}; ${f1(s.bytesDown / KB)} kB down, ${f1(s.bytesUp / KB)} kB up; same with no replies / mistyped: ${same ? 'yes' : 'NO'}`);
    row(SEC, 'source visit over the Tor-like link: wall time (median)', `${f2(mid.ms / 1000)} s`, `${ratio(mid.ms, p)} a plain GET of the same bytes (${f2(p / 1000)} s)`);
  } finally {
    await ff?.close().catch(() => {});
    await stopChild(child);
    await link.close();
    plain.server.close();
    rmSync(dir, { recursive: true, force: true });
    log(`(replies section took ${f1((now() - t0) / 1000)} s)`);
  }
}

function SECTION_TITLE(): string {
  return `Replies: ${N} live replies (+${OWN} for the visiting codename), the list, finding one's own, the visit`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows: string[] = [];
  const row: Row = (section, what, result, compared = '') => rows.push(`| ${section} | ${what} | ${result} | ${compared} |`);
  const work = mkdtempSync(join(tmpdir(), 'tipline-bench-replies-'));
  try {
    await repliesBench({ work }, row);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log('\n| Section | Measure | Result | Compared with |\n|---|---|---|---|');
  for (const r of rows) log(r);
  process.exit(0);
}
