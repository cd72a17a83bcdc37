// Threads assembled from the desk's inbox folder, as `tipline fetch` wrote it: each tip's folder (found through
// client/cli/inbox.ts, whatever its readable name: a folder's name is never taken for the tip id) and threads.json,
// which groups the tips of one source (the same reply key and tag key). A tip in no thread of threads.json is a
// thread of its own, `tip:<id>`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inboxTips } from '../cli/inbox.js';

export interface TipFile {
  index: number;
  name: string;
  type: string;
  size: number;
  /** The path inside the tip's folder fetch saved it under (files/<safe name>). */
  savedAs: string;
}

export interface TipRecord {
  id: string;
  folder: string;
  receivedDay: string;
  sentDay: string;
  fetchedAt: string;
  message: string;
  files: TipFile[];
  warning: string | null;
  /** The source asked for replies (the manifest has its reply key). */
  canReply: boolean;
  thread: string | null;
}

export interface Thread {
  id: string;
  /** Oldest first: received day, sealed day, when this machine fetched it, id (as fetch orders them). */
  tips: TipRecord[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** One tip folder read back, or undefined when it is not a whole fetched tip (no manifest, damaged). */
export function readTip(id: string, folder: string): TipRecord | undefined {
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (meta.tip_id !== undefined && meta.tip_id !== id) return undefined; // a folder that is not this tip's
  let message = '';
  try {
    message = readFileSync(join(folder, 'message.txt'), 'utf8');
  } catch {
    // a tip with no message file: shown with its files only
  }
  let warning: string | null = null;
  const w = join(folder, 'WARNING.txt');
  if (existsSync(w)) {
    try {
      warning = readFileSync(w, 'utf8').trim();
    } catch {
      warning = null;
    }
  }
  const files = Array.isArray(meta.files)
    ? (meta.files as Record<string, unknown>[]).map((f, index) => ({ index, name: str(f.original_name), type: str(f.type), size: typeof f.size === 'number' ? f.size : 0, savedAs: str(f.saved_as) }))
    : [];
  const reply = meta.reply as { box_key?: unknown } | null | undefined;
  return {
    id,
    folder,
    receivedDay: str(meta.received_day) || str(meta.sent_day),
    sentDay: str(meta.sent_day),
    fetchedAt: str(meta.fetched_at),
    message,
    files,
    warning,
    canReply: !!reply && typeof reply.box_key === 'string',
    thread: typeof meta.thread === 'string' ? meta.thread : null,
  };
}

function order(a: TipRecord, b: TipRecord): number {
  const ka = [a.receivedDay, a.sentDay, a.fetchedAt, a.id];
  const kb = [b.receivedDay, b.sentDay, b.fetchedAt, b.id];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return 0;
}

/** threads.json as fetch wrote it ({thread: [tip ids]}), {} when absent or damaged. */
export function readThreadsFile(inbox: string): Record<string, string[]> {
  try {
    const v = JSON.parse(readFileSync(join(inbox, 'threads.json'), 'utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    const out: Record<string, string[]> = {};
    for (const [k, ids] of Object.entries(v as Record<string, unknown>)) if (Array.isArray(ids)) out[k] = ids.filter((x): x is string => typeof x === 'string');
    return out;
  } catch {
    return {};
  }
}

/** Every thread of the inbox, in no particular order (the store sorts). */
export function assembleThreads(inbox: string): Thread[] {
  const tips = new Map<string, TipRecord>();
  for (const { id, path } of inboxTips(inbox)) {
    const t = readTip(id, path);
    if (t) tips.set(id, t);
  }
  const threads: Thread[] = [];
  const placed = new Set<string>();
  // threads.json, not each manifest's `thread`: fetch leaves out of a thread a tip with the thread's reply key but
  // another tag key (not made from the same codename), and such a tip must not be answered as the thread.
  for (const [id, ids] of Object.entries(readThreadsFile(inbox))) {
    const members = ids.map((i) => tips.get(i)).filter((t): t is TipRecord => !!t && !placed.has(t.id));
    if (members.length === 0) continue;
    for (const m of members) placed.add(m.id);
    threads.push({ id, tips: members.sort(order) });
  }
  for (const t of tips.values()) if (!placed.has(t.id)) threads.push({ id: `tip:${t.id}`, tips: [t] });
  return threads;
}
