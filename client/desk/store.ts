// The desk's local store: the threads of DATA/inbox (client/desk/threads.ts) with their search haystacks, the
// shared state of each (DeskNotes.threads(), the notes the desks share), this desk's own flags (DATA/state.json:
// which tips it opened; never shared — the star is shared, like status), and what the server listed last
// (DATA/server.json: each tip's received and expiry days, and whether the server still lists it).
// Everything here is decrypted material: only under DATA (mode 0700), files 0600, replaced atomically.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ThreadShared } from '../../crypto/desk-notes.js';
import type { TipSummary } from '../../schema/wire.js';
import type { FileInfo, ThreadDetail, ThreadItem, ThreadList, ThreadSummary, ThreadsQuery } from '../../schema/desk-api.js';
import { writePrivateFileAtomic } from '../cli/atomic-file.js';
import { tipFolder } from '../cli/inbox.js';
import { assembleThreads, type Thread, type TipRecord } from './threads.js';
import { haystack, matches, queryWords, snippet } from './search.js';

export interface DeskState {
  /** Tip ids this desk has opened (a thread with a tip not in here is unread). */
  opened: string[];
  /** Stars kept here before they were shared (older data folders); no longer read. */
  starred: string[];
  /** Thread ids counted by the last notification (client/desk/notify.ts). */
  notified?: string[];
}

export interface ServerTip {
  received_day: string;
  expires_day: string;
  onServer: boolean;
}

interface Entry {
  thread: Thread;
  /** Messages and file names, normalized (search.ts). */
  hay: string;
  /** Each tip's message alone, normalized: where a snippet is cut from. */
  tipHays: string[];
  /** Computed once at load: the list is drawn often, the messages do not change. */
  title: string;
  start: string;
}

const TITLE_MAX = 120;
const SNIPPET_MAX = 160;

function readJsonFile<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

function firstLine(text: string): string {
  const line = /^[ \t\r]*([^\n]*\S[^\n]*)/m.exec(text)?.[1] ?? '';
  const t = line.trim();
  return t.length > TITLE_MAX ? `${t.slice(0, TITLE_MAX - 1)}…` : t;
}

function start(text: string): string {
  const t = text.slice(0, SNIPPET_MAX * 4).replace(/\s+/g, ' ').trim();
  return t.length > SNIPPET_MAX ? `${t.slice(0, SNIPPET_MAX - 1)}…` : t;
}

export class DeskStore {
  readonly inbox: string;
  private entries = new Map<string, Entry>();
  private state: DeskState;
  private server: Record<string, ServerTip>;
  private sharedHay = new Map<string, { clock: number; key: string; hay: string }>();

  constructor(
    readonly dataDir: string,
    /** The merged shared state per thread; an empty map when the notes cannot be read. */
    private readonly shared: () => Map<string, ThreadShared>,
  ) {
    this.inbox = join(dataDir, 'inbox');
    const s = readJsonFile<Partial<DeskState>>(join(dataDir, 'state.json'), {});
    this.state = { opened: Array.isArray(s.opened) ? s.opened : [], starred: Array.isArray(s.starred) ? s.starred : [], ...(Array.isArray(s.notified) ? { notified: s.notified } : {}) };
    this.server = readJsonFile<Record<string, ServerTip>>(join(dataDir, 'server.json'), {});
  }

  /** Reads the inbox again (after a sync): every thread and its haystack. */
  load(): void {
    const entries = new Map<string, Entry>();
    for (const thread of assembleThreads(this.inbox)) {
      const tipHays = thread.tips.map((t) => haystack([t.message]));
      const names = haystack(thread.tips.flatMap((t) => t.files.map((f) => f.name)));
      entries.set(thread.id, { thread, hay: `${tipHays.join('')}${names}`, tipHays, title: firstLine(thread.tips[0]!.message), start: start(thread.tips.at(-1)!.message) });
    }
    this.entries = entries;
  }

