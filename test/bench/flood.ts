// The flood: does the tip line stay up for real sources while someone sends junk as fast as they can? A `tipline
// serve` child (PGlite in a temp folder, or PostgreSQL with DATABASE_URL), real tips sent by the built `tipline
// submit` in a loop, first alone and then while a junk child floods the same server: opens claiming the largest
// size (each with a solved proof-of-work), bodies trickled a byte at a time, bad and reused proofs-of-work,
// unknown ids, malformed JSON and malformed HTTP. Reports the real tips' success rate and p50/p99 latency in both
// runs, the server's peak RSS (/proc VmHWM) and every 5xx seen. Figures only: nothing here passes or fails.
//
// Called by main.ts (BENCH_FLOOD=0 skips it); runs alone too: `node dist/test/bench/flood.js`.
// Knobs: BENCH_FLOOD_SECONDS (each run, default 20), BENCH_FLOOD_SOURCES (submit loops at once, default 2),
// BENCH_FLOOD_RETRY_FOR (a source's patience, the submit's --retry-for, default 30 s), BENCH_FLOOD_TRICKLE (slow
// bodies held open, default 100), BENCH_FLOOD_LOOPS (junk loops, default 12), BENCH_FLOOD_POW (the server's
// TIPLINE_POW_DIFFICULTY; default: the server's own), DATABASE_URL (PostgreSQL instead of PGlite).
import net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { initCrypto } from '../../crypto/node.js';
import { solvePow } from '../../crypto/pow.js';
import { envelopeLength, MAGIC } from '../../crypto/envelope/format.js';
import { CLI, f1, log, mib, now, quantile, runMeasured, sampleProc, spawnUntil, stopChild } from './util.js';
import { keysInit } from './pipeline.js';
import { seedPglite } from '../helpers/databases.js';

const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 20);
const SOURCES = Number(process.env.BENCH_FLOOD_SOURCES ?? 2);
const RETRY_FOR = Number(process.env.BENCH_FLOOD_RETRY_FOR ?? 30);
const TRICKLE = Number(process.env.BENCH_FLOOD_TRICKLE ?? 100);
const LOOPS = Number(process.env.BENCH_FLOOD_LOOPS ?? 12);
const HERE = fileURLToPath(import.meta.url);

type Row = (section: string, what: string, result: string, compared?: string) => void;

interface SourcesResult {
  sent: number;
  accepted: number;
  p50ms: number;
  p99ms: number;
  firstError?: string;
}

