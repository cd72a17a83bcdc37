// `tipline list`: the tips on the server, newest first, one line each: the days the server keeps (received,
// expiry), the size, and what this machine knows of it: the message's first line from the local copy fetch wrote
// (client/cli/inbox.ts), its thread, and from a desk app's data folder who is on it and its status
// (client/desk/notes.ts). The server holds none of those; nothing here asks it for more than the list.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { args, keyFileArg, need, proxyArg, serverUrl, usage, wantsHelp, type Io } from '../args.js';
import { tipFolder } from '../inbox.js';
import { printable } from '../printable.js';
import type { TipSummary } from '../../../schema/wire.js';

const HELP = `usage: tipline list --server URL --key FILE [--inbox DIR | --data DIR] [--socks HOST:PORT] [--json]

Lists the tips on the server, newest first, one line each: the day received, the day the server deletes it,
its size, its id, and what this machine knows of it: its thread, who is on it, its status and the first line
of its message. The server keeps none of those; they come from the local copy tipline fetch wrote in the
inbox ("(not fetched)" when it is not there) and from the desk app's shared notes ("-" when unknown).

  --server URL          the tip line's staff address, as for fetch (http:// is assumed)
  --key FILE            your desk key file (an auditor's key lists the metadata only: days, sizes, ids)
  --inbox DIR           fetch's --out folder: first lines and threads are read from the tips there
  --data DIR            a desk app's data folder (tipline desk --data): its inbox (DIR/inbox) and its notes
                        (who is on a thread, its status)
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too)
  --json                one JSON object instead: {"tips": [{id, received_day, expires_day, size, fetched,
                        folder, first_line, thread, assignee, status}], "metadata_only": false}

Nothing is fetched or changed, here or on the server. Text from a tip is shown without terminal controls.
example:  tipline list --server http://127.0.0.1:8081 --key keys/desk.key --inbox inbox`;

/** What `tipline list --json` prints for each tip; null where this machine does not know. */
export interface ListedTip {
  id: string;
  received_day: string;
  expires_day: string;
  size: number;
  fetched: boolean;
  folder: string | null;
  first_line: string | null;
  thread: string | null;
  assignee: string | null;
  status: string | null;
}

