// The desk app's store against issue 10's targets: an inbox of 1,000 threads (BENCH_DESK_THREADS) opens in < 1 s
// and a search answers in < 100 ms. Synthesizes a data folder as `tipline fetch` writes it (tip folders with
// manifest.json and message.txt of a few KB, file names, threads.json grouping some tips), then times the store's
// open in a fresh DeskStore (the OS file cache is warm: the files were just written), the thread list, and 20
// searches (whole words, prefixes, two words, a word found nowhere). Runs alone too: node dist/test/bench/desk.js
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DeskStore } from '../../client/desk/store.js';
import { f1, f2, log, now } from './util.js';

type Row = (section: string, what: string, result: string, compared?: string) => void;

const WORDS = 'council land parcel mayor contract budget register owner tender invoice police report ministry hospital school river bridge permit license audit company director payment transfer bank account offshore deal meeting minutes evidence document witness source leak email phone call Presidência Übersicht niño façade résumé Zürich Ærø Łódź'.split(' ');
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

function id(len: number): string {
  const b = randomBytes(len);
  return [...b].map((x) => B32[x % 32]).join('');
}

function text(words: number, seed: number): string {
  const out: string[] = [];
  let s = seed;
  for (let i = 0; i < words; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out.push(WORDS[s % WORDS.length]!);
    if (i % 14 === 13) out.push('\n');
  }
  return out.join(' ');
}

/** Writes an inbox of `threads` threads; answers the data folder. */
export function synthesizeInbox(dir: string, threads: number): string {
  const inbox = join(dir, 'inbox');
  mkdirSync(inbox, { recursive: true, mode: 0o700 });
  const threadsJson: Record<string, string[]> = {};
  const server: Record<string, { received_day: string; expires_day: string; onServer: boolean }> = {};
  for (let t = 0; t < threads; t++) {
    const n = t % 3 === 0 ? 3 : 1; // a third of the threads: a tip and two follow-ups
    const thread = n > 1 ? id(16) : undefined;
    for (let k = 0; k < n; k++) {
      const tip = id(26);
      const day = new Date(Date.UTC(2026, 10, 1 + ((t + k) % 26))).toISOString().slice(0, 10);
      mkdirSync(join(inbox, tip, 'files'), { recursive: true });
      const message = `Tip ${t}.${k} about the ${WORDS[t % WORDS.length]}\n${text(400 + (t % 7) * 60, t * 7 + k)}`; // ~3-5 KB
      writeFileSync(join(inbox, tip, 'message.txt'), message);
      const files = k === 0 ? [{ original_name: `scan-${WORDS[(t * 3) % WORDS.length]}-${t}.pdf`, saved_as: `files/scan-${t}.pdf`, type: 'application/pdf', size: 10 }] : [];
      for (const f of files) writeFileSync(join(inbox, tip, f.saved_as), 'x'.repeat(10));
      writeFileSync(join(inbox, tip, 'manifest.json'), JSON.stringify({ tip_id: tip, received_day: day, sent_day: day, fetched_at: new Date(Date.UTC(2026, 10, 1, 0, 0, t * 3 + k)).toISOString(), files, reply: thread ? { box_key: 'x', mailbox: 'y' } : null, thread: thread ?? null }));
      if (thread) (threadsJson[thread] ??= []).push(tip);
      server[tip] = { received_day: day, expires_day: '2026-12-31', onServer: true };
    }
  }
  writeFileSync(join(inbox, 'threads.json'), JSON.stringify(threadsJson));
  writeFileSync(join(dir, 'server.json'), JSON.stringify(server));
  return dir;
}

export async function deskBench(o: { work: string }, row: Row): Promise<void> {
  const count = Number(process.env.BENCH_DESK_THREADS ?? 1000);
  log(`\n== desk app: ${count} threads ==`);
  const dir = mkdtempSync(join(o.work, 'desk-'));
  try {
    const t0 = now();
    synthesizeInbox(dir, count);
    log(`synthesized in ${f1(now() - t0)} ms`);
    const o1 = now();
    const store = new DeskStore(dir, () => new Map());
    store.load();
    const openMs = now() - o1;
    const l1 = now();
    const list = store.list({});
    const listMs = now() - l1;
    if (list.threads.length !== count) throw new Error(`expected ${count} threads, listed ${list.threads.length}`);
    const queries = ['council', 'presidencia', 'uber', 'zurich', 'lodz', 'scan', 'offshore bank', 'witness', 'nin', 'facade', 'permit', 'nothinglikethis', 'tip', 'resume', 'aero', 'minist', 'meeting minutes', 'bridge', 'leak', 'email phone'];
    const times: number[] = [];
    const each: string[] = [];
    let hits = 0;
    for (const q of queries) {
      const s = now();
      const found = store.list({ q }).threads.length;
      hits += found;
      times.push(now() - s);
      each.push(`${q}: ${found} in ${f1(times.at(-1)!)} ms`);
    }
    log(each.join('; '));
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const max = times.at(-1)!;
    log(`open ${f1(openMs)} ms, list ${f1(listMs)} ms, search median ${f2(median)} ms, max ${f2(max)} ms (${hits} hits over 20 queries)`);
    row('desk app', `open ${count} threads (fresh store, warm OS cache)`, `${f1(openMs)} ms`, `target 1000 ms: ${f2(openMs / 1000)}× of it`);
    row('desk app', `thread list, ${count} threads`, `${f1(listMs)} ms`, `${f2(listMs / 100)}× of 100 ms`);
    row('desk app', '20 searches (words, prefixes, two words)', `median ${f2(median)} ms, max ${f2(max)} ms`, `target 100 ms: max is ${f2(max / 100)}× of it`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const work = mkdtempSync(join(tmpdir(), 'tipline-bench-desk-'));
  const rows: string[] = [];
  await deskBench({ work }, (s, w, r, c) => rows.push(`${s} | ${w} | ${r} | ${c ?? ''}`));
  rmSync(work, { recursive: true, force: true });
  for (const r of rows) log(r);
}
