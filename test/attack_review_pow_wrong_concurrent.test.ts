// Review attack (PoW v3): "each token gets POW_WRONG_PER_TOKEN wrong answers, then is refused before hashing"
// (server/pow.ts). The count is read before the hash and written after it, so wrong nonces sent at the same time
// on ONE token all pass the check and each costs the server a PBKDF2 of 2048 iterations. One free token then
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
t.test('concurrent wrong nonces on one token are each hashed', { skip: dialect!.skip }, async (t) => {
  await initCrypto();
  const { newsroom, server } = await newsroomServer(t, dialect!, { load });
  const envelope = await makeEnvelope(newsroom, 'probe');
  const c = (await (await fetch(`${server.url}/api/v1/pow?size=${envelope.length}`)).json()) as { token: string; difficulty: number };
  // Nonces that are certainly wrong (at test difficulty a random one solves now and then).
  const wrong: string[] = [];
  for (let n = 1; wrong.length < CONCURRENT; n++) if (!(await powSolves(c.token, String(n), c.difficulty))) wrong.push(String(n));
  // Connections made first, then every request written at once: the server parses them in one burst.
  const u = new URL(server.url);
  const sockets = await Promise.all(wrong.map(() => new Promise<Socket>((resolve) => { const s = connect(Number(u.port), u.hostname, () => resolve(s)); s.on('error', () => {}); })));
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  const answers = sockets.map((s) => new Promise<string>((resolve) => {
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); if (got.includes('}}')) resolve(got); });
    s.on('close', () => resolve(got));
  }));
  sockets.forEach((s, i) => s.write(`POST /api/v1/uploads?size=${envelope.length}&finish=1 HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${envelope.length}\r\n${POW_HEADERS.token}: ${c.token}\r\n${POW_HEADERS.nonce}: ${wrong[i]}\r\n\r\n`));
  const texts = await Promise.all(answers);
  const hashed = texts.filter((m) => m.includes('proof-of-work solution is wrong"')).length;
  t.equal(texts.filter((m) => m.includes('TIPLINE_ERR_POW_WRONG')).length, CONCURRENT, 'every nonce was refused as wrong');
  t.ok(hashed <= 3, `one token bought ${hashed} server-side PBKDF2 checks from ${CONCURRENT} concurrent wrong nonces (budget: 3)`);
});
