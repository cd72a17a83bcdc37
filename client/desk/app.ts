// The desk app's local server (schema/desk-api.ts): the page from dist/desk-web and its JSON API, on 127.0.0.1
// only, for the journalist's own browser. node:http rather than Fastify: every request passes one gate written
// here, before any routing, body parsing or framework default (whose own 404/400 bodies and content-type parsers
// would otherwise answer first), and the handful of routes need nothing more.
//
// The gate, the same 404 for whatever failed (a probe learns nothing, the secret is never echoed):
// - the path starts with /<secret>/ (compared in constant time): other local users and processes, and pages in
//   the browser, do not know it;
// - Host is exactly 127.0.0.1:PORT. Threat: DNS rebinding, a page of evil.example whose name turns to 127.0.0.1,
//   or a request to localhost:PORT that another local service could be answering in the browser's eyes;
// - Origin, when sent (and it must be for anything but GET), is http://127.0.0.1:PORT, and Sec-Fetch-Site, when
//   sent, is same-origin or none. Threat: another page in the same browser driving the API (CSRF).
// Every answer carries a strict CSP and no-store; file views never hand the browser the source's bytes to render.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { ApiError } from '../shared/errors.js';
import type { Api } from '../cli/api.js';
import type { StaffIdentity } from '../cli/keyfiles.js';
import type { Proxy } from '../cli/http.js';
import { replyToTip } from '../cli/commands/reply.js';
import { AssignBody, DESK_STATIC, NoteBody, ReadBody, ReplyBody, StarBody, StatusBody, TagsBody, ThreadKey, ThreadsQuery, type DeskSession, type FileInfo } from '../../schema/desk-api.js';
import type { DeskNotes } from './notes.js';
import { renderKind, textOf } from './render.js';
import type { RenderAnswer, RenderJob } from './render-worker.js';
import { exportFileName, exportThread } from './export.js';
import type { DeskStore } from './store.js';
import type { DeskSync } from './sync.js';
import { said } from './sync.js';
import type { TipRecord } from './threads.js';

export const MAX_BODY = 256 * 1024;
/** Files larger than this are only offered for download: decoding or hashing them per view would stall the app. */
const MAX_VIEW_BYTES = 64 * 1024 * 1024;
const STATIC_DIR = fileURLToPath(new URL('../../desk-web/', import.meta.url));

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

export interface DeskContext {
  server: string;
  proxy: Proxy | undefined;
  api: Api;
  key: StaffIdentity;
  store: DeskStore;
  sync: DeskSync;
  notes: DeskNotes;
  /** This desk's name as the directory lists it (what a source sees on a reply). */
  deskName: () => string;
  /** Desks listed now. */
  desks: () => string[];
  /** The signed directory document as served (for exports). */
  directoryDoc: () => unknown;
  notice: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND = () => new HttpError(404, 'not-found', 'not found');

function baseHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}

function sendError(res: ServerResponse, err: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, { error: { code: err.code, message: err.message } });
}

/** An attachment's name for Content-Disposition: a plain ASCII fallback and the UTF-8 name (RFC 5987/6266). */
export function contentDisposition(name: string): string {
  const clean = name.replace(/[\p{Cc}\p{Cf}/\\]/gu, '_').trim().slice(0, 200) || 'file';
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_').replace(/["%;]/g, '_');
  const star = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${star}`;
}

function sameSecret(given: string, secret: Buffer): boolean {
  const g = Buffer.from(given);
  if (g.length !== secret.length) return false;
  return timingSafeEqual(g, secret);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new HttpError(413, 'too-large', `the body is over ${MAX_BODY} bytes`);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const p of req as AsyncIterable<Buffer>) {
    n += p.length;
    if (n > MAX_BODY) throw new HttpError(413, 'too-large', `the body is over ${MAX_BODY} bytes`);
    parts.push(p);
  }
  return Buffer.concat(parts);
}

function parse<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new HttpError(400, 'invalid', `${issue?.path.join('.') || 'the request'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data as z.infer<S>;
}

function queryOf(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (k in out) throw new HttpError(400, 'invalid', `${k} is given twice`);
    if (v !== '') out[k] = v;
  }
  return out;
}

