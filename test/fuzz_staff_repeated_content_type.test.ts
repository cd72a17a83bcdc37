// Found by test/fuzz_parsers.test.ts: a staff request whose content-type header came repeated (an array in
// Node's header bag) verified as if it had none, because `header(...) ?? ''` turned the "repeated" null into ''
// before the check for it. Node's server keeps only the first content-type, so this was not reachable over HTTP;
// the check exists for callers that pass other header bags.
import t from 'tap';
import { initCrypto } from '../crypto/node.js';
import { signStaffRequest, verifyStaffRequest } from '../crypto/staff-request.js';
import { toBase64 } from '../crypto/bytes.js';
import { generateDeskKey } from '../crypto/keys.js';

await initCrypto();

t.test('a repeated content-type is refused, not read as none', async (t) => {
  const desk = generateDeskKey();
  const target = { host: 'tipline.test', method: 'GET', pathAndQuery: '/api/v1/staff/tips', body: new Uint8Array(0) };
  const headers = signStaffRequest({ ...target, timestamp: 1_700_000_000, nonce: new Uint8Array(16) }, desk.signSecret);
  const lookup = (k: string) => (k === toBase64(desk.signPublic) ? 'desk' : undefined);
  t.ok(verifyStaffRequest(headers, target, lookup).ok, 'as signed, it verifies');
  const v = verifyStaffRequest({ ...headers, 'content-type': ['text/plain', 'application/json'] }, target, lookup);
  t.equal(v.ok, false, 'repeated content-type: refused');
  t.equal(!v.ok && v.reason, 'malformed');
});
