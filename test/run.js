#!/usr/bin/env node
// Runs the compiled tap suites (dist/test/*.test.js), keeps the full TAP in test-output/tap.txt, prints the
// file-level results, what was skipped and why, and one closing line `N passed, N failed`.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';

const only = process.argv.slice(2);
const files = only.length > 0 ? only : readdirSync('dist/test').filter((f) => f.endsWith('.test.js')).sort().map((f) => `dist/test/${f}`);
mkdirSync('test-output', { recursive: true });

const tap = spawn('node_modules/.bin/tap', ['--disable-coverage', '--reporter=tap', '--jobs=2', '--timeout=900', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
tap.stdout.on('data', (d) => {
  out += d;
});
tap.on('close', (code) => {
  writeFileSync('test-output/tap.txt', out);
  let passed = 0;
  let failed = 0;
  const skipped = [];
  const failures = [];
  const lines = out.split('\n');
  let failedInFile = 0;
  for (const [i, line] of lines.entries()) {
    // Depth 1: each file's own tests (depth 0 is the file itself).
    const m = /^    (not ok|ok) \d+ - (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'ok') {
        const skip = /# SKIP\s*(.*)$/.exec(m[2]);
        if (skip) skipped.push(`${m[2].replace(/\s*# SKIP.*$/, '')}: ${skip[1] || 'skipped'}`);
        else passed++;
      } else {
        failed++;
        failedInFile++;
        failures.push(lines.slice(i, i + 30).join('\n'));
      }
    }
    const top = /^(not ok|ok) \d+ - (\S+)/.exec(line);
    if (top) {
      process.stdout.write(`${top[1] === 'ok' ? 'ok     ' : 'FAILED '} ${top[2]}\n`);
      if (top[1] === 'not ok' && failedInFile === 0) {
        failed++; // the file itself failed (crashed, timed out) without a failing subtest
        failures.push(lines.slice(Math.max(0, i - 20), i + 20).join('\n'));
      }
      failedInFile = 0;
    }
  }
  for (const f of failures) process.stdout.write(`\n${f}\n`);
  if (skipped.length > 0) {
    process.stdout.write(`\nskipped (${skipped.length}):\n`);
    for (const s of skipped) process.stdout.write(`  - ${s}\n`);
  }
  if (passed + failed === 0) failed = 1;
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped.length ? `, ${skipped.length} skipped` : ''}\n`);
  process.exitCode = failed > 0 || code !== 0 ? 1 : 0;
});