interface FileCacheEntry {
  key: string;
  sha256: string;
  render: FileInfo['render'];
}

export class DeskApp {
  readonly http: Server;
  private readonly secret: Buffer;
  private port = 0;
  private files = new Map<string, FileCacheEntry>();
  private worker: Worker | undefined;
  private jobs = new Map<number, (a: RenderAnswer) => void>();
  private nextJob = 0;

  constructor(
    private readonly ctx: DeskContext,
    secret: string,
  ) {
    this.secret = Buffer.from(secret);
    this.http = createServer((req, res) => void this.handle(req, res));
    // Slow or idle local connections are closed: nothing here needs them open.
    this.http.requestTimeout = 120_000;
    this.http.headersTimeout = 20_000;
  }

  /** Listens on 127.0.0.1 only (never 0.0.0.0 or ::: other machines on the network have no business here). */
  async listen(port: number): Promise<number> {
    await new Promise<void>((ok, fail) => {
      this.http.once('error', fail);
      this.http.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        this.http.off('error', fail);
        ok();
      });
    });
    const a = this.http.address();
    if (!a || typeof a === 'string') throw new Error('the desk server has no address');
    this.port = a.port;
    return this.port;
  }

  /** Decoding and hashing a source's file happen in one worker thread, in turn, never on this event loop. */
  private render(path: string, want: RenderJob['want']): Promise<RenderAnswer> {
    if (!this.worker) {
      const w = new Worker(new URL('./render-worker.js', import.meta.url));
      w.unref();
      w.on('message', (a: RenderAnswer) => {
        const done = this.jobs.get(a.id);
        this.jobs.delete(a.id);
        done?.(a);
      });
      const fail = (err: unknown) => {
        this.worker = undefined;
        for (const [id, done] of this.jobs) done({ id, error: String(err) });
        this.jobs.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(`the render worker exited (${code})`));
      this.worker = w;
    }
    const id = this.nextJob++;
    const job: RenderJob = { id, path, want };
    return new Promise((ok) => {
      this.jobs.set(id, ok);
      this.worker!.postMessage(job);
    });
  }

  close(): Promise<void> {
    void this.worker?.terminate();
    return new Promise((ok) => {
      this.http.close(() => ok());
      this.http.closeAllConnections();
    });
  }

  /** The gate: undefined when the request passes, else the path inside /<secret>/. */
  private admit(req: IncomingMessage, url: URL): string | undefined {
    const own = `127.0.0.1:${this.port}`;
    if (req.headers.host !== own) return undefined;
    const path = url.pathname;
    if (!path.startsWith('/')) return undefined;
    const slash = path.indexOf('/', 1);
    if (slash < 0) return undefined;
    if (!sameSecret(path.slice(1, slash), this.secret)) return undefined;
    const rest = path.slice(slash + 1);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${own}`) return undefined;
    if (origin === undefined && req.method !== 'GET') return undefined;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return undefined;
    return rest;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    baseHeaders(res);
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://127.0.0.1');
      } catch {
        throw NOT_FOUND();
      }
      const rest = this.admit(req, url);
      if (rest === undefined) throw NOT_FOUND();
      await this.route(req, res, rest, url);
    } catch (err) {
      if (err instanceof HttpError) sendError(res, err);
      else if (err instanceof ApiError) sendError(res, new HttpError(502, 'server', `the tip line answered: ${said(err)}`));
      else sendError(res, new HttpError(502, 'failed', said(err)));
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, rest: string, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    if (!rest.startsWith('api/')) {
      if (method !== 'GET') throw new HttpError(405, 'method', 'only GET here');
      if (!(DESK_STATIC as readonly string[]).includes(rest)) throw NOT_FOUND();
      return this.serveStatic(res, rest === '' ? 'index.html' : rest);
    }
    let segs: string[];
    try {
      segs = rest.slice(4).split('/').map(decodeURIComponent);
    } catch {
      throw NOT_FOUND();
    }
    const body = async <S extends z.ZodTypeAny>(schema: S, allowEmpty = false): Promise<z.infer<S>> => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new HttpError(415, 'content-type', 'send application/json');
      const raw = await readBody(req);
      if (raw.length === 0 && allowEmpty) return parse(schema, {});
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'bad-json', 'the body is not JSON');
      }
      return parse(schema, json);
    };
    const [a, id, b, tip, c, n, view, ...more] = segs;
    if (a === 'session' && segs.length === 1) {
      if (method !== 'GET') throw new HttpError(405, 'method', 'GET only');
      const s: DeskSession = { desk: this.ctx.deskName(), desks: this.ctx.desks(), server: this.ctx.server, lastSync: this.ctx.sync.lastSync, syncing: this.ctx.sync.syncing, syncError: this.ctx.sync.syncError, notice: this.ctx.notice };
      return sendJson(res, 200, s);
    }
    if (a === 'sync' && segs.length === 1) {
      if (method !== 'POST') throw new HttpError(405, 'method', 'POST only');
      await body(z.object({}).strict(), true);
      const r = await this.ctx.sync.run();
      return sendJson(res, 200, r);
    }
    if (a === 'tags' && segs.length === 1) {
      if (method !== 'GET') throw new HttpError(405, 'method', 'GET only');
      return sendJson(res, 200, { tags: this.ctx.store.tags() });
    }
    if (a !== 'threads') throw NOT_FOUND();
    if (id === undefined) {
      if (method !== 'GET') throw new HttpError(405, 'method', 'GET only');
      const q = parse(ThreadsQuery.strict(), queryOf(url));
      return sendJson(res, 200, this.ctx.store.list(q));
    }
    const thread = parse(ThreadKey, id);
    if (!this.ctx.store.has(thread)) throw new HttpError(404, 'no-thread', 'no such thread here');
    if (b === undefined) {
      if (method === 'GET') return sendJson(res, 200, await this.detail(thread));
      if (method === 'DELETE') return this.deleteThread(res, thread);
      throw new HttpError(405, 'method', 'GET or DELETE');
    }
    if (b === 'export.zip' && tip === undefined) {
      if (method !== 'GET') throw new HttpError(405, 'method', 'GET only');
      return this.exportZip(res, thread);
    }
    if (b === 'tips' && tip !== undefined && c === 'files' && n !== undefined && view !== undefined && more.length === 0) {
      if (method !== 'GET') throw new HttpError(405, 'method', 'GET only');
      return await this.fileView(res, thread, tip, n, view);
    }
    if (tip !== undefined) throw NOT_FOUND();
    if (method !== 'POST') throw new HttpError(405, 'method', 'POST only');
    const store = this.ctx.store;
    switch (b) {
      case 'read':
        store.setRead(thread, (await body(ReadBody)).read);
        break;
      case 'star':
        // Shared like status: the issue's "star set by desk A appears for desk B".
        await this.post(thread, { kind: 'star', starred: (await body(StarBody)).starred });
        break;
      case 'status':
        await this.post(thread, { kind: 'status', status: (await body(StatusBody)).status });
        break;
      case 'assign': {
        const { desk } = await body(AssignBody);
        if (desk !== null && !this.ctx.desks().includes(desk)) throw new HttpError(400, 'invalid', 'desk: not a desk the directory lists');
        await this.post(thread, { kind: 'assign', desk });
        break;
      }
      case 'tags': {
        const t = await body(TagsBody);
        const history = store.sharedState(thread)?.history ?? [];
        const current = new Set(store.sharedState(thread)?.tags ?? []);
        for (const tag of t.add) if (!current.has(tag)) await this.post(thread, { kind: 'tag-add', tag });
        for (const tag of t.remove) {
          const removes = history.filter((o) => o.kind === 'tag-add' && o.tag === tag).map((o) => o.op);
          if (removes.length > 0) await this.post(thread, { kind: 'tag-remove', tag, removes });
        }
        break;
      }
      case 'note': {
        const nb = await body(NoteBody);
        await this.post(thread, { kind: 'note', text: nb.text, supersedes: nb.supersedes });
        break;
      }
      case 'reply':
        await this.reply(thread, (await body(ReplyBody)).text);
        break;
      default:
        throw NOT_FOUND();
    }
    return sendJson(res, 200, await this.detail(thread));
  }

  private serveStatic(res: ServerResponse, name: string): void {
    const types: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', 'desk.js': 'text/javascript; charset=utf-8', 'desk.css': 'text/css; charset=utf-8' };
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(STATIC_DIR, name));
    } catch {
      throw new HttpError(404, 'not-built', 'the desk page is not built (npm run build)');
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', types[name]!);
    res.setHeader('Content-Length', bytes.length);
    res.end(bytes);
  }

  private expiresOrRefuse(thread: string): string {
    const day = this.ctx.store.expiresDay(thread);
    if (!day) throw new HttpError(409, 'not-on-server', 'the server does not list this thread (deleted or expired): shared notes cannot be kept for it');
    return day;
  }

  private async post(thread: string, body: Parameters<DeskNotes['post']>[1]): Promise<void> {
    await this.ctx.notes.post(thread, body, this.expiresOrRefuse(thread));
  }

  /** Hashes and checks (in the worker) every file of the thread not already known at its size and time. */
  private async prepareFiles(thread: string): Promise<void> {
    for (const tip of this.ctx.store.thread(thread)?.tips ?? []) {
      for (const f of tip.files) {
        const path = this.filePath(tip, f.savedAs);
        if (!path) continue;
        let st;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        const key = `${st.size}:${st.mtimeMs}`;
        if (this.files.get(path)?.key === key || st.size > MAX_VIEW_BYTES) continue;
        const a = await this.render(path, 'info');
        if (a.sha256 !== undefined && a.render !== undefined) this.files.set(path, { key, sha256: a.sha256, render: a.render });
      }
    }
  }

  private fileInfo(tip: TipRecord): FileInfo[] {
    return tip.files.map((f) => {
      const path = this.filePath(tip, f.savedAs);
      let sha256 = '';
      let render: FileInfo['render'] = 'none';
      try {
        const st = statSync(path!);
        const hit = this.files.get(path!);
        if (hit && hit.key === `${st.size}:${st.mtimeMs}`) ({ sha256, render } = hit);
      } catch {
        // missing or unreadable: listed, not viewable
      }
      return { index: f.index, name: f.name, type: f.type, size: f.size, sha256, render };
    });
  }

  /** The file's path inside the tip's folder, or undefined when the manifest points elsewhere. */
  private filePath(tip: TipRecord, savedAs: string): string | undefined {
    const root = resolve(tip.folder);
    const p = resolve(root, savedAs);
    return savedAs !== '' && p.startsWith(`${root}${sep}files${sep}`) ? p : undefined;
  }

  private async detail(thread: string) {
    await this.prepareFiles(thread);
    const d = this.ctx.store.detail(thread, this.ctx.deskName(), (t) => this.fileInfo(t));
    if (!d) throw new HttpError(404, 'no-thread', 'no such thread here');
    return d;
  }

  private async fileView(res: ServerResponse, thread: string, tipId: string, n: string, view: string): Promise<void> {
    const tip = this.ctx.store.thread(thread)?.tips.find((t) => t.id === tipId);
    const index = /^\d{1,4}$/.test(n) ? Number(n) : -1;
    const file = tip?.files[index];
    const path = tip && file ? this.filePath(tip, file.savedAs) : undefined;
    if (!tip || !file || !path) throw new HttpError(404, 'no-file', 'no such file');
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new HttpError(404, 'no-file', 'the file is not in the inbox');
    }
    if (view === 'download') {
      res.statusCode = 200;
      // Nothing the browser could run or render in our origin: an opaque attachment, sandboxed if opened anyway.
      res.setHeader('Content-Security-Policy', [CSP, 'sandbox']);
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Disposition', contentDisposition(file.name));
      res.setHeader('Content-Length', size);
      createReadStream(path).on('error', () => res.destroy()).pipe(res);
      return;
    }
    if (view !== 'image' && view !== 'text') throw NOT_FOUND();
    if (size > MAX_VIEW_BYTES) throw new HttpError(413, 'too-large', 'too large to show here: save it to disk');
    if (view === 'text') {
      const bytes = new Uint8Array(readFileSync(path));
      // An image header is checked by decoding it: that is the worker's job (a PNG or JPEG is never text anyway).
      const head = bytes.subarray(0, 3);
      const image = (head[0] === 0x89 && head[1] === 0x50) || (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff);
      if (image || renderKind(bytes) !== 'text') throw new HttpError(415, 'not-text', 'this file is not text: save it to disk');
      return sendJson(res, 200, textOf(bytes));
    }
    // Only the PNG re-encoded from decoded pixels (in the worker): the browser's image decoders never see the source's bytes.
    const a = await this.render(path, 'png');
    const png = a.png ? Buffer.from(a.png.buffer, a.png.byteOffset, a.png.byteLength) : undefined;
    if (!png) throw new HttpError(415, 'not-image', 'this file is not an image that can be shown safely: save it to disk');
    res.statusCode = 200;
    res.setHeader('Content-Type', 'image/png');
    res.setHeader('Content-Length', png.length);
    res.end(png);
  }

  private async reply(thread: string, text: string): Promise<void> {
    const t = this.ctx.store.thread(thread)!;
    const to = [...t.tips].reverse().find((x) => x.canReply);
    if (!to) throw new HttpError(409, 'no-replies', 'this source did not ask for replies: there is no way to answer');
    const expires = this.expiresOrRefuse(thread);
    await replyToTip({ server: this.ctx.server, key: this.ctx.key, tipId: to.id, message: text, inbox: this.ctx.store.inbox, proxy: this.ctx.proxy, warn: () => {} });
    try {
      await this.ctx.notes.post(thread, { kind: 'reply', tip: to.id, text }, expires);
    } catch (err) {
      throw new HttpError(502, 'reply-not-shared', `the reply was sent to the source, but the other desks could not be told (${said(err)}): do not send it again`);
    }
  }

  private async deleteThread(res: ServerResponse, thread: string): Promise<void> {
    const tips = this.ctx.store.thread(thread)!.tips.map((t) => t.id);
    const deleted: string[] = [];
    const failed: string[] = [];
    for (const id of tips) {
      if (!this.ctx.store.tipOnServer(id)) {
        deleted.push(id); // already gone there (another desk, or expiry): only the local copy is left
        continue;
      }
      try {
        await this.ctx.api.deleteTip(this.ctx.key, id);
        deleted.push(id);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'TIPLINE_ERR_TIP_UNKNOWN') deleted.push(id);
        else failed.push(`${id} (${said(err)})`);
      }
    }
    let notesError: string | undefined;
    if (failed.length === 0) {
      try {
        await this.ctx.notes.deleteThread(thread);
      } catch (err) {
        notesError = said(err);
      }
    }
    this.ctx.store.forget(failed.length === 0 ? thread : '', deleted);
    if (failed.length > 0) throw new HttpError(502, 'partly-deleted', `deleted ${deleted.length ? deleted.join(', ') : 'none'}; not deleted on the server: ${failed.join('; ')}`);
    if (notesError) throw new HttpError(502, 'notes-not-deleted', `deleted ${deleted.join(', ')} on the server and here, but not the thread's shared notes (${notesError}); they expire with the tips`);
    return sendJson(res, 200, { deleted });
  }

  private async exportZip(res: ServerResponse, thread: string): Promise<void> {
    const t = this.ctx.store.thread(thread)!;
    const zip = await exportThread({ thread, tips: t.tips.map((x) => ({ tipId: x.id, folder: x.folder })), shared: this.ctx.store.sharedState(thread), desk: this.ctx.key, directory: this.ctx.directoryDoc(), now: new Date() });
    res.statusCode = 200;
    res.setHeader('Content-Security-Policy', [CSP, 'sandbox']);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', contentDisposition(exportFileName(thread, new Date())));
    res.setHeader('Content-Length', zip.length);
    res.end(zip);
  }
}
