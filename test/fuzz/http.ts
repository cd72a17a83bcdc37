// HTTP as bytes on a loopback socket, for properties over the server's public surface: any method, any header,
// any framing, malformed or not (node:http and fetch refuse to send most of what an attacker would). Plus the
// checks every answer must pass and a count of every stored row, to show a refused request stored nothing.
import net from 'node:net';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema/db.js';
import { ErrorBody, ERROR_STATUS } from '../../schema/errors.js';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
}

/** What came back: an answer, the connection closed with none, or nothing before the time bound (a hang). */
export type Outcome = { kind: 'answer'; answer: Answer } | { kind: 'closed'; ms: number; raw: Buffer } | { kind: 'timeout'; ms: number };

/**
 * Writes `bytes` and reads until the first final (non-1xx) answer is complete or the server closes. With
 * `endAfterMs`, a request the server is still waiting on after that long (a body shorter than declared, a head
 * without its blank line) is ended by half-closing. Not at once: Node drops a request whose client half-closed
 * while its handler is still awaiting something (no answer at all, as a real client never does this).
 */
export function exchange(url: string, bytes: Uint8Array, opts: { timeoutMs?: number; endAfterMs?: number } = {}): Promise<Outcome> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const u = new URL(url);
  return new Promise((resolve) => {
    const started = performance.now();
    const parts: Buffer[] = [];
    const socket = net.connect({ host: u.hostname, port: Number(u.port) });
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(idle);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', ms: performance.now() - started }), timeoutMs);
    let idle: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(bytes);
      if (opts.endAfterMs !== undefined) idle = setTimeout(() => socket.end(), opts.endAfterMs);
    });
    socket.on('data', (d: Buffer) => {
      clearTimeout(idle);
      parts.push(d);
      const a = parseAnswer(Buffer.concat(parts), performance.now() - started, false);
      if (a) finish({ kind: 'answer', answer: a });
    });
    const onEnd = () => {
      const raw = Buffer.concat(parts);
      const a = parseAnswer(raw, performance.now() - started, true);
      finish(a ? { kind: 'answer', answer: a } : { kind: 'closed', ms: performance.now() - started, raw });
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onEnd);
  });
}

/** The first non-1xx answer in `raw`, once complete (by content-length, chunked, or the connection's end). */
function parseAnswer(raw: Buffer, ms: number, ended: boolean): Answer | undefined {
  let at = 0;
  for (;;) {
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return undefined;
    const lines = raw.subarray(at, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) return undefined;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let bodyStart = headEnd + 4;
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue;
    }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (raw.length - bodyStart < n) return ended ? { status, headers, body: raw.subarray(bodyStart), ms } : undefined;
      return { status, headers, body: raw.subarray(bodyStart, bodyStart + n), ms };
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const body: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', bodyStart);
        if (lineEnd < 0) return ended ? { status, headers, body: Buffer.concat(body), ms } : undefined;
        const size = parseInt(raw.subarray(bodyStart, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) return { status, headers, body: Buffer.concat(body), ms };
        if (size === 0) return { status, headers, body: Buffer.concat(body), ms };
        if (raw.length < lineEnd + 2 + size + 2) return ended ? { status, headers, body: Buffer.concat(body), ms } : undefined;
        body.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
        bodyStart = lineEnd + 2 + size + 2;
      }
    }
    return ended ? { status, headers, body: raw.subarray(bodyStart), ms } : undefined;
  }
}

export interface RequestSpec {
  method: string;
  target: string;
  headers: [string, string][];
  body: Uint8Array;
  /** Send the body chunked instead of with a content-length. */
  chunked?: boolean;
}