  threadIds(): string[] {
    return [...this.entries.keys()];
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  thread(id: string): Thread | undefined {
    return this.entries.get(id)?.thread;
  }

  // ---- what the server listed

  /** Records the server's list: tips it lists are on the server; tips listed before and absent now are not
   * (deleted by another desk, or expired) and stay here until this desk deletes them. */
  noteServerList(listed: readonly TipSummary[]): void {
    const now = new Set(listed.map((t) => t.id));
    for (const [id, t] of Object.entries(this.server)) if (!now.has(id)) t.onServer = false;
    for (const t of listed) this.server[t.id] = { received_day: t.received_day, expires_day: t.expires_day, onServer: true };
    this.saveServer();
  }

  tipOnServer(id: string): boolean {
    return this.server[id]?.onServer ?? false;
  }

  /** The day the server deletes the thread's newest tip (shared notes expire with it); '' when unknown. */
  expiresDay(id: string): string {
    const tips = this.entries.get(id)?.thread.tips ?? [];
    const days = tips.map((t) => this.server[t.id]?.expires_day ?? '').filter((d) => d !== '');
    return days.sort().at(-1) ?? '';
  }

  // ---- this desk's flags

  private saveState(): void {
    writePrivateFileAtomic(join(this.dataDir, 'state.json'), `${JSON.stringify(this.state)}\n`);
  }

  private saveServer(): void {
    writePrivateFileAtomic(join(this.dataDir, 'server.json'), `${JSON.stringify(this.server)}\n`);
  }

  setRead(id: string, read: boolean): void {
    const tips = this.entries.get(id)?.thread.tips.map((t) => t.id) ?? [];
    const opened = new Set(this.state.opened);
    for (const t of tips) {
      if (read) opened.add(t);
      else opened.delete(t);
    }
    this.state.opened = [...opened];
    this.saveState();
  }

  notified(): string[] | undefined {
    return this.state.notified;
  }

  setNotified(ids: string[]): void {
    this.state.notified = ids;
    this.saveState();
  }

  /** Forgets a deleted thread: its tips' folders, its flags, its server records. Answers the tips removed. */
  forget(id: string, tipIds: readonly string[]): void {
    for (const tip of tipIds) {
      const folder = tipFolder(this.inbox, tip);
      if (folder) rmSync(folder, { recursive: true, force: true });
      delete this.server[tip];
    }
    const gone = new Set(tipIds);
    this.state.opened = this.state.opened.filter((t) => !gone.has(t));
    this.saveState();
    this.saveServer();
    this.removeFromThreadsFile(id, gone);
    this.load();
  }

  /** threads.json without the deleted thread (fetch rebuilds it from the folders; this keeps it true meanwhile). */
  private removeFromThreadsFile(id: string, gone: Set<string>): void {
    const file = join(this.inbox, 'threads.json');
    if (!existsSync(file)) return;
    const all = readJsonFile<Record<string, string[]>>(file, {});
    const left = (all[id] ?? []).filter((t) => !gone.has(t));
    if (left.length === 0) delete all[id];
    else all[id] = left;
    writePrivateFileAtomic(file, `${JSON.stringify(all, null, 2)}\n`);
  }

  // ---- views

  private sharedOf(all: Map<string, ThreadShared>, id: string): ThreadShared | undefined {
    return all.get(id);
  }

  private sharedHaystack(id: string, s: ThreadShared | undefined): string {
    if (!s) return ' ';
    const key = `${s.tags.join('\u0000')}\u0001${s.notes.map((n) => n.op).join(',')}`;
    const cached = this.sharedHay.get(id);
    if (cached && cached.clock === s.clock && cached.key === key) return cached.hay;
    const hay = haystack([...s.tags, ...s.notes.map((n) => n.text)]);
    this.sharedHay.set(id, { clock: s.clock, key, hay });
    return hay;
  }

  private summaryOf(e: Entry, s: ThreadShared | undefined, opened: Set<string>, q: string[]): ThreadSummary {
    const tips = e.thread.tips;
    const first = tips[0]!;
    const last = tips.at(-1)!;
    let snip: string | undefined;
    if (q.length > 0) {
      for (let i = tips.length - 1; i >= 0 && !snip; i--) snip = snippet(tips[i]!.message, q, SNIPPET_MAX, e.tipHays[i]);
      for (let i = tips.length - 1; i >= 0 && !snip; i--) snip = tips[i]!.files.map((f) => snippet(f.name, q, SNIPPET_MAX)).find((x) => x !== undefined);
      snip ??= s ? [...s.notes.map((n) => n.text), ...s.tags].map((x) => snippet(x, q, SNIPPET_MAX)).find((x) => x !== undefined) : undefined;
    }
    return {
      id: e.thread.id,
      title: e.title,
      snippet: snip ?? e.start,
      firstDay: first.receivedDay,
      lastDay: last.receivedDay,
      expiresDay: this.expiresDay(e.thread.id),
      tips: tips.length,
      files: tips.reduce((n, t) => n + t.files.length, 0),
      unread: tips.some((t) => !opened.has(t.id)),
      starred: s?.starred ?? false,
      status: s?.status ?? 'new',
      tags: s?.tags ?? [],
      assignee: s?.assignee ?? null,
      canReply: tips.some((t) => t.canReply),
      onServer: tips.some((t) => this.tipOnServer(t.id)),
    };
  }

  /** The threads matching `query`, newest first (by the newest tip's received day, then when it was fetched). */
  list(query: ThreadsQuery): ThreadList {
    const t0 = performance.now();
    const all = this.shared();
    const q = queryWords(query.q);
    const opened = new Set(this.state.opened);
    const out: { e: Entry; s: ThreadShared | undefined }[] = [];
    for (const e of this.entries.values()) {
      const s = this.sharedOf(all, e.thread.id);
      if (query.status && (s?.status ?? 'new') !== query.status) continue;
      if (query.tag && !(s?.tags ?? []).includes(query.tag)) continue;
      if (query.day && !e.thread.tips.some((t) => t.receivedDay === query.day)) continue;
      if (query.starred && !(s?.starred ?? false)) continue;
      if (query.unread && e.thread.tips.every((t) => opened.has(t.id))) continue;
      if (q.length > 0 && !matches(e.hay, q)) {
        // A word may be in the messages and another in the notes: match against both together.
        const both = `${e.hay}${this.sharedHaystack(e.thread.id, s)}`;
        if (!matches(both, q)) continue;
      }
      out.push({ e, s });
    }
    const key = (e: Entry) => {
      const l = e.thread.tips.at(-1)!;
      return `${l.receivedDay}\u0000${l.fetchedAt}\u0000${e.thread.id}`;
    };
    const keyed = out.map((x) => ({ ...x, k: key(x.e) })).sort((a, b) => (a.k < b.k ? 1 : a.k > b.k ? -1 : 0));
    const threads = keyed.map(({ e, s }) => this.summaryOf(e, s, opened, q));
    return { threads, total: this.entries.size, tookMs: Math.round((performance.now() - t0) * 100) / 100 };
  }

  summary(id: string): ThreadSummary | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    return this.summaryOf(e, this.shared().get(id), new Set(this.state.opened), []);
  }

