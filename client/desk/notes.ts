// The desk's copy of the shared desk notes (crypto/desk-notes.ts): synced from the server, opened with this
// desk's keys, each checked to be signed by a desk the (pinned, verified) directory lists or listed before, and
// kept under the desk's data folder (DATA/notes.json, mode 0600). Also what posts a new operation: sealed to every
// desk listed now, so the other desks read it and the server cannot.
//
// Layout (both files replaced whole, atomically, mode 0600):
//   DATA/notes.json  {v: 1, notes: {<server note id>: {state: 'ok', op, signKey} | {state: 'not-for-us'} |
//                    {state: 'failed', reason}}} — every note the server listed that this desk has fetched once.
//                    gone: [op ids] — operations it held and saw deleted or unlisted, refused if listed again.
//   DATA/desks.json  {v: 1, desks: {<base64 Ed25519 key>: [names]}} — every desk any verified directory listed.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { activeRecipients, type Directory } from '../../crypto/directory.js';
import { fromBase64, toBase64, toBase64Url } from '../../crypto/bytes.js';
import { NotForYouError } from '../../crypto/errors.js';
import { mergeThread, openNote, sealNote, validateNoteOp, type NoteOp, type NoteOpBody, type ThreadShared } from '../../crypto/desk-notes.js';
import { MAX_LIVE_NOTES, MAX_NOTES_PER_REQUEST } from '../../schema/wire.js';
import type { Api } from '../cli/api.js';
import type { StaffIdentity } from '../cli/keyfiles.js';
import { writePrivateFileAtomic } from '../cli/atomic-file.js';
import { CliError } from '../cli/errors.js';

export interface NotesSyncResult {
  /** Operations new to this desk in this sync. */
  added: number;
  /** Notes that did not open or whose signer is not a listed desk (each also in `errors`). */
  failed: number;
  /** Sealed before this desk's key was listed: not an error, remembered so they are not fetched again. */
  notForUs: number;
  errors: string[];
  /** Requests this sync made: one list, then one fetch per MAX_NOTES_PER_REQUEST notes not held yet. */
  roundTrips: number;
  /** Notes forgotten here because the server no longer lists them (deleted or expired). */
  forgotten: number;
}

/** What this desk holds for one server note id. */
export type HeldNote =
  | { state: 'ok'; op: NoteOp; signKey: string }
  | { state: 'not-for-us' }
  | { state: 'failed'; reason: string };

interface NotesFile {
  v: 1;
  notes: Record<string, HeldNote>;
  /** Op ids of operations this desk held and saw go (its thread deleted, or no longer listed): never merged again. */
  gone?: string[];
}
/** Most op ids remembered as gone (the oldest forgotten first): the server's MAX_LIVE_NOTES. */
const MAX_GONE = 200_000;
const OP_RE = /^[A-Za-z0-9_-]{22}$/;

