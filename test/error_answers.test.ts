// Every route's error answers are ErrorBody with a known code and the status that code comes with, whatever
// raised them (our checks, schema validation, the body parser, the staff plugin, an internal failure). The list
// below must name every route the server registers: a new route without an entry here fails this test.
import t from 'tap';
import { rmSync } from 'node:fs';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { dialects } from './helpers/databases.js';
import { makeNewsroom, staffHeaders } from './helpers/fixtures.js';
import { deletionStatementFor } from './helpers/deletion.js';
import { buildServer } from '../server/app.js';
import { publishDirectory } from '../server/directory.js';
import { ErrorBody, ERROR_STATUS, type ErrorCode } from '../schema/errors.js';
import { MIN_ENVELOPE_LENGTH } from '../crypto/envelope/index.js';
import { signStaffRequest } from '../crypto/staff-request.js';
import { toBase64 } from '../crypto/bytes.js';
import { sealReply } from '../crypto/reply.js';
import { generateDeskKey } from '../crypto/keys.js';
import { framedNote } from './helpers/note-bytes.js';

const HOST = 'tipline.test';
const ID = 'a'.repeat(26);

/** Method and path of every route, read from Fastify's own route tree (HEAD routes are Fastify's copies of GETs). */
function registeredRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: { depth: number; path: string }[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)(?:[└├]── )(.*) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length;
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const parent = stack[stack.length - 1]?.path ?? '';
    const path = parent === '' ? m[2]! : parent === '/' ? `/${m[2]}` : `${parent}${m[2]}`;
    stack.push({ depth, path });
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes.sort();
}

const [pglite] = await dialects();