/** `tipline submit` in SOURCES loops for `ms`; each tip's latency is the whole command (node start-up included). */
async function sources(url: string, fingerprint: string, work: string, ms: number): Promise<SourcesResult> {
  const latencies: number[] = [];
  let sent = 0;
  let firstError: string | undefined;
  const end = now() + ms;
  await Promise.all(
    Array.from({ length: SOURCES }, async (_, loop) => {
      for (let i = 0; now() < end; i++) {
        sent++;
        const m = await runMeasured(
          [CLI, 'submit', '--server', url, '--fingerprint', fingerprint, '--retry-for', String(RETRY_FOR), '-m', `flood bench tip ${loop}.${i}: ${randomBytes(12).toString('hex')}`],
          { TIPLINE_PROGRESS: '0' },
          join(work, `submit-${loop}.time`),
          (RETRY_FOR + 60) * 1000,
        ).catch((err: Error) => ({ code: -1, stderr: err.message, wallMs: NaN }));
        if (m.code === 0) latencies.push(m.wallMs);
        else firstError ??= m.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { sent, accepted: latencies.length, p50ms: quantile(latencies, 0.5), p99ms: quantile(latencies, 0.99), ...(firstError ? { firstError } : {}) };
}

export async function floodBench(o: { work: string; keys?: string; fingerprint?: string }, row: Row): Promise<void> {
  log(`\n== Flood: real tips (tipline submit, ${SOURCES} at a time, --retry-for ${RETRY_FOR}) alone, then under a junk flood; ${SECONDS} s each ==`);
  log(`load average at the start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores (figures from a busy machine are not comparable)`);
  const work = join(o.work, 'flood');
  mkdirSync(work, { recursive: true });
  const keys = o.keys ?? join(work, 'keys');
  const fingerprint = o.fingerprint ?? (await keysInit(keys));
  const env: Record<string, string> = { TIPLINE_LOG_LEVEL: 'warn', ...(process.env.BENCH_FLOOD_POW ? { TIPLINE_POW_DIFFICULTY: process.env.BENCH_FLOOD_POW } : {}) };
  const db = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
  // A copy of the test suite's migrated PGlite template: initdb on a busy machine can take a minute.
  if (!process.env.DATABASE_URL) await seedPglite(join(work, 'data', 'pg'));
  const { child, match } = await spawnUntil([CLI, 'serve', '--port', '0', '--data', join(work, 'data'), '--directory', join(keys, 'directory.json')], env, /listening on (http:\/\/\S+)/, 180_000);
  const url = match[1]!;
  const pid = child.pid!;
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, sampleProc(pid)?.hwmBytes ?? 0)), 200);
  try {
    const idle = sampleProc(pid);
    const calm = await sources(url, fingerprint, work, SECONDS * 1000);
    const calmPeak = sampleProc(pid)?.hwmBytes ?? NaN;
    log(`without flood: ${calm.accepted}/${calm.sent} tips accepted; p50 ${f1(calm.p50ms)} ms, p99 ${f1(calm.p99ms)} ms; server RSS ${mib(idle?.rssBytes ?? NaN)} idle, peak ${mib(calmPeak)}`);
    if (calm.firstError) log(`  first failure: ${calm.firstError}`);

    // The junk child starts first and runs a little longer than the sources, so every real tip meets the flood.
    const junk = spawnUntil([HERE, 'junk', url, String(SECONDS + 5)], {}, /^junk started/m);
    const { child: junkChild, output } = await junk;
    let junkOut = '';
    junkChild.stdout!.on('data', (d: Buffer) => (junkOut += d.toString()));
    const flooded = await sources(url, fingerprint, work, SECONDS * 1000);
    const junkDone = new Promise<void>((r) => (junkChild.exitCode !== null ? r() : junkChild.once('exit', () => r())));
    await Promise.race([junkDone, new Promise((r) => setTimeout(r, 30_000))]);
    await stopChild(junkChild);
    const report = /^junk result (\{.*\})$/m.exec(junkOut)?.[1];
    const j = report ? (JSON.parse(report) as JunkResult) : undefined;
    const after = sampleProc(pid);
    peak = Math.max(peak, after?.hwmBytes ?? 0);
    const pct = (r: SourcesResult) => (r.sent === 0 ? NaN : (100 * r.accepted) / r.sent);
    log(`under flood:   ${flooded.accepted}/${flooded.sent} tips accepted (${f1(pct(flooded))} %); p50 ${f1(flooded.p50ms)} ms, p99 ${f1(flooded.p99ms)} ms; server peak RSS ${mib(peak)}, alive: ${child.exitCode === null ? 'yes' : `no (exit ${child.exitCode})`}`);
    if (flooded.firstError) log(`  first failure: ${flooded.firstError}`);
    if (j) {
      log(`junk sent: ${j.requests} requests (${f1(j.requests / j.seconds)}/s) + ${j.trickles} trickled bodies; 5xx answers: ${j.fiveXX} (${JSON.stringify(j.fiveXXByCode)}); answers by status: ${JSON.stringify(j.byStatus)}`);
      log(`  large opens accepted: ${j.largeOpensAccepted} of ${j.largeOpens} (each claims ${mib(j.largeSize)}); trickled bodies still open at the end: ${j.trickleOpenAtEnd}`);
    } else log(`junk child gave no report:\n${output().slice(-1000)}${junkOut.slice(-1000)}`);
    const section = `Flood (${db}, ${SECONDS} s)`;
    row(section, 'real tips accepted, no flood (p50 / p99)', `${calm.accepted}/${calm.sent} (${f1(calm.p50ms)} / ${f1(calm.p99ms)} ms)`, `tipline submit, ${SOURCES} at a time`);
    row(section, 'real tips accepted under flood (p50 / p99)', `${flooded.accepted}/${flooded.sent} = ${f1(pct(flooded))} % (${f1(flooded.p50ms)} / ${f1(flooded.p99ms)} ms)`, 'target >= 99 %');
    row(section, 'server peak RSS (VmHWM)', `${mib(peak)}`, `idle ${mib(idle?.rssBytes ?? NaN)}`);
    row(section, '5xx answers to the junk', j ? `${j.fiveXX} ${JSON.stringify(j.fiveXXByCode)}` : 'n/a', j ? `${j.requests} junk requests, ${j.trickles} slow bodies` : '');
  } finally {
    clearInterval(poll);
    await stopChild(child);
  }
}

// ---------------------------------------------------------------- the junk child

interface JunkResult {
  seconds: number;
  requests: number;
  byStatus: Record<string, number>;
  fiveXX: number;
  fiveXXByCode: Record<string, number>;
  largeOpens: number;
  largeOpensAccepted: number;
  largeSize: number;
  trickles: number;
  trickleOpenAtEnd: number;
}

/** One request on its own connection; resolves with the status (0: closed without one) and the body's start. */
function send(url: URL, head: string, body: Uint8Array = new Uint8Array(0)): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: url.hostname, port: Number(url.port) });
    let got = Buffer.alloc(0);
    const done = (status: number) => {
      s.destroy();
      clearTimeout(timer);
      resolve({ status, text: got.toString('latin1') });
    };
    const timer = setTimeout(() => done(-1), 30_000);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from(head, 'latin1'), body])));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got.toString('latin1'));
      const end = got.indexOf('\r\n\r\n');
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(got.toString('latin1'))?.[1] ?? 0);
      if (m && end >= 0 && got.length >= end + 4 + len) done(Number(m[1]));
    });
    s.on('error', () => done(0));
    s.on('close', () => done(0));
  });
}

