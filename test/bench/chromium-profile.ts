// Why Chromium's page upload measured slower than Firefox's (issue 6, item 7). Two parts, both on loopback:
//  - page: the real page on `tipline serve`, uploaded in Chromium and in Firefox ESR at Tor Browser's "Safer"
//    prefs, each run timed with the CPU of every process (the browser's by process type, the server's, and this
//    driver's own) and the browser tree's peak RSS; some variants also record a Chrome trace or a V8 CPU profile
//    of the page's worker (summarised here, saved under test-output/chromium-profile/ to open in DevTools).
//  - loop: the upload's transport alone, in a dedicated worker of an empty page under the page's CSP, against a
//    sink that reads and drops bodies (a child process): 1 MiB PUTs as Uint8Array or Blob bodies, 1 or 3 in
//    flight, with or without WebCrypto AES-GCM before each; time split into encrypt and fetch.
//   npm run build && node dist/test/bench/chromium-profile.js [variant… | loop]
// Knobs: PROFILE_MIB (file size, default 256), PROFILE_LOOP_MIB (default 256), PROFILE_RUNS (rounds, default 1),
// DATABASE_URL (PostgreSQL; default PGlite in a temp folder).
import { createServer } from 'node:http';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, CDPSession, Page } from 'puppeteer-core';
import { CHROMIUM, SAFER_PREFS, launchChromium, launchFirefox } from '../helpers/browser.js';
import { deterministicBlocks } from './baselines.js';
import { keysInit } from './pipeline.js';
import { treeCpu, treeMemory } from './browser.js';
import { CLI, MiB, f1, log, mbps, mib, now, sampleProc, spawnUntil, stopChild } from './util.js';

const BYTES = Number(process.env.PROFILE_MIB ?? 256) * MiB;
const LOOP_BYTES = Number(process.env.PROFILE_LOOP_MIB ?? 256) * MiB;
const RUNS = Number(process.env.PROFILE_RUNS ?? 1);
const OUT = 'test-output/chromium-profile';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
// server/app.ts's policy for the page, so the loop's worker runs under the same rules.
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Variant {
  /** puppeteer's network monitoring (CDP Network.enable on the page and on each worker): on by default. */
  network: boolean;
  /** Firefox ESR at Tor Browser's "Safer" prefs, without WebDriver BiDi network monitoring (as browser.ts measures it). */
  firefox?: boolean;
  /** A V8 CPU profile of the page's worker. */
  profileWorker?: boolean;
  /** A Chrome trace of every process. */
  trace?: boolean;
}

const VARIANTS: Record<string, Variant> = {
  default: { network: true },
  nonet: { network: false },
  'firefox-safer': { network: false, firefox: true },
  'default-profile': { network: true, profileWorker: true },
  'nonet-profile': { network: false, profileWorker: true },
  'default-trace': { network: true, trace: true },
  'nonet-trace': { network: false, trace: true },
};
const DEFAULT_CHOICE = ['default', 'nonet', 'firefox-safer', 'default-trace', 'nonet-trace', 'nonet-profile', 'loop'];

function launch(v: Variant): Promise<Browser> {
  return v.firefox ? launchFirefox(SAFER_PREFS, undefined, { unmonitored: true }) : launchChromium(undefined, { unmonitored: !v.network });
}