t.test('error answers of every route', async (t) => {
  const store = await pglite!.open();
  // The health case closes the database on purpose; its folder is removed all the same.
  t.teardown(() => store.drop().catch(() => rmSync(store.where, { recursive: true, force: true })));
  // The public and the staff listener's applications; each route is asked on the one that serves it.
  const config = { db: store.db, logLevel: 'silent', powDifficulty: 4, uploadChunkSize: 64 * 1024 } as const;
  const app = await buildServer(config, 'public');
  const staffApp = await buildServer(config, 'staff', { hosts: [HOST] });
  await app.ready();
  await staffApp.ready();
  t.teardown(() => app.close());
  t.teardown(() => staffApp.close());
  const appFor = (url: string | undefined) => ((url ?? '').startsWith('/api/v1/staff/') ? staffApp : app);
  const newsroom = makeNewsroom();
  const signed = (who: typeof newsroom.desk, method: string, url: string) => ({ host: HOST, ...staffHeaders(who, method, url, { host: HOST }) });
  const octets = { host: HOST, 'content-type': 'application/octet-stream' };
  const pow = { 'tipline-pow-token': 'AAAA', 'tipline-pow-nonce': '1' };
  // A staff request with a JSON body, signed over its bytes and content type.
  const signedJson = (who: typeof newsroom.desk, url: string, body: unknown): InjectOptions => {
    const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const nonce = new Uint8Array(16).map(() => Math.floor(Math.random() * 256));
    const headers = signStaffRequest({ host: HOST, method: 'POST', pathAndQuery: url, timestamp: Math.floor(Date.now() / 1000), nonce, body: payload, contentType: 'application/json' }, who.signSecret);
    return { method: 'POST', url, headers, payload };
  };
  // A DELETE as `tipline delete` sends it: signed, with a deletion statement in its JSON body.
  const signedDelete = (who: typeof newsroom.desk, url: string): InjectOptions => {
    const payload = Buffer.from(JSON.stringify({ statement: deletionStatementFor(who, HOST) }));
    const nonce = new Uint8Array(16).map(() => Math.floor(Math.random() * 256));
    const headers = signStaffRequest({ host: HOST, method: 'DELETE', pathAndQuery: url, timestamp: Math.floor(Date.now() / 1000), nonce, body: payload, contentType: 'application/json' }, who.signSecret);
    return { method: 'DELETE', url, headers, payload };
  };
  const json = (url: string, body: unknown): InjectOptions => ({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  const TAG = 'A'.repeat(22);
  const STORED_TAG = 'B'.repeat(21) + 'A';
  const H32 = 'A'.repeat(43);
  const reply = { tag: TAG, delete_hash: H32, envelope: toBase64(new Uint8Array(100)) };
  const sealed = await sealReply({ toBoxKey: generateDeskKey().boxPublic, message: 'a reply', desk: newsroom.desk, now: new Date() });
  const wellFormed = { ...reply, envelope: toBase64(sealed.envelope) };
  const note = { envelope: toBase64(framedNote(700)), expires_day: new Date().toISOString().slice(0, 10) };
  const storeReply = async () => {
    await store.db.insertInto('replies').values({ tag: Buffer.from(STORED_TAG, 'base64url'), delete_hash: new Uint8Array(32), envelope: new Uint8Array(10), posted_day: '2026-01-01', expires_day: '2999-01-01' }).execute();
  };

  type Case = { name: string; req: InjectOptions; code: ErrorCode; before?: () => Promise<void> };
  // route -> the error answers it is asked for, or why it has none a client can cause.
  const table: Record<string, Case[] | string> = {
    'GET /.well-known/tipline/directory': [{ name: 'nothing published yet', req: { url: '/.well-known/tipline/directory' }, code: 'TIPLINE_ERR_NO_DIRECTORY' }],
    'GET /.well-known/tipline/audit-head': [{ name: 'no chain yet', req: { url: '/.well-known/tipline/audit-head' }, code: 'TIPLINE_ERR_NO_DOCUMENT' }],
    'GET /.well-known/tipline/policy': [{ name: 'none published', req: { url: '/.well-known/tipline/policy' }, code: 'TIPLINE_ERR_NO_DOCUMENT' }],
    'GET /.well-known/tipline/canary': [{ name: 'none published', req: { url: '/.well-known/tipline/canary' }, code: 'TIPLINE_ERR_NO_DOCUMENT' }],
    'GET /.well-known/tipline/client-manifest': [{ name: 'none published', req: { url: '/.well-known/tipline/client-manifest' }, code: 'TIPLINE_ERR_NO_DOCUMENT' }],
    'GET /api/v1/pow': 'answered from memory',
    'GET /api/v1/health': [{ name: 'database gone', req: { url: '/api/v1/health' }, code: 'TIPLINE_ERR_INTERNAL', before: () => store.close() }],
    'POST /api/v1/uploads': [
      { name: 'no size', req: { method: 'POST', url: '/api/v1/uploads', headers: octets, payload: Buffer.alloc(10) }, code: 'TIPLINE_ERR_BAD_REQUEST' },
      { name: 'JSON', req: { method: 'POST', url: '/api/v1/uploads?size=1000', headers: { 'content-type': 'application/json' }, payload: '{}' }, code: 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE' },
      { name: 'too large', req: { method: 'POST', url: '/api/v1/uploads?size=999999999999999', headers: octets, payload: Buffer.alloc(10) }, code: 'TIPLINE_ERR_ENVELOPE_TOO_LARGE' },
      { name: 'finish=1 on many chunks', req: { method: 'POST', url: '/api/v1/uploads?size=200000&finish=1', headers: octets, payload: Buffer.alloc(10) }, code: 'TIPLINE_ERR_UPLOAD_INCOMPLETE' },
      { name: 'body over a chunk', req: { method: 'POST', url: '/api/v1/uploads?size=200000', headers: octets, payload: Buffer.alloc(64 * 1024 + 1) }, code: 'TIPLINE_ERR_BODY_TOO_LARGE' },
      { name: 'chunk 0 short', req: { method: 'POST', url: '/api/v1/uploads?size=200000', headers: octets, payload: Buffer.alloc(10) }, code: 'TIPLINE_ERR_CHUNK_SIZE' },
      { name: 'no proof-of-work', req: { method: 'POST', url: `/api/v1/uploads?size=${MIN_ENVELOPE_LENGTH}`, headers: octets, payload: Buffer.alloc(64 * 1024) }, code: 'TIPLINE_ERR_BAD_REQUEST' },
      { name: 'unparsable token', req: { method: 'POST', url: `/api/v1/uploads?size=${MIN_ENVELOPE_LENGTH}`, headers: { ...octets, ...pow }, payload: Buffer.alloc(64 * 1024) }, code: 'TIPLINE_ERR_POW_MALFORMED' },
    ],
    'GET /api/v1/uploads/:id': [
      { name: 'unknown', req: { url: `/api/v1/uploads/${ID}` }, code: 'TIPLINE_ERR_UPLOAD_UNKNOWN' },
      { name: 'not an id', req: { url: '/api/v1/uploads/x' }, code: 'TIPLINE_ERR_BAD_REQUEST' },
    ],
    'PUT /api/v1/uploads/:id/chunks/:n': [
      { name: 'unknown', req: { method: 'PUT', url: `/api/v1/uploads/${ID}/chunks/0`, headers: octets, payload: Buffer.alloc(10) }, code: 'TIPLINE_ERR_UPLOAD_UNKNOWN' },
      { name: 'not an id', req: { method: 'PUT', url: '/api/v1/uploads/x/chunks/0', headers: octets, payload: Buffer.alloc(10) }, code: 'TIPLINE_ERR_BAD_REQUEST' },
    ],
    'POST /api/v1/uploads/:id/finish': [{ name: 'unknown', req: { method: 'POST', url: `/api/v1/uploads/${ID}/finish` }, code: 'TIPLINE_ERR_UPLOAD_UNKNOWN' }],
    'GET /api/v1/staff/tips': [
      {
        name: 'signed before a directory exists',
        req: { url: '/api/v1/staff/tips', headers: signed(newsroom.desk, 'GET', '/api/v1/staff/tips') },
        code: 'TIPLINE_ERR_NO_DIRECTORY',
      },
      { name: 'unsigned', req: { url: '/api/v1/staff/tips' }, code: 'TIPLINE_ERR_UNAUTHENTICATED', before: () => publishDirectory(store.db, newsroom.doc, new Date()).then(() => undefined) },
    ],
    'GET /api/v1/staff/tips/:id': [
      { name: 'auditor', req: { url: `/api/v1/staff/tips/${ID}`, headers: signed(newsroom.auditor, 'GET', `/api/v1/staff/tips/${ID}`) }, code: 'TIPLINE_ERR_FORBIDDEN' },
      { name: 'unknown tip', req: { url: `/api/v1/staff/tips/${ID}`, headers: signed(newsroom.desk, 'GET', `/api/v1/staff/tips/${ID}`) }, code: 'TIPLINE_ERR_TIP_UNKNOWN' },
      {
        name: 'a damaged tip',
        req: { url: `/api/v1/staff/tips/${'b'.repeat(26)}`, headers: signed(newsroom.desk, 'GET', `/api/v1/staff/tips/${'b'.repeat(26)}`) },
        code: 'TIPLINE_ERR_INTERNAL',
        before: async () => {
          await store.db.insertInto('tips').values({ id: 'b'.repeat(26), size: 100, chunk_size: 64, chunk_count: 2, received_day: '2026-01-01', expires_day: '2026-02-01' }).execute();
        },
      },
    ],
    'DELETE /api/v1/staff/tips/:id': [
      { name: 'unknown tip', req: signedDelete(newsroom.desk, `/api/v1/staff/tips/${ID}`), code: 'TIPLINE_ERR_TIP_UNKNOWN' },
      { name: 'replayed', req: signedDelete(newsroom.desk, `/api/v1/staff/tips/${ID}`), code: 'TIPLINE_ERR_REPLAYED' },
      { name: 'no deletion statement', req: { method: 'DELETE', url: `/api/v1/staff/tips/${ID}`, headers: signed(newsroom.desk, 'DELETE', `/api/v1/staff/tips/${ID}`) }, code: 'TIPLINE_ERR_DELETION_STATEMENT' },
    ],
    'GET /api/v1/staff/audit': [
      { name: 'stale', req: { url: '/api/v1/staff/audit', headers: { host: HOST, ...staffHeaders(newsroom.auditor, 'GET', '/api/v1/staff/audit', { host: HOST, timestamp: 1 }) } }, code: 'TIPLINE_ERR_STALE_REQUEST' },
    ],
    'GET /api/v1/staff/directory': [{ name: 'unsigned', req: { url: '/api/v1/staff/directory' }, code: 'TIPLINE_ERR_UNAUTHENTICATED' }],
    'POST /api/v1/staff/replies': [
      { name: 'unsigned', req: json('/api/v1/staff/replies', reply), code: 'TIPLINE_ERR_UNAUTHENTICATED' },
      { name: 'auditor', req: signedJson(newsroom.auditor, '/api/v1/staff/replies', reply), code: 'TIPLINE_ERR_FORBIDDEN' },
      { name: 'not an envelope', req: signedJson(newsroom.desk, '/api/v1/staff/replies', reply), code: 'TIPLINE_ERR_REPLY_MALFORMED' },
      { name: 'no tag', req: signedJson(newsroom.desk, '/api/v1/staff/replies', { ...reply, tag: undefined }), code: 'TIPLINE_ERR_BAD_REQUEST' },
      { name: 'over the body limit', req: signedJson(newsroom.desk, '/api/v1/staff/replies', { ...reply, envelope: 'A'.repeat(200_000) }), code: 'TIPLINE_ERR_BODY_TOO_LARGE' },
      { name: 'tag taken', req: signedJson(newsroom.desk, '/api/v1/staff/replies', { ...wellFormed, tag: STORED_TAG }), code: 'TIPLINE_ERR_REPLY_EXISTS', before: storeReply },
    ],
    'POST /api/v1/staff/notes': [
      { name: 'unsigned', req: json('/api/v1/staff/notes', note), code: 'TIPLINE_ERR_UNAUTHENTICATED' },
      { name: 'auditor', req: signedJson(newsroom.auditor, '/api/v1/staff/notes', note), code: 'TIPLINE_ERR_FORBIDDEN' },
      { name: 'not base64', req: signedJson(newsroom.desk, '/api/v1/staff/notes', { ...note, envelope: 'AA=A' }), code: 'TIPLINE_ERR_NOTE_MALFORMED' },
      { name: 'not a note envelope', req: signedJson(newsroom.desk, '/api/v1/staff/notes', { ...note, envelope: toBase64(new Uint8Array(10)) }), code: 'TIPLINE_ERR_NOTE_MALFORMED' },
      { name: 'expiry in the past', req: signedJson(newsroom.desk, '/api/v1/staff/notes', { ...note, expires_day: '2000-01-01' }), code: 'TIPLINE_ERR_NOTE_EXPIRY' },
      { name: 'no expiry', req: signedJson(newsroom.desk, '/api/v1/staff/notes', { envelope: note.envelope }), code: 'TIPLINE_ERR_BAD_REQUEST' },
      { name: 'over the body limit', req: signedJson(newsroom.desk, '/api/v1/staff/notes', { ...note, envelope: 'A'.repeat(200_000) }), code: 'TIPLINE_ERR_BODY_TOO_LARGE' },
    ],
    'GET /api/v1/staff/notes': [{ name: 'unsigned', req: { url: '/api/v1/staff/notes' }, code: 'TIPLINE_ERR_UNAUTHENTICATED' }],
    'POST /api/v1/staff/notes/fetch': [
      { name: 'auditor', req: signedJson(newsroom.auditor, '/api/v1/staff/notes/fetch', { ids: [ID] }), code: 'TIPLINE_ERR_FORBIDDEN' },
      { name: 'no ids', req: signedJson(newsroom.desk, '/api/v1/staff/notes/fetch', { ids: [] }), code: 'TIPLINE_ERR_BAD_REQUEST' },
    ],
    'POST /api/v1/staff/notes/delete': [
      { name: 'unsigned', req: json('/api/v1/staff/notes/delete', { ids: [ID] }), code: 'TIPLINE_ERR_UNAUTHENTICATED' },
      { name: 'not an id', req: signedJson(newsroom.desk, '/api/v1/staff/notes/delete', { ids: ['x'] }), code: 'TIPLINE_ERR_BAD_REQUEST' },
    ],
    'GET /api/v1/replies': 'the same list for everyone, nothing a client can get wrong',
    'POST /api/v1/replies/fetch': [
      { name: 'three tags', req: json('/api/v1/replies/fetch', { tags: [TAG, TAG, TAG] }), code: 'TIPLINE_ERR_BAD_REQUEST' },
      { name: 'a tag of 17 bytes', req: json('/api/v1/replies/fetch', { tags: [TAG, TAG, TAG, 'A'.repeat(23)] }), code: 'TIPLINE_ERR_BAD_REQUEST' },
      { name: 'over 4 KiB', req: json('/api/v1/replies/fetch', { tags: [TAG, TAG, TAG, TAG], pad: 'x'.repeat(5000) }), code: 'TIPLINE_ERR_BODY_TOO_LARGE' },
    ],
    'POST /api/v1/replies/delete': [
      { name: 'unknown tag', req: json('/api/v1/replies/delete', { tag: TAG, token: H32 }), code: 'TIPLINE_ERR_REPLY_UNKNOWN' },
      { name: 'wrong token', req: json('/api/v1/replies/delete', { tag: STORED_TAG, token: H32 }), code: 'TIPLINE_ERR_REPLY_FORBIDDEN' },
      { name: 'no token', req: json('/api/v1/replies/delete', { tag: STORED_TAG }), code: 'TIPLINE_ERR_BAD_REQUEST' },
    ],
    'GET /': 'the built page, from memory',
    'GET /es': 'a redirect',
    'GET /es/': 'the built page, from memory',
    'GET /de': 'a redirect',
    'GET /de/': 'the built page, from memory',
    'GET /assets/app.js': 'a built asset, from memory',
    'GET /assets/worker.js': 'a built asset, from memory',
    'GET /assets/style.css': 'a built asset, from memory',
    'GET /favicon.ico': 'always 204',
  };
  t.same([...registeredRoutes(app), ...registeredRoutes(staffApp)].sort(), Object.keys(table).sort(), 'the table names every route the server registers');

  // The replayed case reuses the headers of the one before it.
  const del = table['DELETE /api/v1/staff/tips/:id'] as Case[];
  del[1]!.req = { ...del[0]!.req };
  // The health case closes the database: it goes last.
  const ordered = Object.entries(table).sort(([a], [b]) => Number(a === 'GET /api/v1/health') - Number(b === 'GET /api/v1/health'));
  const seen = new Set<ErrorCode>();
  for (const [route, cases] of ordered) {
    if (typeof cases === 'string') continue;
    for (const c of cases) {
      await c.before?.();
      const res = await appFor(c.req.url as string | undefined).inject({ ...c.req, headers: { host: HOST, ...c.req.headers } });
      const parsed = ErrorBody.safeParse(res.json());
      t.ok(parsed.success, `${route}, ${c.name}: an ErrorBody (${res.body.slice(0, 120)})`);
      t.equal(parsed.data?.error.code, c.code, `${route}, ${c.name}: ${c.code}`);
      t.equal(res.statusCode, ERROR_STATUS[c.code], `${route}, ${c.name}: status ${ERROR_STATUS[c.code]}`);
      t.match(res.headers['content-type'], /^application\/json/);
      seen.add(c.code);
    }
  }
  t.ok(seen.size >= 16, `${seen.size} distinct codes seen`);

  for (const a of [app, staffApp]) {
    const nowhere = await a.inject({ url: '/nowhere', headers: { host: HOST } });
    t.equal(nowhere.statusCode, 404);
    t.equal(ErrorBody.parse(nowhere.json()).error.code, 'TIPLINE_ERR_NOT_FOUND', 'an unmatched path too');
  }
});
