// Review attack (body slots): requests that take a slot and then die mid-body (client reset, wrong length,
// damaged chunk 0) must each give their slot back; otherwise a few hundred cheap aborts would leave no slot.
import t from 'tap';
import { connect } from 'node:net';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope, openUpload, uploadEnvelope } from './helpers/fixtures.js';

const CHUNK = 64 * 1024;

const [dialect] = await dialects();
t.test('aborted and failed bodies give their slots back', { skip: dialect!.skip }, async (t) => {
  const { newsroom, server } = await newsroomServer(t, dialect!, {
    load: { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 }, uploadChunkSize: CHUNK, maxConcurrentChunks: 4, maxConcurrentChunksPerUpload: 4,
  });
  const envelope = await makeEnvelope(newsroom, 'x', [{ name: 'a.bin', bytes: new Uint8Array(200_000) }]);
  const u = await openUpload(server.url, envelope);
  const url = new URL(server.url);
  const raw = (head: string, body: Buffer, reset: boolean) => new Promise<void>((resolve) => {
    const s = connect(Number(url.port), url.hostname, () => {
      s.write(head);
      s.write(body);
      if (reset) setTimeout(() => { s.resetAndDestroy(); resolve(); }, 30);
    });
    s.on('error', () => resolve());
    s.on('data', () => { s.destroy(); resolve(); });
    s.on('close', () => resolve());
  });
  const h = (n: number, len: number) => `PUT /api/v1/uploads/${u.id}/chunks/${n} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${len}\r\n\r\n`;
  for (let i = 0; i < 6; i++) {
    await raw(h(1, CHUNK), Buffer.alloc(1000), true); // reset mid-body
    await raw(h(1, CHUNK - 1), Buffer.alloc(CHUNK - 1), false); // wrong length, refused after the body
    await raw(h(0, CHUNK), Buffer.alloc(CHUNK), false); // damaged chunk 0
    await raw(h(1, CHUNK + 10), Buffer.alloc(CHUNK + 10), false); // over the body limit
  }
  await new Promise((r) => setTimeout(r, 300));
  const receipt = await uploadEnvelope(server.url, await makeEnvelope(newsroom, 'honest after 24 aborted bodies'));
  t.match(receipt.tip_id, /^[a-z2-7]{26}$/, 'a source still gets a slot after 24 aborted or refused bodies on 4 slots');
});
