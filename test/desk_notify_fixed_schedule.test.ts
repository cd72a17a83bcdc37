// --notify-command runs on a fixed schedule aligned to the clock, with the count of threads new since the last
// run as its one argument and in TIPLINE_NEW_THREADS: run with 0 when nothing came, with N after N threads
// arrived, and never at the moment a tip arrives. A real command (a shell script run without a shell, as
// execFile does), a real store over a data folder; the period shortened to one second.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Notifier, newThreadsCounter, nextTick } from '../client/desk/notify.js';
import { DeskStore } from '../client/desk/store.js';

const PERIOD = 1000;

function addTip(inbox: string, id: string, message: string): void {
  mkdirSync(join(inbox, id, 'files'), { recursive: true });
  writeFileSync(join(inbox, id, 'message.txt'), message);
  writeFileSync(join(inbox, id, 'manifest.json'), JSON.stringify({ tip_id: id, received_day: '2026-11-27', sent_day: '2026-11-27', fetched_at: new Date().toISOString(), files: [], reply: null, thread: null }));
}

function runs(log: string): { at: number; arg: string; env: string }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [arg, env, at] = l.split(' ');
      return { arg: arg!, env: env!, at: Number(at) / 1e6 };
    });
}

t.test('nextTick: on the hour for 60 minutes, on the clock for others', async (t) => {
  const h = 3_600_000;
  t.equal(nextTick(Date.parse('2026-11-27T10:17:42Z'), h), Date.parse('2026-11-27T11:00:00Z'));
  t.equal(nextTick(Date.parse('2026-11-27T11:00:00Z'), h), Date.parse('2026-11-27T12:00:00Z'), 'exactly on a boundary: the next one');
  t.equal(nextTick(Date.parse('2026-11-27T10:17:42Z'), 15 * 60_000), Date.parse('2026-11-27T10:30:00Z'));
});

t.test('runs with 0, with N, never at arrival', { timeout: 60_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-notify-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  const inbox = join(data, 'inbox');
  mkdirSync(inbox, { recursive: true });
  addTip(inbox, 'a'.repeat(26), 'already here before the desk started');
  const store = new DeskStore(data, () => new Map());
  store.load();
  const log = join(work, 'runs.log');
  const script = join(work, 'notify.sh');
  // Its arguments are written as given; $(…) in them would not run (no shell between us and it).
  writeFileSync(script, `#!/bin/sh\necho "$1 $TIPLINE_NEW_THREADS $(date +%s%N)" >> '${log}'\necho noise on stdout\necho noise on stderr >&2\n`);
  chmodSync(script, 0o700);
  const warnings: string[] = [];
  const n = new Notifier({ command: script, everyMs: PERIOD, count: newThreadsCounter(store), warn: (s) => warnings.push(s) });
  t.teardown(() => n.stop());
  n.start();

  // Two periods with nothing new: two runs with 0, each on a boundary of the clock.
  await sleep(nextTick(Date.now(), PERIOD) + 2 * PERIOD + 400 - Date.now());
  const quiet = runs(log);
  t.ok(quiet.length >= 2, `ran on schedule while nothing came (${quiet.length} runs)`);
  t.ok(quiet.every((r) => r.arg === '0' && r.env === '0'), 'with 0 as argument and in TIPLINE_NEW_THREADS, even when it is 0 (the backlog is not new)');
  t.ok(quiet.every((r) => r.at % PERIOD < 300), `each on a boundary of the clock (${quiet.map((r) => Math.round(r.at % PERIOD)).join(', ')} ms past)`);

  // Three threads arrive, mid-period: nothing runs then.
  await sleep(nextTick(Date.now(), PERIOD) + 300 - Date.now());
  const before = runs(log).length;
  const arrival = Date.now();
  addTip(inbox, 'b'.repeat(26), 'new one');
  addTip(inbox, 'c'.repeat(26), 'new two');
  addTip(inbox, 'd'.repeat(26), 'new three');
  store.load();
  await sleep(400);
  t.equal(runs(log).length, before, 'not run when tips arrive');
  await sleep(nextTick(arrival, PERIOD) + 300 - Date.now());
  const next = runs(log).slice(before);
  t.equal(next[0]?.arg, '3', 'the next scheduled run carries the 3 new threads');
  t.equal(next[0]?.env, '3', 'in TIPLINE_NEW_THREADS too');
  t.ok(next[0] && next[0].at >= nextTick(arrival, PERIOD) - 5, 'at the boundary after the arrival, not before');
  await sleep(PERIOD);
  t.equal(runs(log).slice(before)[1]?.arg, '0', 'and the run after that: 0 again');
  t.same(warnings, [], 'the command succeeded each time (its output discarded)');
  t.same(JSON.parse(readFileSync(join(data, 'state.json'), 'utf8')).notified.length, 4, 'what was counted is remembered across runs');
});

t.test('a failing or missing command is reported, not fatal', { timeout: 20_000 }, async (t) => {
  const warnings: string[] = [];
  const n = new Notifier({ command: '/nonexistent/notify', everyMs: PERIOD, count: () => 0, warn: (s) => warnings.push(s) });
  n.fire();
  await sleep(500);
  n.stop();
  t.match(warnings[0], /could not run \(ENOENT\)/);
});
