// `tipline reply`: a desk answers a tip whose source asked for replies. Everything is done on the desk's machine:
// the source's reply key and tag key come from the decrypted tip (the inbox fetch wrote, or the tip downloaded and
// decrypted again, manifest only); the reply is sealed to that key and signed by this desk's key (crypto/reply.ts);
// its tag is drawn fresh from the tag key. The server receives a tag, a deletion hash and a padded envelope: no
// tip id, no reply key, nothing that says whom the reply is for (PROTOCOL.md §Replies).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptEnvelope, type Manifest } from '../../../crypto/envelope/index.js';
import { NotForYouError } from '../../../crypto/errors.js';
import { verifyDirectory } from '../../../crypto/directory.js';
import { documentFingerprint, type SignedDocument } from '../../../crypto/signed.js';
import { fromBase64, toBase64, toBase64Url } from '../../../crypto/bytes.js';
import { isWeakBoxKey, replyAuthor, replyFits, sealReply } from '../../../crypto/reply.js';
import { makeReplyTag } from '../../../crypto/reply-tags.js';
import { Id, type ReplyPosted } from '../../../schema/wire.js';
import { ApiError } from '../../shared/errors.js';
import { Api } from '../api.js';
import { CliError, USAGE_EXIT } from '../errors.js';
import type { Proxy } from '../http.js';
import type { StaffIdentity } from '../keyfiles.js';
import { printable } from '../printable.js';
import { tipFolder } from '../inbox.js';

export interface ReplyOptions {
  server: string;
  key: StaffIdentity;
  tipId: string;
  message: string;
  /** fetch's --out folder: the tip's manifest.json is read from there when it has the reply field. */
  inbox?: string | undefined;
  proxy?: Proxy | undefined;
  warn: (s: string) => void;
  /** For tests: how a tag is drawn (makeReplyTag). */
  drawTag?: (tagKey: Uint8Array) => Promise<Uint8Array>;
}

export interface ReplySent extends ReplyPosted {
  /** The name the source's client shows as the author (this key's in the directory). */
  author: string;
  /** False when this key is in the directory but not valid today. */
  current: boolean;
}

type ReplyField = NonNullable<Manifest['reply']>;

/** The reply field fetch wrote into the tip's folder's manifest.json (inbox.ts): the field, null (no replies asked), or
 * undefined when the inbox does not have this tip. */
function fromInbox(inbox: string, tipId: string): ReplyField | null | undefined {
  const folder = tipFolder(inbox, tipId);
  if (folder === undefined) return undefined;
  const path = join(folder, 'manifest.json');
  if (!existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as { reply?: unknown };
    const r = m.reply as Partial<ReplyField> | null | undefined;
    if (r === null) return null;
    if (r && typeof r.box_key === 'string' && typeof r.mailbox === 'string') return { box_key: r.box_key, mailbox: r.mailbox };
    return undefined; // written by an older fetch, or damaged: decrypt the tip again
  } catch {
    return undefined;
  }
}

/** Downloads the tip and decrypts only as far as its manifest (the files are not needed, nor written). */
async function fromServer(api: Api, key: StaffIdentity, tipId: string): Promise<ReplyField | null> {
  let res;
  try {
    res = await api.downloadTip(key, tipId);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'TIPLINE_ERR_TIP_UNKNOWN') throw new CliError(`no such tip: ${tipId} is not on the server (deleted, expired, or mistyped)`);
    throw err;
  }
  let manifest: Manifest | undefined;
  try {
    for await (const ev of decryptEnvelope(res.body, key)) {
      if (ev.kind === 'manifest') {
        manifest = ev.manifest;
        break;
      }
    }
  } catch (err) {
    if (err instanceof NotForYouError) {
      // Sealed under an earlier period's box key (before tipline keys rotate): try the kept ones, newest first.
      const [next, ...rest] = key.kept ?? [];
      if (next) return fromServer(api, { ...key, ...next, kept: rest }, tipId);
      throw new CliError(`tip ${tipId} is not addressed to this key: answer it with the key of a desk it was sealed for`);
    }
    throw new CliError(`tip ${tipId}: ${printable((err as Error).message)}`);
  } finally {
    res.body.destroy();
  }
  if (!manifest) throw new CliError(`tip ${tipId}: no manifest`);
  return manifest.reply ?? null;
}

