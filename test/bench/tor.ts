// Over a Tor-like link (issue 6): `tipline submit`, `tipline fetch` and the page in Firefox at Tor Browser's
// Safer prefs, each through a SOCKS5 front on loopback that adds 250 ms each way, charges a round trip per new
// connection and paces to 1 MB/s each way (tor-link.ts), beside a plain HTTP upload and download of the same
// bytes through the same front in the same run. Called by main.ts; runs alone: `node dist/test/bench/main.js tor`.
//
// Knobs: BENCH_TOR_MIB (the large tip, default 8), BENCH_TOR_SMALL (small tips fetched with it, default 20),
// BENCH_TOR_RUNS (one-chunk submits through the link, default 3), BENCH_TOR_PARTS (default cli,page),
// BENCH_TOR_BROWSER=0 to skip Firefox, BENCH_TOR_DEBUG=1 to print each exchange's timeline.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SocksClient } from 'socks';
import { FIREFOX, SAFER_PREFS, launchFirefox } from '../helpers/browser.js';
import { deterministicBlocks } from './baselines.js';
import { keysInit } from './pipeline.js';
import { TorLink, type LinkStats } from './tor-link.js';
import { CLI, MiB, f1, f2, log, mbps, now, runMeasured, spawnUntil, stopChild, type Measured } from './util.js';
import type { RowFn } from './browser.js';

