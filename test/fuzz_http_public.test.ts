// Property-based tests of the whole public surface over real HTTP: a real server on loopback (both databases) is
// sent any method to any path with any headers and body, and malformed HTTP as raw bytes. Every answer must come
// within the bound, never be a 5xx, every error must be a JSON ErrorBody whose code matches its status, and no
// such request may store a row (none of them carries a solved proof-of-work or a valid staff signature).
import t from 'tap';
import fc from 'fast-check';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { holds } from './fuzz/config.js';
import { applyBytes, byteOp } from './fuzz/mutate.js';
import { REPLY_FETCH_SLOTS, replySlotBytes } from '../schema/wire.js';
import { REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { answerProblem, body, countRows, exchange, headers, method, requestBytes, rowsChanged, target, type Outcome } from './fuzz/http.js';

const FETCH_ANSWER = REPLY_FETCH_SLOTS * replySlotBytes(REPLY_ENVELOPE_LENGTH);

for (const dialect of await dialects()) {
  t.test(`public surface on ${dialect.name}`, { skip: dialect.skip ?? false }, async (t) => {
    const { store, server } = await newsroomServer(t, dialect, { logLevel: 'silent' });
    const host = new URL(server.url).host;
    const alive = async () => {
      const o = await exchange(server.url, requestBytes({ method: 'GET', target: '/api/v1/health', headers: [], body: new Uint8Array(0) }, host));
      return o.kind === 'answer' && o.answer.status === 200;
    };

    await holds(
      t,
      `${dialect.name}: any method, path, headers and body`,
      fc.asyncProperty(method, target, headers, body, fc.boolean(), async (m, path, hs, b, chunked) => {
        const before = await countRows(store.db);
        const o = await exchange(server.url, requestBytes({ method: m, target: path, headers: hs, body: b, chunked }, host));
        const problem = answerProblem(o, m);
        if (problem) throw new Error(problem);
        // A fetch of replies answers four slots of one size, or an error: never anything in between.
        if (o.kind === 'answer' && o.answer.status === 200 && m === 'POST' && path.split('?')[0] === '/api/v1/replies/fetch' && o.answer.body.length !== FETCH_ANSWER) {
          throw new Error(`a reply fetch answered ${o.answer.body.length} bytes, not ${FETCH_ANSWER}`);
        }
        const changed = rowsChanged(before, await countRows(store.db));
        if (changed) throw new Error(`stored: ${changed}`);
        return true;
      }),
      120,
    );

    // Malformed HTTP: valid requests damaged byte by byte, and the classic parser traps written out.
    const valid = [
      requestBytes({ method: 'GET', target: '/api/v1/pow', headers: [], body: new Uint8Array(0) }, host),
      requestBytes({ method: 'POST', target: '/api/v1/uploads?size=65673', headers: [['content-type', 'application/octet-stream'], ['tipline-pow-token', 'A'.repeat(56)], ['tipline-pow-nonce', '1']], body: new Uint8Array(100) }, host),
      requestBytes({ method: 'PUT', target: `/api/v1/uploads/${'a'.repeat(26)}/chunks/1`, headers: [['content-type', 'application/octet-stream']], body: new Uint8Array(50) }, host),
      requestBytes({ method: 'GET', target: '/api/v1/staff/tips', headers: [['tipline-key', 'x'], ['tipline-timestamp', '1'], ['tipline-nonce', 'x'], ['tipline-signature', 'x']], body: new Uint8Array(0) }, host),
      requestBytes({ method: 'GET', target: '/api/v1/replies', headers: [], body: new Uint8Array(0) }, host),
      requestBytes({ method: 'POST', target: '/api/v1/replies/fetch', headers: [['content-type', 'application/json']], body: new TextEncoder().encode(JSON.stringify({ tags: ['A'.repeat(22), 'B'.repeat(21) + 'A', 'C'.repeat(21) + 'Q', 'D'.repeat(21) + 'g'] })) }, host),
      requestBytes({ method: 'POST', target: '/api/v1/replies/delete', headers: [['content-type', 'application/json']], body: new TextEncoder().encode(JSON.stringify({ tag: 'A'.repeat(22), token: 'A'.repeat(43) })) }, host),
    ];
    const traps = [
      `POST /api/v1/uploads?size=65673 HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 10\r\ncontent-length: 20\r\n\r\n0123456789`,
      `POST /api/v1/uploads HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
      `PUT /api/v1/uploads/${'a'.repeat(26)}/chunks/0 HTTP/1.1\r\nhost: ${host}\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\nx\r\n`,
      `PUT /api/v1/uploads/${'a'.repeat(26)}/chunks/0 HTTP/1.1\r\nhost: ${host}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`,
      `POST /api/v1/uploads HTTP/1.1\r\nhost: ${host}\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\nx-folded: a\r\n b\r\n\r\n`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\nno colon here\r\n\r\n`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\n${Array.from({ length: 3000 }, (_, i) => `x-${i}: 1`).join('\r\n')}\r\n\r\n`,
      `GET  /api/v1/pow  HTTP/1.1\r\nhost: ${host}\r\n\r\n`,
      `GET /api/v1/pow HTTP/9.9\r\nhost: ${host}\r\n\r\n`,
      `GET /api/v1/pow HTTP/1.0\r\n\r\n`,
      'GET /api/v1/pow\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      `GET /api/v1/pow HTTP/1.1\nhost: ${host}\n\n`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\ncontent-length: -1\r\n\r\n`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 99999999999999999999\r\n\r\n`,
      `POST /api/v1/uploads?size=65673 HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/octet-stream\r\ncontent-length: 65673\r\n\r\nshort`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\n\r\nGET /api/v1/health HTTP/1.1\r\nhost: ${host}\r\n\r\nGARBAGE\r\n\r\n`,
      `GET /api/v1/pow HTTP/1.1\r\nhost: ${host}\r\nhost: other\r\n\r\n`,
      `GET /\x00 HTTP/1.1\r\nhost: ${host}\r\n\r\n`,
      `G\u00e9T / HTTP/1.1\r\nhost: ${host}\r\n\r\n`,
      '',
    ].map((s) => Buffer.from(s, 'latin1'));
    const special = fc.constantFrom(0x0d, 0x0a, 0x00, 0x20, 0x3a, 0x09, 0x7f, 0x80, 0xff, 0x25, 0x3f, 0x2f);
    const insertSpecial = fc.record({ op: fc.constant('insert' as const), at: fc.integer({ min: 0, max: 1_000_000 }), bytes: fc.array(special, { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a)) });
    const raw = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...valid), fc.array(fc.oneof(byteOp, insertSpecial), { minLength: 1, maxLength: 4 })).map(([v, ops]) => applyBytes(v, ops)) },
      { weight: 2, arbitrary: fc.constantFrom(...traps) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 500 }) },
    );
    await holds(
      t,
      `${dialect.name}: malformed HTTP as raw bytes`,
      fc.asyncProperty(raw, async (bytes) => {
        const before = await countRows(store.db);
        const o: Outcome = await exchange(server.url, bytes, { endAfterMs: 500 });
        // A request that never completed may be dropped with no answer (the client hung up); anything else is
        // answered. Either way promptly, never with a 5xx, and the server goes on answering.
        const problem = answerProblem(o, 'GET', { mayClose: true });
        if (problem) throw new Error(problem);
        if (!(await alive())) throw new Error('the server stopped answering');
        const changed = rowsChanged(before, await countRows(store.db));
        if (changed) throw new Error(`stored: ${changed}`);
        return true;
      }),
      80,
    );
  });
}