/** CPU seconds by process type between two treeCpu samples. */
function cpuByType(b0: Map<string, number>, b1: Map<string, number>): string {
  const by = new Map<string, number>();
  for (const [k, c] of b1) {
    const type = k.split(' ')[1]!.replace(/^content:.*/, 'content');
    by.set(type, (by.get(type) ?? 0) + c - (b0.get(k) ?? 0));
  }
  return [...by].filter(([, c]) => c >= 0.05).sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${f1(c)}`).join(', ');
}

// ---------------------------------------------------------------- trace and profile summaries
interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string; src_func?: string; chrome_mojo_event_info?: { mojo_interface_tag?: string } };
}

/** Self time of trace events by process / thread / event (a mojo message by its interface), largest first. */
function summarizeTrace(path: string, top = 10): string[] {
  const events = (JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const thread = new Map<string, string>();
  const proc = new Map<number, string>();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name') thread.set(`${e.pid}:${e.tid}`, e.args?.name ?? '?');
    if (e.ph === 'M' && e.name === 'process_name') proc.set(e.pid, e.args?.name ?? '?');
  }
  const byThread = new Map<string, (TraceEvent & { child: number })[]>();
  for (const e of events) {
    if (e.ph !== 'X' || e.dur === undefined) continue;
    const k = `${e.pid}:${e.tid}`;
    if (!byThread.has(k)) byThread.set(k, []);
    byThread.get(k)!.push({ ...e, child: 0 });
  }
  const self = new Map<string, number>();
  for (const [k, list] of byThread) {
    list.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const stack: (TraceEvent & { child: number })[] = [];
    for (const e of list) {
      while (stack.length && stack.at(-1)!.ts + stack.at(-1)!.dur! <= e.ts) stack.pop();
      if (stack.length) stack.at(-1)!.child += e.dur!;
      stack.push(e);
    }
    for (const e of list) {
      const what = e.args?.chrome_mojo_event_info?.mojo_interface_tag ? `${e.name} ${e.args.chrome_mojo_event_info.mojo_interface_tag}` : e.args?.src_func ? `${e.name} <${e.args.src_func}>` : e.name;
      const key = `${proc.get(e.pid) ?? e.pid} / ${thread.get(k) ?? k} / ${what}`;
      self.set(key, (self.get(key) ?? 0) + e.dur! - e.child);
    }
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time by function of a V8 CPU profile, largest first ("(idle)": the worker waiting). */
function summarizeProfile(p: CpuProfile, top = 8): string[] {
  const node = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const f = node.get(id)!.callFrame;
    const k = `${f.functionName || '(anonymous)'}${f.url ? ` ${f.url.split('/').pop()}:${f.lineNumber}` : ''}`;
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    self.set(k, (self.get(k) ?? 0) + dt);
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(0).padStart(3)} %  ${k}`);
}

// ---------------------------------------------------------------- part 1: the real page
async function workerSession(page: Page): Promise<CDPSession> {
  for (let i = 0; i < 100; i++) {
    const w = page.workers()[0];
    if (w) return w.client;
    await sleep(100);
  }
  throw new Error('the page started no worker');
}

async function pageRun(key: string, serverUrl: string, serverPid: number, file: string, round: number): Promise<void> {
  const v = VARIANTS[key]!;
  const browser = await launch(v);
  try {
    const pid = browser.process()!.pid!;
    const page = await browser.newPage();
    await page.goto(`${serverUrl}/`, { waitUntil: 'load' });
    await page.waitForSelector('#tip-form:not([hidden])');
    await page.type('#message', `profile ${key}`);
    await (await page.$('input#files'))!.uploadFile(file);
    await page.waitForFunction(() => document.querySelectorAll('#file-list li').length === 1);
    // The worker starts once the form is shown (client/web/main.ts); let it load libsodium before timing.
    const ws = v.firefox ? undefined : await workerSession(page);
    await sleep(v.firefox ? 5000 : 2000);
    const idle = treeMemory(pid).rss;
    if (v.profileWorker && ws) {
      await ws.send('Profiler.enable');
      await ws.send('Profiler.setSamplingInterval', { interval: 500 });
      await ws.send('Profiler.start');
    }
    const tracePath = join(OUT, `${key}-${round}.trace.json`);
    if (v.trace) await page.tracing.start({ path: tracePath, categories: ['toplevel', 'mojom', 'ipc', 'blink', 'loading', 'v8.execute', 'devtools.timeline', 'disabled-by-default-devtools.timeline'] });
    // What the browser tells the driver about each of the worker's requests while monitoring is on.
    const seen = { n: 0, postData: 0, entries: 0 };
    ws?.on('Network.requestWillBeSent', (e) => {
      seen.n++;
      seen.postData += e.request.postData?.length ?? 0;
      for (const x of e.request.postDataEntries ?? []) seen.entries += x.bytes?.length ?? 0;
    });
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, treeMemory(pid).rss)), 1000);
    const b0 = treeCpu(pid);
    const s0 = sampleProc(serverPid)!.cpuSeconds;
    const d0 = process.cpuUsage();
    const t = now();
    try {
      await page.click('#send');
      await page.waitForFunction(() => !document.getElementById('receipt')!.hidden || !document.getElementById('error')!.hidden, { timeout: 900_000, polling: 500 });
    } finally {
      clearInterval(sampler);
    }
    const seconds = (now() - t) / 1000;
    const d = process.cpuUsage(d0);
    const serverCpu = sampleProc(serverPid)!.cpuSeconds - s0;
    const b1 = treeCpu(pid);
    const err = await page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));
    if (err) throw new Error(`the page reported: ${err}`);
    log(`[page ${key}] ${mib(BYTES)} in ${f1(seconds)} s = ${f1(mbps(BYTES, seconds * 1000))} MB/s; CPU s: browser {${cpuByType(b0, b1)}}, server ${f1(serverCpu)}, driver (this node process) ${f1((d.user + d.system) / 1e6)}; browser RSS +${mib(peak - idle)} at peak`);
    if (v.network && ws) log(`   the worker's ${seen.n} Network.requestWillBeSent events carried ${f1(seen.postData / 1e6)} M chars of postData and ${f1(seen.entries / 1e6)} M base64 chars of postDataEntries`);
    if (v.trace) {
      await page.tracing.stop();
      log(`   trace ${tracePath}, largest self times:`);
      for (const l of summarizeTrace(tracePath)) log(`     ${l}`);
    }
    if (v.profileWorker && ws) {
      const { profile } = await ws.send('Profiler.stop');
      const path = join(OUT, `${key}-${round}.worker.cpuprofile`);
      writeFileSync(path, JSON.stringify(profile));
      log(`   worker CPU profile ${path}, self time:`);
      for (const l of summarizeProfile(profile as CpuProfile)) log(`     ${l}`);
    }
  } finally {
    await browser.close();
  }
}

