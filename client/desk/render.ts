// How the desk app may show a file a source sent, decided from its bytes alone (never its name or declared type,
// both the source's words): images decoded and re-encoded here by pure-JS codecs, so the browser's own decoders
// never see the source's bytes; text as text; everything else only saved to disk.
//
// CONTRACT stub (written by the lead; the desk-files helper implements it).

export type RenderKind = 'image' | 'text' | 'none';

export function renderKind(_bytes: Uint8Array): RenderKind {
  return 'none';
}

/** A fresh PNG of the image's pixels (no metadata, nothing else of the original), or undefined when the bytes
 * are not an image this can decode within its limits. */
export function reencodeImage(_bytes: Uint8Array): Uint8Array | undefined {
  return undefined;
}

/** The file as text (UTF-8, invalid sequences replaced), at most `limit` characters. */
export function textOf(bytes: Uint8Array, limit = 1_000_000): { text: string; truncated: boolean } {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return { text: text.slice(0, limit), truncated: text.length > limit };
}
