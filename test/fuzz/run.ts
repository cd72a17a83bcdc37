// `npm run fuzz`: the property-based tests (dist/test/fuzz_*.test.js) run for much longer than in CI, one file at
// a time. Prints the seed first and each property's run count as it finishes; exits non-zero on a counterexample,
// whose report says how to replay it (FUZZ_SEED, FUZZ_PATH, FUZZ_ONLY).
//
//   npm run fuzz                         each property for 60 s, a fresh seed
//   FUZZ_SECONDS=600 npm run fuzz        ten minutes each
//   FUZZ_RUNS=100000 npm run fuzz        a number of runs each (with FUZZ_SECONDS: whichever ends first)
//   FUZZ_SEED=123 npm run fuzz           a chosen seed;  node dist/test/fuzz/run.js FILE…  chosen files
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const env = { ...process.env };
if (!env.FUZZ_SECONDS && !env.FUZZ_RUNS) env.FUZZ_SECONDS = '60';
env.FUZZ_SEED ||= String((Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
const files = process.argv.length > 2 ? process.argv.slice(2) : readdirSync('dist/test').filter((f) => /^fuzz_.*\.test\.js$/.test(f)).sort().map((f) => `dist/test/${f}`);

console.log(`fuzz: seed ${env.FUZZ_SEED}; ${env.FUZZ_SECONDS ? `${env.FUZZ_SECONDS} s` : ''}${env.FUZZ_SECONDS && env.FUZZ_RUNS ? ' or ' : ''}${env.FUZZ_RUNS ? `${env.FUZZ_RUNS} runs` : ''} per property; ${files.length} files`);
let failed = 0;
for (const file of files) {
  const started = Date.now();
  console.log(`\n${file}`);
  const code = await new Promise<number>((done) => {
    // TAP_TIMEOUT=0: no per-file timeout (tap's default would end a long run).
    const child = spawn(process.execPath, [resolve(file)], { env: { ...env, TAP: '1', TAP_TIMEOUT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    let inFailure = false;
    lines.on('line', (l) => {
      if (/# fuzz /.test(l)) console.log(`  ${l.trim().replace(/^# /, '')}`);
      if (/^\s*not ok /.test(l) || /counterexample found/.test(l)) inFailure = true;
      if (inFailure && /counterexample|replay|not ok/.test(l)) console.log(`  ${l.trim()}`);
    });
    child.on('close', (c) => done(c ?? 1));
  });
  console.log(`  ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (code !== 0) failed++;
}
console.log(`\nfuzz: ${files.length - failed} files passed, ${failed} failed (seed ${env.FUZZ_SEED})`);
process.exit(failed === 0 ? 0 : 1);