// ---------------------------------------------------------------- part 2: the transport alone, against a sink
export interface LoopCommand {
  bytes: number;
  inflight: number;
  body: 'u8' | 'blob';
  encrypt: boolean;
}
export interface LoopAnswer {
  ms: number;
  encryptMs: number;
  fetchMs: number;
  error?: string;
}

/** The loop's worker, as plain JavaScript served by the sink (no bundle: nothing of the project runs in it). */
function loopWorker(): void {
  const g = globalThis as unknown as { onmessage: (e: MessageEvent<LoopCommand>) => void; postMessage(m: LoopAnswer): void };
  g.onmessage = async (e) => {
    const { bytes, inflight, body, encrypt } = e.data;
    const PIECE = 65536;
    const CHUNK = 1024 * 1024;
    try {
      const plain = new Uint8Array(CHUNK);
      for (let o = 0; o < CHUNK; o += PIECE) crypto.getRandomValues(plain.subarray(o, o + PIECE));
      const key = await crypto.subtle.importKey('raw', plain.slice(0, 32), { name: 'AES-GCM' }, false, ['encrypt']);
      const aad = new Uint8Array(32);
      let encryptMs = 0;
      let fetchMs = 0;
      let next = 0;
      const count = Math.ceil(bytes / CHUNK);
      const t = performance.now();
      const lane = async () => {
        while (next < count) {
          const i = next++;
          let chunk = plain;
          if (encrypt) {
            // As the envelope does: 64 KiB pieces, one awaited at a time, copied into a 1 MiB upload chunk.
            const t0 = performance.now();
            chunk = new Uint8Array(CHUNK);
            for (let o = 0; o < CHUNK; o += PIECE) {
              const iv = new Uint8Array(12);
              new DataView(iv.buffer).setUint32(4, i);
              new DataView(iv.buffer).setUint32(8, o);
              // 64 KiB less the tag in, 64 KiB out.
              chunk.set(new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, plain.subarray(o, o + PIECE - 16))), o);
            }
            encryptMs += performance.now() - t0;
          }
          const t1 = performance.now();
          const res = await fetch(`/sink?n=${i}`, { method: 'PUT', body: body === 'blob' ? new Blob([chunk]) : chunk, headers: { 'content-type': 'application/octet-stream' }, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
          await res.json();
          fetchMs += performance.now() - t1;
        }
      };
      await Promise.all(Array.from({ length: inflight }, lane));
      g.postMessage({ ms: performance.now() - t, encryptMs, fetchMs });
    } catch (err) {
      g.postMessage({ ms: 0, encryptMs: 0, fetchMs: 0, error: String(err) });
    }
  };
}

/** The sink, run as a child process (`--sink`) so its CPU is counted apart from the driver's. */
function sink(): void {
  const js = `(${loopWorker.toString()})();`;
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sink</title></head><body>sink</body></html>';
  const headers = { 'content-security-policy': CSP, 'cache-control': 'no-store' };
  const server = createServer((req, res) => {
    if (req.method === 'PUT') {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ received: n })));
    } else if (req.url === '/') res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (req.url === '/loop.js') res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(404, headers).end();
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`ready http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}\n`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

