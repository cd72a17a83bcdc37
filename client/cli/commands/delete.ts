// `tipline delete`: deletes tips on the server (each deletion audited with a statement signed by the desk's key,
// client/cli/api.ts) and, with --inbox or --data, the local copy fetch wrote, only once the server confirmed.
// Asks first, one tip at a time, naming it by its day and first line so a person sees what goes; with no
// terminal to ask on, refuses unless --yes (client/cli/ask.ts).
import { rmSync } from 'node:fs';
import { ApiError } from '../../shared/errors.js';
import { Api } from '../api.js';
import type { Terminal } from '../ask.js';
import type { Proxy } from '../http.js';
import { tipFolder } from '../inbox.js';
import type { StaffIdentity } from '../keyfiles.js';
import { printable } from '../printable.js';
import { rebuildThreads } from './fetch.js';
import { firstLineOf } from './list.js';

export interface DeleteOptions {
  server: string;
  key: StaffIdentity;
  ids: string[];
  /** fetch's --out folder: local copies there are removed too. */
  inbox?: string | undefined;
  proxy?: Proxy | undefined;
  /** Where to ask; undefined with --yes (nothing is asked). */
  terminal?: Terminal | undefined;
  say: (s: string) => void;
  warn: (s: string) => void;
}

/** Answers how many failed (a tip neither on the server nor here, or a refusal). */
export async function deleteTips(o: DeleteOptions): Promise<{ deleted: number; kept: number; failed: number }> {
  const api = new Api(new URL(o.server), o.proxy);
  let deleted = 0;
  let kept = 0;
  let failed = 0;
  let removedLocal = false;
  try {
    const onServer = new Map((await api.listTips(o.key)).tips.map((t) => [t.id, t]));
    for (const id of [...new Set(o.ids)]) {
      const tip = onServer.get(id);
      const local = o.inbox !== undefined ? tipFolder(o.inbox, id) : undefined;
      const line = local !== undefined ? firstLineOf(local) : undefined;
      const quoted = line === undefined ? '' : `, "${printable(line, 60)}"`;
      if (!tip) {
        if (local === undefined) {
          o.warn(`error: ${id}: not on the server (deleted already, or expired)${o.inbox !== undefined ? ` and not in ${printable(o.inbox)}` : ''}`);
          failed++;
          continue;
        }
        o.say(`${id}: not on the server (deleted already, or expired); its local copy is ${printable(local)}`);
        if (o.terminal && !o.terminal.confirm(`Remove the local copy of tip ${id}${quoted} from this machine?`)) {
          o.say(`${id}: kept`);
          kept++;
          continue;
        }
        rmSync(local, { recursive: true, force: true });
        removedLocal = true;
        o.say(`${id}: local copy removed (${printable(local)})`);
        deleted++;
        continue;
      }
      const where = local !== undefined ? 'from the server and this machine' : 'from the server';
      if (o.terminal && !o.terminal.confirm(`Delete tip ${id} (received ${tip.received_day}${quoted}) ${where}?`)) {
        o.say(`${id}: kept`);
        kept++;
        continue;
      }
      try {
        await api.deleteTip(o.key, id);
      } catch (err) {
        // A refusal (403, 404 since the listing) fails this tip, not the others; the local copy stays.
        if (!(err instanceof ApiError)) throw err;
        o.warn(`error: ${id}: ${printable(err.message)}${local !== undefined ? '; the local copy is kept' : ''}`);
        failed++;
        continue;
      }
      o.say(`deleted ${id} on the server (recorded in the audit chain)`);
      if (local !== undefined) {
        // Only after the server confirmed: a failed deletion never leaves a tip on the server with no local copy.
        rmSync(local, { recursive: true, force: true });
        removedLocal = true;
        o.say(`deleted ${id} on this machine (${printable(local)})`);
      }
      deleted++;
    }
  } finally {
    await api.close();
  }
  // threads.json must not name a tip that is gone.
  if (removedLocal && o.inbox !== undefined) rebuildThreads(o.inbox, o.warn);
  return { deleted, kept, failed };
}
