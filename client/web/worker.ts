// The page's worker: loads the crypto code after the form is on screen, then verifies the newsroom's
// directory, strips photo metadata, encrypts and uploads, streaming (memory stays flat whatever the size).
import { loadSodium } from './sodium-browser.js';
import { verifyDirectory, activeRecipients } from '../../crypto/directory.js';
import { DirectoryExpiredError } from '../../crypto/errors.js';
import { encryptEnvelope, sentDay, type Manifest } from '../../crypto/envelope/index.js';
import { fromBase64 } from '../../crypto/bytes.js';
import { sendEnvelope } from '../shared/transfer.js';
import { withRetry, type RetryOptions } from '../shared/retry.js';
import { webApi } from './api.js';
import { stripImage, imageKind } from '../shared/strip.js';
import { guessType } from '../shared/filetypes.js';
import type { SendRequest, WorkerEvent } from './protocol.js';

const scope = globalThis as unknown as { postMessage(m: WorkerEvent): void; onmessage: ((e: MessageEvent<SendRequest>) => void) | null };
const post = (m: WorkerEvent) => scope.postMessage(m);
const PIECE = 1024 * 1024;
// Photos are cleaned in memory, one at a time; a larger one is not sent unless the source unticks the box.
const MAX_STRIP = 64 * 1024 * 1024;

/** A photo whose metadata could not be removed: never sent silently with it. */
class Uncleanable extends Error {}

async function* readBlob(blob: Blob): AsyncIterable<Uint8Array> {
  for (let off = 0; off < blob.size; off += PIECE) yield new Uint8Array(await blob.slice(off, off + PIECE).arrayBuffer());
}

async function prepareFile(file: File, strip: boolean): Promise<Blob> {
  if (!strip || file.size < 16) return file;
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  if (!imageKind(head)) return file;
  if (file.size > MAX_STRIP) throw new Uncleanable(file.name);
  const cleaned = stripImage(new Uint8Array(await file.arrayBuffer()));
  if (!cleaned) throw new Uncleanable(file.name);
  return new Blob([cleaned as BlobPart]);
}

async function send(req: SendRequest): Promise<void> {
  post({ type: 'stage', stage: 'verifying' });
  const retry: RetryOptions = { retryForMs: 30 * 60_000, onRetry: () => post({ type: 'stage', stage: 'retrying' }) };
  // Both in parallel (one round trip); the challenge is only used if the directory verifies.
  const asked = performance.now();
  const [doc, challenge] = await withRetry('fetching the directory', retry, () => Promise.all([webApi.directory(), webApi.pow()]));
  const smallExchangeMs = performance.now() - asked;
  post({ type: 'stage', stage: 'verifying' });
  const now = new Date();
  let recipients: Uint8Array[];
  try {
    const directory = verifyDirectory(doc, req.fingerprint, now);
    recipients = activeRecipients(directory, 'desk', now).map((r) => fromBase64(r.box_key));
    if (recipients.length === 0) throw new DirectoryExpiredError('(no desk key valid today)', now.toISOString());
  } catch (err) {
    // Refuse to encrypt to keys the source cannot check: the server could have swapped them.
    post({ type: 'error', kind: err instanceof DirectoryExpiredError ? 'expired' : 'directory', reason: (err as Error).message });
    return;
  }
  const blobs: Blob[] = [];
  for (const f of req.files) {
    try {
      blobs.push(await prepareFile(f, req.strip));
    } catch (err) {
      if (!(err instanceof Uncleanable)) throw err;
      post({ type: 'error', kind: 'uncleanable', reason: err.message });
      return;
    }
  }
  const manifest: Manifest = {
    v: 2,
    sent_day: sentDay(now),
    message: req.message,
    // The type from the name, by a fixed table: the browser's guess depends on the source's system.
    files: req.files.map((f, i) => ({ name: f.name, type: guessType(f.name), size: blobs[i]!.size })),
  };
  const envelope = encryptEnvelope({ recipients, manifest, files: blobs.map((b) => readBlob(b)) });
  const receipt = await sendEnvelope(webApi, challenge, envelope, {
    ...retry,
    // Each chunk in flight is a connection of its own: spread them so they do not all finish at once. Half the
    // first exchange: it took one round trip, or two when its connections were new; too little spread costs
    // more than too much.
    spreadAgainstRttMs: smallExchangeMs / 2,
    onPreparing: () => post({ type: 'stage', stage: 'preparing' }),
    onProgress: (sent, total) => {
      post({ type: 'stage', stage: sent >= total ? 'finishing' : 'encrypting' });
      post({ type: 'progress', sent, total });
    },
  });
  post({ type: 'done', receipt });
}

scope.onmessage = (e) => {
  if (e.data?.type !== 'send') return;
  send(e.data).catch((err: unknown) => post({ type: 'error', kind: 'failed', reason: (err as Error)?.message ?? String(err) }));
};

loadSodium().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'error', kind: 'noCrypto', reason: (err as Error)?.message ?? String(err) }),
);
