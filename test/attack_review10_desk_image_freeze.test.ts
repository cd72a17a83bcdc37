// Attack (review 10): a hostile source attaches a PNG of 7000 x 7000 flat pixels (160 KB on the wire, within every
// limit). The desk decodes it to check it is an image (renderKind) when the thread is opened, and again when it
// is shown: ~9 s of synchronous decoding each time on an idle machine, during which the whole desk app (every
// other request, the page's other tabs, sync) is frozen; a tip with a few dozen such files freezes it for minutes.
// Decoding must not block the local server: another request is answered while the image is decoded.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { dialects } from './helpers/databases.js';
import { runCli } from './helpers/cli.js';
import { api, newsroom, startDesk } from './helpers/desk.js';
import { chunk } from './helpers/png.js';
import { ThreadDetail } from '../schema/desk-api.js';

const dialect = (await dialects()).find((d) => d.name === 'pglite')!;

function bigFlatPng(w: number, h: number): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(w, 0);
  d.writeUInt32BE(h, 4);
  d[8] = 8;
  d[9] = 2;
  const raw = Buffer.alloc(h * (w * 3 + 1), 0x55);
  for (let y = 0; y < h; y++) raw[y * (w * 3 + 1)] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', d), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await p;
  return { value, ms: Date.now() - t0 };
}

t.test('a huge image does not freeze the desk app', { timeout: 600_000 }, async (t) => {
  const n = await newsroom(dialect);
  t.teardown(() => n.close());
  const file = join(n.work, 'scan.png');
  writeFileSync(file, bigFlatPng(7000, 7000));
  const sub = await runCli(['submit', '--server', n.server.url, '--fingerprint', n.fp, '--file', file, '-m', 'see the scan']);
  t.equal(sub.code, 0, sub.stderr);
  const tip = /tip id: ([a-z2-7]{26})/.exec(sub.stdout)![1]!;
  const desk = await startDesk(['--server', n.server.staffUrl, '--key', n.deskKey, '--fingerprint', n.fp, '--data', join(n.work, 'desk-data')]);
  t.teardown(() => desk.stop());
  const thread = `tip:${tip}`;

  // Opening the thread checks the file; meanwhile the session must still answer promptly.
  const opening = timed(api(desk, `threads/${thread}`));
  await new Promise((r) => setTimeout(r, 300));
  const s1 = await timed(api(desk, 'session'));
  const o = await opening;
  t.equal(o.value.status, 200, 'the thread opens');
  const d = ThreadDetail.parse(o.value.json());
  const f = (d.items[0] as Extract<ThreadDetail['items'][number], { kind: 'tip' }>).files[0]!;
  t.equal(f.render, 'image', 'the file is still known as an image');
  t.equal(s1.value.status, 200);
  t.ok(s1.ms < 2000, `the session answered in ${s1.ms} ms while the thread's image was checked (${o.ms} ms)`);

  // Showing it decodes it again: the app keeps answering.
  const showing = timed(api(desk, `threads/${thread}/tips/${tip}/files/0/image`));
  await new Promise((r) => setTimeout(r, 300));
  const s2 = await timed(api(desk, 'threads'));
  const img = await showing;
  t.equal(img.value.status, 200, 'the image is shown (re-encoded)');
  t.equal(img.value.headers['content-type'], 'image/png');
  t.ok(s2.ms < 2000, `the thread list answered in ${s2.ms} ms while the image was decoded (${img.ms} ms)`);
});