async function junk(base: string, seconds: number): Promise<void> {
  await initCrypto();
  const url = new URL(base);
  const host = url.host;
  const r: JunkResult = { seconds, requests: 0, byStatus: {}, fiveXX: 0, fiveXXByCode: {}, largeOpens: 0, largeOpensAccepted: 0, largeSize: 0, trickles: 0, trickleOpenAtEnd: 0 };
  const note = (a: { status: number; text: string }) => {
    r.requests++;
    r.byStatus[a.status] = (r.byStatus[a.status] ?? 0) + 1;
    if (a.status >= 500) {
      r.fiveXX++;
      const code = /"code":"([A-Z_]+)"/.exec(a.text)?.[1] ?? `HTTP ${a.status}`;
      r.fiveXXByCode[code] = (r.fiveXXByCode[code] ?? 0) + 1;
    }
    return a;
  };
  const challenge = async () => {
    const a = note(await send(url, `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`));
    const c = JSON.parse(a.text.slice(a.text.indexOf('\r\n\r\n') + 4) || '{}') as { token?: string; difficulty?: number; chunk_size?: number };
    if (!c.token) return undefined;
    return { token: c.token, nonce: await solvePow(c.token, c.difficulty ?? 0), chunkSize: c.chunk_size ?? 1024 * 1024 };
  };
  // The largest size that is an envelope length (1 stanza) under 2.5 GiB, and a first chunk with a valid header.
  let large = 0;
  for (let c = 2.4 * 1024 ** 3; large === 0 || large > 2.5 * 1024 ** 3; c -= 16 * 1024 ** 2) large = envelopeLength(1, Math.floor(c));
  r.largeSize = large;
  const chunk0 = (n: number) => {
    const b = new Uint8Array(randomBytes(n));
    b.set(MAGIC, 0);
    b[7] = 2;
    b[8] = 1;
    return b;
  };
  const openHead = (size: number, p: { token: string; nonce: string }, len: number, extra = '') =>
    `POST /api/v1/uploads?size=${size}${extra} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\ncontent-type: application/octet-stream\r\ntipline-pow-token: ${p.token}\r\ntipline-pow-nonce: ${p.nonce}\r\ncontent-length: ${len}\r\n\r\n`;
  let uploadId: string | undefined;
  let spent: { token: string; nonce: string } | undefined;
  const end = now() + seconds * 1000;
  const id = () => randomBytes(20).toString('hex').replace(/[^a-z2-7]/g, 'a').slice(0, 26).padEnd(26, 'a');

  const kinds: (() => Promise<void>)[] = [
    // Opens claiming the largest size, each paid for with a real proof-of-work.
    async () => {
      const p = await challenge();
      if (!p) return;
      r.largeOpens++;
      const a = note(await send(url, openHead(large, p, p.chunkSize), chunk0(p.chunkSize)));
      if (a.status === 201) {
        r.largeOpensAccepted++;
        uploadId = /"id":"([a-z2-7]{26})"/.exec(a.text)?.[1] ?? uploadId;
        spent = p;
      }
    },
    // Bad proofs-of-work, and a spent one again with another body.
    async () => {
      const token = randomBytes(42).toString('base64url');
      note(await send(url, openHead(65673, { token, nonce: String(Math.floor(Math.random() * 1e6)) }, 65673), chunk0(65673)));
      if (spent) note(await send(url, openHead(large, spent, 1024 * 1024), chunk0(1024 * 1024)));
    },
    // Unknown ids.
    async () => {
      note(await send(url, `GET /api/v1/uploads/${id()} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`));
      note(await send(url, `PUT /api/v1/uploads/${id()}/chunks/1 HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n`, new Uint8Array(1000)));
      note(await send(url, `POST /api/v1/uploads/${id()}/finish HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`));
    },
    // Malformed JSON and malformed HTTP.
    async () => {
      const json = '{"size": 1e400, "x": [' + '['.repeat(500);
      note(await send(url, `POST /api/v1/uploads?size=65673 HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n${json}`));
      note(await send(url, `POST /api/v1/uploads/${id()}/finish HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 5\r\n\r\n{"a":`));
      note(await send(url, `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n`));
      note(await send(url, `\x00\x01 junk ${randomBytes(8).toString('hex')}\r\n\r\n`));
    },
  ];

  // Slow bodies: a chunk's headers, then a byte a second, holding a body slot each (on an upload a large open
  // made, or an unknown id when none was accepted).
  const trickles: net.Socket[] = [];
  const trickler = setInterval(() => {
    for (const s of trickles) if (!s.destroyed) s.write('x');
  }, 1000);
  const startTrickle = () => {
    const s = net.connect({ host: url.hostname, port: Number(url.port) });
    s.on('error', () => {});
    s.on('data', (d: Buffer) => note({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString('latin1'))?.[1] ?? 0), text: d.toString('latin1') }));
    s.on('connect', () => s.write(`PUT /api/v1/uploads/${uploadId ?? id()}/chunks/1 HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${1024 * 1024}\r\n\r\n`));
    trickles.push(s);
    r.trickles++;
  };

  process.stdout.write('junk started\n');
  await Promise.all([
    ...Array.from({ length: LOOPS }, async (_, i) => {
      while (now() < end) await kinds[i % kinds.length]!().catch(() => {});
    }),
    (async () => {
      // Wait briefly for a large open to give an upload id, then hold TRICKLE slow bodies, replacing closed ones.
      await new Promise((res) => setTimeout(res, 2000));
      while (now() < end) {
        for (let i = trickles.filter((s) => !s.destroyed).length; i < TRICKLE; i++) startTrickle();
        await new Promise((res) => setTimeout(res, 1000));
      }
    })(),
  ]);
  clearInterval(trickler);
  r.trickleOpenAtEnd = trickles.filter((s) => !s.destroyed).length;
  for (const s of trickles) s.destroy();
  process.stdout.write(`junk result ${JSON.stringify(r)}\n`);
  process.exit(0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === 'junk') {
    await junk(process.argv[3]!, Number(process.argv[4]));
  } else {
    const work = mkdtempSync(join(tmpdir(), 'tipline-flood-'));
    const rows: string[] = [];
    try {
      await floodBench({ work }, (section, what, result, compared = '') => rows.push(`${section} | ${what} | ${result} | ${compared}`));
      log('\n== Summary ==');
      for (const l of rows) log(l);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}
