// Runs client/desk/render.ts off the desk app's event loop. Threat: a source's image small on the wire but huge in
// pixels (7000 x 7000 flat: 160 KB, ~9 s to decode) freezing every request of the local server while it decodes.
import { parentPort } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { reencodeImage, renderKind } from './render.js';

export type RenderJob = { id: number; path: string; want: 'info' | 'png' };
export type RenderAnswer = { id: number; sha256?: string; render?: ReturnType<typeof renderKind>; png?: Uint8Array; error?: string };

parentPort!.on('message', (m: RenderJob) => {
  let a: RenderAnswer;
  try {
    const b = readFileSync(m.path);
    const bytes = new Uint8Array(b.buffer, b.byteOffset, b.length);
    const render = renderKind(bytes);
    if (m.want === 'info') a = { id: m.id, sha256: createHash('sha256').update(b).digest('hex'), render };
    else a = { id: m.id, render, ...(render === 'image' ? { png: reencodeImage(bytes) } : {}) };
  } catch (err) {
    a = { id: m.id, error: (err as Error).message };
  }
  parentPort!.postMessage(a);
});
