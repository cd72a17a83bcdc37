// Small tips per second against a server child, driven through the CLI's own HTTP client (client/cli/api.ts:
// a fresh TCP connection per request, as `tipline submit` does), and the same load against a bare Fastify route.
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Api } from '../../client/cli/api.js';
import { request, json } from '../../client/cli/http.js';
import { utf8Encode } from '../../crypto/bytes.js';
import { solvePow } from '../../crypto/pow.js';
import { now, quantile, sampleProc, spawnUntil, stopChild } from './util.js';

const SERVER = fileURLToPath(new URL('./tip-server.js', import.meta.url));

export interface TipsResult {
  label: string;
  tips: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  serverCpuPct: number;
  clientCpuPct: number;
  firstError?: string;
}

export interface LoadPlan {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  maxTips: number;
}

/** One tip: GET pow, POST /api/v1/uploads, PUT chunk 0 ?finish=1 (the CLI's path for a one-chunk envelope). */
function tiplineTip(api: Api, envelope: Uint8Array): () => Promise<void> {
  return async () => {
    const c = await api.pow();
    const u = await api.createUpload({ token: c.token, nonce: solvePow(c.token, c.difficulty) }, envelope.length);
    if (u.chunk_count !== 1) throw new Error(`expected a one-chunk upload, got ${u.chunk_count}`);
    const r = await api.putChunk(u.id, 0, envelope, true);
    if (!('tip_id' in r)) throw new Error('no receipt');
  };
}

/** The same three requests, with the same bodies, against one POST route that answers {ok:true}. */
function bareTip(base: URL, envelope: Uint8Array): () => Promise<void> {
  const createBody = utf8Encode(JSON.stringify({ pow: { token: toB64(randomBytes(42)), nonce: '0' }, size: envelope.length }));
  return async () => {
    await json(await request(base, { method: 'POST', proxy: undefined }), 'bare 1');
    await json(await request(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: createBody, proxy: undefined }), 'bare 2');
    await json(await request(base, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: envelope, proxy: undefined }), 'bare 3');
  };
}

const toB64 = (b: Buffer): string => b.toString('base64url');

async function drive(label: string, tip: () => Promise<void>, plan: LoadPlan, serverPid: number): Promise<TipsResult> {
  // Warm-up: JIT, connection paths, database caches.
  const warmEnd = now() + plan.warmupMs;
  await Promise.all(Array.from({ length: plan.concurrency }, async () => {
    while (now() < warmEnd) await tip().catch(() => {});
  }));

  const latencies: number[] = [];
  let errors = 0;
  let started = 0;
  let firstError: string | undefined;
  const s0 = sampleProc(serverPid);
  const c0 = process.cpuUsage();
  const t0 = now();
  const end = t0 + plan.durationMs;
  await Promise.all(Array.from({ length: plan.concurrency }, async () => {
    while (now() < end && started < plan.maxTips) {
      started++;
      const a = now();
      try {
        await tip();
        latencies.push(now() - a);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  }));
  const seconds = (now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const s1 = sampleProc(serverPid);
  latencies.sort((x, y) => x - y);
  return {
    label,
    tips: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50ms: quantile(latencies, 0.5),
    p99ms: quantile(latencies, 0.99),
    serverCpuPct: s0 && s1 ? ((s1.cpuSeconds - s0.cpuSeconds) / seconds) * 100 : NaN,
    clientCpuPct: ((c1.user + c1.system) / 1e6 / seconds) * 100,
    ...(firstError ? { firstError } : {}),
  };
}

export async function tiplineTips(label: string, where: string, envelope: Uint8Array, plan: LoadPlan): Promise<TipsResult> {
  const { child, match } = await spawnUntil([SERVER, 'tipline', where], {}, /ready (http:\S+)/);
  try {
    return await drive(label, tiplineTip(new Api(new URL(match[1]!)), envelope), plan, child.pid!);
  } finally {
    await stopChild(child);
  }
}

export async function bareTips(envelope: Uint8Array, plan: LoadPlan): Promise<TipsResult> {
  const { child, match } = await spawnUntil([SERVER, 'bare'], {}, /ready (http:\S+)/);
  try {
    return await drive('bare Fastify (3 POSTs)', bareTip(new URL(`${match[1]!}/`), envelope), plan, child.pid!);
  } finally {
    await stopChild(child);
  }
}
