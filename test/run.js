#!/usr/bin/env node
// Runs the compiled tap suites (dist/test/*.test.js), several at a time, and prints each file's result and
// duration as soon as it finishes; at the end what failed (with its TAP), what was skipped and why, and one
// closing line `N passed, N failed`. The full TAP is kept in test-output/tap.txt, each file's durations in
// test-output/durations.json: the next run starts the slowest files first, so they do not finish last alone (a
// clean clone, as in CI, takes that order from the checked-in test/durations.json).
//
// Each file runs as `node FILE` (a tap test file is a program) in a fresh empty working directory, so nothing
// a person left in the checkout (./keys, ./data, ./inbox from the quick start) can change a result.
//
//   node test/run.js [FILE…]     TIPLINE_TEST_JOBS=N (default 3), TIPLINE_TEST_TIMEOUT=seconds per file (600)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const only = process.argv.slice(2);
const files = (only.length > 0 ? only : readdirSync('dist/test').filter((f) => f.endsWith('.test.js')).sort().map((f) => `dist/test/${f}`)).map((f) => resolve(f));
const jobs = Math.max(1, Number(process.env.TIPLINE_TEST_JOBS) || 3);
const timeoutS = Number(process.env.TIPLINE_TEST_TIMEOUT) || 600;
const OUT = resolve('test-output');
mkdirSync(OUT, { recursive: true });
const DURATIONS = join(OUT, 'durations.json');
const rel = (f) => f.slice(process.cwd().length + 1);

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TIPLINE_(?!TEST_)|DATABASE_URL$|ALL_PROXY$|all_proxy$)/.test(k)));

let previous = {};
try {
  previous = JSON.parse(readFileSync(DURATIONS, 'utf8'));
} catch {}
// A clean clone (CI) has no last run: the checked-in test/durations.json (written by test/update-durations.js
// from a whole run) gives the order then, and fills in any file the last run did not time.
let known = {};
try {
  known = JSON.parse(readFileSync(resolve('test/durations.json'), 'utf8'));
} catch {}
const estimate = (f) => previous[rel(f)] ?? known[rel(f)] ?? 30;
// Longest first: with the slowest files started early, the quick ones fill the other slots around them.
const queue = [...files].sort((a, b) => estimate(b) - estimate(a));

const results = new Map();
const running = new Map();
const started = Date.now();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Counts a file's own tests (TAP depth 0 of its output) and collects its failures and skips. */
function summarise(out) {
  const r = { passed: 0, failed: 0, skipped: [], failures: [] };
  const lines = out.split('\n');
  for (const [i, line] of lines.entries()) {
    const m = /^(not ok|ok) \d+ - (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'ok') {
      const skip = /# SKIP\s*(.*)$/.exec(m[2]);
      if (skip) r.skipped.push(`${m[2].replace(/\s*# SKIP.*$/, '')}: ${skip[1] || 'skipped'}`);
      else r.passed++;
    } else {
      r.failed++;
      // The failing test's own TAP precedes its `not ok` line: show the nearest failing assertion.
      let from = i;
      while (from > 0 && lines[from - 1].startsWith('    ')) from--;
      const body = lines.slice(from, i);
      const firstFail = body.findIndex((l) => /^\s+not ok /.test(l));
      r.failures.push([...(firstFail >= 0 ? body.slice(firstFail, firstFail + 40) : body.slice(-40)), line].join('\n'));
    }
  }
  return r;
}

function runOne(file) {
  return new Promise((done) => {
    const cwd = mkdtempSync(join(tmpdir(), 'tipline-test-cwd-'));
    const t0 = Date.now();
    const child = spawn(process.execPath, [file], {
      cwd,
      // TAP=1: plain TAP on stdout. The quick start's exported settings (TIPLINE_PASSPHRASE, DATABASE_URL,
      // ALL_PROXY…) are not passed on: a test says what it wants.
      env: { ...cleanEnv, TAP: '1', TAP_TIMEOUT: String(timeoutS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.set(file, t0);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, (timeoutS + 30) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(file);
      rmSync(cwd, { recursive: true, force: true });
      const ms = Date.now() - t0;
      const r = summarise(out);
      if (code !== 0 && r.failed === 0) {
        // The file itself failed (crashed, timed out) without a failing test to show for it.
        r.failed++;
        r.failures.push(`${rel(file)} ${timedOut ? `timed out after ${timeoutS} s` : `exited with ${signal ?? code}`}\n${out.split('\n').slice(-25).join('\n')}\n${err.split('\n').slice(-25).join('\n')}`);
      }
      if (r.passed + r.failed === 0) {
        r.failed++;
        r.failures.push(`${rel(file)} ran no tests\n${err.split('\n').slice(-25).join('\n')}`);
      }
      results.set(file, { ...r, ms, out, err });
      const counts = `${r.passed} passed${r.failed ? `, ${r.failed} failed` : ''}${r.skipped.length ? `, ${r.skipped.length} skipped` : ''}`;
      process.stdout.write(`${r.failed ? 'FAILED ' : 'ok     '} ${seconds(ms).padStart(7)}  ${rel(file)} (${counts})\n`);
      done();
    });
  });
}

process.stdout.write(`running ${files.length} test file${files.length === 1 ? '' : 's'}, ${jobs} at a time\n`);
// A line a minute while something runs, so a long run is never silent.
const heartbeat = setInterval(() => {
  const now = Date.now();
  const list = [...running].map(([f, t0]) => `${rel(f).replace(/^dist\/test\//, '')} (${seconds(now - t0)})`).join(', ');
  process.stdout.write(`  … ${seconds(now - started)} in; still running: ${list}\n`);
}, 60_000);
heartbeat.unref();

await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await runOne(next);
  }),
);
clearInterval(heartbeat);

// The full TAP, one subtest per file in name order, as tap's own runner would write it.
let tap = 'TAP version 14\n';
let n = 0;
let passed = 0;
let failed = 0;
const skipped = [];
const failures = [];
const durations = existsSync(DURATIONS) ? previous : {};
for (const file of files) {
  const r = results.get(file);
  n++;
  passed += r.passed;
  failed += r.failed;
  skipped.push(...r.skipped);
  failures.push(...r.failures.map((f) => `${rel(file)}:\n${f}`));
  durations[rel(file)] = Math.round(r.ms / 100) / 10;
  const body = r.out.replace(/^TAP version \d+\n/, '').replace(/\n$/, '');
  tap += `# Subtest: ${rel(file)}\n${body.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n')}\n`;
  if (r.failed && r.err) tap += `    # stderr:\n${r.err.replace(/\n$/, '').split('\n').map((l) => `    # ${l}`).join('\n')}\n`;
  tap += `${r.failed ? 'not ok' : 'ok'} ${n} - ${rel(file)} # time=${r.ms}ms\n\n`;
}
tap += `1..${n}\n`;
writeFileSync(join(OUT, 'tap.txt'), tap);
writeFileSync(DURATIONS, `${JSON.stringify(durations, null, 2)}\n`);

for (const f of failures) process.stdout.write(`\n${f}\n`);
if (skipped.length > 0) {
  process.stdout.write(`\nskipped (${skipped.length}):\n`);
  for (const s of skipped) process.stdout.write(`  - ${s}\n`);
}
if (passed + failed === 0) failed = 1;
process.stdout.write(`\n${files.length} file${files.length === 1 ? '' : 's'} in ${seconds(Date.now() - started)}, ${jobs} at a time\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped.length ? `, ${skipped.length} skipped` : ''}\n`);
process.exitCode = failed > 0 ? 1 : 0;
