// Property-based tests of the upload API over real HTTP, on both databases: opening an upload with a solved
// proof-of-work, then status, chunks and finish, each request built valid and then damaged (query, headers,
// token, nonce, body bytes, ids, chunk indexes, reused solutions). The oracle is the documented contract only
// (PROTOCOL.md): a request it says must be refused is answered with a 4xx ErrorBody and stores no row; one it
// allows may store rows; nothing is ever a 5xx or goes unanswered.
import t from 'tap';
import fc from 'fast-check';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope } from './helpers/fixtures.js';
import { checkFraming, MIN_ENVELOPE_LENGTH } from './../crypto/envelope/index.js';
import { powSolves, solvePow } from '../crypto/pow.js';
import { holds } from './fuzz/config.js';
import { applyBytes, byteOp, sameBytes } from './fuzz/mutate.js';
import { answerProblem, base32Id, contentType, countRows, exchange, requestBytes, rowsChanged, type RequestSpec } from './fuzz/http.js';

const OCTETS = /^application\/octet-stream\s*(;|$)/i;
const SIZE_RE = /^[1-9][0-9]{0,14}$/;
const INDEX_RE = /^(0|[1-9][0-9]{0,6})$/;

/** The valid value four times in five, so that a run usually damages one or two things, not all of them. */
const mostly = <T,>(valid: T, damaged: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 4, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: damaged });

function frames(b: Uint8Array, size: number): boolean {
  try {
    checkFraming(b, size);
    return true;
  } catch {
    return false;
  }
}

const tokenMutation = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'missing' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'repeated' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('char' as const), at: fc.nat({ max: 55 }), ch: fc.constantFrom(...'Aa0-_') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), s: fc.oneof(fc.stringMatching(/^[\x21-\x7e]{0,80}$/), fc.stringMatching(/^[A-Za-z0-9_-]{56}$/)) }) },
);
const nonceMutation = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'missing' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), s: fc.oneof(fc.stringMatching(/^[0-9]{1,18}$/), fc.constantFrom('', '-1', '1e3', '0x1', ' 1', '00', 'a')) }) },
);

