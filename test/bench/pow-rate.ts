// Proof-of-work rate: the source's solver in Firefox ESR at Tor Browser's "Safer" level (crypto/pow.ts bundled
// into a Worker, as the page runs it) against native code in Node on the same machine (OpenSSL's PBKDF2, all
// cores, as a flooder would run it; and crypto/pow.ts's own solver, as the CLI runs it); the ratio per unit of
// work; the source's expected wait for a few sizes; and what a wrong nonce costs the server.
//   node dist/test/bench/pow-rate.js        (or as a section of `npm run bench`; BENCH_POW=0 skips it there)
// Knobs: BENCH_POW_MS (per measurement, default 2000), BENCH_POW_ROUNDS (interleaved rounds, default 3).
import { pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { build } from 'esbuild';
import { FIREFOX, SAFER_PREFS, launchFirefox } from '../helpers/browser.js';
import { POW_FREE_BYTES, POW_ITERATIONS, POW_MAX_LOAD_BITS, issuePowChallenge, leadingZeroBits, powHash, powSizeBits, solvePow, POW_DEFAULT_IN_FLIGHT } from '../../crypto/pow.js';
import { initCrypto } from '../../crypto/node.js';
import { DEFAULTS } from '../../server/config.js';
import type { PowRateAnswer, PowRateCommand } from './pow-rate-worker.js';
import { f1, f2, log, now } from './util.js';

type Row = (section: string, what: string, result: string, compared?: string) => void;

const MS = Number(process.env.BENCH_POW_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_POW_ROUNDS ?? 3);
const IN_FLIGHT = [1, 4, POW_DEFAULT_IN_FLIGHT, 16];
const DIFFICULTY = 6; // many small solves per window: the rate, not the luck of one solve
const root = fileURLToPath(new URL('../../../', import.meta.url)); // compiled to dist/test/bench/
const CSP = "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; base-uri 'none'";
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
const SECTION = 'Proof-of-work';

/** OpenSSL's PBKDF2 on `lanes` threads at once (libuv's pool): native iterations per second. */
async function nodeNative(lanes: number, ms: number): Promise<number> {
  const t0 = now();
  let calls = 0;
  const pw = randomBytes(64);
  const lane = async () => {
    while (now() - t0 < ms) {
      await new Promise<void>((resolve, reject) => pbkdf2(pw, randomBytes(24), POW_ITERATIONS, 32, 'sha256', (e) => (e ? reject(e) : resolve())));
      calls++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return (calls * POW_ITERATIONS) / ((now() - t0) / 1000);
}

/** One thread, synchronous: the native rate of one core. */
function nodeOneCore(ms: number): number {
  const t0 = now();
  let calls = 0;
  const pw = randomBytes(64);
  while (now() - t0 < ms) {
    pbkdf2Sync(pw, randomBytes(24), POW_ITERATIONS, 32, 'sha256');
    calls++;
  }
  return (calls * POW_ITERATIONS) / ((now() - t0) / 1000);
}

/** crypto/pow.ts's solver in Node (WebCrypto), as the CLI runs it: iterations per second. */
async function nodeSolver(inFlight: number, ms: number): Promise<number> {
  const t0 = now();
  let attempts = 0;
  for (let i = 0; now() - t0 < ms; i++) await solvePow(randomBytes(48).toString('base64url'), DIFFICULTY, { inFlight, onAttempt: () => attempts++ });
  return (attempts * POW_ITERATIONS) / ((now() - t0) / 1000);
}

async function bundleWorker(): Promise<string> {
  const out = await build({ entryPoints: [join(root, 'test', 'bench', 'pow-rate-worker.ts')], bundle: true, write: false, format: 'iife', platform: 'browser', target: ['firefox115'], logLevel: 'warning' });
  return out.outputFiles[0]!.text;
}

/** Firefox at "Safer", the solver in a Worker under a CSP like the page's; measure(inFlight) → iterations/s. */
async function firefoxSafer(): Promise<{ version: string; measure(inFlight: number, ms: number): Promise<number>; close(): Promise<void> }> {
  const worker = await bundleWorker();
  const server = createServer((req, res) => {
    const h = { 'content-security-policy': CSP, 'cache-control': 'no-store' };
    if (req.url === '/') res.writeHead(200, { ...h, 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>pow rate</title><p>pow rate</p>');
    else if (req.url === '/w.js') res.writeHead(200, { ...h, 'content-type': 'text/javascript' }).end(worker);
    else res.writeHead(404, h).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const browser = await launchFirefox(SAFER_PREFS, undefined, { unmonitored: true });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  const wasm = await page.evaluate(() => typeof WebAssembly !== 'undefined');
  if (wasm) throw new Error('WebAssembly is available: the Safer prefs did not apply');
  return {
    version: await browser.version(),
    async measure(inFlight, ms) {
      const a = await page.evaluate(
        (c: PowRateCommand) =>
          new Promise<PowRateAnswer>((resolve) => {
            const g = window as unknown as { __w?: Worker };
            const w = (g.__w ??= new Worker('/w.js'));
            w.onmessage = (e: MessageEvent<PowRateAnswer>) => resolve(e.data);
            w.onerror = (e) => resolve({ attempts: 0, solves: 0, ms: 0, error: e.message });
            w.postMessage(c);
          }),
        { inFlight, ms, difficulty: DIFFICULTY },
      );
      if (a.error) throw new Error(`pow worker: ${a.error}`);
      return (a.attempts * POW_ITERATIONS) / (a.ms / 1000);
    },
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** Server CPU per request (all threads: the PBKDF2 runs on libuv's pool), through Fastify's inject. */
async function serverCost(): Promise<{ powGetUs: number; foreignUs: number; wrongUs: number; oneHashUs: number }> {
  const { openDatabase } = await import('../../server/db.js');
  const { buildServer } = await import('../../server/app.js');
  const { loadPowSecret } = await import('../../server/store/pow.js');
  const dir = mkdtempSync(join(tmpdir(), 'tipline-pow-bench-'));
  const db = await openDatabase({ dataDir: dir });
  const app = await buildServer({ db: db.db, powDifficulty: 8, uploadChunkSize: 64 * 1024, logStream: new Writable({ write: (_c, _e, d) => d() }) }, 'public');
  try {
    const secret = await loadPowSecret(db.db);
    const body = Buffer.alloc(64 * 1024);
    const open = (token: string, nonce: string) => app.inject({ method: 'POST', url: '/api/v1/uploads?size=100000', headers: { 'content-type': 'application/octet-stream', 'tipline-pow-token': token, 'tipline-pow-nonce': nonce }, payload: body });
    const cpu = async (n: number, make: (i: number) => Promise<() => Promise<unknown>>): Promise<number> => {
      const calls = await Promise.all(Array.from({ length: n }, (_, i) => make(i)));
      const c0 = process.cpuUsage();
      for (const call of calls) await call();
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / n;
    };
    const N = 300;
    // Tokens and wrong nonces are made beforehand, outside the measured loop.
    const wrongFor = async (token: string) => {
      for (let n = 0; ; n++) if (leadingZeroBits(await powHash(token, String(n))) < 8) return String(n);
    };
    const fresh = () => issuePowChallenge(secret, 8, POW_FREE_BYTES, new Date()).token;
    await cpu(50, async () => () => app.inject({ method: 'GET', url: '/api/v1/pow' })); // warm-up
    const powGetUs = await cpu(N, async () => () => app.inject({ method: 'GET', url: '/api/v1/pow' }));
    const foreign = issuePowChallenge(new Uint8Array(32).fill(7), 8, POW_FREE_BYTES, new Date()).token;
    const foreignUs = await cpu(N, async () => () => open(foreign, '1'));
    const wrongUs = await cpu(N, async () => {
      const token = fresh();
      const nonce = await wrongFor(token);
      return () => open(token, nonce);
    });
    const pw = randomBytes(64);
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) pbkdf2Sync(pw, randomBytes(24), POW_ITERATIONS, 32, 'sha256');
    const c = process.cpuUsage(c0);
    return { powGetUs, foreignUs, wrongUs, oneHashUs: (c.user + c.system) / N };
  } finally {
    await app.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function powRateBench(row: Row): Promise<void> {
  await initCrypto();
  const cores = availableParallelism();
  log(`\n== ${SECTION}: PBKDF2-HMAC-SHA256, ${POW_ITERATIONS} iterations per attempt (crypto/pow.ts v3) ==`);
  log(`Firefox ESR at "Safer" (${Object.keys(SAFER_PREFS).join(', ')} off) runs crypto/pow.ts in a Worker; Node ${process.version} on the same ${cores}-core machine; ${ROUNDS} interleaved rounds of ${MS / 1000} s, medians`);
  const ff = await firefoxSafer().catch((err: Error) => {
    log(`Firefox at Safer not measured: ${err.message} (${FIREFOX})`);
    return undefined;
  });
  const safer = new Map<number, number[]>(IN_FLIGHT.map((k) => [k, []]));
  const native: number[] = [];
  const oneCore: number[] = [];
  const solver: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      if (ff) for (const k of IN_FLIGHT) safer.get(k)!.push(await ff.measure(k, MS));
      native.push(await nodeNative(Math.max(2, cores), MS));
      oneCore.push(nodeOneCore(MS));
      solver.push(await nodeSolver(POW_DEFAULT_IN_FLIGHT, MS));
    }
  } finally {
    await ff?.close();
  }
  const M = (x: number) => `${f2(x / 1e6)} M iterations/s`;
  const nat = median(native);
  log(`Node, OpenSSL pbkdf2 on ${Math.max(2, cores)} threads (a flooder's native code, whole machine): ${M(nat)}`);
  log(`Node, OpenSSL pbkdf2Sync on one thread (one native core): ${M(median(oneCore))}`);
  log(`Node, crypto/pow.ts solver (WebCrypto, ${POW_DEFAULT_IN_FLIGHT} in flight; the CLI): ${M(median(solver))}`);
  row(SECTION, `Node native PBKDF2, ${Math.max(2, cores)} threads (flooder)`, M(nat), `one core ${M(median(oneCore))}`);
  row(SECTION, `Node crypto/pow.ts solver (CLI)`, M(median(solver)), `${f2(nat / median(solver))}× slower than native`);
  if (!ff) return;
  log(`Firefox: ${ff.version}`);
  for (const k of IN_FLIGHT) log(`Firefox at Safer, crypto/pow.ts solver, ${k} in flight: ${M(median(safer.get(k)!))} (rounds: ${safer.get(k)!.map((x) => f2(x / 1e6)).join(', ')})`);
  const src = median(safer.get(POW_DEFAULT_IN_FLIGHT)!);
  const ratio = nat / src;
  const goal = ratio <= 3;
  log(`ratio (target: the source at most 3× slower per unit of work than native Node): native ${M(nat)} / source ${M(src)} = ${f2(ratio)}× — ${goal ? 'MET' : 'NOT MET'}; per core (one native thread vs the source with 1 in flight): ${f2(median(oneCore) / median(safer.get(1)!))}×`);
  row(SECTION, `Firefox at Safer, solver (${POW_DEFAULT_IN_FLIGHT} in flight)`, M(src), `${f2(ratio)}× slower than native Node (target ≤ 3×: ${goal ? 'MET' : 'NOT MET'})`);
  // The source's expected wait: 2^d attempts, d = base + size bits (idle server), and with the most load.
  const base = DEFAULTS.powDifficulty;
  const attemptsPerS = src / POW_ITERATIONS;
  for (const [label, size] of [['64 KiB', 64 * 1024], ['10 MiB', 10 * 1024 * 1024], ['2 GiB', 2 * 1024 ** 3]] as const) {
    const d = base + powSizeBits(size);
    const wait = 2 ** d / attemptsPerS;
    const busy = 2 ** (d + POW_MAX_LOAD_BITS) / attemptsPerS;
    const tor = size / 1e6;
    log(`expected source wait at Safer for ${label}: ${d} bits = ${f1(wait)} s (${f1(busy)} s on a server at its most loaded, +${POW_MAX_LOAD_BITS} bits); sending it over Tor at ~1 MB/s takes ${f1(tor)} s; a flooder's machine solves it in ${f1(2 ** d * POW_ITERATIONS / nat)} s`);
    row(SECTION, `expected source wait, ${label} (${d} bits)`, `${f1(wait)} s`, `${f1(busy)} s at most load; transfer over Tor ~${f1(tor)} s`);
  }
}

export async function serverCostBench(row: Row): Promise<void> {
  const s = await serverCost();
  log(`server CPU per request (inject, PGlite): GET /api/v1/pow ${f1(s.powGetUs)} µs; an opening with a foreign token (refused on its MAC) ${f1(s.foreignUs)} µs; with a fresh valid token and a wrong nonce (one PBKDF2) ${f1(s.wrongUs)} µs; one PBKDF2 of ${POW_ITERATIONS} alone ${f1(s.oneHashUs)} µs`);
  row(SECTION, 'server CPU: a wrong nonce / a refused token / GET /pow', `${f1(s.wrongUs)} / ${f1(s.foreignUs)} / ${f1(s.powGetUs)} µs`, `one PBKDF2 ${f1(s.oneHashUs)} µs`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows: string[] = [];
  const row: Row = (section, what, result, compared = '') => rows.push(`| ${section} | ${what} | ${result} | ${compared} |`);
  await powRateBench(row);
  await serverCostBench(row);
  log('\n| Section | Measure | Result | Compared with |\n|---|---|---|---|');
  for (const r of rows) log(r);
  process.exit(0);
}
