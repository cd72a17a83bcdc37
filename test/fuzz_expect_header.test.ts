// Found by test/fuzz_http_public.test.ts: a request with an Expect header other than 100-continue was answered by
// Node itself with a bare 417 (no body, no JSON), outside the error contract. It is now handled as usual.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { answerProblem, exchange, requestBytes } from './fuzz/http.js';

const [pglite] = await dialects();

t.test('an unknown expectation gets the usual answer', async (t) => {
  const { server } = await newsroomServer(t, pglite!, { logLevel: 'silent' });
  const host = new URL(server.url).host;
  const send = (target: string) => exchange(server.url, requestBytes({ method: 'GET', target, headers: [['expect', 'identity']], body: new Uint8Array(0) }, host));
  const ok = await send('/api/v1/pow');
  t.equal(ok.kind === 'answer' && ok.answer.status, 200, 'GET /api/v1/pow: 200');
  const err = await send(`/api/v1/uploads/${'a'.repeat(26)}`);
  t.equal(err.kind === 'answer' && err.answer.status, 404, 'an unknown upload: 404');
  t.equal(answerProblem(err, 'GET'), undefined, 'as an ErrorBody');
});
