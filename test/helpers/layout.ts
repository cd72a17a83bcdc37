// The spec's length-prefixed framing (PROTOCOL.md §Framing) rebuilt with Buffer, independently of crypto/_frame.ts,
// so tests can recompute the formats from the text.

/** `u32 BE length || bytes` for each field (strings as UTF-8), concatenated. */
export const lp = (...fields: (Uint8Array | string)[]): Buffer =>
  Buffer.concat(
    fields.flatMap((f) => {
      const b = typeof f === 'string' ? Buffer.from(f, 'utf8') : Buffer.from(f);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return [len, b];
    }),
  );
