// Buffers an async stream of arbitrarily sized pieces so the decoder can take exact byte counts. Holds at most
// what the decoder asked for plus one input piece.
import { _abytes } from '../_guard.js';

export class _ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private pieces: Uint8Array[] = [];
  private first = 0; // index of the first live piece (avoids O(n^2) shift() with tiny pieces)
  private offset = 0; // bytes already taken from pieces[first]
  buffered = 0;
  done = false;

  constructor(input: AsyncIterable<Uint8Array>) {
    if (input === null || typeof input !== 'object' || typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') {
      throw new TypeError('input: expected an AsyncIterable<Uint8Array>');
    }
    this.it = input[Symbol.asyncIterator]();
  }

  /** Pulls input until at least `n` bytes are buffered or the input ends. */
  async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const piece = _abytes('input piece', r.value);
      if (piece.length > 0) {
        this.pieces.push(piece);
        this.buffered += piece.length;
      }
    }
  }

  /** Copies out exactly `n` buffered bytes (n <= buffered). The copy is ours: the producer may reuse its buffers. */
  take(n: number): Uint8Array {
    if (n > this.buffered) throw new Error('internal: take beyond buffer');
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const p = this.pieces[this.first]!;
      const k = Math.min(n - o, p.length - this.offset);
      out.set(p.subarray(this.offset, this.offset + k), o);
      o += k;
      this.offset += k;
      if (this.offset === p.length) {
        this.pieces[this.first++] = undefined as unknown as Uint8Array; // release for GC
        this.offset = 0;
      }
    }
    if (this.first > 1024) {
      this.pieces = this.pieces.slice(this.first);
      this.first = 0;
    }
    this.buffered -= n;
    return out;
  }

  /** Lets the producer clean up when decoding stops early. */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }
}
