// Photo metadata stripping (client/shared/strip.ts), byte by byte: what goes, what stays, and files it does not
// understand left alone rather than damaged.
import t from 'tap';
import { deflateSync } from 'node:zlib';
import { stripImage, stripJpeg, stripPng, imageKind } from '../client/shared/strip.js';
import { chunk } from './helpers/png.js';

/** A JPEG marker segment: FF, marker, 16-bit length (including itself), body. */
function seg(marker: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length + 2);
  return Buffer.concat([Buffer.from([0xff, marker]), len, body]);
}
const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ihdr = chunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
const idat = chunk('IDAT', deflateSync(Buffer.from([0, 0])));
const iend = chunk('IEND', Buffer.alloc(0));

t.test('PNG: text, eXIf and tIME chunks go; pixels stay', async (t) => {
  const png = Buffer.concat([SIG, ihdr, chunk('tEXt', Buffer.from('Author\0Jane Source')), chunk('iTXt', Buffer.from('XML:com.adobe.xmp\0\0\0\0\0<gps/>')), chunk('eXIf', Buffer.from('MM\0*GPS')), chunk('tIME', Buffer.from([7, 234, 11, 24, 5, 38, 8])), idat, chunk('zTXt', Buffer.from('Comment\0\0x')), iend]);
  t.equal(imageKind(png), 'png');
  const out = Buffer.from(stripPng(png)!);
  t.ok(out.equals(Buffer.concat([SIG, ihdr, idat, iend])), 'exactly signature, IHDR, IDAT, IEND remain');
  t.notOk(out.includes(Buffer.from('Jane Source')));
});

t.test('JPEG: APP1 (EXIF, XMP), APP13, comments and thumbnails go; JFIF, ICC, Adobe and the scan stay', async (t) => {
  const jfif = seg(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'));
  const icc = seg(0xe2, Buffer.from('ICC_PROFILE\0\x01\x01profile', 'latin1'));
  const adobe = seg(0xee, Buffer.from('Adobe\0d\0\0\0\0\x01', 'latin1'));
  const dqt = seg(0xdb, Buffer.alloc(65, 1));
  const scan = Buffer.concat([Buffer.from([0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6]), Buffer.from([9, 9, 0xff, 0x00, 9]), Buffer.from([0xff, 0xd9])]);
  const jpeg = Buffer.concat([
    Buffer.from([0xff, 0xd8]), jfif,
    seg(0xe1, Buffer.from('Exif\0\0MM\0*GPS 52N 13E', 'latin1')),
    seg(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Jane</x:xmpmeta>', 'latin1')),
    icc, seg(0xe2, Buffer.from('MPF\0thumbnail', 'latin1')),
    seg(0xed, Buffer.from('Photoshop 3.0\0IPTC byline Jane', 'latin1')),
    adobe, seg(0xfe, Buffer.from('taken by Jane', 'latin1')), dqt, scan,
  ]);
  t.equal(imageKind(jpeg), 'jpeg');
  const out = Buffer.from(stripJpeg(jpeg)!);
  t.ok(out.equals(Buffer.concat([Buffer.from([0xff, 0xd8]), jfif, icc, adobe, dqt, scan])), 'exactly the image-making segments remain, in order');
  t.notOk(out.includes(Buffer.from('Jane')));
  t.notOk(out.includes(Buffer.from('GPS')));
});

t.test('JPEG: what phones put after the image, between scans, or in thumbnails goes too', async (t) => {
  const exif = seg(0xe1, Buffer.from('Exif\0\0GPS-SECRET', 'latin1'));
  const sos = Buffer.from([0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6]);
  const data = Buffer.from([9, 0xff, 0x00, 9, 0xff, 0xd0, 7]); // a stuffed byte and a restart marker inside
  const eoi = Buffer.from([0xff, 0xd9]);
  const soi = Buffer.from([0xff, 0xd8]);
  const dqt = seg(0xdb, Buffer.alloc(65, 1));
  const progressive = Buffer.concat([soi, dqt, sos, data, exif, seg(0xfe, Buffer.from('GPS-SECRET')), sos, data, eoi]);
  t.ok(Buffer.from(stripJpeg(progressive)!).equals(Buffer.concat([soi, dqt, sos, data, sos, data, eoi])), 'segments between scans are filtered too');
  const trailer = Buffer.concat([soi, dqt, sos, data, eoi, soi, exif, sos, data, eoi, Buffer.from('motion photo GPS-SECRET')]);
  t.ok(Buffer.from(stripJpeg(trailer)!).equals(Buffer.concat([soi, dqt, sos, data, eoi])), 'a second image and trailing data after EOI are dropped');
  const jfxx = seg(0xe0, Buffer.from('JFXX\0thumbnail GPS-SECRET', 'latin1'));
  const jfifThumb = seg(0xe0, Buffer.concat([Buffer.from('JFIF\0\x01\x02\0\0\x01\0\x01', 'latin1'), Buffer.from([2, 1]), Buffer.alloc(6, 0x77)]));
  const out = Buffer.from(stripJpeg(Buffer.concat([soi, jfifThumb, jfxx, dqt, sos, data, eoi]))!);
  t.notOk(out.includes(Buffer.from('GPS-SECRET')), 'JFXX thumbnails are dropped');
  t.ok(out.subarray(2, 20).equals(Buffer.concat([Buffer.from([0xff, 0xe0, 0, 16]), Buffer.from('JFIF\0\x01\x02\0\0\x01\0\x01', 'latin1'), Buffer.from([0, 0])])), 'the JFIF thumbnail is cut and its size zeroed');
  t.equal(stripJpeg(Buffer.concat([soi, Buffer.from([0x00]), exif, dqt, sos, data, eoi])), undefined, 'a stray byte between segments: not understood, so not claimed clean');
});

t.test('PNG: only chunks needed to draw the image are kept', async (t) => {
  const png = Buffer.concat([SIG, ihdr, chunk('caBX', Buffer.from('c2pa GPS-SECRET')), chunk('prVt', Buffer.from('GPS-SECRET')), idat, chunk('iTXt', Buffer.from('late GPS-SECRET')), iend, Buffer.from('trailing GPS-SECRET')]);
  const out = Buffer.from(stripPng(png)!);
  t.ok(out.equals(Buffer.concat([SIG, ihdr, idat, iend])));
});

t.test('files it does not understand are left alone', async (t) => {
  t.equal(stripImage(Buffer.from('%PDF-1.7 not an image')), undefined);
  t.equal(stripJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff])), undefined, 'a segment longer than the file');
  t.equal(stripPng(Buffer.concat([SIG, ihdr])), undefined, 'a PNG without IEND');
});
