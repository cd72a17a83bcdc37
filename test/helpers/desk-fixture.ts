// A test double of the desk app's local API (schema/desk-api.ts), for the page's UI tests: serves the built page
// (dist/desk-web) under a random secret path with the desk app's CSP, and answers the contract's JSON from a fixed
// in-memory dataset, recording every request. Not a database double: the real `tipline desk` is the desk-app
// helper's (client/desk/app.ts); this only lets the browser side be driven through every state on its own.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { ThreadDetail, ThreadSummary, type ThreadItem, type FileInfo, type DeskSession } from '../../schema/desk-api.js';
import { chunk } from './png.js';

const DIST = fileURLToPath(new URL('../../desk-web/', import.meta.url));
// The same policy client/desk/app.ts sends (h-desk-app): script and style only from the page's origin.
export const DESK_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

export const HOSTILE_NAME = '<img src=x onerror=alert(1)>.html';
export const HOSTILE_NOTE = 'Check this: <script>alert("note")</script> and <b>bold</b>';
export const SVG_NAME = 'chart.svg';

/** A small solid-colour RGB PNG (stands in for the desk app's re-encoded image). */
export function png(w = 160, h = 100, rgb = [70, 110, 160]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set([rgb[0]! + (x % 40), rgb[1]!, rgb[2]!], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

type Summary = ThreadSummary;
interface Thread {
  summary: Summary;
  items: ThreadItem[];
  notes: { op: string; text: string; by: string; at: string }[];
  history: { by: string; at: string; kind: string; value: string }[];
  texts: Record<string, string>;
}

const id26 = (c: string) => c.repeat(26).slice(0, 26);
const file = (index: number, name: string, type: string, size: number, render: FileInfo['render']): FileInfo => ({ index, name, type, size, sha256: 'ab'.repeat(32), render });

function dataset(): Thread[] {
  const base = (over: Partial<Summary> & Pick<Summary, 'id' | 'title'>): Summary => ({
    snippet: '', firstDay: '2026-11-20', lastDay: '2026-11-20', expiresDay: '2026-12-20', tips: 1, files: 0, unread: false, starred: false, status: 'new', tags: [], assignee: null, canReply: false, onServer: true, ...over,
  });
  const tA = id26('a');
  const a: Thread = {
    summary: base({ id: 'Ab'.repeat(21) + 'c', title: 'Invoices from the water utility show double billing', snippet: 'The attached invoices', firstDay: '2026-11-24', lastDay: '2026-11-26', tips: 2, files: 4, unread: true, tags: ['water', 'city-hall'], canReply: true }),
    items: [
      { kind: 'tip', tipId: tA, receivedDay: '2026-11-24', sentDay: '2026-11-24', message: 'Invoices from the water utility show double billing\n\nThe attached invoices were paid twice in 2025.\n    Indented line kept.\nLast line.', files: [file(0, 'invoice-scan.png', 'image/png', 182_344, 'image'), file(1, 'ledger.csv', 'text/csv', 2_410, 'text'), file(2, HOSTILE_NAME, 'text/html', 512, 'none'), file(3, SVG_NAME, 'image/svg+xml', 733, 'none')], warning: null, onServer: true },
      { kind: 'reply', op: 'op1', tipId: tA, by: 'Investigations desk', at: '2026-11-25T09:12:00Z', text: 'Thank you. Can you say which months?\nAnd who approved them?' },
      { kind: 'tip', tipId: id26('b'), receivedDay: '2026-11-26', sentDay: '2026-11-26', message: 'March and April. The deputy director signed.', files: [], warning: null, onServer: true },
    ],
    notes: [{ op: 'n1', text: HOSTILE_NOTE, by: 'Investigations desk', at: '2026-11-25T10:00:00Z' }],
    history: [{ by: 'Investigations desk', at: '2026-11-25T10:00:00Z', kind: 'tag', value: 'water' }],
    texts: { '0:1': 'date,amount,payee\n2025-03-02,1200.00,Water utility\n2025-03-02,1200.00,Water utility\n' },
  };
  const b: Thread = {
    summary: base({ id: `tip:${id26('c')}`, title: 'Hospital waiting lists are being edited', snippet: 'Names are moved', firstDay: '2026-11-22', lastDay: '2026-11-22', starred: true, status: 'in-progress', tags: ['health'], assignee: 'Health desk' }),
    items: [{ kind: 'tip', tipId: id26('c'), receivedDay: '2026-11-22', sentDay: '2026-11-21', message: 'Names are moved down the list\nwhen a private clinic pays.', files: [], warning: null, onServer: true }],
    notes: [
      { op: 'n2', text: 'Call the clinic on Monday.', by: 'Health desk', at: '2026-11-23T08:00:00Z' },
      { op: 'n3', text: 'Wait: lawyer first, no calls yet.', by: 'Investigations desk', at: '2026-11-23T08:01:00Z' },
    ],
    history: [{ by: 'Health desk', at: '2026-11-23T07:00:00Z', kind: 'status', value: 'in-progress' }],
    texts: {},
  };
  const c: Thread = {
    summary: base({ id: `tip:${id26('d')}`, title: 'Road contract awarded to the mayor’s cousin', snippet: 'The tender', firstDay: '2026-11-18', lastDay: '2026-11-18', unread: true, tags: ['roads'], status: 'new' }),
    items: [{ kind: 'tip', tipId: id26('d'), receivedDay: '2026-11-18', sentDay: '2026-11-18', message: 'The tender closed a day early.', files: [], warning: null, onServer: true }],
    notes: [],
    history: [],
    texts: {},
  };
  return [a, b, c];
}

export interface Recorded {
  method: string;
  path: string; // after the secret
  body: unknown;
}

export interface DeskFixture {
  url: string; // http://127.0.0.1:PORT/<secret>/
  origin: string;
  requests: Recorded[];
  threads: Thread[];
  close(): Promise<void>;
}

export async function deskFixture(opts: { empty?: boolean; session?: Partial<DeskSession> } = {}): Promise<DeskFixture> {
  const secret = randomBytes(16).toString('base64url');
  const threads = opts.empty ? [] : dataset();
  const requests: Recorded[] = [];
  let lastSync: string | null = '2026-11-26T22:40:00Z';
  const session = (): DeskSession => ({ desk: 'Investigations desk', desks: ['Investigations desk', 'Health desk', 'Politics desk'], server: 'http://staff.example.onion', lastSync, syncing: false, syncError: null, notice: 'Tips are stored decrypted under ./desk-data. Keep this computer’s disk encrypted (full-disk encryption).', ...opts.session });
  const detail = (th: Thread) => ThreadDetail.parse({ summary: th.summary, items: th.items, notes: th.notes, history: th.history, replyAs: th.summary.canReply ? 'Investigations desk' : null });
  const find = (id: string) => threads.find((x) => x.summary.id === id);

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', DESK_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const prefix = `/${secret}/`;
    if (!u.pathname.startsWith(prefix)) return void res.writeHead(404).end();
    const path = decodeURIComponent(u.pathname.slice(prefix.length));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text ? JSON.parse(text) : null;
    requests.push({ method: req.method ?? '', path: path + u.search, body });
    const json = (v: unknown, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(v));
    };
    const statics: Record<string, string> = { '': 'text/html; charset=utf-8', 'desk.js': 'text/javascript; charset=utf-8', 'desk.css': 'text/css; charset=utf-8' };
    if (path in statics) {
      res.writeHead(200, { 'content-type': statics[path]! });
      return void res.end(readFileSync(DIST + (path || 'index.html')));
    }
    if (path === 'api/session') return json(session());
    if (path === 'api/sync') {
      lastSync = new Date().toISOString();
      return json({ fetched: 2, notes: 1, failed: 0, errors: [] });
    }
    if (path === 'api/tags') {
      const count = new Map<string, number>();
      for (const th of threads) for (const tg of th.summary.tags) count.set(tg, (count.get(tg) ?? 0) + 1);
      return json({ tags: [...count].sort().map(([tag, n]) => ({ tag, threads: n })) });
    }
    if (path === 'api/threads') {
      const q = u.searchParams;
      const term = q.get('q')?.toLowerCase();
      const list = threads.filter((th) => {
        const s = th.summary;
        if (q.get('status') && s.status !== q.get('status')) return false;
        if (q.get('tag') && !s.tags.includes(q.get('tag')!)) return false;
        if (q.get('day') && !th.items.some((i) => i.kind === 'tip' && i.receivedDay === q.get('day'))) return false;
        if (q.get('starred') && !s.starred) return false;
        if (q.get('unread') && !s.unread) return false;
        if (term && !th.items.some((i) => (i.kind === 'tip' ? [i.message, ...i.files.map((f) => f.name)] : [i.text]).some((x) => x.toLowerCase().includes(term)))) return false;
        return true;
      });
      list.sort((x, y) => y.summary.lastDay.localeCompare(x.summary.lastDay));
      return json({ threads: list.map((th) => ThreadSummary.parse(th.summary)), total: threads.length, tookMs: 1 });
    }
    const m = /^api\/threads\/([^/]+)(?:\/(.*))?$/.exec(path);
    const th = m ? find(m[1]!) : undefined;
    if (!m || !th) return json({ error: { code: 'not-found', message: 'not found' } }, 404);
    const rest = m[2] ?? '';
    const s = th.summary;
    const at = new Date().toISOString();
    const b = body as Record<string, unknown>;
    if (req.method === 'DELETE' && rest === '') {
      threads.splice(threads.indexOf(th), 1);
      return json({ deleted: th.items.flatMap((i) => (i.kind === 'tip' ? [i.tipId] : [])) });
    }
    if (req.method === 'GET' && rest === '') return json(detail(th));
    if (req.method === 'GET' && rest === 'export.zip') {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-disposition': 'attachment; filename="thread.zip"' });
      return void res.end(Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'latin1'));
    }
    const f = /^tips\/([a-z2-7]{26})\/files\/(\d+)\/(image|text|download)$/.exec(rest);
    if (req.method === 'GET' && f) {
      const fi = th.items.findIndex((i) => i.kind === 'tip' && i.tipId === f[1]);
      if (f[3] === 'image') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-security-policy': `${DESK_CSP}; sandbox` });
        return void res.end(png());
      }
      if (f[3] === 'text') return json({ text: th.texts[`${fi}:${f[2]}`] ?? '', truncated: false });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="file"' });
      return void res.end('bytes');
    }
    if (req.method !== 'POST') return json({ error: { code: 'not-found', message: 'not found' } }, 404);
    if (rest === 'read') s.unread = !(b['read'] as boolean);
    else if (rest === 'star') s.starred = b['starred'] as boolean;
    else if (rest === 'status') {
      s.status = b['status'] as Summary['status'];
      th.history.push({ by: 'Investigations desk', at, kind: 'status', value: s.status });
    } else if (rest === 'assign') s.assignee = b['desk'] as string | null;
    else if (rest === 'tags') {
      const add = b['add'] as string[];
      const remove = b['remove'] as string[];
      s.tags = [...new Set([...s.tags.filter((x) => !remove.includes(x)), ...add])];
      for (const x of add) th.history.push({ by: 'Investigations desk', at, kind: 'tag', value: `+${x}` });
      for (const x of remove) th.history.push({ by: 'Investigations desk', at, kind: 'tag', value: `-${x}` });
    } else if (rest === 'note') {
      const sup = b['supersedes'] as string[];
      th.notes = [...th.notes.filter((n) => !sup.includes(n.op)), { op: `n${requests.length}`, text: b['text'] as string, by: 'Investigations desk', at }];
      th.history.push({ by: 'Investigations desk', at, kind: 'note', value: (b['text'] as string).slice(0, 40) });
    } else if (rest === 'reply') {
      const tip = th.items.find((i) => i.kind === 'tip')!;
      th.items.push({ kind: 'reply', op: `r${requests.length}`, tipId: tip.tipId, by: 'Investigations desk', at, text: b['text'] as string });
    } else return json({ error: { code: 'not-found', message: 'not found' } }, 404);
    return json(detail(th));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/${secret}/`,
    origin,
    requests,
    threads,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
