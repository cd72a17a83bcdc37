// `tipline submit` cleans photos as the page does (client/shared/strip.ts): a JPEG's GPS EXIF and a PNG's text
// chunks never reach the newsroom (checked by decrypting what the server stored with the desk key), unless the
// source says --keep-metadata; a photo the stripper cannot walk is refused, naming it, with nothing sent; and
// the files that may still carry hidden details (a PDF, an office document) are named before sending.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { runCli } from './helpers/cli.js';
import { readTip, listTips } from './helpers/tips.js';
import { chunk } from './helpers/png.js';

const [pglite] = await dialects();
const work = mkdtempSync(join(tmpdir(), 'tipline-strip-cli-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const GPS = 'GPS-MARKER 52.5163N 13.3777E CAMERA-SERIAL-4711';

/** A JPEG marker segment: FF, marker, 16-bit length (including itself), body. */
function seg(marker: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length + 2);
  return Buffer.concat([Buffer.from([0xff, marker]), len, body]);
}

// A JPEG as a phone writes it: JFIF, EXIF with a GPS block, the tables, the frame, one scan, end of image.
const jfif = seg(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
const exif = seg(0xe1, Buffer.concat([Buffer.from('Exif\0\0MM\0*\0\0\0\x08', 'latin1'), Buffer.from([0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x1a, 0, 0, 0, 0]), Buffer.from(GPS, 'latin1')]));
const dqt = seg(0xdb, Buffer.alloc(65, 1));
const sof = seg(0xc0, Buffer.from([8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
const dht = seg(0xc4, Buffer.concat([Buffer.from([0]), Buffer.alloc(16, 0), Buffer.from([])]));
const sos = seg(0xda, Buffer.from([1, 1, 0, 0, 63, 0]));
const scan = Buffer.from([0x12, 0x34, 0xff, 0x00, 0x56, 0x78, 0x9a]);
const jpegWithGps = Buffer.concat([Buffer.from([0xff, 0xd8]), jfif, exif, dqt, sof, dht, sos, scan, Buffer.from([0xff, 0xd9])]);

const pngSig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngClean = Buffer.concat([pngSig, chunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])), chunk('IDAT', deflateSync(Buffer.from([0, 0]))), chunk('IEND', Buffer.alloc(0))]);
const pngWithText = Buffer.concat([pngClean.subarray(0, 33), chunk('tEXt', Buffer.from(`Comment\0${GPS}`, 'latin1')), pngClean.subarray(33)]);

t.test('submit strips photo metadata by default, keeps it with --keep-metadata, refuses what it cannot clean', async (t) => {
  const { server, newsroom } = await newsroomServer(t, pglite!);
  const photo = join(work, 'IMG_2041.jpg');
  const screenshot = join(work, 'screen.png');
  const pdf = join(work, 'minutes.pdf');
  const docx = join(work, 'memo.docx');
  const note = join(work, 'note.txt');
  writeFileSync(photo, jpegWithGps);
  writeFileSync(screenshot, pngWithText);
  writeFileSync(pdf, '%PDF-1.7\n/Author (Jane Source)\n');
  writeFileSync(docx, 'PK\x03\x04 not really a document');
  writeFileSync(note, 'plain words');
  const base = ['submit', '--server', server.url, '--fingerprint', newsroom.fingerprint, '-m', 'photos attached'];

  const cleaned = await runCli([...base, '--file', photo, '--file', screenshot, '--file', pdf, '--file', docx, '--file', note]);
  t.equal(cleaned.code, 0, cleaned.stderr);
  const id = /tip id: ([a-z2-7]{26})/.exec(cleaned.stdout)?.[1];
  t.ok(id, 'a receipt');
  t.match(cleaned.stdout, /deleted on: \d{4}-\d{2}-\d{2}/, 'the receipt says the day the server deletes the tip');
  t.match(cleaned.stdout, /replies: not possible/, 'and that no reply is possible without a codename');
  const warnings = cleaned.stderr.split('\n').filter((l) => l.startsWith('warning: '));
  t.equal(warnings.filter((l) => /minutes\.pdf is a PDF: it may carry hidden details/.test(l)).length, 1, 'the PDF is named, once');
  t.equal(warnings.filter((l) => /memo\.docx is an office document/.test(l)).length, 1, 'the office document is named, once');
  t.notOk(warnings.some((l) => /IMG_2041|screen\.png|note\.txt/.test(l)), 'cleaned photos and plain text are not warned about');

  const tip = await readTip(server.staffUrl, newsroom.desk, id!);
  const jpeg = tip.files.find((f) => f.name === 'IMG_2041.jpg')!;
  const png = tip.files.find((f) => f.name === 'screen.png')!;
  t.notOk(jpeg.bytes.includes(Buffer.from('GPS-MARKER')), 'the GPS tag is gone from the JPEG');
  t.notOk(jpeg.bytes.includes(Buffer.from('Exif\0', 'latin1')), 'the whole EXIF segment is gone');
  t.ok(jpeg.bytes.equals(Buffer.concat([Buffer.from([0xff, 0xd8]), jfif, dqt, sof, dht, sos, scan, Buffer.from([0xff, 0xd9])])), 'everything else of the JPEG arrives byte for byte');
  t.ok(png.bytes.equals(pngClean), 'the PNG arrives without its text chunk, pixels intact');
  t.equal(tip.files.find((f) => f.name === 'minutes.pdf')!.bytes.toString(), '%PDF-1.7\n/Author (Jane Source)\n', 'other files are sent as they are');

  const kept = await runCli([...base, '--keep-metadata', '--file', photo]);
  t.equal(kept.code, 0, kept.stderr);
  t.match(kept.stderr, /warning: IMG_2041\.jpg is a photo sent with its metadata \(--keep-metadata\)/, 'a photo kept as it is is named before sending');
  const original = await readTip(server.staffUrl, newsroom.desk, /tip id: ([a-z2-7]{26})/.exec(kept.stdout)![1]!);
  t.ok(original.files[0]!.bytes.equals(jpegWithGps), '--keep-metadata sends the original byte for byte');

  // A stray byte between segments: the stripper cannot walk it, so it cannot claim it clean.
  const odd = join(work, 'IMG_ODD.jpg');
  writeFileSync(odd, Buffer.concat([jpegWithGps.subarray(0, 2 + jfif.length + exif.length), Buffer.from([0]), jpegWithGps.subarray(2 + jfif.length + exif.length)]));
  const before = await listTips(server.staffUrl, newsroom.desk);
  const refused = await runCli([...base, '--file', note, '--file', odd]);
  t.equal(refused.code, 2, 'exit 2');
  t.match(refused.stderr, /^tipline: .*IMG_ODD\.jpg: this JPEG photo cannot be cleaned of its metadata.*not sent.*--keep-metadata/m, 'names the photo and the way out');
  t.equal(refused.stdout, '', 'no receipt');
  t.same(await listTips(server.staffUrl, newsroom.desk), before, 'nothing was stored');
  const oddKept = await runCli([...base, '--keep-metadata', '--file', odd]);
  t.equal(oddKept.code, 0, 'with --keep-metadata it goes as it is');
});
