// Property-based tests of the staff API over real HTTP, on both databases: requests signed by a desk, an auditor
// or a key the directory does not list, then damaged (a header replaced, repeated or dropped, a character of the
// signature changed, the path, method or host changed after signing, the clock skewed, the request replayed).
// Only an undamaged, fresh, first-use request by an admitted role may pass; everything else is a 4xx ErrorBody
// and stores nothing (not even its nonce).
import t from 'tap';
import fc from 'fast-check';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { randomBytes } from 'node:crypto';
import { staffHeaders, uploadEnvelope, makeEnvelope } from './helpers/fixtures.js';
import { deletionStatementFor } from './helpers/deletion.js';
import { makeReply, sourceKeys } from './helpers/replies.js';
import { STAFF_CLOCK_SKEW_SECONDS, signStaffRequest } from '../crypto/staff-request.js';
import { toBase64Url } from '../crypto/bytes.js';
import { holds } from './fuzz/config.js';
import { answerProblem, base32Id, countRows, exchange, requestBytes, rowsChanged } from './fuzz/http.js';

const NAMES = ['tipline-key', 'tipline-timestamp', 'tipline-nonce', 'tipline-signature'] as const;
const mostly = <T,>(valid: T, damaged: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 3, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: damaged });

for (const dialect of await dialects()) {
  t.test(`staff API on ${dialect.name}`, { skip: dialect.skip ?? false }, async (t) => {
    const { store, server, newsroom } = await newsroomServer(t, dialect, { logLevel: 'silent' });
    const host = new URL(server.staffUrl).host;
    const tip = (await uploadEnvelope(server.url, await makeEnvelope(newsroom, 'a tip for the staff fuzz'))).tip_id;
    const tally: Record<string, number> = {};
    // One sealed reply, posted under a fresh tag each time (the server checks the envelope, not that it is new).
    const reply = (await makeReply(newsroom.desk, await sourceKeys(newsroom.fingerprint), 'a reply for the staff fuzz')).post;

    await holds(
      t,
      `${dialect.name}: signed staff requests, damaged`,
      fc.asyncProperty(
        fc.record({
          route: fc.constantFrom('list', 'get', 'get', 'delete', 'audit', 'reply', 'reply'),
          id: fc.oneof(fc.constant(tip), base32Id),
          signer: mostly<'desk' | 'auditor' | 'outsider' | 'none'>('desk', fc.constantFrom('auditor' as const, 'outsider' as const, 'none' as const)),
          header: mostly<null | { name: (typeof NAMES)[number]; how: 'drop' | 'repeat' | 'flip' | 'junk'; at: number; junk: string }>(
            null,
            fc.record({ name: fc.constantFrom(...NAMES), how: fc.constantFrom('drop' as const, 'repeat' as const, 'flip' as const, 'junk' as const), at: fc.nat({ max: 90 }), junk: fc.stringMatching(/^[\x21-\x7e]{0,90}$/) }),
          ),
          after: mostly<null | 'query' | 'method' | 'host' | 'case' | 'body' | 'type'>(null, fc.constantFrom('query' as const, 'method' as const, 'host' as const, 'case' as const, 'body' as const, 'type' as const)),
          bodyAt: fc.nat(),
          skew: mostly(0, fc.constantFrom(-STAFF_CLOCK_SKEW_SECONDS - 5, STAFF_CLOCK_SKEW_SECONDS + 5, -10, 10)),
          replay: mostly(false, fc.constant(true)),
        }),
        async (c) => {
          const path = c.route === 'list' ? '/api/v1/staff/tips' : c.route === 'audit' ? '/api/v1/staff/audit' : c.route === 'reply' ? '/api/v1/staff/replies' : `/api/v1/staff/tips/${c.id}`;
          const method = c.route === 'delete' ? 'DELETE' : c.route === 'reply' ? 'POST' : 'GET';
          const who = c.signer === 'desk' ? newsroom.desk : c.signer === 'auditor' ? newsroom.auditor : newsroom.outsider;
          const timestamp = Math.floor(Date.now() / 1000) + c.skew;
          // A reply and a deletion (its signed statement) are the routes with a body: signed over its bytes and content type.
          const withBody = c.route === 'reply' || c.route === 'delete';
          const payload =
            c.route === 'reply'
              ? new TextEncoder().encode(JSON.stringify({ ...reply, tag: toBase64Url(new Uint8Array(randomBytes(16))) }))
              : c.route === 'delete'
                ? new TextEncoder().encode(JSON.stringify({ statement: deletionStatementFor(who, host) }))
                : new Uint8Array(0);
          const signed =
            c.signer === 'none'
              ? withBody ? { 'content-type': 'application/json' } : {}
              : withBody
                ? signStaffRequest({ host, method, pathAndQuery: path, timestamp, nonce: new Uint8Array(randomBytes(16)), body: payload, contentType: 'application/json' }, who.signSecret)
                : staffHeaders(who, method, path, { timestamp });
          const hs: [string, string][] = Object.entries(signed);
          let damaged = false;
          if (c.header && c.signer !== 'none') {
            const i = hs.findIndex(([k]) => k === c.header!.name);
            const v = hs[i]![1];
            if (c.header.how === 'drop') hs.splice(i, 1);
            if (c.header.how === 'repeat') hs.push([c.header.name, v]);
            if (c.header.how === 'flip') {
              const at = c.header.at % v.length;
              hs[i] = [c.header.name, v.slice(0, at) + (v[at] === 'A' ? 'B' : 'A') + v.slice(at + 1)];
            }
            if (c.header.how === 'junk') hs[i] = [c.header.name, c.header.junk];
            damaged = JSON.stringify(hs) !== JSON.stringify(Object.entries(signed));
          }
          let target = path;
          let m = method;
          let h = host;
          if (c.after === 'query') target += '?x=1';
          if (c.after === 'method') m = method === 'GET' ? 'DELETE' : 'GET';
          if (c.after === 'host') h = `localhost:${new URL(server.staffUrl).port}`;
          if (c.after === 'case') target = target.replace('staff', 'Staff');
          let sent = payload;
          if (c.after === 'body' && payload.length > 0) {
            sent = payload.slice();
            const at = c.bodyAt % sent.length;
            // Another character that keeps the JSON what it was shaped like (a letter for a letter, a quote stays).
            sent[at] = sent[at] === 0x41 ? 0x42 : sent[at] === 0x22 ? 0x22 : 0x41;
          }
          const typeIndex = hs.findIndex(([k]) => k === 'content-type');
          if (c.after === 'type' && typeIndex >= 0) hs[typeIndex] = ['content-type', 'application/json; charset=utf-8'];
          // The Host header is not part of the check: the server verifies against its own configured staff host
          // (server/staff-auth.ts), so a rewritten Host changes nothing; every other change after signing must.
          damaged ||= c.after !== null && c.after !== 'host' && !(c.after === 'body' && sent.every((b, i) => b === payload[i])) && !(c.after === 'type' && typeIndex < 0);
          const admitted = c.signer === 'desk' || (c.signer === 'auditor' && (c.route === 'audit' || c.route === 'list'));
          const allowed = admitted && !damaged && Math.abs(c.skew) <= STAFF_CLOCK_SKEW_SECONDS;

          const send = () => exchange(server.staffUrl, requestBytes({ method: m, target, headers: hs, body: sent }, h));
          if (c.replay) await send(); // the first use; what is checked below is the second
          const before = await countRows(store.db);
          const o = await send();
          const problem = answerProblem(o, m);
          if (problem) throw new Error(problem);
          const status = o.kind === 'answer' ? o.answer.status : 0;
          const changed = rowsChanged(before, await countRows(store.db));
          const pass = allowed && !c.replay;
          tally[`${pass ? 'allowed' : 'refused'} ${c.route} -> ${status}${changed ? ' stored' : ''}`] = (tally[`${pass ? 'allowed' : 'refused'} ${c.route} -> ${status}${changed ? ' stored' : ''}`] ?? 0) + 1;
          if (!pass && status < 400) throw new Error(`accepted (${status}) what must be refused`);
          if (!pass && changed) throw new Error(`refused request stored: ${changed}`);
          if (pass && !(status < 300 || (status === 404 && c.route !== 'list' && c.route !== 'audit'))) throw new Error(`refused (${status}) a valid request`);
          return true;
        },
      ),
      100,
    );
    t.comment(`outcomes: ${JSON.stringify(tally)}`);
  });
}
