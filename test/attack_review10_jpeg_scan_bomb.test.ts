// Attack (review of issue 10): a JPEG that costs minutes to decode. jpeg-js visits every block of the frame in each
// scan; a progressive 7000 x 7000 frame (49 MP, under MAX_IMAGE_PIXELS) followed by thousands of 76-byte AC scans,
// each one end-of-band run over the whole frame, kept the desk app's single thread busy ~13 ms a scan (measured:
// 100 scans 4.3 s, i.e. 50,000 scans, 3.8 MB, about 10 minutes). renderKind must give up on it quickly.
import t from 'tap';
import { MAX_JPEG_SCANS, reencodeImage, renderKind } from '../client/desk/render.js';

/** A progressive one-component JPEG of side x side, DC scan of zeros, then `scans` AC scans of EOB runs. */
function scanBomb(side: number, scans: number): Uint8Array {
  const out: number[] = [];
  const u16 = (n: number) => [n >> 8, n & 255];
  const counts = (n: number) => [n, ...new Array<number>(15).fill(0)];
  out.push(0xff, 0xd8);
  out.push(0xff, 0xdb, ...u16(67), 0, ...new Array<number>(64).fill(1));
  out.push(0xff, 0xc2, ...u16(11), 8, ...u16(side), ...u16(side), 1, 1, 0x11, 0);
  // DC table 0: one symbol (category 0) coded '0'; AC table 0: one symbol, EOB14 (0xE0), coded '0'.
  out.push(0xff, 0xc4, ...u16(2 + 18 * 2), 0x00, ...counts(1), 0x00, 0x10, ...counts(1), 0xe0);
  const blocks = Math.ceil(side / 8) ** 2;
  out.push(0xff, 0xda, ...u16(8), 1, 1, 0x00, 0, 0, 0x00);
  for (let i = 0; i < Math.ceil(blocks / 8); i++) out.push(0);
  const bits: number[] = [];
  for (let covered = 0; covered < blocks; covered += 32767) bits.push(0, ...new Array<number>(14).fill(1));
  while (bits.length % 8) bits.push(1);
  const data: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    const b = bits.slice(i, i + 8).reduce((a, x) => (a << 1) | x, 0);
    data.push(b);
    if (b === 0xff) data.push(0);
  }
  const ac = [0xff, 0xda, ...u16(8), 1, 1, 0x00, 1, 63, 0x00, ...data];
  for (let s = 0; s < scans; s++) out.push(...ac);
  out.push(0xff, 0xd9);
  return new Uint8Array(out);
}

t.test('a small progressive JPEG with a few scans still renders', async (t) => {
  const ok = scanBomb(64, 5);
  t.equal(renderKind(ok), 'image');
  t.ok(reencodeImage(ok));
});

t.test('a JPEG with thousands of scans is refused quickly', { timeout: 120_000 }, async (t) => {
  const bomb = scanBomb(7000, 5_000); // measured without the bound: 73 s (537 KB)
  t.ok(bomb.length < 600_000, `${bomb.length} bytes`);
  const t0 = Date.now();
  t.equal(renderKind(bomb), 'none');
  const ms = Date.now() - t0;
  t.ok(ms < 5_000, `gave up in ${ms} ms`);
  t.ok(MAX_JPEG_SCANS >= 20, 'real progressive JPEGs (up to ~20 scans) stay well inside the bound');
});