  sharedState(id: string): ThreadShared | undefined {
    return this.shared().get(id);
  }

  /** The tags in use and how many threads carry each. */
  tags(): { tag: string; threads: number }[] {
    const n = new Map<string, number>();
    const all = this.shared();
    for (const id of this.entries.keys()) for (const t of all.get(id)?.tags ?? []) n.set(t, (n.get(t) ?? 0) + 1);
    return [...n].map(([tag, threads]) => ({ tag, threads })).sort((a, b) => b.threads - a.threads || (a.tag < b.tag ? -1 : 1));
  }

  /** The thread view; `files` describes a tip's files (render.ts decides from the bytes, in app.ts). */
  detail(id: string, replyAs: string | null, files: (tip: TipRecord) => FileInfo[]): ThreadDetail | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    const s = this.shared().get(id);
    const summary = this.summaryOf(e, s, new Set(this.state.opened), []);
    const items: (ThreadItem & { order: string })[] = [];
    for (const t of e.thread.tips) {
      items.push({ kind: 'tip', tipId: t.id, receivedDay: t.receivedDay, sentDay: t.sentDay, message: t.message, files: files(t), warning: t.warning, onServer: this.tipOnServer(t.id), order: `${t.receivedDay}\u0000${t.fetchedAt}` });
    }
    for (const r of s?.replies ?? []) items.push({ kind: 'reply', op: r.op, tipId: r.tip, by: r.by, at: r.at, text: r.text, order: `${r.at.slice(0, 10)}\u0000${r.at}` });
    items.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    return {
      summary,
      items: items.map(({ order: _o, ...i }) => i as ThreadItem),
      notes: s?.notes ?? [],
      history: (s?.history ?? []).map((op) => ({ by: op.by, at: op.at, kind: op.kind, value: historyValue(op) })),
      replyAs: summary.canReply ? replyAs : null,
    };
  }
}

function historyValue(op: ThreadShared['history'][number]): string {
  switch (op.kind) {
    case 'status':
      return op.status;
    case 'assign':
      return op.desk ?? '';
    case 'tag-add':
    case 'tag-remove':
      return op.tag;
    case 'note':
      return op.text.length > 80 ? `${op.text.slice(0, 79)}…` : op.text;
    case 'reply':
      return op.tip;
    case 'star':
      return op.starred ? 'yes' : 'no';
  }
}
