// The in-browser side of test/bench/pow-rate.ts: crypto/pow.ts's solver as the page's worker runs it, on fresh
// tokens for a while, answering how many attempts it made.
import { solvePow } from '../../crypto/pow.js';

export interface PowRateCommand {
  inFlight: number;
  ms: number;
  difficulty: number;
}
export interface PowRateAnswer {
  attempts: number;
  solves: number;
  ms: number;
  error?: string;
}

const scope = globalThis as unknown as { postMessage(m: PowRateAnswer): void; onmessage: ((e: MessageEvent<PowRateCommand>) => void) | null };
let serial = 0;

async function run(c: PowRateCommand): Promise<PowRateAnswer> {
  const t0 = performance.now();
  let attempts = 0;
  let solves = 0;
  while (performance.now() - t0 < c.ms) {
    // 64 printable characters, as a real token: the HMAC key fits one SHA-256 block.
    const token = `${'T'.repeat(48)}${String(serial++).padStart(16, '0')}`;
    await solvePow(token, c.difficulty, { inFlight: c.inFlight, onAttempt: () => attempts++ });
    solves++;
  }
  return { attempts, solves, ms: performance.now() - t0 };
}

scope.onmessage = (e) => {
  run(e.data).then(scope.postMessage, (err: unknown) => scope.postMessage({ attempts: 0, solves: 0, ms: 0, error: String(err) }));
};
