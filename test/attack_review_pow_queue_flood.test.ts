// Review attack (PoW v3, verification cost): challenges are free and stateless, so the per-token budget of wrong
// answers bounds nothing: a flooder takes a fresh token for each request. Every wrong nonce is queued for a
// PBKDF2 behind two hashing slots and a queue of 512; past that the server answers 503 to everyone, the honest
// source with a correctly solved challenge included (its solution waits in the same queue). 1200 requests with
// wrong nonces on 400 free tokens (no work at all) keep honest openings out for as long as they are resent.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope, solvedPow } from './helpers/fixtures.js';
import { POW_HEADERS } from '../schema/wire.js';

const FLOOD = 1200;
const TOKENS = 400; // each token is good for three wrong answers

t.setTimeout(150_000);
const [dialect] = await dialects();
t.test('a flood of wrong nonces on free tokens refuses an honest solved opening', { skip: dialect!.skip, timeout: 120_000 }, async (t) => {
  const { newsroom, server } = await newsroomServer(t, dialect!, { load: { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 } });
  const envelope = await makeEnvelope(newsroom, 'an honest tip');
  const u = new URL(server.url);
  const tokens: string[] = [];
  const take = async () => ((await (await fetch(`${server.url}/api/v1/pow?size=${envelope.length}`)).json()) as { token: string }).token;
  while (tokens.length < TOKENS) tokens.push(...(await Promise.all(Array.from({ length: 40 }, take))));
  const honest = await solvedPow(server.url, {}, envelope.length);
  const open = () => new Promise<Socket>((resolve) => { const s = connect(Number(u.port), u.hostname, () => resolve(s)); s.on('error', () => {}); });
  const sockets: Socket[] = [];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  sockets.push(...(await Promise.all(Array.from({ length: FLOOD + 1 }, open))));
  const answer = (s: Socket) => new Promise<string>((resolve) => {
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); if (got.includes('}}') || got.includes('"tip_id"')) resolve(got); });
    s.on('close', () => resolve(got));
  });
  const answers = sockets.map(answer);
  const head = (token: string, nonce: string) => `POST /api/v1/uploads?size=${envelope.length}&finish=1 HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${envelope.length}\r\n${POW_HEADERS.token}: ${token}\r\n${POW_HEADERS.nonce}: ${nonce}\r\n\r\n`;
  // This nonce is hashed like any other; at the server's difficulty it is almost surely wrong.
  for (let i = 0; i < FLOOD; i++) sockets[i]!.write(head(tokens[i % TOKENS]!, '9999999999999999'));
  const last = sockets[FLOOD]!;
  last.write(head(honest.token, honest.nonce));
  last.write(Buffer.from(envelope));
  const texts = await Promise.all(answers);
  const busy = texts.slice(0, FLOOD).filter((x) => x.includes('busy checking proofs-of-work')).length;
  t.comment(`${busy} of ${FLOOD} flood requests got 503 (queue full)`);
  const status = texts[FLOOD]!.split('\r\n')[0];
  t.equal(status, 'HTTP/1.1 201 Created', `the honest, correctly solved opening is stored during the flood (got: ${texts[FLOOD]!.split('\r\n\r\n')[1]?.slice(0, 120)})`);
});