/** 1536 -> "1.5 KiB": as a person reads sizes (the build's messages use the same units). */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/** The first line of a fetched tip's message: at most the first 4 KiB are read (a message may be megabytes). */
export function firstLineOf(folder: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(join(folder, 'message.txt'), 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(0, n));
    return text.trimStart().split(/\r?\n|\r|\u2028|\u2029/u, 1)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

function threadOfFolder(folder: string): string | undefined {
  try {
    const m = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as { thread?: unknown };
    return typeof m.thread === 'string' ? m.thread : undefined;
  } catch {
    return undefined;
  }
}

/** The listing, joined with what `inbox` and the desk data folder know; `metadataOnly` for an auditor's key. */
export async function listTips(tips: TipSummary[], inbox: string | undefined, dataDir: string | undefined, metadataOnly: boolean): Promise<ListedTip[]> {
  const shared = dataDir !== undefined && !metadataOnly ? (await import('../../desk/notes.js')).readSavedThreads(dataDir) : new Map();
  // Threat: a server listing one id twice would show (and count) one tip as two; fetch keeps the first too.
  const seen = new Set<string>();
  const sorted = tips.filter((t) => !seen.has(t.id) && seen.add(t.id)).sort((a, b) => (a.received_day !== b.received_day ? (a.received_day < b.received_day ? 1 : -1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.map((tip) => {
    const folder = inbox !== undefined && !metadataOnly ? tipFolder(inbox, tip.id) : undefined;
    const line = folder !== undefined ? firstLineOf(folder) : undefined;
    const thread = folder !== undefined ? threadOfFolder(folder) : undefined;
    // A tip that asked for no replies is a thread of its own, `tip:<id>`, in the desk app's notes.
    const state = folder !== undefined ? shared.get(thread ?? `tip:${tip.id}`) : undefined;
    return {
      id: tip.id,
      received_day: tip.received_day,
      expires_day: tip.expires_day,
      size: tip.size,
      fetched: folder !== undefined,
      folder: folder ?? null,
      // The source's words, i.e. anyone's: no terminal controls, bidi overrides or zero-width characters.
      first_line: line === undefined ? null : printable(line, 200),
      thread: thread ?? null,
      assignee: state?.assignee != null ? printable(state.assignee, 64) : null,
      status: state?.status ?? null,
    };
  });
}

/** One line a tip; the first line last, as it has no fixed width. */
export function formatLines(listed: ListedTip[], metadataOnly: boolean): string[] {
  const cols = (cells: string[]) => cells.map((c, i) => c.padEnd([10, 10, 9, 26, 8, 12, 11][i] ?? 0)).join(' ').trimEnd();
  const head = metadataOnly ? ['RECEIVED', 'EXPIRES', 'SIZE', 'TIP'] : ['RECEIVED', 'EXPIRES', 'SIZE', 'TIP', 'THREAD', 'WHO', 'STATUS', 'FIRST LINE'];
  const lines = [cols(head)];
  for (const t of listed) {
    const meta = [t.received_day, t.expires_day, humanSize(t.size), t.id];
    if (metadataOnly) {
      lines.push(cols(meta));
      continue;
    }
    const first = t.first_line === null ? '(not fetched)' : t.first_line === '' ? '(no message)' : `"${printable(t.first_line, 60)}"`;
    // Read back from local files a person (or a program) may have edited: printed through printable() too.
    const thread = t.thread === null ? '-' : printable(t.thread, 8).replace(/…$/, '');
    lines.push(cols([...meta, thread, t.assignee === null ? '-' : printable(t.assignee, 12), t.status === null ? '-' : printable(t.status, 12), first]));
  }
  return lines;
}

export async function run(argv: string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  }
  const cmd = 'list';
  const { values } = args(cmd, argv, { server: { type: 'string' }, key: { type: 'string' }, inbox: { type: 'string' }, data: { type: 'string' }, socks: { type: 'string' }, json: { type: 'boolean' } });
  const server = serverUrl(cmd, need(cmd, values.server, '--server URL', "the tip line's staff address (its staff onion), e.g. --server http://127.0.0.1:8081"));
  const keyFile = keyFileArg(cmd, need(cmd, values.key, '--key FILE', 'your desk (or auditor) key file, e.g. --key keys/desk.key'));
  if (values.inbox === '') throw usage(cmd, '--inbox is empty: give the folder tipline fetch wrote to, e.g. --inbox inbox');
  if (values.data === '') throw usage(cmd, '--data is empty: give the desk app\'s data folder, e.g. --data desk-data');
  const inbox = values.inbox ?? (values.data !== undefined ? join(values.data, 'inbox') : undefined);
  const proxy = proxyArg(cmd, values.socks);
  const { initCrypto } = await import('../../../crypto/node.js');
  await initCrypto();
  const { loadStaffKey } = await import('../keyfiles.js');
  const key = await loadStaffKey(keyFile);
  const metadataOnly = key.role !== 'desk';
  const { Api } = await import('../api.js');
  const api = new Api(new URL(server), proxy);
  let tips: TipSummary[];
  try {
    tips = (await api.listTips(key)).tips;
  } finally {
    await api.close();
  }
  const listed = await listTips(tips, inbox, values.data, metadataOnly);
  if (values.json) {
    io.say(JSON.stringify({ tips: listed, metadata_only: metadataOnly }, null, 2));
    return 0;
  }
  if (metadataOnly) io.warn(`${keyFile} is an auditor's key: metadata only (days, sizes, ids); no first lines, threads or who is on them`);
  else if (inbox === undefined) io.warn('no --inbox or --data: first lines and threads are read from fetched tips; every tip shows as (not fetched)');
  if (listed.length === 0) {
    io.say('no tips on the server');
    return 0;
  }
  for (const line of formatLines(listed, metadataOnly)) io.say(line);
  io.say(`${listed.length} ${listed.length === 1 ? 'tip' : 'tips'}${metadataOnly ? '' : `, ${listed.filter((t) => t.fetched).length} fetched here`}`);
  return 0;
}
