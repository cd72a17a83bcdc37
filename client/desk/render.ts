// How the desk app may show a file a source sent, decided from its bytes alone (never its name or declared type,
// both the source's words): images decoded and re-encoded here by pure-JS codecs, so the browser's own decoders
// never see the source's bytes; text as text; everything else only saved to disk.
//
// Threat: a hostile file aimed at the newsroom's browser — a crafted PNG/JPEG exploiting a native image decoder,
// an SVG or HTML that runs script, a polyglot that is an image to one parser and a page to another, metadata
// (EXIF GPS, ICC profiles, text chunks) carrying either an exploit or something the desk should not pass on when
// it forwards "the picture". The browser only ever gets a PNG this module wrote from RGBA pixels, or text.
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

export type RenderKind = 'image' | 'text' | 'none';

/** Refused above this many pixels: the decoded RGBA buffer is 4 bytes a pixel, so 50 MP is 200 MB. */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** Refused above this width or height whatever the pixel count (a 1 x 10^9 strip is no picture). */
export const MAX_IMAGE_SIDE = 30_000;
/** The re-encoded image's longest side: larger images are scaled down, which bounds the output's size too. */
export const MAX_OUTPUT_SIDE = 4096;
/** jpeg-js counts its own allocations (coefficients, components, output) against this. */
const JPEG_MEMORY_MB = 512;
/** Bytes of a file examined to call it text (more than textOf's default limit of characters can take). */
const TEXT_SNIFF_BYTES = 8 * 1024 * 1024;

// One decode per array: the desk app asks renderKind, then reencodeImage, for the same bytes.
const cache = new WeakMap<Uint8Array, Uint8Array | null>();

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a;
}

function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

export function renderKind(bytes: Uint8Array): RenderKind {
  if (isPng(bytes) || isJpeg(bytes)) {
    // An image that does not decode here is not shown as anything else either: a PNG signature followed by
    // HTML is someone's attempt at a polyglot.
    return reencodeImage(bytes) ? 'image' : 'none';
  }
  return looksLikeText(bytes) ? 'text' : 'none';
}

/** Valid UTF-8 (a BOM allowed), no NUL, and at most one control character (besides tab, line breaks, form
 * feed) in 200. HTML, SVG, XML and scripts are text here: the desk app shows them as text, never renders them. */
function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.length > TEXT_SNIFF_BYTES ? bytes.subarray(0, TEXT_SNIFF_BYTES) : bytes;
  let text: string;
  try {
    // stream: true when cut, so a character split at the cut is not counted as invalid.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(head, { stream: head !== bytes });
  } catch {
    return false;
  }
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return false;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || (c >= 0x7f && c <= 0x9f)) controls++;
  }
  return controls * 200 <= text.length;
}

/** The file's declared dimensions and PNG layout, read before any decoder allocates for them. */
interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
  idat: Uint8Array[];
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Walks the chunks (lengths and order only, CRCs are pngjs's): IHDR first, the IDAT data, IEND. */
function pngHeader(b: Uint8Array): PngHeader | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 8;
  let h: PngHeader | undefined;
  let ended = false;
  while (off + 12 <= b.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(b[off + 4]!, b[off + 5]!, b[off + 6]!, b[off + 7]!);
    if (len > 0x7fffffff || off + 12 + len > b.length) return undefined;
    const data = b.subarray(off + 8, off + 8 + len);
    if (!h) {
      if (type !== 'IHDR' || len !== 13) return undefined;
      const d = new DataView(data.buffer, data.byteOffset, 13);
      h = { width: d.getUint32(0), height: d.getUint32(4), depth: data[8]!, colorType: data[9]!, interlace: data[12]!, idat: [] };
    } else if (type === 'IDAT') h.idat.push(data);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    off += 12 + len;
  }
  if (!h || !ended || h.idat.length === 0) return undefined;
  if (PNG_CHANNELS[h.colorType] === undefined || ![1, 2, 4, 8, 16].includes(h.depth) || h.interlace > 1) return undefined;
  return h;
}

function dimensionsOk(width: number, height: number): boolean {
  return width >= 1 && height >= 1 && width <= MAX_IMAGE_SIDE && height <= MAX_IMAGE_SIDE && width * height <= MAX_IMAGE_PIXELS;
}

/** The exact size of the inflated image data (filter bytes included, all 7 Adam7 passes when interlaced). */
function pngInflatedSize(h: PngHeader): number {
  const bitsPerPixel = PNG_CHANNELS[h.colorType]! * h.depth;
  const rows = (w: number, n: number) => (w > 0 && n > 0 ? n * (Math.ceil((w * bitsPerPixel) / 8) + 1) : 0);
  if (h.interlace === 0) return rows(h.width, h.height);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
  let size = 0;
  for (const [x0, y0, dx, dy] of passes) size += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  return size;
}

