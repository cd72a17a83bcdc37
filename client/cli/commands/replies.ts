// `tipline replies`: a source reads the newsroom's replies with their codename. The visit is the page's
// (client/shared/replies.ts): the directory and every reply tag in one round trip, then always REPLY_FETCH_SLOTS
// envelopes, so the server sees the same requests whether the codename was mistyped, has no replies or has
// some. It runs over this run's one connection, on its own Tor circuit (SOCKS isolation, client/cli/api.ts):
// two visits of one source are not joined by their circuit. The codename and its keys stay on this machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directoryMark } from '../../../crypto/directory.js';
import type { SignedDocument } from '../../../crypto/signed.js';
import { TiplineCryptoError } from '../../../crypto/errors.js';
import { normalizeFingerprint } from '../../../crypto/keys.js';
import { SourceApi } from '../../shared/api.js';
import { visitReplies, deleteReplies, type FoundReply } from '../../shared/replies.js';
import { Api } from '../api.js';
import { CliError, USAGE_EXIT } from '../errors.js';
import type { Proxy } from '../http.js';
import { printable } from '../printable.js';
import { rememberSerial } from '../serials.js';
import { codenameProblemText } from '../codename-prompt.js';

export interface RepliesOptions {
  server: string;
  fingerprint: string;
  /** The codename as typed (TIPLINE_CODENAME or the prompt). */
  typed: string;
  out?: string | undefined;
  delete?: boolean;
  proxy?: Proxy | undefined;
  /** Standard output: the replies. */
  say: (s: string) => void;
  /** Standard error: warnings and notes. */
  warn: (s: string) => void;
  /** For tests: a lower KDF cost. */
  iterations?: number;
}

/** The source API, keeping the directory document it fetched (for the rollback check after the visit). */
class KeepingDirectory extends SourceApi {
  doc: unknown;
  override async directory(): Promise<unknown> {
    this.doc = await super.directory();
    return this.doc;
  }
}

/** A reply's text as lines safe for a terminal (a desk's text is trusted no more than a server's). */
function lines(text: string): string[] {
  return text.replace(/\s+$/, '').split(/\r\n|\r|\n/).map((l) => printable(l.replace(/\t/g, '    '), 100_000));
}

/** Writes each reply to DIR as its own 0600 text file, never over an existing one; returns the paths. */
function writeReplies(dir: string, replies: FoundReply[]): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return replies.map((r) => {
    const text = `From: ${printable(r.desk, 200)}${r.deskCurrent ? '' : ' (no longer listed by the newsroom)'}\nDay: ${r.sentDay}\n\n${r.message}\n`;
    for (let n = 1; ; n++) {
      const path = join(dir, `reply-${r.sentDay}-${n}.txt`);
      try {
        writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
        return path;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CliError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  });
}

/** Reads (and with `delete`, deletes) this codename's replies; the exit code: 0, or 2 for a mistyped codename. */
export async function readReplies(o: RepliesOptions): Promise<number> {
  const fingerprint = normalizeFingerprint(o.fingerprint);
  const api = new Api(new URL(o.server), o.proxy);
  if (!o.proxy && !/^(127\.|localhost$|\[::1\]$)/.test(api.base.hostname)) {
    o.warn('warning: reading without Tor (no --socks): the server and your network can see your address');
  }
  const source = new KeepingDirectory(api.connection);
  try {
    let visit;
    try {
      visit = await visitReplies(source, { typed: o.typed, fingerprint, now: new Date(), ...(o.iterations ? { iterations: o.iterations } : {}) });
    } catch (err) {
      if (err instanceof TiplineCryptoError) throw new CliError(`refusing to read replies: the server's directory does not verify against fingerprint ${o.fingerprint}: ${printable(err.message)}`);
      throw err;
    }
    // Threat: a server going back to an old directory that still lists a removed desk, to pass off its replies.
    try {
      rememberSerial(fingerprint, directoryMark(source.doc as SignedDocument, visit.directory), o.warn);
    } catch (err) {
      throw new CliError((err as Error).message.replace('refusing to encrypt', 'refusing to show replies'));
    }
    // The same visit happened either way: only now is the mistake told (the server could not tell it apart).
    if (visit.codename === 'mistyped') throw new CliError(codenameProblemText(visit.problem), USAGE_EXIT);
    for (const r of visit.refused) o.warn(`warning: not shown: ${printable(r)}`);
    if (visit.replies.length === 0) {
      o.say('No replies yet for this codename. Replies wait on the tip line as long as tips do (your receipt showed until which day), then are deleted: come back in a few days.');
      if (visit.more) o.say('More replies are waiting than one visit fetches, but none could be read this time: run tipline replies again.');
      return 0;
    }
    visit.replies.forEach((r, i) => {
      if (i > 0) o.say('');
      o.say(`Reply from ${printable(r.desk, 200)}${r.deskCurrent ? '' : ' (no longer listed by the newsroom)'}, ${r.sentDay}:`);
      for (const l of lines(r.message)) o.say(`  ${l}`);
    });
    if (o.out) for (const path of writeReplies(o.out, visit.replies)) o.warn(`saved ${printable(path)}`);
    if (o.delete) {
      const n = await deleteReplies(api.source, visit.replies);
      o.say(n === visit.replies.length ? `deleted ${n} repl${n === 1 ? 'y' : 'ies'} from the tip line` : `deleted ${n} of ${visit.replies.length} replies from the tip line; run tipline replies --delete again for the others`);
    }
    if (visit.more) o.warn(`More replies are waiting: one visit reads ${visit.replies.length}; run tipline replies again${o.delete ? '' : ' (with --delete, those read are removed and the next come)'}.`);
    return 0;
  } finally {
    await api.close();
  }
}
