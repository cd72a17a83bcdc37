// Review attack (PoW v3): "each token gets POW_WRONG_PER_TOKEN wrong answers, then is refused before hashing"
// (server/pow.ts). The count is read before the hash and written after it, so wrong nonces sent at the same time
// on ONE token all pass the check and each costs the server a PBKDF2 of 2048 iterations (the wider the hash
// queue's backlog, the wider the window: here 300 decoys on other free tokens). One free token then
// buys as many server hashes as the attacker has concurrent requests, and the per-token budget bounds nothing.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { connect, type Socket } from 'node:net';
import { makeEnvelope } from './helpers/fixtures.js';
import { POW_HEADERS } from '../schema/wire.js';
import { powSolves } from '../crypto/pow.js';
import { initCrypto } from '../crypto/node.js';

const load = { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 };
const CONCURRENT = 40;

const [dialect] = await dialects();
t.setTimeout(120_000);
t.test('concurrent wrong nonces on one token are each hashed', { skip: dialect!.skip, timeout: 110_000 }, async (t) => {
  await initCrypto();
  const { newsroom, server } = await newsroomServer(t, dialect!, { load });
  const envelope = await makeEnvelope(newsroom, 'probe');
  const c = (await (await fetch(`${server.url}/api/v1/pow?size=${envelope.length}`)).json()) as { token: string; difficulty: number };
  // Nonces that are certainly wrong (at test difficulty a random one solves now and then).
  const wrong: string[] = [];
  for (let n = 1; wrong.length < CONCURRENT; n++) if (!(await powSolves(c.token, String(n), c.difficulty))) wrong.push(String(n));
  // Decoys first: wrong nonces on 100 other free tokens fill the hash queue, so the count for the target token
  // is raised only long after all its requests have passed the check (the check reads it before hashing).
  const decoys: { token: string; nonce: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const d = (await (await fetch(`${server.url}/api/v1/pow?size=${envelope.length}`)).json()) as { token: string; difficulty: number };
    for (let n = 1, k = 0; k < 3; n++) if (!(await powSolves(d.token, String(n), d.difficulty))) { decoys.push({ token: d.token, nonce: String(n) }); k++; }
  }
  const requests = [...decoys, ...wrong.map((nonce) => ({ token: c.token, nonce }))];
  // Connections made first, then every request written at once.
  const u = new URL(server.url);
  const sockets = await Promise.all(requests.map(() => new Promise<Socket>((resolve) => { const s = connect(Number(u.port), u.hostname, () => resolve(s)); s.on('error', () => {}); })));
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  const answers = sockets.map((s) => new Promise<string>((resolve) => {
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); if (got.includes('}}')) resolve(got); });
    s.on('close', () => resolve(got));
  }));
  sockets.forEach((s, i) => s.write(`POST /api/v1/uploads?size=${envelope.length}&finish=1 HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${envelope.length}\r\n${POW_HEADERS.token}: ${requests[i]!.token}\r\n${POW_HEADERS.nonce}: ${requests[i]!.nonce}\r\n\r\n`));
  const texts = (await Promise.all(answers)).slice(decoys.length);
  const hashed = texts.filter((m) => m.includes('proof-of-work solution is wrong"')).length;
  t.equal(texts.filter((m) => m.includes('TIPLINE_ERR_POW_WRONG')).length, CONCURRENT, 'every nonce was refused as wrong');
  t.ok(hashed <= 3, `one token bought ${hashed} server-side PBKDF2 checks from ${CONCURRENT} concurrent wrong nonces (budget: 3)`);
});
