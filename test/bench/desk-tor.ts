// What a newsroom desk waits for when `tipline desk` syncs through Tor: the desk's own sync modules in-process
// (the startup directory fetch, then DeskSync.run: directory, fetchAll's pipelined tips, DeskNotes.sync's list and
// batched note fetches), on the desk's one Api connection through the Tor-like link of tor-link.ts (SOCKS5, +250 ms
// each way, a round trip per new connection, 1 MB/s each way), against a real server on PGlite with a newsroom of
// two desks. Times a first sync of a fresh data folder and a second one with nothing new (after the connection
// closed, as it has 10 minutes later, and on the still-open connection), counts connections and requests (the
// staff listener sees every one) and compares each with a plain GET of the same bytes over the same link (one new
// connection, one request). The same syncs without the link give the local cost (decryption, server, disk).
//
// Knobs: BENCH_DESK_TOR=0 to skip (main.ts), BENCH_DESK_TOR_TIPS (20), BENCH_DESK_TOR_TIP_KB (50),
// BENCH_DESK_TOR_NOTES (300), BENCH_TOR_DEBUG=1 to print each connection's timeline. Runs alone too:
// node dist/test/bench/desk-tor.js
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SocksClient } from 'socks';
import { initCrypto } from '../../crypto/node.js';
import { generateDeskKey } from '../../crypto/keys.js';
import { generateCodename } from '../../crypto/codename.js';
import { encryptEnvelope, sentDay, type Manifest } from '../../crypto/envelope/index.js';
import { directoryMark, verifyDirectoryChain, type Directory } from '../../crypto/directory.js';
import type { SignedDocument } from '../../crypto/signed.js';
import { publishDirectory } from '../../server/directory.js';
import { openDatabase } from '../../server/db.js';
import { addDays, utcDay } from '../../server/days.js';
import { Api } from '../../client/cli/api.js';
import type { StaffIdentity } from '../../client/cli/keyfiles.js';
import { rememberSerial } from '../../client/cli/serials.js';
import { codenameKeys, replyField } from '../../client/shared/replies.js';
import { DeskNotes } from '../../client/desk/notes.js';
import { DeskStore } from '../../client/desk/store.js';
import { DeskSync } from '../../client/desk/sync.js';
import type { NoteOpBody } from '../../crypto/desk-notes.js';
import { collect, makeNewsroom, recipientOf, signNewsroomDirectory, uploadEnvelope } from '../helpers/fixtures.js';
import { startServer } from '../helpers/server.js';
import { seedPglite } from '../helpers/databases.js';
import { TorLink, type LinkStats } from './tor-link.js';
import { f1, f2, log, now, ratio } from './util.js';

type Row = (section: string, what: string, result: string, compared?: string) => void;

