// Removes what photos say about their author before encryption: for JPEG the EXIF and XMP (APP1), IPTC
// (APP13), other application segments and comments; for PNG the text chunks, eXIf and tIME. Pixels, colour
// profile (ICC) and JFIF/Adobe colour information are kept. A camera's GPS position or serial number in a
// photo would identify a source more surely than any IP address.

export type ImageKind = 'jpeg' | 'png';

export function imageKind(head: Uint8Array): ImageKind | undefined {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((b, i) => head[i] === b)) return 'png';
  return undefined;
}

const ICC = [0x49, 0x43, 0x43, 0x5f, 0x50, 0x52, 0x4f, 0x46, 0x49, 0x4c, 0x45, 0x00]; // "ICC_PROFILE\0"

function keepJpegSegment(marker: number, body: Uint8Array): boolean {
  if (marker === 0xe0 || marker === 0xee) return true; // JFIF, Adobe (colour transform)
  if (marker === 0xe2) return ICC.every((b, i) => body[i] === b); // ICC profile yes; FlashPix/MPF thumbnails no
  if (marker >= 0xe1 && marker <= 0xef) return false; // APP1 EXIF/XMP, APP13 IPTC, the rest
  if (marker === 0xfe) return false; // comment
  return true;
}

/** Returns the JPEG without metadata segments, or undefined if it is not a JPEG this code can walk. */
export function stripJpeg(b: Uint8Array): Uint8Array | undefined {
  const out: Uint8Array[] = [b.subarray(0, 2)];
  let pos = 2;
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) return undefined;
    const marker = b[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) {
      out.push(b.subarray(pos)); // start of scan: the rest is image data
      return concat(out);
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      out.push(b.subarray(pos, pos + 2));
      pos += 2;
      continue;
    }
    const len = (b[pos + 2]! << 8) | b[pos + 3]!;
    if (len < 2 || pos + 2 + len > b.length) return undefined;
    if (keepJpegSegment(marker, b.subarray(pos + 4, pos + 2 + len))) out.push(b.subarray(pos, pos + 2 + len));
    pos += 2 + len;
  }
  return undefined;
}

const DROP_PNG = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

export function stripPng(b: Uint8Array): Uint8Array | undefined {
  const out: Uint8Array[] = [b.subarray(0, 8)];
  let pos = 8;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (pos + 12 <= b.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(b[pos + 4]!, b[pos + 5]!, b[pos + 6]!, b[pos + 7]!);
    const end = pos + 12 + len;
    if (end > b.length) return undefined;
    if (!DROP_PNG.has(type)) out.push(b.subarray(pos, end));
    pos = end;
    if (type === 'IEND') return concat(out);
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
