// Removes what photos say about their author before encryption. Only segments known to be needed to draw
// the image are kept (an allow-list: anything unknown goes); everything after a JPEG's end-of-image marker
// goes too (phones append second images, depth maps and motion-photo videos there, with their own EXIF).
// A camera's GPS position or serial number in a photo would identify a source more surely than any address.

export type ImageKind = 'jpeg' | 'png';

export function imageKind(head: Uint8Array): ImageKind | undefined {
  // Two bytes, not three: a JPEG with junk after its start marker still renders, and must not pass as "not a photo".
  if (head[0] === 0xff && head[1] === 0xd8) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((b, i) => head[i] === b)) return 'png';
  return undefined;
}

const startsWith = (body: Uint8Array, ascii: string) => [...ascii].every((c, i) => body[i] === c.charCodeAt(0));

/** The segment to keep (possibly rewritten), or undefined to drop it. */
function keptJpegSegment(marker: number, segment: Uint8Array): Uint8Array | undefined {
  const body = segment.subarray(4);
  if (marker === 0xe0) {
    // JFIF only, and without its thumbnail (which can show the uncropped original): 14 bytes, thumbnail 0×0.
    if (!startsWith(body, 'JFIF\0') || body.length < 14) return undefined;
    const out = segment.slice(0, 18);
    out[2] = 0;
    out[3] = 16;
    out[16] = 0;
    out[17] = 0;
    return out;
  }
  if (marker === 0xe2) return startsWith(body, 'ICC_PROFILE\0') ? segment : undefined; // colour, not thumbnails
  if (marker === 0xee) return startsWith(body, 'Adobe') && body.length === 12 ? segment : undefined; // colour transform
  if (marker >= 0xe0 && marker <= 0xef) return undefined; // EXIF, XMP, IPTC, MPF and every other APPn
  if (marker === 0xfe) return undefined; // comments
  // Tables, frame and scan headers, restart interval: what a decoder needs.
  const needed = marker === 0xdb || marker === 0xc4 || marker === 0xdd || marker === 0xcc || marker === 0xdc || marker === 0xda || (marker >= 0xc0 && marker <= 0xcf);
  return needed ? segment : undefined;
}

/** Returns the JPEG without metadata, or undefined if it is not a JPEG this code can walk completely. */
export function stripJpeg(b: Uint8Array): Uint8Array | undefined {
  const out: Uint8Array[] = [b.subarray(0, 2)];
  let pos = 2;
  for (;;) {
    while (pos < b.length && b[pos] === 0xff && b[pos + 1] === 0xff) pos++; // fill bytes
    if (pos + 2 > b.length || b[pos] !== 0xff) return undefined;
    const marker = b[pos + 1]!;
    if (marker === 0xd9) {
      out.push(b.subarray(pos, pos + 2)); // end of image: whatever follows is dropped
      return concat(out);
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xd8) return undefined; // not between segments
    if (pos + 4 > b.length) return undefined;
    const len = (b[pos + 2]! << 8) | b[pos + 3]!;
    if (len < 2 || pos + 2 + len > b.length) return undefined;
    const kept = keptJpegSegment(marker, b.subarray(pos, pos + 2 + len));
    if (kept) out.push(kept);
    pos += 2 + len;
    if (marker === 0xda) {
      // Entropy-coded data runs until a marker that is neither a stuffed 0xFF00 nor a restart marker.
      const start = pos;
      while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1] !== 0x00 && !(b[pos + 1]! >= 0xd0 && b[pos + 1]! <= 0xd7))) pos++;
      if (pos + 1 >= b.length) return undefined;
      out.push(b.subarray(start, pos));
    }
  }
}

// Chunks needed to draw the image (and animate an APNG); everything else, including text, EXIF, C2PA
// credentials, timestamps and private chunks, is dropped.
const KEEP_PNG = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'sBIT', 'bKGD', 'pHYs', 'cICP', 'acTL', 'fcTL', 'fdAT']);

export function stripPng(b: Uint8Array): Uint8Array | undefined {
  const out: Uint8Array[] = [b.subarray(0, 8)];
  let pos = 8;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (pos + 12 <= b.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(b[pos + 4]!, b[pos + 5]!, b[pos + 6]!, b[pos + 7]!);
    const end = pos + 12 + len;
    if (end > b.length) return undefined;
    if (KEEP_PNG.has(type)) out.push(b.subarray(pos, end));
    pos = end;
    if (type === 'IEND') return concat(out); // trailing data dropped
  }
  return undefined;
}

export function stripImage(b: Uint8Array): Uint8Array | undefined {
  const kind = imageKind(b);
  if (kind === 'jpeg') return stripJpeg(b);
  if (kind === 'png') return stripPng(b);
  return undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