const TIPS = Number(process.env.BENCH_DESK_TOR_TIPS ?? 20);
const TIP_BYTES = Number(process.env.BENCH_DESK_TOR_TIP_KB ?? 50) * 1000;
const NOTES = Number(process.env.BENCH_DESK_TOR_NOTES ?? 300);
/** tor.ts's link: +250 ms each way, 1 MB/s each way shared, a round trip per new connection. */
const LINK = { oneWayMs: 250, bytesPerSec: 1e6 };
const SEC = 'desk sync over Tor';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The plain side: GET /bytes/N answers N bytes. */
async function plainServer(): Promise<{ server: Server; port: number }> {
  const block = Buffer.alloc(1 << 20, 0x5a);
  const server = createServer((req, res) => {
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    let left = Number(m[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
    const more = () => {
      while (left > 0) {
        const piece = block.subarray(0, Math.min(left, block.length));
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** One GET of `bytes` through the SOCKS front on a new connection (SOCKS CONNECT included); wall time in ms. */
async function plainGet(socksPort: number, port: number, bytes: number): Promise<number> {
  const t = now();
  const { socket } = await SocksClient.createConnection({ proxy: { host: '127.0.0.1', port: socksPort, type: 5 }, command: 'connect', destination: { host: '127.0.0.1', port } });
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest({ createConnection: () => socket, method: 'GET', host: '127.0.0.1', port, path: `/bytes/${bytes}` }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => (n !== bytes ? reject(new Error(`plain GET: ${n} of ${bytes} bytes`)) : resolve()));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const ms = now() - t;
  socket.destroy();
  return ms;
}

const TEXT = 'The contract for the river bridge was awarded before the tender opened; the minutes were rewritten afterwards. ';

interface Phases {
  startupDir: number;
  syncDir: number;
  tips: number;
  notes: number;
}

interface SyncRun {
  ms: number;
  phases: Phases;
  requests: string[];
  stats: LinkStats | undefined;
  fetched: number;
  notes: number;
  failed: number;
  errors: string[];
}

export async function deskTorBench(o: { work: string }, row: Row): Promise<void> {
  await initCrypto();
  const t0 = now();
  const dir = mkdtempSync(join(o.work, 'desk-tor-'));
  const dbDir = join(dir, 'db');
  await seedPglite(dbDir);
  const db = await openDatabase({ dataDir: dbDir });
  const newsroom = makeNewsroom();
  const A: StaffIdentity = { ...newsroom.desk, role: 'desk' };
  const B: StaffIdentity = { ...generateDeskKey(), name: 'desk-b', role: 'desk' };
  const doc = signNewsroomDirectory(newsroom, [recipientOf(A.name, 'desk', A), recipientOf(B.name, 'desk', B), recipientOf(newsroom.auditor.name, 'auditor', newsroom.auditor)]);
  await publishDirectory(db.db, doc, new Date());
  const published = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8')) as Directory;
  const server = await startServer({ db: db.db, powDifficulty: 0 });
  const staffPort = Number(new URL(server.staffUrl).port);
  // Every request the desk makes reaches the staff listener: counted there, in order.
  let requests: string[] = [];
  server.staffApp.server.on('request', (req: { method?: string; url?: string }) => requests.push(`${req.method} ${(req.url ?? '').replace(/[a-z2-7]{26}/g, ':id')}`));
  const plain = await plainServer();
  const link = new TorLink(LINK);
  const socks = await link.listenSocks();
  const rtt = link.rttMs;
  const opened: Api[] = [];
  try {
    // ---- the newsroom's content: tips (a third in codename threads of two) and shared notes, sent directly
    const boxKeys = [A.boxPublic, B.boxPublic];
    const tipIds: string[] = [];
    let envelopeBytes = 0;
    const codenames = Array.from({ length: Math.ceil(TIPS / 6) }, () => generateCodename());
    for (let i = 0; i < TIPS; i++) {
      const cn = i < codenames.length * 2 ? codenames[i % codenames.length] : undefined;
      const reply = cn ? replyField(await codenameKeys(cn, newsroom.fingerprint, 1000)) : undefined;
      const file = new Uint8Array(randomBytes(TIP_BYTES - 1000));
      const manifest: Manifest = { v: 2, sent_day: sentDay(new Date()), message: `Tip ${i}. ${TEXT.repeat(8)}`, files: [{ name: `scan-${i}.pdf`, type: 'application/pdf', size: file.length }], ...(reply ? { reply } : {}) };
      const env = encryptEnvelope({ recipients: boxKeys, manifest, files: [(async function* () { yield file; })()] });
      const bytes = await collect(env.stream);
      envelopeBytes += bytes.length;
      tipIds.push((await uploadEnvelope(server.url, bytes)).tip_id);
    }
    const direct = new Api(new URL(server.staffUrl));
    opened.push(direct);
    const expires = addDays(utcDay(new Date()), 7);
    const poster = { a: new DeskNotes(direct, A, join(dir, 'post-a'), () => published), b: new DeskNotes(direct, B, join(dir, 'post-b'), () => published) };
    for (let i = 0; i < NOTES; i++) {
      const thread = `tip:${tipIds[i % tipIds.length]!}`;
      const bodies: NoteOpBody[] = [
        { kind: 'note', text: `Note ${i}: ${TEXT.repeat(2)}`, supersedes: [] },
        { kind: 'status', status: 'in-progress' },
        { kind: 'tag-add', tag: `tag-${i % 7}` },
        { kind: 'star', starred: i % 2 === 0 },
      ];
      await (i % 5 === 4 ? poster.b : poster.a).post(thread, bodies[i % bodies.length]!, expires);
    }
    log(`\n== desk sync over a Tor-like link: ${TIPS} tips of ~${f1(TIP_BYTES / 1000)} kB (${codenames.length} codename threads of 2; ${envelopeBytes} envelope bytes) and ${NOTES} shared notes on tipline (in-process, PGlite); desk B syncs a fresh data folder; SOCKS5 front +${LINK.oneWayMs} ms each way (RTT ${rtt} ms), one RTT per new connection, ${f1(LINK.bytesPerSec / 1e6)} MB/s each way ==`);
    log(`(set up in ${f1((now() - t0) / 1000)} s)`);

    // ---- a desk as `tipline desk` builds it (client/cli/commands/desk.ts), on one Api
    const desk = (name: string, viaLink: boolean) => {
      const dataDir = join(dir, name);
      mkdirSync(join(dataDir, 'inbox'), { recursive: true, mode: 0o700 });
      const api = new Api(new URL(server.staffUrl), viaLink ? { host: '127.0.0.1', port: socks } : undefined);
      opened.push(api);
      let directory: Directory | undefined;
      const phases: Phases = { startupDir: 0, syncDir: 0, tips: 0, notes: 0 };
      let inSync = false;
      let mark = 0;
      const refreshDirectory = async () => {
        const s = now();
        const d = await api.staffDirectory(B);
        const verified = verifyDirectoryChain(d, newsroom.fingerprint, new Date());
        rememberSerial(newsroom.fingerprint, directoryMark(d as SignedDocument, verified.directory), () => {}, { TIPLINE_STATE_DIR: dataDir });
        directory = verified.directory;
        if (inSync) phases.syncDir = now() - s;
        else phases.startupDir = now() - s;
        mark = now();
      };
      const notes = new DeskNotes(api, B, dataDir, () => directory!);
      const store = new DeskStore(dataDir, () => notes.threads());
      const sync = new DeskSync({ server: server.staffUrl, api, key: B, store, notes, refreshDirectory });
      const notesSync = notes.sync.bind(notes);
      notes.sync = async () => {
        const s = now();
        phases.tips = s - mark;
        try {
          return await notesSync();
        } finally {
          phases.notes = now() - s;
        }
      };
      /** `fresh`: the link's counters start again (a connection still open from before is then not counted: for a
       * sync on it, pass false and get the difference of the counters). */
      const run = async (startup: boolean, fresh = true): Promise<SyncRun> => {
        Object.assign(phases, { startupDir: 0, syncDir: 0, tips: 0, notes: 0 });
        if (fresh) link.reset();
        const before = link.stats(staffPort);
        requests = [];
        const t = now();
        if (startup) {
          inSync = false;
          await refreshDirectory(); // `tipline desk` verifies the directory before its first sync…
          store.load();
        }
        inSync = true;
        const r = await sync.run(); // …which fetches it again
        const ms = now() - t;
        if (viaLink && process.env.BENCH_TOR_DEBUG) log(link.timeline(t, staffPort));
        const after = link.stats(staffPort);
        const stats = fresh ? after : { ...after, connections: after.connections - before.connections, turns: after.turns - before.turns, bytesUp: after.bytesUp - before.bytesUp, bytesDown: after.bytesDown - before.bytesDown, waves: after.turns - before.turns };
        return { ms, phases: { ...phases }, requests, stats: viaLink ? stats : undefined, fetched: r.fetched, notes: r.notes, failed: r.failed, errors: r.errors };
      };
      return { run };
    };

    const check = (what: string, r: SyncRun, tips: number, notes: number) => {
      if (r.fetched !== tips || r.notes !== notes || r.failed !== 0) throw new Error(`${what}: fetched ${r.fetched} tips (expected ${tips}), ${r.notes} notes (expected ${notes}), ${r.failed} failed: ${r.errors.slice(0, 3).join('; ')}`);
      return r;
    };
    // Without the link: the local cost (server, decryption, disk, both in this process).
    const local = desk('local', false);
    const localFirst = check('local first sync', await local.run(true), TIPS, NOTES);
    const localSecond = check('local second sync', await local.run(false), 0, 0);
    // Through the link.
    const tor = desk('tor', true);
    const first = check('first sync', await tor.run(true), TIPS, NOTES);
    link.dropAll(); // 10 minutes later (--sync-every): the client closed its idle connection after 60 s
    await sleep(300);
    const second = check('second sync (new connection)', await tor.run(false), 0, 0);
    // On the connection the second sync opened (the page's sync button a minute later): its turns are its round trips.
    const warm = check('second sync (open connection)', await tor.run(false, false), 0, 0);
    link.reset();
    const plainFirst = await plainGet(socks, plain.port, first.stats!.bytesDown);
    link.reset();
    const plainSecond = await plainGet(socks, plain.port, second.stats!.bytesDown);

    const reqSummary = (r: string[]) => {
      const counts = new Map<string, number>();
      for (const x of r) counts.set(x, (counts.get(x) ?? 0) + 1);
      return [...counts].map(([k, n]) => (n > 1 ? `${n}× ${k}` : k)).join(', ');
    };
    const phaseLine = (p: Phases) => `${p.startupDir ? `startup directory ${f2(p.startupDir / 1000)} s, ` : ''}directory ${f2(p.syncDir / 1000)} s, tips ${f2(p.tips / 1000)} s, notes ${f2(p.notes / 1000)} s`;
    const show = (label: string, r: SyncRun, localMs: number, plainMs: number) => {
      const s = r.stats!;
      const bytesMs = (s.bytesDown / LINK.bytesPerSec) * 1000;
      const waiting = r.ms - localMs - bytesMs;
      log(`[${label}] ${f2(r.ms / 1000)} s (${phaseLine(r.phases)}); ${s.connections} connection(s), ${r.requests.length} requests, ${s.turns} turns, ${s.waves} round trips on the critical path; ${f1(s.bytesUp / 1e3)} kB up, ${f1(s.bytesDown / 1e3)} kB down`);
      log(`   requests: ${reqSummary(r.requests)}`);
      log(`   plain GET of the same ${f1(s.bytesDown / 1e3)} kB on a new connection: ${f2(plainMs / 1000)} s -> the sync takes ${ratio(r.ms, plainMs)} it; split: bytes at ${f1(LINK.bytesPerSec / 1e6)} MB/s ${f2(bytesMs / 1000)} s, local work (same sync without the link) ${f2(localMs / 1000)} s, the rest ${f2(waiting / 1000)} s = ${f1(waiting / rtt)} RTT of waiting`);
    };
    log(`[without the link] first sync ${f2(localFirst.ms / 1000)} s (${phaseLine(localFirst.phases)}), ${localFirst.requests.length} requests; second sync ${f2(localSecond.ms / 1000)} s, ${localSecond.requests.length} requests`);
    show(`first sync, fresh folder: ${TIPS} tips + ${NOTES} notes`, first, localFirst.ms, plainFirst);
    show('second sync, nothing new, new connection (10 min later)', second, localSecond.ms, plainSecond);
    show('second sync, nothing new, connection still open', warm, localSecond.ms, plainSecond);
    const wf = first.stats!;
    const ws = second.stats!;
    row(SEC, `first sync: dir + ${TIPS} tips (${f1(envelopeBytes / 1e6)} MB) + ${NOTES} notes`, `${f2(first.ms / 1000)} s (${wf.connections} conn, ${first.requests.length} req, ${wf.waves} RT on the critical path)`, `${ratio(first.ms, plainFirst)} plain GET of its ${f1(wf.bytesDown / 1e3)} kB (${f2(plainFirst / 1000)} s); ${f2(localFirst.ms / 1000)} s without the link`);
    row(SEC, 'second sync, nothing new (new connection)', `${f2(second.ms / 1000)} s (${ws.connections} conn, ${second.requests.length} req, ${ws.waves} RT)`, `${ratio(second.ms, plainSecond)} plain GET of its ${f1(ws.bytesDown / 1e3)} kB (${f2(plainSecond / 1000)} s) = ${f1((second.ms - plainSecond) / rtt)} RTT more`);
    row(SEC, 'second sync, nothing new (open connection)', `${f2(warm.ms / 1000)} s (${warm.stats!.connections} conn, ${warm.requests.length} req, ${warm.stats!.waves} RT)`, `${f1(warm.ms / rtt)} RTT; one request on the open connection would be 1 RTT; ${ratio(warm.ms, plainSecond)} the plain GET on a new connection (${f2(plainSecond / 1000)} s)`);
  } finally {
    for (const a of opened) await a.close().catch(() => {});
    await link.close();
    plain.server.close();
    await server.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    log(`(desk sync over Tor section took ${f1((now() - t0) / 1000)} s)`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const work = mkdtempSync(join(tmpdir(), 'tipline-bench-desk-tor-'));
  const rows: string[] = [];
  try {
    await deskTorBench({ work }, (s, w, r, c) => rows.push(`${s} | ${w} | ${r} | ${c ?? ''}`));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const r of rows) log(r);
  process.exit(0);
}
