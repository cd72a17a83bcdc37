// `tipline fetch`: downloads each tip and decrypts it on this machine, streaming, into a folder of OUT named
// `<received day>_<first words>_<tip id>` (client/cli/inbox.ts).
// A tip is written to a hidden folder and renamed only once it decrypted completely, so a tampered or
// truncated envelope never leaves half a file that looks whole. The downloads are pipelined on the run's one
// connection: the next tips are asked for while one arrives, so there is no round trip per tip.
// Tips and follow-ups of one source share a reply key: they are grouped into threads here, on the desk's machine
// (the server holds nothing that links them), in each tip's manifest.json and in OUT/threads.json.
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { decryptEnvelope, sentDayMismatch, type Manifest } from '../../../crypto/envelope/index.js';
import { NotForYouError } from '../../../crypto/errors.js';
import { verifyDirectory } from '../../../crypto/directory.js';
import { documentFingerprint, type SignedDocument } from '../../../crypto/signed.js';
import { toBase64 } from '../../../crypto/bytes.js';
import { threadId } from '../../../crypto/reply.js';
import type { TipList } from '../../../schema/wire.js';
import { Api } from '../api.js';
import { CliError } from '../errors.js';
import { NetworkError, type Proxy, type StreamedAnswer } from '../http.js';
import { withRetry } from '../../shared/retry.js';
import { ApiError } from '../../shared/errors.js';
import type { StaffIdentity } from '../keyfiles.js';
import { progress } from '../progress.js';
import { inboxTips, tipFolder, tipFolderName } from '../inbox.js';
import { safeFileNames } from '../filenames.js';
import { printable } from '../printable.js';

/** No recipient stanza of this tip opens with this key: it was sealed for other desks only. */
export class NotAddressedError extends CliError {
  constructor(readonly tipId: string) {
    super(`tip ${tipId}: not addressed to this key`);
    this.name = 'NotAddressedError';
  }
}

/**
 * Why a tip is not for this key, in words a desk can act on. A tip received on or before the day this key was
 * first listed (its not_before, to the day: the server keeps only the day) was sealed for the desks listed then;
 * any other tip not addressed to this key is a failure worth asking about (a source with an old directory, or a
 * server delivering what was never meant for this newsroom's desks). `listedFrom` is undefined when the
 * directory does not list this key (any more) or could not be read.
 */
export function notAddressedReason(receivedDay: string, listedFrom: string | undefined): { before: boolean; line: string } {
  const listedDay = listedFrom?.slice(0, 10);
  if (listedDay !== undefined && receivedDay <= listedDay) {
    return { before: true, line: `sent before this key was added; ask a desk that was listed then (received ${receivedDay}, this key listed from ${listedDay})` };
  }
  const why = listedDay === undefined ? 'the directory does not list this key' : `this key is listed from ${listedDay}`;
  return { before: false, line: `not addressed to this key (received ${receivedDay}; ${why})` };
}

/** When the tip line's directory says this key was first listed; a failure means "unknown". It only chooses the
 * words of a message, and both facts it compares are the server's word (received_day is too), so the directory
 * is checked against its own root, unpinned: a hostile operator could make a tip look older, never readable. */
async function listedFrom(api: Api, key: StaffIdentity): Promise<string | undefined> {
  try {
    const doc = await api.staffDirectory(key);
    const dir = verifyDirectory(doc, documentFingerprint(doc as unknown as SignedDocument), new Date());
    const mine = toBase64(key.signPublic);
    return dir.recipients.filter((r) => r.sign_key === mine).map((r) => r.not_before).sort()[0];
  } catch {
    return undefined;
  }
}

export interface FetchOptions {
  server: string;
  key: StaffIdentity;
  out: string;
  proxy?: Proxy | undefined;
  say: (s: string) => void;
  /** An open connection to use (and leave open), e.g. the desk app's one; else one is opened for this run. */
  api?: Api;
}

