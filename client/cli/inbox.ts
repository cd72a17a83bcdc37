// The folder `tipline fetch` (and `tipline desk`, under --data) writes tips into: one folder a tip, named so a
// person can find it, with the tip id at its end so tipline finds it too.
//
//     2026-11-27_the-mayor-took-money-for-the-permit_cu3tpwjntm56q7llcx4m3gqghy
//
// The received day first, so a file manager's name order is the order tips arrived; then the message's first
// words; then the id. No spaces (a name pasted into a shell needs no quotes; a double click selects all of it).
// Letters of any script are kept (a Spanish or Arabic newsroom reads its sources' words), lowercased (no two
// names differing only in case, for case-insensitive disks); everything else becomes a hyphen. Threat: the first
// line is the source's, i.e. anyone's: it must not climb out of the inbox ("../"), hide (leading dot), read as an
// option (leading dash), reorder what a person sees (bidi overrides), or be a name Windows refuses (CON, NUL…:
// impossible here, every name starts with a day or the id). At most 40 characters of words: with the day and id,
// under 255 bytes even in 4-byte UTF-8, the limit of common file systems.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Id } from '../../schema/wire.js';

/** The most characters (code points) of the message's words in a folder name. */
export const SLUG_MAX = 40;

/** A folder named by a tip id alone (an older tipline) or ending with `_<id>`: the id, else undefined. */
export function tipIdOfFolder(name: string): string | undefined {
  const m = /(?:^|_)([a-z2-7]{26})$/.exec(name);
  if (!m || !Id.safeParse(m[1]).success) return undefined;
  // A readable name starts with a day (or, undated, with a letter or digit): never a dot or a dash.
  if (m.index > 0 && !/^[\p{L}\p{N}]/u.test(name)) return undefined;
  return m[1];
}

/** The first words of a message as a name part: letters (any script), combining marks and digits, lowercased,
 * runs of anything else as one hyphen, cut at a word end within SLUG_MAX code points. Empty for a message with
 * no letters or digits (only emoji, punctuation, nothing). */
export function slug(message: string): string {
  const words = message
    .normalize('NFC')
    .toLowerCase()
    .normalize('NFC')
    // Hangul fillers are letters that draw nothing: a name of them would look empty.
    .replace(/[\u115f\u1160\u3164\uffa0]/gu, '-')
    .replace(/[^\p{L}\p{M}\p{Nd}]+/gu, '-')
    // A combining mark with no letter before it would sit on the hyphen (or start the part): dropped.
    .replace(/(^|-)\p{M}+/gu, '$1')
    .replace(/^-+|-+$/g, '');
  const chars = Array.from(words);
  if (chars.length <= SLUG_MAX) return words;
  const cut = chars.slice(0, SLUG_MAX).join('');
  const end = cut.lastIndexOf('-');
  // One long word (a URL, a language without spaces): cut mid-word rather than keep nothing.
  return (end >= SLUG_MAX / 2 ? cut.slice(0, end) : cut).replace(/-+$/, '');
}

/** The folder of tip `id` in `inbox`, whatever its readable name; undefined when not fetched there. */
export function tipFolder(inbox: string, id: string): string | undefined {
  if (!Id.safeParse(id).success) return undefined;
  const plain = join(inbox, id);
  if (existsSync(plain)) return plain;
  if (!existsSync(inbox)) return undefined;
  const name = readdirSync(inbox)
    .filter((n) => n.endsWith(`_${id}`) && tipIdOfFolder(n) === id)
    .sort()[0];
  return name === undefined ? undefined : join(inbox, name);
}

/** The folder name a tip fetched now gets (the readable part comes from its day and first line). */
export function tipFolderName(id: string, receivedDay: string | undefined, message: string): string {
  const firstLine = message.trimStart().split(/\r?\n|\r|\u2028|\u2029/u, 1)[0] ?? '';
  const day = receivedDay !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(receivedDay) ? receivedDay : undefined;
  const parts = [day, slug(firstLine), id].filter((p) => p !== undefined && p !== '');
  return parts.join('_');
}

/** Every tip folder in `inbox`: its tip id and path (hidden partial folders, threads.json and anything else
 * left out), sorted by name: by received day, then words. */
export function inboxTips(inbox: string): { id: string; path: string }[] {
  if (!existsSync(inbox)) return [];
  const out: { id: string; path: string }[] = [];
  for (const n of readdirSync(inbox).sort()) {
    const id = tipIdOfFolder(n);
    if (id !== undefined) out.push({ id, path: join(inbox, n) });
  }
  return out;
}
