// How long the properties run. In CI (the default) every property has a fixed seed, a small number of runs and
// a time cap, so a failure replays exactly and a file stays well under a minute on a shared 2-core machine.
// `npm run fuzz` (test/fuzz/run.ts) runs the same properties for as long as it is told:
//
//   FUZZ_SECONDS=S   run each property for S seconds (as many runs as fit), instead of the CI count
//   FUZZ_RUNS=N      run each property N times (with FUZZ_SECONDS: whichever ends first)
//   FUZZ_SEED=N      the seed (CI: fixed; long runs: drawn and printed); with FUZZ_PATH, replays one counterexample
//   FUZZ_PATH=P      the counterexample path fast-check printed with a failure
//   FUZZ_ONLY=TEXT   only the properties whose name contains TEXT
import fc from 'fast-check';
import type { Test } from 'tap';

/** The CI seed: any fixed number; changing it is changing which inputs CI tries. */
export const CI_SEED = 20261126;

const env = process.env;
const seconds = Number(env.FUZZ_SECONDS);
const runs = Number(env.FUZZ_RUNS);
export const LONG = Number.isFinite(seconds) && seconds > 0 ? true : Number.isFinite(runs) && runs > 0;
export const SEED = env.FUZZ_SEED !== undefined && env.FUZZ_SEED !== '' ? Number(env.FUZZ_SEED) : LONG ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : CI_SEED;

/** fast-check's parameters for one property; `ciRuns` and `ciMs` are its budget in CI. */
export function parameters<T>(ciRuns: number, ciMs: number): fc.Parameters<T> {
  const p: fc.Parameters<T> = { seed: SEED, markInterruptAsFailure: false };
  if (env.FUZZ_PATH) p.path = env.FUZZ_PATH;
  if (!LONG) return { ...p, numRuns: ciRuns, interruptAfterTimeLimit: ciMs };
  return {
    ...p,
    numRuns: Number.isFinite(runs) && runs > 0 ? runs : Number.MAX_SAFE_INTEGER,
    ...(Number.isFinite(seconds) && seconds > 0 ? { interruptAfterTimeLimit: seconds * 1000 } : {}),
  };
}

/**
 * Runs one property as a tap assertion: a comment with its seed, run count and time (so a long run reports what it
 * covered), and on failure fast-check's report, which names the counterexample, the seed and the path to replay.
 */
export async function holds<T>(t: Test, name: string, property: fc.IProperty<T> | fc.IAsyncProperty<T>, ciRuns: number, ciMs = 20_000): Promise<void> {
  if (env.FUZZ_ONLY && !name.includes(env.FUZZ_ONLY)) return;
  const started = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<T>, parameters<T>(ciRuns, ciMs));
  const ms = Math.round(performance.now() - started);
  t.comment(`fuzz ${name}: seed ${SEED}, ${details.numRuns} runs, ${details.numSkips} skipped, ${ms} ms${details.interrupted ? ' (time limit)' : ''}`);
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? 'the property returned false');
    t.fail(`${name}: counterexample found: ${error}\n${fc.defaultReportMessage(details) ?? ''}\nreplay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} FUZZ_ONLY='${name}'`);
  } else {
    t.ok(details.numRuns > 0, `${name}: ${details.numRuns} runs, no counterexample`);
  }
}
