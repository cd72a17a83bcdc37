// The folder `tipline fetch` (and `tipline desk`, under --data) writes tips into: one folder a tip, named so a
// person can find it, with the tip id at its end so tipline finds it too.
//
// CONTRACT (written by the lead; the CLI helper implements it). Until then: folders named by the tip id alone.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Id } from '../../schema/wire.js';

/** The folder of tip `id` in `inbox`, whatever its readable name; undefined when not fetched there. */
export function tipFolder(inbox: string, id: string): string | undefined {
  const plain = join(inbox, id);
  if (existsSync(plain)) return plain;
  return undefined;
}

/** The folder name a tip fetched now gets (the readable part comes from its day and first line). */
export function tipFolderName(id: string, _receivedDay: string | undefined, _message: string): string {
  return id;
}

/** Every tip folder in `inbox`: its tip id and path. */
export function inboxTips(inbox: string): { id: string; path: string }[] {
  if (!existsSync(inbox)) return [];
  return readdirSync(inbox)
    .filter((n) => Id.safeParse(n).success)
    .map((n) => ({ id: n, path: join(inbox, n) }));
}
