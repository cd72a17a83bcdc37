// Attack: a hostile server lists one tip id twice (with two different envelopes behind it). `tipline fetch`
// decrypted the second copy into the hidden .ID.partial folder, failed to rename it over the first (a raw
// ENOTEMPTY) and left that complete plaintext behind, hidden, where `tipline delete` and a desk clearing its inbox
// would not look. An id listed twice is now fetched once.
import t from 'tap';
import Fastify from 'fastify';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { encryptEnvelope, type Manifest } from '../crypto/envelope/index.js';
import { concatBytes } from '../crypto/bytes.js';
import { initCrypto } from '../crypto/node.js';
import { tipFolder } from '../client/cli/inbox.js';

await initCrypto();

async function envelopeFor(boxPublic: Uint8Array, message: string): Promise<Uint8Array> {
  const manifest: Manifest = { v: 2, sent_day: new Date().toISOString().slice(0, 10), message, files: [] };
  const env = encryptEnvelope({ recipients: [boxPublic], manifest, files: [] });
  const parts: Uint8Array[] = [];
  for await (const p of env.stream) parts.push(p);
  return concatBytes(...parts);
}

t.test('a tip id listed twice is fetched once and leaves no hidden plaintext', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-dup-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  t.equal((await runCli(['keys', 'init', '--dir', keys])).code, 0);
  const desk = JSON.parse(readFileSync(join(keys, 'desk.key'), 'utf8')) as { public: { box: string } };
  const boxPublic = new Uint8Array(Buffer.from(desk.public.box, 'base64'));
  const first = await envelopeFor(boxPublic, 'the first copy');
  const second = await envelopeFor(boxPublic, 'the second copy');
  const id = 'a'.repeat(26);
  const day = new Date().toISOString().slice(0, 10);
  let served = 0;
  const evil = Fastify();
  evil.get('/api/v1/staff/tips', async () => ({ tips: [first, second].map((e) => ({ id, size: e.length, received_day: day, expires_day: '2099-01-01' })) }));
  evil.get('/api/v1/staff/tips/:id', async (_req, reply) => reply.type('application/octet-stream').send(Buffer.from(served++ === 0 ? first : second)));
  await evil.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => evil.close());
  const out = join(work, 'inbox');
  const r = await runCli(['fetch', '--server', `http://127.0.0.1:${(evil.server.address() as { port: number }).port}`, '--key', join(keys, 'desk.key'), '--out', out]);
  t.equal(r.code, 0, r.stderr);
  t.equal(readFileSync(join(tipFolder(out, id)!, 'message.txt'), 'utf8'), 'the first copy');
  t.same(readdirSync(out).filter((n) => n.startsWith('.')), [], 'no hidden folder is left in the output folder');
  t.notOk(existsSync(join(out, `.${id}.partial`)));
});
