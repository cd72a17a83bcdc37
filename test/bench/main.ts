// `npm run bench`: throughput figures for Tipline on this machine, each next to a baseline measured in the same
// run. Not a test: nothing passes or fails. Prints as it goes, then a table, also written to test-output/bench.md.
//
// Knobs (environment): BENCH_MIB (pipeline file size, default 256), BENCH_TIP_SECONDS (per small-tips run,
// default 10), BENCH_CONCURRENCY (default 8), BENCH_PG_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test),
// BENCH_PIPELINE_PG=0 to skip the 256 MiB pipeline on PostgreSQL, BENCH_PROFILE_DIR to CPU-profile the serve children,
// BENCH_BROWSER=0 to skip the web page in real browsers (browser.ts, which has its own knobs and runs alone too),
// BENCH_TOR=0 to skip the Tor-like link (tor.ts), BENCH_REPLIES=0 to skip replies (replies.ts, runs alone too). `node dist/test/bench/main.js tor` (`npm run bench:tor`) runs
// only the Tor-like link section; BENCH_CLI=<other build>/dist/client/cli/main.js runs the CLIs (and the server
// and page they serve) of another build, for before/after figures from one harness.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { initCrypto } from '../../crypto/node.js';
import { makeEnvelope, makeNewsroom } from '../helpers/fixtures.js';
import { aesGcm, diskReadCached, diskReadDirect, diskWrite, envelopeEncrypt, powSolve } from './baselines.js';
import { bareTips, tiplineTips, type LoadPlan, type TipsResult } from './tips.js';
import { keysInit, pipeline, type PipelineResult } from './pipeline.js';
import { browserBench } from './browser.js';
import { torBench } from './tor.js';
import { floodBench } from './flood.js';
import { powRateBench, serverCostBench } from './pow-rate.js';
import { repliesBench } from './replies.js';
import { deskBench } from './desk.js';
import { HAVE_GNU_TIME, MiB, f1, f2, log, mbps, mib, now, ratio } from './util.js';

const SIZE = Number(process.env.BENCH_MIB ?? 256) * MiB;
const PLAN: LoadPlan = {
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 8),
  warmupMs: 2000,
  durationMs: Number(process.env.BENCH_TIP_SECONDS ?? 10) * 1000,
  maxTips: 200_000,
};
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const started = now();

await initCrypto();

// ---------------------------------------------------------------- environment
async function pgReachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    const r = await c.query<{ v: string }>("select current_setting('server_version') as v");
    return r.rows[0]?.v ?? '?';
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => {});
  }
}

