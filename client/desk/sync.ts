// The desk's sync with the tip line: the directory (verified under the pinned root: it decides which desks the
// shared notes are sealed to) and, beside it, the tips (`tipline fetch`'s fetchAll, into DATA/inbox, on the
// desk's one connection); the shared notes (DeskNotes.sync) once the directory is verified. Run at start, on POST api/sync, and every --sync-every
// minutes on a fixed schedule; two runs never overlap (a second caller waits for the one under way).
import type { SyncResult } from '../../schema/desk-api.js';
import type { Api } from '../cli/api.js';
import type { StaffIdentity } from '../cli/keyfiles.js';
import { fetchAll } from '../cli/commands/fetch.js';
import type { DeskNotes } from './notes.js';
import type { DeskStore } from './store.js';

export interface SyncDeps {
  server: string;
  api: Api;
  key: StaffIdentity;
  store: DeskStore;
  notes: DeskNotes;
  /** Fetches and verifies the directory again (throws when it does not verify). */
  refreshDirectory: () => Promise<void>;
}

/** An error's words for the page and the terminal: one line, no stack. */
export function said(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split('\n')[0]!.slice(0, 300);
}

export class DeskSync {
  lastSync: string | null = null;
  syncError: string | null = null;
  private current: Promise<SyncResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly d: SyncDeps) {}

  get syncing(): boolean {
    return this.current !== undefined;
  }

  run(): Promise<SyncResult> {
    this.current ??= this.once().finally(() => (this.current = undefined));
    return this.current;
  }

  private async once(): Promise<SyncResult> {
    const errors: string[] = [];
    let fetched = 0;
    let failed = 0;
    let notes = 0;
    // Through Tor every dependent step costs a round trip (0.5–1 s): the tips do not depend on the directory, so
    // their list is asked for at once, beside it; only the notes wait for it (it says whose notes to accept).
    // Measured by test/bench/desk-tor.ts.
    const directory = this.d.refreshDirectory();
    directory.catch(() => {}); // reported below, once
    const tips = fetchAll({ server: this.d.server, key: this.d.key, out: this.d.store.inbox, api: this.d.api, say: (s) => (s.startsWith('error: ') ? errors.push(s.slice(7)) : undefined) }).then(
      (r) => {
        fetched = r.fetched;
        failed += r.failed;
        this.d.store.noteServerList(r.listed);
      },
      (err: unknown) => {
        errors.push(said(err));
        failed++;
      },
    );
    const shared = directory.then(
      async () => {
        try {
          const n = await this.d.notes.sync();
          notes = n.added;
          failed += n.failed;
          errors.push(...n.errors);
        } catch (err) {
          errors.push(`shared notes: ${said(err)}`);
          failed++;
        }
      },
      (err: unknown) => {
        // An unverifiable (or rolled-back) directory: no notes are taken on its word this time.
        errors.push(`directory: ${said(err)}`);
        failed++;
      },
    );
    await Promise.all([tips, shared]);
    this.d.store.load();
    this.lastSync = new Date().toISOString();
    this.syncError = errors.length > 0 ? errors.slice(0, 5).join('; ') : null;
    return { fetched, notes, failed, errors: errors.slice(0, 50) };
  }

  /** Every `everyMs`, on the clock's multiples of it (a fixed schedule, whatever arrives). */
  every(everyMs: number, onError: (s: string) => void): void {
    const tick = () => {
      if (this.stopped) return;
      const now = Date.now();
      this.timer = setTimeout(() => {
        this.run().catch((err: unknown) => onError(said(err)));
        tick();
      }, (Math.floor(now / everyMs) + 1) * everyMs - now);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current?.catch(() => {});
  }
}