const BIG = Number(process.env.BENCH_TOR_MIB ?? 8) * MiB;
const SMALL = Number(process.env.BENCH_TOR_SMALL ?? 20);
const RUNS = Number(process.env.BENCH_TOR_RUNS ?? 3);
const PARTS = new Set((process.env.BENCH_TOR_PARTS ?? 'cli,page').split(','));
const LINK = { oneWayMs: 250, bytesPerSec: 1e6 };
const PASSPHRASE = 'bench passphrase, not a secret';
const SEC = 'Tor-like link';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The plain side of the comparison: a PUT that is read and answered, a GET that returns N bytes. */
async function plainServer(): Promise<{ server: Server; port: number }> {
  const block = Buffer.alloc(MiB, 0x5a);
  const server = createServer((req, res) => {
    if (req.method === 'PUT') {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received: n })));
      return;
    }
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    let left = Number(m[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
    const more = () => {
      while (left > 0) {
        const piece = block.subarray(0, Math.min(left, block.length));
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** One plain HTTP/1.1 exchange through the SOCKS front on a new connection; wall time in ms. */
async function plainExchange(socksPort: number, port: number, method: 'PUT' | 'GET', bytes: number): Promise<number> {
  const t = now();
  const { socket } = await SocksClient.createConnection({ proxy: { host: '127.0.0.1', port: socksPort, type: 5 }, command: 'connect', destination: { host: '127.0.0.1', port } });
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(
      { createConnection: () => socket, method, host: '127.0.0.1', port, path: method === 'PUT' ? '/' : `/bytes/${bytes}`, headers: method === 'PUT' ? { 'content-type': 'application/octet-stream', 'content-length': String(bytes) } : {} },
      (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => (method === 'GET' && n !== bytes ? reject(new Error(`plain GET: ${n} of ${bytes} bytes`)) : resolve()));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (method === 'PUT') {
      const block = Buffer.alloc(MiB, 0xa5);
      for (let left = bytes; left > 0; left -= MiB) req.write(block.subarray(0, Math.min(left, MiB)));
    }
    req.end();
  });
  const ms = now() - t;
  socket.destroy();
  return ms;
}

function check(what: string, m: Measured): Measured {
  if (m.code !== 0) throw new Error(`${what} exited with ${m.code}:\n${m.stderr.slice(-2000)}\n${m.stdout.slice(-1000)}`);
  return m;
}

const rts = (s: LinkStats) => s.connections + s.turns;
const statLine = (s: LinkStats) => `${s.connections} connection(s) + ${s.turns} request/response turn(s) = ${rts(s)}, ${s.waves} on the critical path; ${f1(s.bytesUp / 1e3)} kB up, ${f1(s.bytesDown / 1e3)} kB down`;

export interface TorBenchOptions {
  work: string;
  keys?: string;
  fingerprint?: string;
}

export async function torBench(o: TorBenchOptions, row: RowFn): Promise<void> {
  const t0 = now();
  const dir = join(o.work, 'tor');
  mkdirSync(dir, { recursive: true });
  const keys = o.keys ?? join(dir, 'keys');
  const fingerprint = o.fingerprint ?? (await keysInit(keys));
  const env = { TIPLINE_POW_DIFFICULTY: '0', TIPLINE_PASSPHRASE: PASSPHRASE, TIPLINE_PROGRESS: '0', TIPLINE_LOG_LEVEL: 'warn', DATABASE_URL: '' };
  const { child, match } = await spawnUntil([CLI, 'serve', '--port', '0', '--data', join(dir, 'data'), '--directory', join(keys, 'directory.json')], env, /listening on (http:\/\/\S+)[\s\S]*staff API on (http:\/\/[^\s,]+)/);
  const url = match[1]!;
  const staffUrl = match[2]!; // desks fetch from the staff listener
  const serverPort = Number(new URL(url).port);
  const plain = await plainServer();
  const link = new TorLink(LINK);
  const socks = await link.listenSocks();
  const proxyArg = ['--socks', `127.0.0.1:${socks}`];
  const rtt = link.rttMs;
  log(`\n== Over a Tor-like link: SOCKS5 front on 127.0.0.1:${socks}, +${LINK.oneWayMs} ms each way (RTT ${rtt} ms), one RTT per new connection, ${f1(LINK.bytesPerSec / 1e6)} MB/s each way (shared); tipline serve on PGlite, PoW difficulty 0 ==`);
  const big = join(dir, 'big.bin');
  const fd = openSync(big, 'w', 0o600);
  try {
    for (const b of deterministicBlocks(BIG)) writeSync(fd, b);
  } finally {
    closeSync(fd);
  }
  const stored: number[] = [];
  const storedOf = (m: Measured) => {
    const n = Number(/stored: (\d+) bytes/.exec(m.stdout)?.[1] ?? NaN);
    stored.push(n);
    return n;
  };
  const submitArgs = (msg: string, extra: string[] = []) => [CLI, 'submit', '--server', url, '--fingerprint', fingerprint, '-m', msg, ...extra];
  try {
    if (PARTS.has('cli')) await cliOverLink();
    // ---- 4. the page in Firefox at Safer, proxied like Tor Browser (SOCKS5, remote DNS)
    if (PARTS.has('page') && process.env.BENCH_TOR_BROWSER !== '0') {
      if (existsSync(FIREFOX)) await pageOverLink(link, socks, url, serverPort, big, plain.port, row);
      else log(`Firefox ESR not installed (${FIREFOX}): the page over the link skipped`);
    }
  } finally {
    await stopChild(child);
    await link.close();
    plain.server.close();
    rmSync(big, { force: true });
    log(`(Tor-like link section took ${f1((now() - t0) / 1000)} s)`);
  }

  async function cliOverLink(): Promise<void> {
    // ---- 1. a one-chunk tip: direct (the local cost: node start-up, PoW, encryption) and through the link
    const direct: number[] = [];
    let small = 0;
    for (let i = 0; i < 2; i++) {
      const m = check('submit (direct)', await runMeasured(submitArgs(`one-chunk tip, direct ${i}`), env, join(dir, 'time'), 120_000));
      storedOf(m);
      small++;
      direct.push(m.wallMs);
    }
    const viaLink: number[] = [];
    const counts: LinkStats[] = [];
    const afterStart: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      link.reset();
      const t = now();
      const m = check('submit (one chunk, via the link)', await runMeasured(submitArgs(`one-chunk tip ${i}`, proxyArg), env, join(dir, 'time'), 120_000));
      storedOf(m);
      small++;
      viaLink.push(m.wallMs);
      const s = link.stats(serverPort);
      counts.push(s);
      if (process.env.BENCH_TOR_DEBUG) log(link.timeline(t, serverPort));
      afterStart.push(m.wallMs - (s.firstOpenedAt - t));
    }
    const c = counts[Math.floor(counts.length / 2)]!;
    const extra = (median(viaLink) - median(direct)) / rtt;
    log(`[CLI] one-chunk tip (tipline submit -m, ${RUNS} runs): ${f2(median(viaLink) / 1000)} s through the link (${f2(median(afterStart) / 1000)} s from its connection to its exit) vs ${f2(median(direct) / 1000)} s direct (node start-up, PoW, encryption) -> ${f1(extra)} RTTs of waiting; counted: ${statLine(c)}`);
    log(`      per run: ${counts.map((s) => `${s.waves} RT (${s.connections} conn, ${s.turns} turns)`).join(', ')}`);
    row(SEC, 'CLI: one-chunk tip, round trips', `${c.waves} (${c.connections} conn + ${c.turns} turns)`, `target ≤ 3; ${f2(median(afterStart) / 1000)} s from connecting to exit; whole command ${f2(median(viaLink) / 1000)} s = direct ${f2(median(direct) / 1000)} s + ${f1(extra)} RTT`);

    // ---- 2. the large tip, beside a plain upload of the same number of bytes
    link.reset();
    const tUp = now();
    const up = check('submit (large)', await runMeasured(submitArgs('large tip', ['--file', big, ...proxyArg]), env, join(dir, 'time'), 600_000));
    const envBytes = storedOf(up);
    const upStats = link.stats(serverPort);
    const upNet = up.wallMs - (upStats.firstOpenedAt - tUp);
    if (process.env.BENCH_TOR_DEBUG) log(`spawned at 0 ms, exited at ${up.wallMs.toFixed(0)} ms\n${link.timeline(tUp, serverPort)}`);
    link.reset();
    const plainUp = await plainExchange(socks, plain.port, 'PUT', envBytes);
    log(`[CLI] ${f1(BIG / MiB)} MiB file (envelope ${envBytes} bytes): ${f2(up.wallMs / 1000)} s = ${f2(mbps(envBytes, up.wallMs))} MB/s, of which ${f2(upNet / 1000)} s from its connection to its exit; plain PUT of the same bytes ${f2(plainUp / 1000)} s = ${f2(mbps(envBytes, plainUp))} MB/s -> ${f2(plainUp / upNet)}× the plain upload after start-up, ${f2(plainUp / up.wallMs)}× with it (${upStats.connections} connection(s), at most ${upStats.maxOpen} open)`);
    row(SEC, `CLI: ${f1(BIG / MiB)} MiB upload`, `${f2(upNet / 1000)} s after start-up (${upStats.connections} conn); whole command ${f2(up.wallMs / 1000)} s`, `${f2(plainUp / upNet)}× plain PUT (${f2(plainUp / 1000)} s), ${f2(plainUp / up.wallMs)}× counting start-up; target ≥ 0.85×`);

    // ---- 3. a desk fetches the small tips and the large one
    for (let i = small; i < SMALL; i += 4) {
      const batch = await Promise.all(Array.from({ length: Math.min(4, SMALL - i) }, (_, k) => runMeasured(submitArgs(`small tip ${i + k}: the shipment leaves on Tuesday from dock ${k}.`), env, join(dir, `time${k}`), 120_000)));
      batch.forEach((m) => storedOf(check('submit (small)', m)));
    }
    // The one-chunk tips sent above count among the small ones.
    const total = stored.reduce((a, b) => a + b, 0);
    const smallBytes = total - envBytes;
    const out = join(dir, 'inbox');
    link.reset();
    const tFetch = now();
    const fetched = check('fetch', await runMeasured([CLI, 'fetch', '--server', staffUrl, '--key', join(keys, 'desk.key'), '--out', out, ...proxyArg], env, join(dir, 'time'), 600_000));
    const fetchStats = link.stats(serverPort);
    const fetchNet = fetched.wallMs - (fetchStats.firstOpenedAt - tFetch);
    if (process.env.BENCH_TOR_DEBUG) log(`spawned at 0 ms, exited at ${fetched.wallMs.toFixed(0)} ms\n${link.timeline(tFetch, serverPort)}`);
    const got = (fetched.stdout.match(/: received /g) ?? []).length;
    // The fixed cost of a fetch that finds nothing new: node start-up and the desk key's unlock (argon2id).
    const fixed = check('fetch (nothing new, direct)', await runMeasured([CLI, 'fetch', '--server', staffUrl, '--key', join(keys, 'desk.key'), '--out', out], env, join(dir, 'time'), 120_000));
    link.reset();
    const plainDown = await plainExchange(socks, plain.port, 'GET', total);
    log(`[CLI] fetch of ${got} tips (${SMALL} small = ${smallBytes} bytes, and the large one; ${total} bytes in all): ${f2(fetched.wallMs / 1000)} s, of which ${f2(fetchNet / 1000)} s from its connection to its exit; plain GET of the same bytes ${f2(plainDown / 1000)} s -> ${f2(fetchNet / plainDown)}× the plain download after start-up (node, key unlock), ${f2(fetched.wallMs / plainDown)}× with it; ${statLine(fetchStats)}; a fetch with nothing new (direct) takes ${f2(fixed.wallMs / 1000)} s`);
    row(SEC, `CLI: fetch ${SMALL} small + one ${f1(BIG / MiB)} MiB tip`, `${f2(fetchNet / 1000)} s after start-up (${fetchStats.connections} conn, ${fetchStats.turns} turns); whole command ${f2(fetched.wallMs / 1000)} s`, `${f2(fetchNet / plainDown)}× plain GET (${f2(plainDown / 1000)} s), ${f2(fetched.wallMs / plainDown)}× counting start-up and key unlock; target ≤ 1.3×`);
    if (got !== SMALL + 1) log(`   (expected ${SMALL + 1} tips, fetched ${got})`);
  }
}

async function pageOverLink(link: TorLink, socks: number, url: string, serverPort: number, file: string, plainPort: number, row: RowFn): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const version = (spawnSync(FIREFOX, ['--version'], { encoding: 'utf8' }).stdout ?? '').trim();
  const browser = await launchFirefox(
    {
      ...SAFER_PREFS,
      // As Tor Browser: everything through the SOCKS port, names resolved by the proxy.
      'network.proxy.type': 1,
      'network.proxy.socks': '127.0.0.1',
      'network.proxy.socks_port': socks,
      'network.proxy.socks_version': 5,
      'network.proxy.socks_remote_dns': true,
      'network.proxy.no_proxies_on': '',
      'network.proxy.allow_hijacking_localhost': true,
    },
    undefined,
    { unmonitored: true },
  );
  try {
    const page = await browser.newPage();
    const send = async (message: string, upload?: string): Promise<{ ms: number; stats: LinkStats; size: number }> => {
      await page.goto(`${url}/`, { waitUntil: 'load', timeout: 180_000 });
      await page.waitForSelector('#tip-form:not([hidden])', { timeout: 60_000 });
      // The worker has loaded (its bundle is most of the page's weight) once it can be asked for nothing.
      await sleep(3000);
      await page.type('#message', message);
      if (upload) {
        const input = await page.$('input#files');
        await input!.uploadFile(upload);
        await page.waitForFunction(() => document.querySelectorAll('#file-list li').length === 1);
      }
      // A source types for a while: the connections the page was loaded over have closed by then.
      link.dropAll();
      await sleep(500);
      link.reset();
      const t = now();
      await page.click('#send');
      await page.waitForFunction(() => !document.getElementById('receipt')!.hidden || !document.getElementById('error')!.hidden, { timeout: 600_000, polling: 100 });
      const ms = now() - t;
      const err = await page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));
      if (err) throw new Error(`the page reported: ${err}`);
      if (process.env.BENCH_TOR_DEBUG) log(link.timeline(t, serverPort));
      const tipId = await page.$eval('#receipt-id', (e) => e.textContent ?? '');
      if (!/^[a-z2-7]{26}$/.test(tipId)) throw new Error(`no receipt (${tipId})`);
      return { ms, stats: link.stats(serverPort), size: link.stats(serverPort).bytesUp };
    };
    const one = await send('A one-chunk tip from the page over the Tor-like link.');
    log(`[${version}, Safer, SOCKS5 remote DNS] one-chunk tip: ${f2(one.ms / 1000)} s from the click to the receipt (worker already loaded; idle connections closed first); counted: ${statLine(one.stats)}`);
    row(SEC, 'Page (Firefox Safer): one-chunk tip, round trips', `${one.stats.waves} (${one.stats.connections} conn + ${one.stats.turns} turns)`, `target ≤ 3; ${f2(one.ms / 1000)} s click to receipt (PoW difficulty 0)`);
    const bigRun = await send('A large tip from the page over the Tor-like link.', file);
    link.reset();
    const plainUp = await plainExchange(socks, plainPort, 'PUT', bigRun.size);
    const ratio = plainUp / bigRun.ms;
    log(`[${version}, Safer] ${f1(statSync(file).size / MiB)} MiB file: ${f2(bigRun.ms / 1000)} s click to receipt (${bigRun.size} bytes sent, headers included); plain PUT of those bytes ${f2(plainUp / 1000)} s -> ${f2(ratio)}× the plain upload; ${statLine(bigRun.stats)}, at most ${bigRun.stats.maxOpen} open`);
    row(SEC, `Page (Firefox Safer): ${f1(statSync(file).size / MiB)} MiB upload`, `${f2(bigRun.ms / 1000)} s (${bigRun.stats.connections} conn)`, `${f2(ratio)}× plain PUT (${f2(plainUp / 1000)} s); target ≥ 0.85×`);
    row(SEC, 'Page: desk fetch', 'n/a', 'the page is for sources only; desks fetch with the CLI');
  } finally {
    await browser.close();
  }
}