/** The bytes of a well-framed HTTP/1.1 request that asks the server to close after answering. */
export function requestBytes(r: RequestSpec, host: string): Buffer {
  const lines = [`${r.method} ${r.target} HTTP/1.1`, `host: ${host}`, 'connection: close'];
  for (const [k, v] of r.headers) lines.push(`${k}: ${v}`);
  if (r.chunked) {
    lines.push('transfer-encoding: chunked');
    const body = r.body.length > 0 ? Buffer.concat([Buffer.from(`${r.body.length.toString(16)}\r\n`), r.body, Buffer.from('\r\n')]) : Buffer.alloc(0);
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body, Buffer.from('0\r\n\r\n')]);
  }
  if (r.body.length > 0 || ['POST', 'PUT', 'PATCH'].includes(r.method)) lines.push(`content-length: ${r.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), r.body]);
}

/**
 * Every answer's contract (SECURITY.md invariant 6, schema/errors.ts): an answer within the bound, never a 5xx,
 * every error a JSON ErrorBody whose code comes with that status. Returns what is wrong, or undefined.
 */
export function answerProblem(o: Outcome, method: string, opts: { mayClose?: boolean } = {}): string | undefined {
  if (o.kind === 'timeout') return `no answer within ${Math.round(o.ms)} ms`;
  if (o.kind === 'closed') return opts.mayClose ? undefined : `connection closed without an answer (${o.raw.length} bytes: ${JSON.stringify(o.raw.subarray(0, 80).toString('latin1'))})`;
  const a = o.answer;
  if (a.status >= 500) return `HTTP ${a.status}: ${a.body.subarray(0, 300).toString()}`;
  if (a.status < 400 || method === 'HEAD') return undefined;
  if (!/^application\/json/.test(a.headers['content-type'] ?? '')) return `HTTP ${a.status} with content-type ${a.headers['content-type']}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(a.body.toString('utf8'));
  } catch {
    return `HTTP ${a.status}: body is not JSON: ${a.body.subarray(0, 200).toString()}`;
  }
  const e = ErrorBody.safeParse(parsed);
  if (!e.success) return `HTTP ${a.status}: not an ErrorBody: ${a.body.subarray(0, 200).toString()}`;
  // 431 is the one status Node's parser picks itself (headers too large); its code is the generic bad request.
  if (ERROR_STATUS[e.data.error.code] !== a.status && !(a.status === 431 && e.data.error.code === 'TIPLINE_ERR_BAD_REQUEST')) {
    return `HTTP ${a.status} with code ${e.data.error.code}, which comes with ${ERROR_STATUS[e.data.error.code]}`;
  }
  return undefined;
}

/** Rows of every table a request could add to. */
export type RowCounts = Record<'tips' | 'uploads' | 'blob_chunks' | 'pow_redeemed' | 'staff_nonces' | 'documents' | 'audit_log' | 'replies', number>;
export async function countRows(db: Kysely<Database>): Promise<RowCounts> {
  const r = await sql<Record<string, string | number>>`select
    (select count(*) from tips) as tips, (select count(*) from uploads) as uploads, (select count(*) from blob_chunks) as blob_chunks,
    (select count(*) from pow_redeemed) as pow_redeemed, (select count(*) from staff_nonces) as staff_nonces,
    (select count(*) from documents) as documents, (select count(*) from audit_log) as audit_log, (select count(*) from replies) as replies`.execute(db);
  return Object.fromEntries(Object.entries(r.rows[0]!).map(([k, v]) => [k, Number(v)])) as RowCounts;
}

export function rowsChanged(before: RowCounts, after: RowCounts): string | undefined {
  const d = (Object.keys(before) as (keyof RowCounts)[]).filter((k) => before[k] !== after[k]);
  return d.length === 0 ? undefined : d.map((k) => `${k} ${before[k]} -> ${after[k]}`).join(', ');
}

// ---------------------------------------------------------------- generators

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'SEARCH', 'QUERY', 'LINK', 'PURGE'];
export const method = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.constantFrom('get', 'Get', 'FOO', 'M-SEARCH', 'X') });