/** The op ids DATA/notes.json remembers as gone. */
function readGone(dataDir: string): Set<string> {
  try {
    const gone = (JSON.parse(readFileSync(join(dataDir, 'notes.json'), 'utf8')) as Partial<NotesFile> | null)?.gone;
    return new Set(Array.isArray(gone) ? gone.filter((g): g is string => typeof g === 'string' && OP_RE.test(g)) : []);
  } catch {
    return new Set();
  }
}
interface DesksFile {
  v: 1;
  desks: Record<string, string[]>;
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const FETCHES_IN_FLIGHT = 3;
const KEY_RE = /^[A-Za-z0-9+/]{43}=$/;
/** Furthest a new operation's clock may lead the highest clock this desk holds. Honest desks advance it by one per
 * operation; a gap this wide is never reached in practice. Threat: a listed desk posting clock 2^48 (the
 * format's maximum), after which no desk's next clock (max + 1) validates, blocking every desk's notes. */
export const MAX_CLOCK_LEAP = 2 ** 20;

/** Reads DATA/notes.json; entries that do not parse are dropped (they are fetched again on the next sync). */
function readNotes(dataDir: string): Map<string, HeldNote> {
  const out = new Map<string, HeldNote>();
  const path = join(dataDir, 'notes.json');
  if (!existsSync(path)) return out;
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return out;
  }
  const notes = (file as Partial<NotesFile> | null)?.notes;
  if (typeof notes !== 'object' || notes === null) return out;
  for (const [id, v] of Object.entries(notes as Record<string, unknown>)) {
    if (!ID_RE.test(id) || typeof v !== 'object' || v === null) continue;
    const h = v as Record<string, unknown>;
    try {
      if (h['state'] === 'ok' && typeof h['signKey'] === 'string' && KEY_RE.test(h['signKey'])) out.set(id, { state: 'ok', op: validateNoteOp(h['op']), signKey: h['signKey'] });
      else if (h['state'] === 'not-for-us') out.set(id, { state: 'not-for-us' });
      else if (h['state'] === 'failed' && typeof h['reason'] === 'string') out.set(id, { state: 'failed', reason: h['reason'].slice(0, 500) });
    } catch {
      // A local entry that no longer validates is dropped and fetched again.
    }
  }
  return out;
}

function readDesks(dataDir: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const path = join(dataDir, 'desks.json');
  if (!existsSync(path)) return out;
  try {
    const desks = (JSON.parse(readFileSync(path, 'utf8')) as Partial<DesksFile>).desks ?? {};
    for (const [k, names] of Object.entries(desks)) {
      if (KEY_RE.test(k) && Array.isArray(names)) out.set(k, new Set(names.filter((n): n is string => typeof n === 'string')));
    }
  } catch {
    // Unreadable: rebuilt from the directories seen from now on.
  }
  return out;
}

function byThread(notes: Iterable<HeldNote>): Map<string, ThreadShared> {
  const groups = new Map<string, NoteOp[]>();
  for (const h of notes) {
    if (h.state !== 'ok') continue;
    const g = groups.get(h.op.thread);
    if (g) g.push(h.op);
    else groups.set(h.op.thread, [h.op]);
  }
  return new Map([...groups].map(([thread, ops]) => [thread, mergeThread(ops)]));
}

