// Property-based tests of what the desk app reads from strangers' bytes: renderKind/reencodeImage on mutated
// PNGs and JPEGs, and verifyExport on mutated exports. Each may only answer, never throw, hang or allocate for
// what the input declares; a re-encoded image is always a bare PNG (IHDR, IDAT, IEND); a mutated export passes
// only when every file in it is byte for byte the original's. Budgets and replay: test/fuzz/config.ts.
import t from 'tap';
import fc from 'fast-check';
import { deflateSync } from 'node:zlib';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { reencodeImage, renderKind } from '../client/desk/render.js';
import { exportThread, verifyExport } from '../client/desk/export.js';
import { makeNewsroom } from './helpers/fixtures.js';
import { chunk } from './helpers/png.js';
import { holds } from './fuzz/config.js';
import { applyBytes, byteOp } from './fuzz/mutate.js';

const TIME_BOUND_MS = 5000;
/** Peak resident growth no input here may cause (they are at most a few KiB, their images at most 48 x 32). */
const MEMORY_BOUND = 256 * 1024 * 1024;

function pixels(w: number, h: number): Buffer {
  const px = Buffer.alloc(w * h * 4);
  for (let i = 0; i < px.length; i++) px[i] = (i * 13) & 255;
  return px;
}
const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
function png(w: number, h: number): Uint8Array {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(w, 0);
  d.writeUInt32BE(h, 4);
  d[8] = 8;
  d[9] = 6;
  const raw = Buffer.alloc(h * (w * 4 + 1));
  const px = pixels(w, h);
  for (let y = 0; y < h; y++) px.copy(raw, y * (w * 4 + 1) + 1, y * w * 4, (y + 1) * w * 4);
  return new Uint8Array(Buffer.concat([PNG_SIG, chunk('IHDR', d), chunk('tEXt', Buffer.from('k\0v')), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
}
const images = [png(48, 32), new Uint8Array(jpeg.encode({ width: 48, height: 32, data: pixels(48, 32) }, 80).data)];

function bareChunks(out: Uint8Array): boolean {
  const b = Buffer.from(out);
  if (!b.subarray(0, 8).equals(PNG_SIG)) return false;
  const types: string[] = [];
  for (let off = 8; off + 8 <= b.length; off += 12 + b.readUInt32BE(off)) types.push(b.toString('latin1', off + 4, off + 8));
  return types[0] === 'IHDR' && types.at(-1) === 'IEND' && types.slice(1, -1).every((x) => x === 'IDAT');
}

t.test('mutated PNGs and JPEGs: an answer, in bounded time and memory, and only ever a bare PNG', async (t) => {
  await holds(
    t,
    'render mutated images',
    fc.property(fc.constantFrom(0, 1), fc.array(byteOp, { minLength: 1, maxLength: 4 }), (which, ops) => {
      const input = applyBytes(images[which]!, ops);
      const before = process.memoryUsage().rss;
      const started = performance.now();
      const kind = renderKind(input);
      const out = reencodeImage(input);
      const ms = performance.now() - started;
      if (ms > TIME_BOUND_MS) throw new Error(`took ${ms} ms`);
      if (process.resourceUsage().maxRSS * 1024 - before > MEMORY_BOUND) throw new Error('peak memory above the bound');
      if (out && !bareChunks(out)) throw new Error('the output is not a bare PNG');
      if ((kind === 'image') !== (out !== undefined)) throw new Error(`renderKind says ${kind}, reencodeImage ${out ? 'an image' : 'nothing'}`);
      return true;
    }),
    300,
  );
});

const n = makeNewsroom();
const folder = join(mkdtempSync(join(tmpdir(), 'tipline-fuzz-export-')), 'aaaaaaaaaaaaaaaaaaaaaaaaaa');
mkdirSync(join(folder, 'files'), { recursive: true });
writeFileSync(join(folder, 'message.txt'), 'A tip.\n');
writeFileSync(join(folder, 'manifest.json'), '{"received_day":"2026-11-20"}\n');
writeFileSync(join(folder, 'files', 'a.txt'), 'A'.repeat(3000));
writeFileSync(join(folder, 'files', 'b.bin'), new Uint8Array(2000).map((_, i) => (i * 7) & 255));
const zip = await exportThread({ thread: 'tip:aaaaaaaaaaaaaaaaaaaaaaaaaa', tips: [{ tipId: 'aaaaaaaaaaaaaaaaaaaaaaaaaa', folder }], shared: undefined, desk: { ...n.desk, role: 'desk' }, directory: n.doc, now: new Date() });
const original = unzipSync(zip);

t.test('mutated exports: a verdict, never an exception, and PASS only for the original files', async (t) => {
  t.equal(verifyExport(zip, n.fingerprint).ok, true, 'the original passes');
  await holds(
    t,
    'verify mutated exports',
    fc.property(fc.array(byteOp, { minLength: 1, maxLength: 4 }), (ops) => {
      const input = applyBytes(zip, ops);
      const started = performance.now();
      const c = verifyExport(input, n.fingerprint);
      if (performance.now() - started > TIME_BOUND_MS) throw new Error('too slow');
      if (c.lines.length === 0) throw new Error('no line');
      if (c.ok) {
        // Whatever changed (a DOS time, a comment, "version made by"), the files are the original's.
        const got = unzipSync(input);
        const keys = Object.keys(got).filter((k) => !k.endsWith('/'));
        if (keys.length !== Object.keys(original).length) throw new Error('PASS with other files');
        for (const k of keys) if (!original[k] || Buffer.compare(Buffer.from(original[k]), Buffer.from(got[k]!)) !== 0) throw new Error(`PASS with ${k} changed`);
      } else if (!c.lines[0]!.startsWith('FAIL')) throw new Error('a failure not listed first');
      return true;
    }),
    300,
  );
});