const ID = 'abcdefghijklmnopqrstuvwxyz234567';
export const base32Id = fc.array(fc.constantFrom(...ID), { minLength: 26, maxLength: 26 }).map((a) => a.join(''));
/** An id as a client might send one: valid-looking, wrong length, wrong alphabet, encoded, empty. */
export const anyId = fc.oneof(
  { weight: 3, arbitrary: base32Id },
  { weight: 1, arbitrary: fc.constantFrom('', 'x', 'A'.repeat(26), '0'.repeat(26), 'a'.repeat(27), 'a'.repeat(25), '%61'.repeat(26), '..', '%2e%2e', 'a'.repeat(5000)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
);

/** A path segment or query part as it goes on the request line: visible ASCII, sometimes broken percent-escapes. */
export const urlText = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%00', '%ff', '%c0%af', '..', '%2e%2e', '//', '?', '#', '&&&', '=', '+', ';', '~'),
  fc.stringMatching(/^[\x21-\x7e]{0,20}$/).map((s) => s.replace(/[#%\s]/g, '')),
);

/** Request targets over every route the server has, and around them. */
export const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.oneof(
      fc.constantFrom('/', '/es/', '/de/', '/es', '/de', '/fr/', '/favicon.ico', '/assets/app.js', '/assets/worker.js', '/assets/style.css', '/assets/nothing.js', '/assets/../index.html', '/.well-known/tipline/directory', '/api/v1/pow', '/api/v1/health', '/api/v1/uploads', '/api/v1/staff/tips', '/api/v1/staff/audit', '/api/v1', '/api/v2/pow', '*', '/api/v1/replies', '/api/v1/replies/', '/api/v1/replies/fetch', '/api/v1/replies/delete', '/api/v1/staff/replies'),
      anyId.map((id) => `/api/v1/uploads/${id}`),
      fc.tuple(anyId, fc.oneof(fc.constantFrom('0', '1', '2', '-1', '01', '1e3', '9999999', '10000000', 'x', ''), fc.nat().map(String))).map(([id, n]) => `/api/v1/uploads/${id}/chunks/${n}`),
      anyId.map((id) => `/api/v1/uploads/${id}/finish`),
      anyId.map((id) => `/api/v1/staff/tips/${id}`),
    ),
  },
  { weight: 2, arbitrary: fc.array(urlText, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`) },
  { weight: 1, arbitrary: fc.constantFrom('/' + 'a'.repeat(8000), '/api/v1/uploads/' + 'a/'.repeat(2000)) },
).chain((path) =>
  fc.option(fc.array(fc.tuple(fc.oneof(fc.constantFrom('size', 'finish', 'n', 'id', '__proto__', 'constructor'), urlText), urlText), { maxLength: 4 }), { nil: undefined }).map((q) =>
    q === undefined ? path : `${path}?${q.map(([k, v]) => `${k}=${v}`).join('&')}`,
  ),
);

export const contentType = fc.constantFrom('application/octet-stream', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream; charset=utf-8', 'APPLICATION/OCTET-STREAM', 'application/octet-streamx', '', 'application/json; charset=utf-16', '*/*');

const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((s) => s.trim()), fc.constantFrom('', '0', '-1', 'gzip', 'AAAA', '1'.repeat(17), 'x'.repeat(4000)));
/** Headers a client might add; the framing ones (content-length, transfer-encoding, host) are the request's own. */
export const headers = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('content-type'), contentType),
    fc.tuple(fc.constantFrom('tipline-pow-token', 'tipline-pow-nonce', 'tipline-key', 'tipline-timestamp', 'tipline-nonce', 'tipline-signature'), headerValue),
    fc.tuple(fc.constantFrom('accept-encoding', 'accept', 'cookie', 'range', 'if-none-match', 'origin', 'referer', 'x-forwarded-for', 'forwarded', 'expect', 'content-encoding', 'upgrade'), headerValue),
    fc.tuple(fc.constantFrom('expect', 'content-encoding', 'upgrade', 'accept-encoding'), fc.constantFrom('100-continue', 'gzip', 'deflate', 'br', 'websocket', 'h2c', 'identity')),
    fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), headerValue),
  ),
  { maxLength: 6 },
);

/** Bodies: none, a few random bytes, JSON, or sizes around the limits (cheap to make: one repeated byte). */
export const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((s) => new TextEncoder().encode(s)) },
  { weight: 1, arbitrary: fc.constantFrom(16 * 1024, 16 * 1024 + 1, 65_673, 70_000, 200_000).map((n) => new Uint8Array(n).fill(0x74)) },
  { weight: 2, arbitrary: replyJson() },
);

/** JSON shaped like the reply routes' requests: tags and tokens well-formed or nearly so, in lists of any length. */
function replyJson(): fc.Arbitrary<Uint8Array> {
  const tagish = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{21}[AQgw]$/), fc.stringMatching(/^[A-Za-z0-9_+/=-]{0,24}$/), fc.constantFrom('', 'A'.repeat(22), 'A'.repeat(21) + 'B'));
  const tokenish = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/), fc.stringMatching(/^[A-Za-z0-9_+/=-]{0,45}$/));
  return fc
    .oneof(
      fc.record({ tags: fc.array(tagish, { maxLength: 6 }) }),
      fc.record({ tag: tagish, token: tokenish }, { requiredKeys: [] }),
      fc.record({ tag: tagish, delete_hash: tokenish, envelope: fc.stringMatching(/^[A-Za-z0-9+/=]{0,200}$/) }, { requiredKeys: [] }),
    )
    .map((v) => new TextEncoder().encode(JSON.stringify(v)));
}