export class DeskNotes {
  private held: Map<string, HeldNote>;
  private desks: Map<string, Set<string>>;
  /** Threat: a hostile server listing a deleted thread's envelopes again under new ids (they are validly signed):
   * the operations this desk saw go are refused when they come back. */
  private gone: Set<string>;
  /** sync, post and deleteThread run one at a time: each reads and replaces the whole of notes.json. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly api: Api,
    readonly key: StaffIdentity,
    readonly dataDir: string,
    /** The directory verified under the pinned root, as of now (the caller refreshes it). */
    readonly directory: () => Directory,
  ) {
    this.held = readNotes(dataDir);
    this.desks = readDesks(dataDir);
    this.gone = readGone(dataDir);
  }

  private forget(id: string): void {
    const h = this.held.get(id);
    if (h?.state === 'ok') {
      this.gone.delete(h.op.op);
      this.gone.add(h.op.op);
      if (this.gone.size > MAX_GONE) this.gone.delete(this.gone.values().next().value as string);
    }
    this.held.delete(id);
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** What this desk holds for each server note id (read-only view, for tests and the app's diagnostics). */
  heldNotes(): ReadonlyMap<string, HeldNote> {
    return this.held;
  }

  /** Remembers every desk the directory lists now (names kept per key: a renamed desk's old notes still count). */
  private learnDesks(dir: Directory): boolean {
    let changed = false;
    for (const r of dir.recipients) {
      if (r.role !== 'desk') continue;
      const names = this.desks.get(r.sign_key) ?? new Set<string>();
      if (!names.has(r.name)) {
        names.add(r.name);
        this.desks.set(r.sign_key, names);
        changed = true;
      }
    }
    return changed;
  }

  private save(desksChanged: boolean): void {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const notes: NotesFile = { v: 1, notes: Object.fromEntries(this.held), gone: [...this.gone] };
    writePrivateFileAtomic(join(this.dataDir, 'notes.json'), JSON.stringify(notes));
    if (desksChanged || !existsSync(join(this.dataDir, 'desks.json'))) {
      const desks: DesksFile = { v: 1, desks: Object.fromEntries([...this.desks].map(([k, v]) => [k, [...v].sort()])) };
      writePrivateFileAtomic(join(this.dataDir, 'desks.json'), JSON.stringify(desks));
    }
  }

  /** Opens one envelope with the current box key, then the kept ones; checks its signer is a desk of that name. */
  private open(envelope: Uint8Array): HeldNote {
    const keys = [{ boxPublic: this.key.boxPublic, boxSecret: this.key.boxSecret }, ...(this.key.kept ?? [])];
    for (const k of keys) {
      try {
        const { op, signKey } = openNote(envelope, k);
        // Threat: a hostile server inserting rows. It cannot sign as a desk, so a note whose key no verified
        // directory ever listed as a desk — or whose `by` is not that desk's name — is never merged.
        const names = this.desks.get(signKey);
        if (!names) return { state: 'failed', reason: 'signed by a key no verified directory lists as a desk' };
        if (!names.has(op.by)) return { state: 'failed', reason: 'names a desk other than the one that signed it' };
        return { state: 'ok', op, signKey };
      } catch (err) {
        if (err instanceof NotForYouError) {
          continue;
        }
        return { state: 'failed', reason: `did not open: ${(err as Error).message}` };
      }
    }
    return { state: 'not-for-us' };
  }

  /** Lists the server's notes, fetches the ones not seen (MAX_NOTES_PER_REQUEST a request), opens and checks
   * them, forgets the ones deleted on the server, and saves. */
  async sync(): Promise<NotesSyncResult> {
    return this.serial(async () => {
      const desksChanged = this.learnDesks(this.directory());
      const res: NotesSyncResult = { added: 0, failed: 0, notForUs: 0, errors: [], roundTrips: 0, forgotten: 0 };
      const list = await this.api.listNotes(this.key);
      res.roundTrips++;
      // Threat: a hostile server listing far more notes than it may keep, to keep every desk opening them for hours.
      if (list.notes.length > MAX_LIVE_NOTES) throw new Error(`the server lists ${list.notes.length} desk notes, more than the ${MAX_LIVE_NOTES} a tip line keeps: refusing to sync them`);
      const listed = new Set(list.notes.map((n) => n.id));
      for (const id of [...this.held.keys()]) {
        if (!listed.has(id)) {
          this.forget(id);
          res.forgotten++;
        }
      }
      const missing = [...listed].filter((id) => !this.held.has(id));
      const batches: string[][] = [];
      for (let i = 0; i < missing.length; i += MAX_NOTES_PER_REQUEST) batches.push(missing.slice(i, i + MAX_NOTES_PER_REQUEST));
      // A few fetches in flight at once: over Tor each round trip costs about a second, and the first sync of a
      // busy newsroom is hundreds of them. Still one request per batch (the count is the same).
      const fetched: { id: string; envelope: Uint8Array }[][] = new Array(batches.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batches.length) {
          const i = next++;
          fetched[i] = await this.api.fetchNotes(this.key, batches[i]!);
          res.roundTrips++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(FETCHES_IN_FLIGHT, batches.length) }, worker));
      const opened: { id: string; h: HeldNote }[] = [];
      for (const got of fetched) for (const { id, envelope } of got) opened.push({ id, h: this.open(envelope) });
      // In clock order, so a desk syncing everything at once accepts the same chain as one syncing note by note.
      const clockOf = (h: HeldNote): number => (h.state === 'ok' ? h.op.clock : 0);
      opened.sort((x, y) => clockOf(x.h) - clockOf(y.h));
      let highest = this.ops().reduce((m, o) => Math.max(m, o.clock), 0);
      for (const o of opened) {
        if (o.h.state !== 'ok') continue;
        if (this.gone.has(o.h.op.op)) {
          o.h = { state: 'failed', reason: 'an operation deleted or expired before, listed again' };
          continue;
        }
        if (o.h.op.clock > highest + MAX_CLOCK_LEAP) o.h = { state: 'failed', reason: `clock ${o.h.op.clock} is far beyond the highest seen (${highest})` };
        else highest = Math.max(highest, o.h.op.clock);
      }
      for (const { id, h } of opened) {
        this.held.set(id, h);
        if (h.state === 'ok') res.added++;
        else if (h.state === 'not-for-us') res.notForUs++;
        else {
          res.failed++;
          res.errors.push(`note ${id}: ${h.reason}`);
        }
      }
      this.save(desksChanged);
      return res;
    });
  }

  /** Every operation held, any thread. */
  ops(): NoteOp[] {
    const out: NoteOp[] = [];
    for (const h of this.held.values()) if (h.state === 'ok') out.push(h.op);
    return out;
  }

  /** The merged shared state of every thread with at least one operation. */
  threads(): Map<string, ThreadShared> {
    return byThread(this.held.values());
  }

  /** Makes, seals (to every desk listed now), posts and keeps one operation on `thread`; `expiresDay` is the
   * thread's newest tip's expiry. Answers the operation as stored. */
  async post(thread: string, body: NoteOpBody, expiresDay: string): Promise<NoteOp> {
    return this.serial(async () => {
      const dir = this.directory();
      const desksChanged = this.learnDesks(dir);
      const now = new Date();
      const mySign = toBase64(this.key.signPublic);
      const desks = activeRecipients(dir, 'desk', now);
      const me = desks.find((r) => r.sign_key === mySign);
      if (!me) throw new CliError('this desk key is not a desk the current directory lists: it cannot post notes');
      const clock = this.ops().reduce((m, o) => Math.max(m, o.clock), 0) + 1;
      const op = validateNoteOp({ v: 1, op: toBase64Url(new Uint8Array(randomBytes(16))), thread, by: me.name, at: now.toISOString(), clock, ...body });
      // Always this desk's own key too (it reads its own notes back on another machine or after a restore).
      const recipients = [this.key.boxPublic];
      for (const r of desks) {
        const k = fromBase64(r.box_key);
        if (!recipients.some((x) => Buffer.from(x).equals(k))) recipients.push(k);
      }
      const envelope = sealNote(op, recipients, { signPublic: this.key.signPublic, signSecret: this.key.signSecret });
      const posted = await this.api.postNote(this.key, envelope, expiresDay);
      this.held.set(posted.id, { state: 'ok', op, signKey: mySign });
      this.save(desksChanged);
      return op;
    });
  }

  /** Deletes every note of `thread` on the server and here; answers how many the server had. */
  async deleteThread(thread: string): Promise<number> {
    return this.serial(async () => {
      const ids = [...this.held].filter(([, h]) => h.state === 'ok' && h.op.thread === thread).map(([id]) => id);
      let deleted = 0;
      for (let i = 0; i < ids.length; i += MAX_NOTES_PER_REQUEST) {
        const batch = ids.slice(i, i + MAX_NOTES_PER_REQUEST);
        deleted += await this.api.deleteNotes(this.key, batch);
        for (const id of batch) this.forget(id);
        this.save(false);
      }
      return deleted;
    });
  }
}

/** The shared state per thread from a desk data folder's saved notes, without the network (for tipline list).
 * Empty when the folder has none. */
export function readSavedThreads(dataDir: string): Map<string, ThreadShared> {
  return byThread(readNotes(dataDir).values());
}