const created: string[] = [];
async function createDb(): Promise<string> {
  const name = `tipline_bench_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  created.push(name);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
async function dropDbs(): Promise<void> {
  if (created.length === 0) return;
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    for (const name of created.splice(0)) await c.query(`drop database if exists ${name} with (force)`);
  } finally {
    await c.end();
  }
}

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const pgVersion = await pgReachable();
const work = mkdtempSync(join(tmpdir(), 'tipline-bench-'));
const machine = `${cpu}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
log(`Tipline benchmark — ${machine}`);
log(`temp dir ${work}; PostgreSQL: ${pgVersion ? `${pgVersion} at ${ADMIN_URL.replace(/\/\/[^@]*@/, '//')}` : 'not reachable (PostgreSQL runs skipped)'}`);
log(`MB = 10^6 bytes; pipeline file ${mib(SIZE)}; peak RSS via ${HAVE_GNU_TIME ? '/usr/bin/time -v (clients) and /proc VmHWM (server)' : '/proc VmHWM sampling'}`);

interface Row {
  section: string;
  what: string;
  result: string;
  compared: string;
}
const rows: Row[] = [];
const row = (section: string, what: string, result: string, compared = '') => rows.push({ section, what, result, compared });

let cleanupDone = false;
async function cleanup(): Promise<void> {
  if (cleanupDone) return;
  cleanupDone = true;
  rmSync(work, { recursive: true, force: true });
  await dropDbs().catch((err: Error) => log(`warning: could not drop bench databases: ${err.message}`));
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

/** Prints the rows as aligned columns and writes them as a markdown table. */
function summary(file: string, intro: string[]): void {
  const total = (now() - started) / 1000;
  const md = [
    `### Tipline benchmark`,
    '',
    ...intro,
    '',
    '| Section | Measure | Result | Compared with |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.section} | ${r.what} | ${r.result} | ${r.compared} |`),
    '',
    `Run took ${f1(total)} s (\`npm run bench${file.includes('tor') ? ':tor' : ''}\`).`,
    '',
  ].join('\n');
  log('\n== Summary ==');
  const w = [0, 0, 0, 0];
  const cells = rows.map((r) => [r.section, r.what, r.result, r.compared]);
  for (const c of cells) c.forEach((s, i) => (w[i] = Math.max(w[i]!, s.length)));
  for (const c of cells) log(c.map((s, i) => s.padEnd(w[i]!)).join('  ').trimEnd());
  mkdirSync('test-output', { recursive: true });
  writeFileSync(file, md);
  log(`\nwritten: ${file}; total ${f1(total)} s`);
}

const TOR_INTRO = 'Tor-like link: a SOCKS5 front on loopback adding 250 ms each way, one round trip per new connection, 1 MB/s each way shared by all connections (test/bench/tor-link.ts); plain HTTP PUT/GET of the same bytes through it in the same run.';

if (process.argv[2] === 'tor') {
  try {
    await torBench({ work }, row);
    summary('test-output/bench-tor.md', [`${machine}. MB = 10^6 bytes.`, TOR_INTRO]);
  } finally {
    await cleanup();
  }
  process.exit(0);
}

try {
  // ---------------------------------------------------------------- 4. baselines
  log('\n== Baselines ==');
  const aes = await aesGcm(SIZE);
  log(`AES-256-GCM (WebCrypto, 64 KiB chunks, sequential): encrypt ${f1(aes.encryptMBps)} MB/s, decrypt ${f1(aes.decryptMBps)} MB/s`);
  const enc = await envelopeEncrypt(SIZE);
  log(`envelope encrypt-only (encryptEnvelope, 1 desk, ${mib(SIZE)} file, output discarded): ${f1(enc.MBps)} MB/s = ${ratio(enc.MBps, aes.encryptMBps)} AES-GCM`);
  const input = join(work, 'input.bin');
  const dw = diskWrite(input, SIZE);
  log(`disk write (${mib(SIZE)}, 1 MiB writes + fsync, ${work}): ${f1(dw.MBps)} MB/s`);
  const drCached = await diskReadCached(input, SIZE);
  const drDirect = diskReadDirect(input, SIZE);
  log(`disk read: ${f1(drCached)} MB/s from the page cache (as the pipeline reads it); ${f1(drDirect)} MB/s with O_DIRECT (dd)`);
  const pow = await powSolve(11, 20, 8000);
  log(`proof-of-work at the default difficulty 11: ${f1(pow.meanMs)} ms per solve (mean of ${pow.solves}; ${f1(pow.hashesPerSec)} attempts/s)`);

  row('Baselines', 'AES-256-GCM encrypt (WebCrypto, 64 KiB chunks)', `${f1(aes.encryptMBps)} MB/s`);
  row('Baselines', 'AES-256-GCM decrypt (WebCrypto, 64 KiB chunks)', `${f1(aes.decryptMBps)} MB/s`);
  row('Baselines', 'envelope encrypt-only (encryptEnvelope)', `${f1(enc.MBps)} MB/s`, `${ratio(enc.MBps, aes.encryptMBps)} AES-GCM`);
  row('Baselines', 'disk write 1 MiB blocks + fsync', `${f1(dw.MBps)} MB/s`);
  row('Baselines', 'disk read (page cache / O_DIRECT)', `${f1(drCached)} / ${f1(drDirect)} MB/s`);
  row('Baselines', 'PoW solve, difficulty 11 (crypto/pow.ts)', `${f1(pow.meanMs)} ms/solve`, `excluded from tips/s below`);

  // ---------------------------------------------------------------- 1. small tips per second
  log(`\n== Small tips accepted per second (powDifficulty 0: PoW cost excluded, see the solve time above) ==`);
  log(`one-chunk envelope per tip; GET /api/v1/pow + POST /api/v1/uploads?size=N&finish=1 via client/cli/api.ts`);
  log(`(one connection per tip, as one CLI run); concurrency ${PLAN.concurrency}, ${PLAN.warmupMs / 1000} s warm-up + ${PLAN.durationMs / 1000} s; server in a child process`);
  const newsroom = makeNewsroom();
  const tinyEnvelope = await makeEnvelope(newsroom, 'A short tip: the shipment leaves on Tuesday from dock 4.');
  const tipRuns: TipsResult[] = [];
  const show = (r: TipsResult) => {
    log(`${r.label}: ${f1(r.perSecond)} tips/s (${r.tips} in ${f1(r.seconds)} s, ${r.errors} errors; latency p50 ${f1(r.p50ms)} ms, p99 ${f1(r.p99ms)} ms; server CPU ${f1(r.serverCpuPct)} %, load-generator CPU ${f1(r.clientCpuPct)} %)`);
    if (r.firstError) log(`  first error: ${r.firstError}`);
  };
  const pgliteDir = join(work, 'tips-pglite');
  mkdirSync(pgliteDir);
  const pgliteRun = await tiplineTips('tipline on PGlite', pgliteDir, tinyEnvelope, PLAN);
  show(pgliteRun);
  tipRuns.push(pgliteRun);
  if (pgVersion) {
    const r = await tiplineTips('tipline on PostgreSQL', await createDb(), tinyEnvelope, PLAN);
    show(r);
    tipRuns.push(r);
  }
  const bare = await bareTips(tinyEnvelope, PLAN);
  show(bare);
  for (const r of tipRuns) log(`${r.label} = ${ratio(r.perSecond, bare.perSecond)} bare Fastify`);
  log(`envelope ${tinyEnvelope.length} bytes; a real source also pays ~${f1(pow.meanMs)} ms of PoW per tip on this CPU`);
  for (const r of tipRuns) row('Small tips', `${r.label} (p50 / p99 latency)`, `${f1(r.perSecond)} tips/s (${f1(r.p50ms)} / ${f1(r.p99ms)} ms)`, `${ratio(r.perSecond, bare.perSecond)} bare Fastify`);
  row('Small tips', 'bare Fastify, same 2 requests per "tip"', `${f1(bare.perSecond)} /s (${f1(bare.p50ms)} / ${f1(bare.p99ms)} ms)`, '');

  // ---------------------------------------------------------------- 2 + 3. the 256 MiB pipeline through the CLI
  log(`\n== ${mib(SIZE)} file: tipline submit -> tipline serve -> tipline fetch (real CLI processes, PoW difficulty 0) ==`);
  const keys = join(work, 'keys');
  const fp = await keysInit(keys);
  const pipes: PipelineResult[] = [];
  const targets: { label: string; url?: string }[] = [{ label: 'PGlite' }];
  if (pgVersion && process.env.BENCH_PIPELINE_PG !== '0') targets.push({ label: 'PostgreSQL', url: await createDb() });
  for (const t of targets) {
    const dir = join(work, `pipe-${t.label}`);
    mkdirSync(dir);
    const r = await pipeline({ label: t.label, work: dir, keys, fingerprint: fp, input, inputSha256: dw.sha256, ...(t.url ? { databaseUrl: t.url } : {}) });
    pipes.push(r);
    const up = mbps(SIZE, r.upload.wallMs);
    const down = mbps(SIZE, r.fetch.wallMs);
    const peakNote = r.upload.serverPeakIsPerStage ? '' : ' (cumulative: clear_refs not permitted)';
    log(`[${t.label}] envelope ${r.envelopeBytes} bytes (${f2(r.envelopeBytes / SIZE)}× the file); server idle RSS ${mib(r.serverIdleBytes)}; fetched copy ${r.verified ? 'matches the input (sha256)' : 'DOES NOT MATCH the input'}`);
    log(`[${t.label}] upload (submit): ${f1(r.upload.wallMs / 1000)} s = ${f1(up)} MB/s = ${ratio(up, aes.encryptMBps)} AES-GCM, ${ratio(up, enc.MBps)} envelope-encrypt, ${ratio(up, dw.MBps)} disk write`);
    log(`   client peak RSS ${mib(r.upload.client.peakRssBytes)}, CPU ${f1(r.upload.client.cpuSeconds)} s; server peak RSS ${mib(r.upload.serverPeakBytes)}${peakNote}, CPU ${f1(r.upload.serverCpuSeconds)} s`);
    log(`[${t.label}] download+decrypt (fetch): ${f1(r.fetch.wallMs / 1000)} s = ${f1(down)} MB/s = ${ratio(down, aes.decryptMBps)} AES-GCM decrypt, ${ratio(down, dw.MBps)} disk write, ${ratio(down, drCached)} cached read`);
    log(`   client peak RSS ${mib(r.fetch.client.peakRssBytes)}, CPU ${f1(r.fetch.client.cpuSeconds)} s; server peak RSS ${mib(r.fetch.serverPeakBytes)}${peakNote}, CPU ${f1(r.fetch.serverCpuSeconds)} s`);
    log(`   fixed costs included above: message-only submit ${f1(r.fixedSubmit.wallMs / 1000)} s, fetch of one tiny tip ${f1(r.fixedFetch.wallMs / 1000)} s (node start-up, key unlock, listing)`);
    log(`   fixed-cost processes' peak RSS: submit ${mib(r.fixedSubmit.peakRssBytes)}, fetch ${mib(r.fixedFetch.peakRssBytes)} (the desk key's argon2id unlock alone takes 256 MiB)`);
    row(`${mib(SIZE)} via CLI, ${t.label}`, 'upload (tipline submit --file)', `${f1(up)} MB/s (${f1(r.upload.wallMs / 1000)} s)`, `${ratio(up, aes.encryptMBps)} AES-GCM, ${ratio(up, enc.MBps)} envelope-encrypt, ${ratio(up, dw.MBps)} disk write`);
    row(`${mib(SIZE)} via CLI, ${t.label}`, 'upload peak RSS client / server', `${mib(r.upload.client.peakRssBytes)} / ${mib(r.upload.serverPeakBytes)}`, `CPU ${f1(r.upload.client.cpuSeconds)} s / ${f1(r.upload.serverCpuSeconds)} s`);
    row(`${mib(SIZE)} via CLI, ${t.label}`, 'download+decrypt (tipline fetch)', `${f1(down)} MB/s (${f1(r.fetch.wallMs / 1000)} s)`, `${ratio(down, aes.decryptMBps)} AES-GCM decrypt, ${ratio(down, dw.MBps)} disk write`);
    row(`${mib(SIZE)} via CLI, ${t.label}`, 'fetch peak RSS client / server', `${mib(r.fetch.client.peakRssBytes)} / ${mib(r.fetch.serverPeakBytes)}`, `CPU ${f1(r.fetch.client.cpuSeconds)} s / ${f1(r.fetch.serverCpuSeconds)} s; a 1-tip fetch peaks at ${mib(r.fixedFetch.peakRssBytes)}`);
    row(`${mib(SIZE)} via CLI, ${t.label}`, 'server idle RSS', mib(r.serverIdleBytes), r.verified ? 'fetched copy = input (sha256)' : 'fetched copy DIFFERS from input');
  }

  // ---------------------------------------------------------------- 5. the web page in real browsers
  if (process.env.BENCH_BROWSER !== '0') {
    const onPg = !!pgVersion;
    const cli = pipes.find((p) => p.db === (onPg ? 'PostgreSQL' : 'PGlite'));
    await browserBench(
      {
        work,
        keys,
        fingerprint: fp,
        ...(onPg ? { databaseUrl: await createDb(), dbLabel: 'PostgreSQL' } : {}),
        ...(cli ? { cliUploadMBps: mbps(SIZE, cli.upload.wallMs) } : {}),
      },
      row,
    );
  } else {
    log('\n(BENCH_BROWSER=0: the web page in real browsers skipped)');
  }

  if (process.env.BENCH_POW !== '0') await powRateBench(row).then(() => serverCostBench(row)); // PoW: Firefox at Safer vs native Node

  // ---------------------------------------------------------------- 6. over a Tor-like link
  if (process.env.BENCH_TOR !== '0') await torBench({ work, keys, fingerprint: fp }, row);
  else log('\n(BENCH_TOR=0: the Tor-like link skipped)');
  if (process.env.BENCH_FLOOD !== '0') await floodBench({ work, keys, fingerprint: fp }, row); // test/bench/flood.ts
  if (process.env.BENCH_REPLIES !== '0') await repliesBench({ work }, row); // issue 8: the reply list, finding one's own, a visit
  if (process.env.BENCH_DESK !== '0') await deskBench({ work }, row); // issue 10: the desk app's store, 1,000 threads
  if (process.env.BENCH_DESK_TOR !== '0') await (await import('./desk-tor.js')).deskTorBench({ work }, row); // the desk's sync over the Tor-like link (desk-tor.ts)

  // ---------------------------------------------------------------- table
  summary('test-output/bench.md', [
    `${machine}. MB = 10^6 bytes. Loopback only; PoW difficulty 0 in the throughput runs (a difficulty-11 solve costs ${f1(pow.meanMs)} ms here).`,
    `Small tips: concurrency ${PLAN.concurrency}, ${PLAN.durationMs / 1000} s per run, the CLI's HTTP client. Pipeline: real \`tipline\` processes; wall time includes node start-up and key unlock.`,
    `Browsers (unless BENCH_BROWSER=0): Debian's Chromium and Firefox ESR via puppeteer-core, headless; in-browser crypto runs in a Worker under the page's CSP; time-capped runs say how much they did. Page upload: the real page on \`tipline serve\` (PoW difficulty 0); memory is the browser's whole process tree (RSS sums shared pages once per process, PSS splits them).`,
    TOR_INTRO,
  ]);
} finally {
  await cleanup();
}
