#!/usr/bin/env node
// Copies the per-file times of the last whole run (test-output/durations.json, written by test/run.js) into the
// checked-in test/durations.json, rounded to whole seconds and in name order, so that a clean clone (CI, which
// has no test-output/) still starts the slowest files first. Run it after a whole `npm test`, on the machine
// CI's numbers should resemble (2 cores), and commit the file. Files no longer in dist/test are dropped.
//
//   node test/update-durations.js
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const last = JSON.parse(readFileSync('test-output/durations.json', 'utf8'));
const kept = existsSync('test/durations.json') ? JSON.parse(readFileSync('test/durations.json', 'utf8')) : {};
const out = {};
for (const name of [...new Set([...Object.keys(kept), ...Object.keys(last)])].sort()) {
  if (!existsSync(name)) continue;
  out[name] = Math.max(1, Math.round(last[name] ?? kept[name]));
}
writeFileSync('test/durations.json', `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`test/durations.json: ${Object.keys(out).length} files\n`);