function decodePng(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } | undefined {
  const h = pngHeader(bytes);
  if (!h || !dimensionsOk(h.width, h.height)) return undefined;
  // pngjs unpacks a 16-bit image into 8 bytes a pixel before scaling it down: the same 200 MB bound on that.
  if (h.depth === 16 && h.width * h.height * 8 > MAX_IMAGE_PIXELS * 4) return undefined;
  const expected = pngInflatedSize(h);
  // Threat: a zlib bomb in IDAT. pngjs bounds its inflate for plain images but not for interlaced ones; here
  // every image's data is inflated first with a cap at the size its dimensions call for.
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(h.idat), { maxOutputLength: expected + 1 });
  } catch {
    return undefined;
  }
  if (inflated.length !== expected) return undefined;
  const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { checkCRC: true });
  if (png.width !== h.width || png.height !== h.height || png.data.length !== h.width * h.height * 4) return undefined;
  return { width: png.width, height: png.height, rgba: png.data };
}

/** Most scans (SOS markers) a JPEG may have: encoders write 1 (baseline) to about 10-20 (progressive). */
export const MAX_JPEG_SCANS = 100;

/** Counts FF DA pairs: entropy-coded data stuffs every FF as FF 00, so outside metadata each is a scan. An
 * over-count (FF DA inside an APP segment) only makes the bound stricter. */
function jpegScans(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(0xff); i >= 0 && i + 1 < b.length; i = b.indexOf(0xff, i + 1)) if (b[i + 1] === 0xda) n++;
  return n;
}

function decodeJpeg(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } | undefined {
  // Threat: a CPU-time bomb. jpeg-js walks every block of the frame once a scan, so a 49 MP progressive frame
  // followed by thousands of 76-byte scans (each an end-of-band run over the whole frame) took 13 ms a scan:
  // minutes of the desk app's one thread for a file under 4 MB.
  if (jpegScans(bytes) > MAX_JPEG_SCANS) return undefined;
  // jpeg-js checks the frame's declared size against maxResolutionInMP before allocating for it.
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    tolerantDecoding: false,
    maxResolutionInMP: MAX_IMAGE_PIXELS / 1_000_000,
    maxMemoryUsageInMB: JPEG_MEMORY_MB,
  });
  if (!dimensionsOk(img.width, img.height) || img.data.length !== img.width * img.height * 4) return undefined;
  return { width: img.width, height: img.height, rgba: img.data };
}

/** Box-filter downscale by a whole factor, so the longest side is at most MAX_OUTPUT_SIDE. */
function fit(img: { width: number; height: number; rgba: Uint8Array }): { width: number; height: number; rgba: Uint8Array } {
  const k = Math.ceil(Math.max(img.width, img.height) / MAX_OUTPUT_SIDE);
  if (k <= 1) return img;
  const width = Math.ceil(img.width / k);
  const height = Math.ceil(img.height / k);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sum = [0, 0, 0, 0];
      let n = 0;
      for (let sy = y * k; sy < Math.min((y + 1) * k, img.height); sy++) {
        for (let sx = x * k; sx < Math.min((x + 1) * k, img.width); sx++) {
          const i = (sy * img.width + sx) * 4;
          for (let c = 0; c < 4; c++) sum[c]! += img.rgba[i + c]!;
          n++;
        }
      }
      const o = (y * width + x) * 4;
      for (let c = 0; c < 4; c++) out[o + c] = Math.round(sum[c]! / n);
    }
  }
  return { width, height, rgba: out };
}

/** A fresh PNG of the image's pixels (no metadata, nothing else of the original), or undefined when the bytes
 * are not an image this can decode within its limits. */
export function reencodeImage(bytes: Uint8Array): Uint8Array | undefined {
  const hit = cache.get(bytes);
  if (hit !== undefined) return hit ?? undefined;
  let out: Uint8Array | undefined;
  try {
    const img = isPng(bytes) ? decodePng(bytes) : isJpeg(bytes) ? decodeJpeg(bytes) : undefined;
    if (img) {
      const f = fit(img);
      const png = new pngjs.PNG({ width: f.width, height: f.height });
      png.data = Buffer.from(f.rgba.buffer, f.rgba.byteOffset, f.rgba.byteLength);
      // Only IHDR, IDAT and IEND: pngjs writes no text, time, ICC or EXIF chunk, and no gamma unless asked.
      out = new Uint8Array(pngjs.PNG.sync.write(png, { colorType: 6, inputColorType: 6, bitDepth: 8, inputHasAlpha: true, deflateLevel: 6, deflateStrategy: 0 }));
    }
  } catch {
    out = undefined; // a decoder's complaint, or a limit reached: not an image here
  }
  cache.set(bytes, out ?? null);
  return out;
}

/** The file as text (UTF-8, invalid sequences replaced), at most `limit` characters. A BOM is dropped; control
 * characters other than tab and line breaks become U+FFFD, so nothing in a file moves a terminal or a screen
 * reader. Only the first 4 bytes a character are decoded: a huge file costs no more than its shown part. */
export function textOf(bytes: Uint8Array, limit = 1_000_000): { text: string; truncated: boolean } {
  const cap = Math.min(bytes.length, limit * 4 + 4);
  const decoded = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(bytes.subarray(0, cap), { stream: cap < bytes.length });
  // eslint-disable-next-line no-control-regex
  const clean = decoded.replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/g, '\ufffd');
  let text = clean.slice(0, limit);
  // Never end on half a surrogate pair (one lone half renders as garbage).
  if (text.length > 0 && /[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1);
  return { text, truncated: text.length < clean.length || cap < bytes.length };
}