for (const dialect of await dialects()) {
  t.test(`upload API on ${dialect.name}`, { skip: dialect.skip ?? false }, async (t) => {
    // One envelope is one chunk of this size (a whole tip in the opening request); the other is two chunks.
    const { store, server, newsroom } = await newsroomServer(t, dialect, { logLevel: 'silent', uploadChunkSize: MIN_ENVELOPE_LENGTH });
    const host = new URL(server.url).host;
    const short = await makeEnvelope(newsroom, 'A short tip.');
    const long = await makeEnvelope(newsroom, 'With a file.', [{ name: 'scan.pdf', bytes: new Uint8Array(70_000).fill(3) }]);
    const challenge = async () => {
      const c = (await (await fetch(`${server.url}/api/v1/pow`)).json()) as { token: string; difficulty: number; chunk_size: number };
      return { ...c, nonce: await solvePow(c.token, c.difficulty) };
    };
    const send = (r: RequestSpec) => exchange(server.url, requestBytes(r, host));
    // How often each kind of outcome came up: a property whose oracle never allows anything proves little.
    const tally: Record<string, number> = {};
    const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);
    const spent: { token: string; nonce: string; difficulty: number; size: string; body: Uint8Array }[] = [];

    await holds(
      t,
      `${dialect.name}: opening an upload, damaged`,
      fc.asyncProperty(
        fc.record({
          long: fc.boolean(),
          size: mostly<string | undefined>(undefined, fc.oneof(fc.constantFrom('', '0', '-1', '1e5', '065673', ' 65673', '99999999999999999', '18446744073709551616', String(2.5 * 1024 ** 3), String(2 ** 31)), fc.integer({ min: -2, max: 2 }).map((d) => `len${d}`), fc.nat().map(String))),
          finish: fc.oneof(fc.constantFrom<string | undefined>(undefined, '1'), mostly<string | undefined>(undefined, fc.constantFrom('0', 'true', ''))),
          extra: mostly<[string, string][]>([], fc.array(fc.tuple(fc.constantFrom('size', 'finish', 'x'), fc.constantFrom('1', '', '65673')), { minLength: 1, maxLength: 2 })),
          contentType: mostly<string | undefined>(undefined, contentType),
          token: tokenMutation,
          nonce: nonceMutation,
          body: mostly([], fc.array(byteOp, { minLength: 1, maxLength: 2 })),
          reuse: mostly<number | null>(null, fc.nat()),
        }),
        async (c) => {
          const envelope = c.long ? long : short;
          const reused = c.reuse !== null && spent.length > 0 ? spent[c.reuse % spent.length]! : undefined;
          const pow = reused ?? (await challenge());
          const chunk = MIN_ENVELOPE_LENGTH;
          const body = applyBytes(envelope.subarray(0, chunk), c.body);
          let size = String(envelope.length);
          if (c.size !== undefined) size = c.size.startsWith('len') ? String(envelope.length + Number(c.size.slice(3))) : c.size;
          const pairs: [string, string][] = [['size', size], ...(c.finish === undefined ? [] : ([['finish', c.finish]] as [string, string][])), ...c.extra];
          const query = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
          const hs: [string, string][] = [['content-type', c.contentType ?? 'application/octet-stream']];
          let token = pow.token;
          if (c.token.kind === 'char') token = token.slice(0, c.token.at) + c.token.ch + token.slice(c.token.at + 1);
          if (c.token.kind === 'text') token = c.token.s;
          if (c.token.kind !== 'missing') hs.push(['tipline-pow-token', token]);
          if (c.token.kind === 'repeated') hs.push(['tipline-pow-token', token]);
          const nonce = c.nonce.kind === 'text' ? c.nonce.s : pow.nonce;
          if (c.nonce.kind !== 'missing') hs.push(['tipline-pow-nonce', nonce]);

          // What the contract allows: one valid size, finish absent or 1 (and then one chunk is all of it), an
          // octet-stream body of exactly the first chunk's length that frames as an envelope of that size, and
          // the issued token once with a nonce that solves it.
          const sizes = pairs.filter(([k]) => k === 'size').map(([, v]) => v);
          const finishes = pairs.filter(([k]) => k === 'finish').map(([, v]) => v);
          const n = Number(sizes[0]);
          const allowed =
            sizes.length === 1 && SIZE_RE.test(sizes[0]!) && finishes.length <= 1 && (finishes.length === 0 || (finishes[0] === '1' && n <= chunk)) &&
            OCTETS.test(c.contentType ?? 'application/octet-stream') &&
            c.token.kind !== 'missing' && c.token.kind !== 'repeated' && token === pow.token && c.nonce.kind !== 'missing' && /^[0-9]{1,16}$/.test(nonce) && (await powSolves(pow.token, nonce, pow.difficulty)) &&
            body.length === Math.min(n, chunk) && frames(body, n);
          // The same opening request sent again (its answer lost) may find its upload, and finish it if it asks
          // to; anything else reusing a spent solution (another size, another first chunk) is refused.
          const repeat = reused !== undefined && reused.size === sizes[0] && sameBytes(reused.body, body);

          const before = await countRows(store.db);
          const o = await send({ method: 'POST', target: `/api/v1/uploads?${query}`, headers: hs, body });
          const problem = answerProblem(o, 'POST');
          if (problem) throw new Error(problem);
          const status = o.kind === 'answer' ? o.answer.status : 0;
          const changed = rowsChanged(before, await countRows(store.db));
          if ((!allowed || (reused && !repeat)) && status < 400) throw new Error(`accepted (${status}) what must be refused`);
          if ((!allowed || reused) && changed && !(repeat && allowed)) throw new Error(`refused request stored: ${changed}`);
          if (!changed && status === 201 && !reused) throw new Error('201 without storing anything');
          count(`open ${allowed ? 'allowed' : 'refused'}${reused ? (repeat ? ' repeat' : ' reused') : ''} -> ${status}`);
          if (status === 201 && !reused) spent.push({ token: pow.token, nonce, difficulty: pow.difficulty, size: sizes[0]!, body });
          return true;
        },
      ),
      60,
    );

    // ---------------------------------------------------------------- status, chunks, finish
    const opens: { id: string; size: number; count: number }[] = [];
    const tips: string[] = [];
    const openOne = async () => {
      const pow = await challenge();
      const o = await send({ method: 'POST', target: `/api/v1/uploads?size=${long.length}`, headers: [['content-type', 'application/octet-stream'], ['tipline-pow-token', pow.token], ['tipline-pow-nonce', pow.nonce]], body: long.subarray(0, MIN_ENVELOPE_LENGTH) });
      if (o.kind !== 'answer' || o.answer.status !== 201) throw new Error(`could not open an upload: ${JSON.stringify(o)}`);
      const u = JSON.parse(o.answer.body.toString()) as { id: string; chunk_count: number };
      opens.push({ id: u.id, size: long.length, count: u.chunk_count });
    };
    const expectedLength = (size: number, count: number, i: number) => (i < count - 1 ? MIN_ENVELOPE_LENGTH : size - (count - 1) * MIN_ENVELOPE_LENGTH);

    await holds(
      t,
      `${dialect.name}: upload status, chunks and finish, damaged`,
      fc.asyncProperty(
        fc.record({
          id: fc.oneof(
            { weight: 5, arbitrary: fc.constant({ kind: 'open' as const }) },
            { weight: 2, arbitrary: fc.constant({ kind: 'tip' as const }) },
            { weight: 2, arbitrary: base32Id.map((s) => ({ kind: 'other' as const, s })) },
            { weight: 1, arbitrary: fc.constantFrom('A'.repeat(26), 'a'.repeat(25), '%61'.repeat(26), '..', 'x'.repeat(300)).map((s) => ({ kind: 'other' as const, s })) },
            { weight: 1, arbitrary: fc.nat({ max: 25 }).map((at) => ({ kind: 'mutated' as const, at })) },
          ),
          action: fc.constantFrom('status' as const, 'put' as const, 'put' as const, 'put' as const, 'finish' as const),
          n: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('0', '1') }, { weight: 1, arbitrary: fc.constantFrom('2', '3', '-1', '01', '1e0', '9999999', '10000000', 'x', '1.0') }),
          body: fc.oneof(
            { weight: 6, arbitrary: fc.constant({ kind: 'right' as const }) },
            { weight: 2, arbitrary: fc.array(byteOp, { minLength: 1, maxLength: 2 }).map((ops) => ({ kind: 'mutated' as const, ops })) },
            { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
          ),
          contentType: mostly<string | undefined>(undefined, contentType),
          finish: fc.oneof(fc.constantFrom<string | undefined>(undefined, '1'), mostly<string | undefined>(undefined, fc.constantFrom('0', 'true'))),
          method: mostly('PUT', fc.constantFrom('POST', 'PATCH')),
        }),
        async (c) => {
          if (opens.length === 0) await openOne();
          const open = opens[0]!;
          let id = open.id;
          if (c.id.kind === 'tip') id = tips[0] ?? open.id.replace(/^./, (ch) => (ch === 'a' ? 'b' : 'a'));
          if (c.id.kind === 'other') id = c.id.s;
          if (c.id.kind === 'mutated') id = open.id.slice(0, c.id.at) + (open.id[c.id.at] === 'a' ? 'b' : 'a') + open.id.slice(c.id.at + 1);
          const isOpen = id === open.id;
          const i = Number(c.n);
          const right = long.subarray(i * MIN_ENVELOPE_LENGTH, (i + 1) * MIN_ENVELOPE_LENGTH);
          const body = c.body.kind === 'right' ? right : c.body.kind === 'mutated' ? applyBytes(right, c.body.ops) : c.body.bytes;
          const query = c.finish === undefined ? '' : `?finish=${c.finish}`;

          let r: RequestSpec;
          let allowed: boolean;
          if (c.action === 'status') {
            r = { method: 'GET', target: `/api/v1/uploads/${id}`, headers: [], body: new Uint8Array(0) };
            allowed = false;
          } else if (c.action === 'finish') {
            r = { method: 'POST', target: `/api/v1/uploads/${id}/finish`, headers: [], body: new Uint8Array(0) };
            allowed = isOpen; // finishing an upload that has every chunk turns it into a tip
          } else {
            r = { method: c.method, target: `/api/v1/uploads/${id}/chunks/${c.n}${query}`, headers: [['content-type', c.contentType ?? 'application/octet-stream']], body };
            allowed =
              c.method === 'PUT' && isOpen && INDEX_RE.test(c.n) && i < open.count && OCTETS.test(c.contentType ?? 'application/octet-stream') &&
              (c.finish === undefined || c.finish === '1') && body.length === expectedLength(open.size, open.count, i) && (i !== 0 || frames(body, open.size));
          }
          const before = await countRows(store.db);
          const o = await send(r);
          const problem = answerProblem(o, r.method);
          if (problem) throw new Error(problem);
          const status = o.kind === 'answer' ? o.answer.status : 0;
          const after = await countRows(store.db);
          const changed = rowsChanged(before, after);
          if (changed && !allowed) throw new Error(`refused request stored: ${changed} (HTTP ${status})`);
          if (!allowed && status < 400 && !(c.id.kind === 'tip' && tips.length > 0)) {
            if (c.action !== 'status' || !isOpen) throw new Error(`accepted (${status}) what must be refused`);
          }
          count(`${c.action} ${allowed ? 'allowed' : 'refused'} -> ${status}${changed ? ' stored' : ''}`);
          if (process.env.FUZZ_DEBUG) count(`${c.action} ${c.id.kind} ${c.method} ${c.n} ${body.length} ${status} ${o.kind === 'answer' ? o.answer.body.toString().slice(0, 80) : ''}`);
          // Keep the pool true: an upload that became a tip moves over.
          if (after.tips > before.tips) {
            tips.unshift(opens.shift()!.id);
            if (after.uploads !== before.uploads - 1) throw new Error(`finishing changed uploads ${before.uploads} -> ${after.uploads}`);
          }
          return true;
        },
      ),
      100,
    );
    t.comment(`outcomes: ${JSON.stringify(tally)}`);
  });
}
