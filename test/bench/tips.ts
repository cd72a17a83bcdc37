// Small tips per second against a server child, driven through the CLI's own HTTP client (client/cli/api.ts:
// one connection per tip, as one `tipline submit` run has), and the same load against a bare Fastify route.
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Api } from '../../client/cli/api.js';
import { Connection } from '../../client/cli/http.js';
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

/** One tip on a new connection: GET pow, then POST /api/v1/uploads?size=N&finish=1 with the whole envelope
 * (the CLI's path for a one-chunk envelope). */
function tiplineTip(base: URL, envelope: Uint8Array): () => Promise<void> {
  return async () => {
    const api = new Api(base);
    try {
      const c = await api.source.pow();
      const r = await api.source.open({ token: c.token, nonce: await solvePow(c.token, c.difficulty) }, envelope.length, envelope, c.chunk_size);
      if (!('tip_id' in r)) throw new Error('no receipt');
    } finally {
      await api.close();
    }
  };
}

/** The same two requests, with the same bodies and headers, against one POST route that answers {ok:true}. */
function bareTip(base: URL, envelope: Uint8Array): () => Promise<void> {
  const pow = { 'tipline-pow-token': toB64(randomBytes(42)), 'tipline-pow-nonce': '0' };
  return async () => {
    const c = new Connection(base, undefined);
    try {
      for (const req of [{ path: '/' }, { path: `/?size=${envelope.length}&finish=1`, headers: { 'content-type': 'application/octet-stream', ...pow }, body: envelope }]) {
        const a = await c.send({ method: 'POST', idempotent: true, ...req }, 64 * 1024);
        if (a.status !== 200) throw new Error(`bare: HTTP ${a.status}`);
      }
    } finally {
      await c.close();
    }
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
    return await drive(label, tiplineTip(new URL(match[1]!), envelope), plan, child.pid!);
  } finally {
    await stopChild(child);
  }
}

export async function bareTips(envelope: Uint8Array, plan: LoadPlan): Promise<TipsResult> {
  const { child, match } = await spawnUntil([SERVER, 'bare'], {}, /ready (http:\S+)/);
  try {
    return await drive('bare Fastify (2 POSTs)', bareTip(new URL(`${match[1]!}/`), envelope), plan, child.pid!);
  } finally {
    await stopChild(child);
  }
}