const LOOPS: (LoopCommand & { label: string })[] = [
  { label: 'Uint8Array body, 1 in flight', bytes: 0, inflight: 1, body: 'u8', encrypt: false },
  { label: 'Blob body, 1 in flight', bytes: 0, inflight: 1, body: 'blob', encrypt: false },
  { label: 'Uint8Array body, 3 in flight', bytes: 0, inflight: 3, body: 'u8', encrypt: false },
  { label: 'AES-GCM + Uint8Array body, 1 in flight', bytes: 0, inflight: 1, body: 'u8', encrypt: true },
  { label: 'AES-GCM + Blob body, 1 in flight', bytes: 0, inflight: 1, body: 'blob', encrypt: true },
];

async function loops(): Promise<void> {
  const here = fileURLToPath(import.meta.url);
  const { child, match } = await spawnUntil([here, '--sink'], {}, /ready (http:\/\/\S+)/);
  try {
    for (const key of ['default', 'nonet', 'firefox-safer']) {
      const browser = await launch(VARIANTS[key]!);
      try {
        const pid = browser.process()!.pid!;
        const page = await browser.newPage();
        await page.goto(`${match[1]}/`, { waitUntil: 'load' });
        for (const l of LOOPS) {
          const b0 = treeCpu(pid);
          const s0 = sampleProc(child.pid!)!.cpuSeconds;
          const cmd: LoopCommand = { bytes: LOOP_BYTES, inflight: l.inflight, body: l.body, encrypt: l.encrypt };
          const r = await page.evaluate(
            (c) =>
              new Promise<LoopAnswer>((resolve) => {
                const w = new Worker('/loop.js');
                w.onmessage = (e: MessageEvent<LoopAnswer>) => {
                  w.terminate();
                  resolve(e.data);
                };
                w.onerror = (e) => resolve({ ms: 0, encryptMs: 0, fetchMs: 0, error: e.message });
                w.postMessage(c);
              }),
            cmd,
          );
          if (r.error) throw new Error(`loop in ${key}: ${r.error}`);
          const n = Math.ceil(LOOP_BYTES / MiB);
          log(`[loop ${key}] ${l.label}: ${f1(mbps(LOOP_BYTES, r.ms))} MB/s; per 1 MiB chunk ${l.encrypt ? `encrypt ${f1(r.encryptMs / n)} ms + ` : ''}fetch ${f1(r.fetchMs / n)} ms${l.inflight > 1 ? ` (summed over ${l.inflight} lanes)` : ''}; CPU s: browser {${cpuByType(b0, treeCpu(pid))}}, sink ${f1(sampleProc(child.pid!)!.cpuSeconds - s0)}`);
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await stopChild(child);
  }
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const chosen = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT_CHOICE;
  for (const k of chosen) if (k !== 'loop' && !VARIANTS[k]) throw new Error(`unknown variant ${k}; known: ${Object.keys(VARIANTS).join(', ')}, loop`);
  mkdirSync(OUT, { recursive: true });
  log(`Chromium: ${CHROMIUM}; puppeteer-core network monitoring on ("default") or off ("nonet"); Firefox ESR at Safer without monitoring; load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}`);
  const pages = chosen.filter((k) => k !== 'loop');
  if (pages.length) {
    const { initCrypto } = await import('../../crypto/node.js');
    await initCrypto();
    const work = mkdtempSync(join(tmpdir(), 'tipline-chromium-profile-'));
    try {
      const keys = join(work, 'keys');
      const fingerprint = await keysInit(keys);
      mkdirSync(join(work, 'data'));
      const env = { TIPLINE_POW_DIFFICULTY: '0', DATABASE_URL: process.env.DATABASE_URL ?? '', TIPLINE_LOG_LEVEL: 'warn' };
      const { child, match } = await spawnUntil([CLI, 'serve', '--port', '0', '--data', join(work, 'data'), '--directory', join(keys, 'directory.json'), '--fingerprint', fingerprint], env, /listening on (http:\/\/\S+)/);
      try {
        const file = join(work, 'upload.bin');
        const fd = openSync(file, 'w', 0o600);
        for (const b of deterministicBlocks(BYTES)) writeSync(fd, b);
        closeSync(fd);
        log(`\n== ${mib(BYTES)} through the real page on tipline serve (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, PoW difficulty 0) ==`);
        for (let round = 0; round < RUNS; round++) for (const k of pages) await pageRun(k, match[1]!, child.pid!, file, round);
      } finally {
        await stopChild(child);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  if (chosen.includes('loop')) {
    log(`\n== the transport alone: ${mib(LOOP_BYTES)} as 1 MiB PUTs from a worker to a sink that drops them ==`);
    for (let round = 0; round < RUNS; round++) await loops();
  }
}

if (process.argv[2] === '--sink') sink();
else await main();