/** The source's keys from a reply field, checked: a weak reply key, or a tag key that is not 32 bytes, is refused. */
function replyKeys(tipId: string, field: ReplyField): { toBoxKey: Uint8Array; tagKey: Uint8Array } {
  let toBoxKey: Uint8Array;
  let tagKey: Uint8Array;
  try {
    toBoxKey = fromBase64(field.box_key);
    tagKey = fromBase64(field.mailbox);
  } catch {
    throw new CliError(`tip ${tipId}: its reply address is not valid base64; no reply was sent`);
  }
  if (toBoxKey.length !== 32) throw new CliError(`tip ${tipId}: its reply key is not 32 bytes; no reply was sent`);
  if (tagKey.length !== 32) throw new CliError(`tip ${tipId}: its reply mailbox is not a 32-byte tag key; no reply was sent`);
  // Threat: a small-order "reply key" would make the reply readable by anyone who fetches it.
  if (isWeakBoxKey(toBoxKey)) throw new CliError(`tip ${tipId}: its reply key is a weak (small-order) key that anyone could read replies to; refusing to answer it`);
  return { toBoxKey, tagKey };
}

export async function replyToTip(o: ReplyOptions): Promise<ReplySent> {
  if (!Id.safeParse(o.tipId).success) throw new CliError(`"${printable(o.tipId, 40)}" is not a tip id: 26 characters, a-z and 2-7`, USAGE_EXIT);
  if (!replyFits(o.message)) throw new CliError(`the reply is too long: at most about 64 KB of text (this is ${Buffer.byteLength(o.message)} bytes); split it in two`, USAGE_EXIT);
  const api = new Api(new URL(o.server), o.proxy);
  try {
    const now = new Date();
    // The directory first: it names the author the source will see, and tells a sources' address from the staff one.
    const doc = await api.staffDirectory(o.key);
    // Checked against its own root: only the name shown here depends on it; the source checks the reply against
    // the root it trusts and refuses one signed by a key that root's directory does not list.
    const directory = verifyDirectory(doc, documentFingerprint(doc as unknown as SignedDocument), now);
    const author = replyAuthor(directory, toBase64(o.key.signPublic), now);
    if (!author) throw new CliError(`${o.key.name}'s key is not a desk key in the tip line's directory: the source would refuse a reply signed by it`);
    // The source refuses a reply dated a day its desk key was not valid (client/shared/replies.ts): do not post one.
    if (!author.current) throw new CliError(`${o.key.name}'s key is not valid today in the tip line's directory (expired or not yet in force): the source would refuse a reply signed by it`);

    const local = o.inbox !== undefined ? fromInbox(o.inbox, o.tipId) : undefined;
    const field = local === undefined ? await fromServer(api, o.key, o.tipId) : local;
    if (field === null) throw new CliError(`this source did not ask for replies: tip ${o.tipId} carries no codename, so there is no way to answer it`);
    const { toBoxKey, tagKey } = replyKeys(o.tipId, field);

    const sealed = await sealReply({ toBoxKey, message: o.message, desk: { signPublic: o.key.signPublic, signSecret: o.key.signSecret }, now });
    const post = { delete_hash: toBase64Url(sealed.deleteHash), envelope: toBase64(sealed.envelope) };
    // A tag drawn at random collides with a stored one with probability 2^-64 per reply: one retry is plenty, and
    // a second 409 is a server refusing on purpose.
    for (let attempt = 0; attempt < 2; attempt++) {
      const tag = await (o.drawTag ?? makeReplyTag)(tagKey);
      const posted = await api.postReply(o.key, { tag: toBase64Url(tag), ...post });
      if (posted !== 'tag-taken') return { ...posted, author: author.name, current: author.current };
    }
    throw new CliError('the server refused the reply twice as already stored (409); nothing was posted');
  } finally {
    await api.close();
  }
}