async function* bytesOf(body: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncIterable<Uint8Array> {
  for await (const piece of body) {
    onBytes(piece.length);
    yield piece;
  }
}

async function write(stream: WriteStream, bytes: Uint8Array): Promise<void> {
  if (!stream.write(bytes)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Bytes of tips asked for ahead of the one arriving, at most. Enough to keep a Tor link busy (its
 * bandwidth-delay product is well under 1 MB); small enough that a request waiting behind them is read by the
 * server long before its signature's timestamp goes stale (±300 s). */
const AHEAD_BYTES = 4 * 1024 * 1024;
const AHEAD_TIPS = 24;

/** The thread of a reply key, or undefined for a key that is not 32 bytes of base64 (the manifest parser refuses
 * those, so only a damaged or hand-edited manifest.json has one). */
function threadOf(boxKey: unknown): string | undefined {
  if (typeof boxKey !== 'string') return undefined;
  try {
    return threadId(boxKey);
  } catch {
    return undefined;
  }
}

export async function fetchOne(api: Api, key: StaffIdentity, id: string, size: number, out: string, asked = api.downloadTip(key, id), onBytes?: (n: number) => void, receivedDay?: string): Promise<Manifest> {
  const partial = join(out, `.${id}.partial`);
  // Ids were checked against the wire schema; this is the second lock on the door to the rest of the disk.
  if (dirname(resolve(partial)) !== resolve(out)) throw new CliError(`refusing to write outside ${out}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, 'files'), { recursive: true, mode: 0o700 });
  // A request sent ahead fails with the connection it was pipelined on: ask again, on a new one, signed anew.
  // The connection also drops when an earlier tip's download is abandoned (not for this key, tampered); undici
  // then sends the requests queued behind it again, byte for byte, and the server rightly refuses a signed
  // request it has already seen (a replay): that one is asked again too.
  const res = await asked.catch((err: unknown) => {
    const replayed = err instanceof ApiError && err.code === 'TIPLINE_ERR_REPLAYED';
    if (!(err instanceof NetworkError) && !replayed) throw err;
    return withRetry(`downloading tip ${id}`, { retryForMs: 60_000 }, () => api.downloadTip(key, id));
  });
  const bar = progress(`tip ${id.slice(0, 8)}: downloading and decrypting`, size);
  let manifest: Manifest | undefined;
  let names: string[] = [];
  let current: WriteStream | undefined;
  try {
    for await (const ev of decryptEnvelope(bytesOf(res.body, (n) => (bar.add(n), onBytes?.(n))), key)) {
      if (ev.kind === 'manifest') {
        manifest = ev.manifest;
        names = safeFileNames(manifest.files.map((f) => f.name));
        writeFileSync(join(partial, 'message.txt'), manifest.message, { mode: 0o600 });
      } else if (ev.kind === 'data') {
        current ??= createWriteStream(join(partial, 'files', names[ev.file]!), { mode: 0o600 });
        await write(current, ev.bytes);
      } else if (ev.kind === 'file-end') {
        // An empty file has no data events: create it here.
        if (!current) writeFileSync(join(partial, 'files', names[ev.file]!), new Uint8Array(0), { mode: 0o600 });
        else await close(current);
        current = undefined;
      }
    }
  } catch (err) {
    current?.destroy();
    res.body.destroy();
    rmSync(partial, { recursive: true, force: true });
    if (err instanceof NotForYouError) {
      // Sealed under an earlier period's box key (before tipline keys rotate): try the kept ones, newest first.
      const [next, ...rest] = key.kept ?? [];
      if (next) return fetchOne(api, { ...key, ...next, kept: rest }, id, size, out, api.downloadTip(key, id), onBytes, receivedDay);
      throw new NotAddressedError(id);
    }
    throw new CliError(`tip ${id}: ${(err as Error).message}`);
  }
  bar.done();
  if (!manifest) throw new CliError(`tip ${id}: no manifest`);
  const thread = manifest.reply ? threadOf(manifest.reply.box_key) : undefined;
  const meta = {
    tip_id: id,
    ...(receivedDay ? { received_day: receivedDay } : {}),
    sent_day: manifest.sent_day,
    // This machine's clock, not the server's: orders a thread's tips received on one day (the server keeps days).
    fetched_at: new Date().toISOString(),
    files: manifest.files.map((f, i) => ({ original_name: f.name, saved_as: `files/${names[i]}`, type: f.type, size: f.size })),
    reply: manifest.reply ?? null,
    thread: thread ?? null,
  };
  writeFileSync(join(partial, 'manifest.json'), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
  // Named from the decrypted first line, i.e. the source's words: inbox.ts makes them a safe name; checked again.
  const final = join(out, tipFolderName(id, receivedDay, manifest.message));
  if (dirname(resolve(final)) !== resolve(out)) throw new CliError(`refusing to write outside ${out}`);
  renameSync(partial, final);
  return manifest;
}

export interface FetchResult {
  fetched: number;
  skipped: number;
  /** Tips received before this key was listed, sealed for the desks listed then: not failures. */
  before: number;
  /** Every other tip that was not fetched, including those not addressed to this key. */
  failed: number;
  /** The threads a tip fetched in this run belongs to: thread id -> its tips in OUT, oldest first. */
  threads: Record<string, string[]>;
  /** The server's list of tips, as answered in this run. */
  listed: TipList['tips'];
}

interface TipInOut {
  id: string;
  mailbox: unknown;
  /** Sort key: received day, sealed day, when this machine fetched it, id. */
  key: string[];
  thread: string | undefined;
}

/**
 * Rebuilds OUT/threads.json from every tip folder in OUT: {thread id: [tip ids, oldest first]}, by the day the
 * server received each (it keeps days only), then the day sealed, then when this machine fetched it, then id.
 * Each tip's manifest.json gets its `thread` (tips fetched by an older tipline have none yet). Only tips that
 * asked for replies have a thread; the file is written once there is one.
 */
export function rebuildThreads(out: string, say: (s: string) => void): Record<string, string[]> {
  const tips: TipInOut[] = [];
  // Hidden .partial folders, threads.json and anything else are not tip folders.
  for (const { id: name, path: folder } of inboxTips(out)) {
    const path = join(folder, 'manifest.json');
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      continue; // a folder that is not a fetched tip
    }
    const reply = meta.reply as { box_key?: unknown; mailbox?: unknown } | null | undefined;
    const thread = reply ? threadOf(reply.box_key) : undefined;
    if (reply && !thread) say(`warning: ${name}: its reply key is malformed; it is in no thread`);
    if ((meta.thread ?? null) !== (thread ?? null)) {
      writeFileSync(`${path}.tmp`, `${JSON.stringify({ ...meta, thread: thread ?? null }, null, 2)}\n`, { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    }
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    tips.push({ id: name, mailbox: reply?.mailbox, key: [text(meta.received_day), text(meta.sent_day), text(meta.fetched_at), name], thread });
  }
  const cmp = (a: TipInOut, b: TipInOut) => {
    for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i]! < b.key[i]! ? -1 : 1;
    return 0;
  };
  const threads: Record<string, string[]> = {};
  const mailboxes = new Map<string, unknown>();
  for (const t of tips.sort(cmp)) {
    if (!t.thread) continue;
    // One codename gives one reply key and one tag key: a tip with the thread's reply key and another tag key was
    // not made from the same codename (whoever made it learnt the reply key elsewhere); replies to it would be
    // tagged where the source never looks. Kept out of the thread, so the tip fetch says to answer (the thread's
    // last) is never the impostor's.
    if (!mailboxes.has(t.thread)) mailboxes.set(t.thread, t.mailbox);
    else if (mailboxes.get(t.thread) !== t.mailbox) {
      say(`warning: ${t.id}: same reply key as thread ${t.thread} but another tag key: not made from the same codename; answer the thread's first tip, not this one`);
      continue;
    }
    (threads[t.thread] ??= []).push(t.id);
  }
  // Written once there is a thread (and kept up to date after): an inbox whose sources never asked for replies
  // has no file to explain.
  const file = join(out, 'threads.json');
  if (Object.keys(threads).length > 0 || existsSync(file)) {
    writeFileSync(`${file}.tmp`, `${JSON.stringify(threads, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
  return threads;
}

export async function fetchAll(o: FetchOptions): Promise<FetchResult> {
  const api = o.api ?? new Api(new URL(o.server), o.proxy);
  try {
    mkdirSync(o.out, { recursive: true, mode: 0o700 });
    const listed = await api.listTips(o.key);
    // Once per id, the first listing: a second copy (a hostile server's) would be decrypted and then not renamed
    // over the first, leaving its plaintext in a hidden folder.
    const seen = new Set<string>();
    const tips = listed.tips.filter((t) => !seen.has(t.id) && seen.add(t.id));
    const here = new Set(inboxTips(o.out).map((t) => t.id));
    const todo = tips.filter((t) => !here.has(t.id));
    const skipped = tips.length - todo.length;
    let fetched = 0;
    const fetchedIds: string[] = [];
    let failed = 0;
    let before = 0;
    const notAddressed: { id: string; received_day: string }[] = [];
    // Requests sent ahead, by index in `todo`; each is awaited (or its failure retried) when its turn comes.
    const asked: Promise<StreamedAnswer>[] = [];
    let current = 0;
    let receivedOfCurrent = 0;
    const askAhead = () => {
      let ahead = todo[current]!.size - receivedOfCurrent;
      for (let j = current + 1; j < todo.length && j - current <= AHEAD_TIPS && ahead <= AHEAD_BYTES; j++) {
        if (!asked[j]) {
          asked[j] = api.downloadTip(o.key, todo[j]!.id);
          asked[j]!.catch(() => {}); // handled when its turn comes
        }
        ahead += todo[j]!.size;
      }
    };
    for (current = 0; current < todo.length; current++) {
      const tip = todo[current]!;
      receivedOfCurrent = 0;
      asked[current] ??= api.downloadTip(o.key, tip.id);
      asked[current]!.catch(() => {});
      askAhead();
      try {
        const m = await fetchOne(
          api,
          o.key,
          tip.id,
          tip.size,
          o.out,
          asked[current],
          (n) => {
            receivedOfCurrent += n;
            askAhead();
          },
          tip.received_day,
        );
        fetchedIds.push(tip.id);
        const folder = tipFolder(o.out, tip.id) ?? join(o.out, tip.id);
        o.say(`${tip.id}: received ${tip.received_day}, ${m.files.length} file(s) -> ${printable(folder)}`);
        // The sealed day is inside the encryption: an operator re-delivering an old tip as new shows here.
        const mismatch = sentDayMismatch(m.sent_day, tip.received_day);
        if (mismatch) {
          o.say(`warning: ${tip.id}: ${printable(mismatch)}`);
          writeFileSync(join(folder, 'WARNING.txt'), `${mismatch}\n`, { mode: 0o600 });
        }
        fetched++;
      } catch (err) {
        if (err instanceof NotAddressedError) notAddressed.push(tip);
        else {
          o.say(`error: ${printable((err as Error).message)}`);
          failed++;
        }
      }
      delete asked[current];
    }
    // Explained after the downloads, with one more request: asked in the middle, the directory's answer would
    // queue behind tips requested ahead on the same connection.
    if (notAddressed.length > 0) {
      const from = await listedFrom(api, o.key);
      for (const tip of notAddressed) {
        const why = notAddressedReason(tip.received_day, from);
        if (why.before) before++;
        else failed++;
        o.say(`${why.before ? '' : 'error: '}${tip.id}: ${why.line}`);
      }
    }
    const all = rebuildThreads(o.out, o.say);
    const touched = new Set(fetchedIds);
    const threads = Object.fromEntries(Object.entries(all).filter(([, ids]) => ids.some((id) => touched.has(id))));
    return { fetched, skipped, before, failed, threads, listed: listed.tips };
  } finally {
    if (!o.api) await api.close();
  }
}
