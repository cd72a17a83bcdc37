// Where Firefox's memory goes while a file is submitted through the real page (issue 3's memory finding):
// per-process RSS of the browser tree (parent, the page's content process, socket...), sampled each second,
// then 10 s after the receipt. Runs the page twice at Tor Browser "Safer" prefs: as puppeteer-core launches
// Firefox by default, and with the automation's network instrumentation off (no WebDriver BiDi `network`
// subscription, no network data collectors: puppeteer-core 25 asks Firefox to keep request and response
// bodies, up to remote.network.maxTotalDataSize = 200 MB, in the parent process). Tor Browser runs no
// remote agent, so the second run is what a source's browser does.
//   npm run build && BENCH_UPLOAD_MIB=512 node dist/test/bench/memory-firefox.js
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { FIREFOX, SAFER_PREFS } from '../helpers/browser.js';
import { deterministicBlocks } from './baselines.js';
import { keysInit } from './pipeline.js';
import { CLI, MiB, f1, log, mbps, spawnUntil, stopChild, treePids } from './util.js';

const BYTES = Number(process.env.BENCH_UPLOAD_MIB ?? 512) * MiB;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const m = (b: number) => `${(b / MiB).toFixed(0)}`;

/** RSS by process of the tree under rootPid, keyed by Firefox's process type ("parent", "tab:<pid>", "socket"...). */
export function rssByProcess(rootPid: number): Map<string, number> {
  const tree = treePids(rootPid);
  const out = new Map<string, number>();
  for (const pid of tree) {
    try {
      // Processes started by Firefox's fork server have their arguments in one space-separated string.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/).filter(Boolean);
      const kind = pid === rootPid ? 'parent' : cmd.includes('-contentproc') || cmd.at(-1) === 'forkserver' ? cmd.at(-1)! : (cmd[0] ?? '?');
      const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      out.set(kind === 'tab' ? `tab:${pid}` : kind, rss);
    } catch {
      // gone
    }
  }
  return out;
}

const sum = (s: Map<string, number>) => [...s.values()].reduce((a, b) => a + b, 0);

async function run(label: string, launch: () => Promise<Browser>, serverUrl: string, file: string): Promise<string> {
  const browser = await launch();
  try {
    const pid = browser.process()!.pid!;
    const page = await browser.newPage();
    await page.goto(`${serverUrl}/`, { waitUntil: 'load' });
    await page.waitForSelector('#tip-form:not([hidden])');
    await sleep(4000); // worker loaded, libsodium ready
    const idle = rssByProcess(pid);
    await page.type('#message', 'memory');
    await (await page.$('input#files'))!.uploadFile(file);
    await page.waitForFunction(() => document.querySelectorAll('#file-list li').length === 1);
    const peak = new Map<string, number>();
    let peakTotal = 0;
    const timer = setInterval(() => {
      const s = rssByProcess(pid);
      for (const [k, v] of s) peak.set(k, Math.max(peak.get(k) ?? 0, v));
      peakTotal = Math.max(peakTotal, sum(s));
    }, 1000);
    const t = performance.now();
    try {
      await page.click('#send');
      await page.waitForFunction(() => !document.getElementById('receipt')!.hidden || !document.getElementById('error')!.hidden, { timeout: 600_000, polling: 500 });
    } finally {
      clearInterval(timer);
    }
    const seconds = (performance.now() - t) / 1000;
    const err = await page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));
    if (err) throw new Error(`the page reported: ${err}`);
    await sleep(10_000);
    const after = rssByProcess(pid);
    const delta = (s: Map<string, number>, k: string) => (s.get(k) ?? 0) - (idle.get(k) ?? 0);
    const top = [...peak.keys()].sort((a, b) => delta(peak, b) - delta(peak, a)).slice(0, 2);
    const line = `| ${label} | ${m(BYTES)} MiB | ${f1(mbps(BYTES, seconds * 1000))} MB/s | +${m(peakTotal - sum(idle))} | ${top.map((k) => `${k.replace(/:\d+$/, '')} +${m(delta(peak, k))}`).join(', ')} | +${m(sum(after) - sum(idle))} (parent +${m(delta(after, 'parent'))}) |`;
    log(line);
    return line;
  } finally {
    await browser.close();
  }
}

const work = mkdtempSync(join(tmpdir(), 'tipline-memory-'));
try {
  const { initCrypto } = await import('../../crypto/node.js');
  await initCrypto();
  const keys = join(work, 'keys');
  const fingerprint = await keysInit(keys);
  mkdirSync(join(work, 'data'));
  const env = { TIPLINE_POW_DIFFICULTY: '0', DATABASE_URL: '', TIPLINE_LOG_LEVEL: 'warn' };
  const { child, match } = await spawnUntil([CLI, 'serve', '--port', '0', '--data', join(work, 'data'), '--directory', join(keys, 'directory.json'), '--fingerprint', fingerprint], env, /listening on (http:\/\/\S+)/);
  const file = join(work, 'upload.bin');
  const fd = openSync(file, 'w', 0o600);
  for (const b of deterministicBlocks(BYTES)) writeSync(fd, b);
  closeSync(fd);
  try {
    log('| Firefox ESR at Safer, real page + server | file | rate | tree RSS peak over idle | biggest growers (peak) | 10 s after the receipt |');
    log('|---|---|---|---|---|---|');
    const base = { browser: 'firefox' as const, executablePath: FIREFOX, headless: true };
    await run('puppeteer default (BiDi network events + data collectors)', () => puppeteer.launch({ ...base, extraPrefsFirefox: { ...SAFER_PREFS } }), match[1]!, file);
    // A collector larger than the total cap is refused (puppeteer ignores the error), so none is installed.
    await run('instrumentation off (networkEnabled: false, no collectors)', () => puppeteer.launch({ ...base, networkEnabled: false, extraPrefsFirefox: { ...SAFER_PREFS, 'remote.network.maxTotalDataSize': 1000 } }), match[1]!, file);
  } finally {
    await stopChild(child);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
