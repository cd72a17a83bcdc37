// `tipline serve` killed with SIGKILL (a crash, the OOM killer, a power cut) while it finishes a tip: on
// PostgreSQL and on PGlite, at several points of the finishing request, the tip is either wholly there (it
// decrypts) or not there at all (the upload is still open, every chunk kept); after a restart the source's
// client, retrying as it does, completes it, and it is stored exactly once.
import t from 'tap';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase, dialects, seedPglite } from './helpers/databases.js';
import { startChildServer, killHard, type ChildServer } from './helpers/child-server.js';
import { sendAsSource } from './helpers/fault-client.js';
import { NetworkError } from '../client/shared/errors.js';
import type { WireAnswer, WireRequest } from '../client/shared/api.js';
import { makeEnvelope, makeNewsroom, signFor } from './helpers/fixtures.js';
import { listTips, readTip } from './helpers/tips.js';

const MB = 1024 * 1024;
/** After the finishing request is wholly written, the server is killed this many times the time an undisturbed
 * finish takes on this machine now: at once, about when it commits, and about when it answers. */
const KILL_AT = [0, 0.8, 1.3];
const [, postgres] = await dialects();

/** Sends `req` on its own connection; calls `written` once the whole request has left (flushed to the socket). */
function rawSend(base: string, req: WireRequest, written: () => void): Promise<WireAnswer> {
  const u = new URL(base + req.path);
  return new Promise((resolve, reject) => {
    const r = http.request({ method: req.method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { ...req.headers, 'content-length': String(req.body?.length ?? 0) }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(parts)) }));
      res.on('error', (err) => reject(new NetworkError(err.message)));
    });
    r.on('error', (err) => reject(new NetworkError(err.message)));
    r.on('finish', written);
    r.end(req.body);
  });
}

for (const dialect of ['postgres', 'pglite'] as const) {
  t.test(`${dialect}: killed mid-finish, the tip is whole or absent, and the source's resume stores it once`, { skip: dialect === 'postgres' ? postgres!.skip : undefined, timeout: 360_000 }, async (t) => {
    const began = Date.now();
    const work = mkdtempSync(join(tmpdir(), 'tipline-fault-kill-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const newsroom = makeNewsroom();
    const directory = join(work, 'directory.json');
    writeFileSync(directory, JSON.stringify(newsroom.doc));
    const env: Record<string, string> = { TIPLINE_POW_DIFFICULTY: '4', DATABASE_URL: '', TIPLINE_ROOT_FINGERPRINT: newsroom.fingerprint };
    if (dialect === 'postgres') {
      const db = await createPgDatabase();
      t.teardown(() => db.drop());
      env.DATABASE_URL = db.url;
    } else await seedPglite(join(work, 'data', 'pg'));
    let port = '0';
    let server: ChildServer;
    const start = async () => {
      const s = Date.now();
      server = await startChildServer(['--port', port, '--data', join(work, 'data'), '--directory', directory], env);
      port = new URL(server.url).port;
      signFor(server.staffUrl);
      t.comment(`serve started in ${Date.now() - s} ms`);
    };
    await start();
    t.teardown(() => killHard(server));
    const base = server!.url;
    const outcomes: string[] = [];
    const sent: { id: string; message: string; file: Uint8Array }[] = [];

    // An undisturbed tip first, to time its finish: kill points are fractions of it.
    let finishMs = 0;
    {
      const file = new Uint8Array(randomBytes(1.5 * MB));
      const message = `undisturbed (${dialect})`;
      const envelope = await makeEnvelope(newsroom, message, [{ name: 'f.bin', bytes: file }]);
      const receipt = await sendAsSource(base, envelope, {
        hooks: {
          send: async (req, plain) => {
            if (!req.path.endsWith('?finish=1')) return plain();
            let written = 0;
            const a = await rawSend(base, req, () => (written = performance.now()));
            finishMs = performance.now() - written;
            return a;
          },
        },
      });
      sent.push({ id: receipt.tip_id, message, file });
      t.comment(`an undisturbed finish took ${finishMs.toFixed(1)} ms after its request was written`);
    }

    for (const delay of KILL_AT.map((f) => Math.round(f * finishMs))) {
      const file = new Uint8Array(randomBytes(1.5 * MB));
      const message = `killed ${delay} ms into the finish (${dialect})`;
      const envelope = await makeEnvelope(newsroom, message, [{ name: 'f.bin', bytes: file }]);
      let killed = false;
      let answeredBeforeKill = false;
      let uploadId = '';
      /** The tip the kill left stored, if it committed: the one new tip listed after the restart. */
      let committedTip: string | undefined;
      const receipt = await sendAsSource(base, envelope, {
        retryForMs: 60_000,
        hooks: {
          send: async (req, plain) => {
            const m = /^\/api\/v1\/uploads\/([a-z2-7]{26})\/chunks\/\d+\?finish=1$/.exec(req.path);
            if (killed || !m) return plain();
            killed = true;
            uploadId = m[1]!;
            // The tips before the finish: a tip's id is not its upload's, so the kill's outcome is what is new.
            const before = new Set(await listTips(server.staffUrl, newsroom.desk));
            let kill: Promise<void> | undefined;
            const answer = rawSend(base, req, () => {
              kill = new Promise((r) => setTimeout(r, delay)).then(() => killHard(server));
            }).then(
              (a) => ((answeredBeforeKill = true), a),
              (err: unknown) => err as Error,
            );
            const got = await answer;
            // The request may have failed before it was wholly written: then the kill comes now.
            await (kill ?? killHard(server));
            // Dead: what is stored now must be all of the tip or none of it.
            await start();
            const after = await listTips(server.staffUrl, newsroom.desk);
            const added = after.filter((id) => !before.has(id));
            t.ok(before.size + added.length === after.length && added.length <= 1, `${delay} ms: exactly one new tip or none (${added.length} new), none lost`);
            if (added.length > 0) {
              committedTip = added[0]!;
              const tip = await readTip(server.staffUrl, newsroom.desk, committedTip);
              t.ok(tip.message === message && Buffer.from(file).equals(tip.files[0]!.bytes), `${delay} ms: committed before the kill, and whole`);
              outcomes.push(`${delay} ms: committed${answeredBeforeKill ? ' and answered' : ', unanswered'}`);
            } else {
              const st = await fetch(`${base}/api/v1/uploads/${uploadId}`);
              const body = (await st.json()) as { received?: number[]; chunk_count?: number };
              t.equal(st.status, 200, `${delay} ms: not a tip, so the upload is still open`);
              t.ok((body.received?.length ?? 0) >= (body.chunk_count ?? 2) - 1, `${delay} ms: the chunks acknowledged before are kept (${JSON.stringify(body.received)})`);
              outcomes.push(`${delay} ms: not committed`);
            }
            if (got instanceof Error) throw got instanceof NetworkError ? got : new NetworkError(got.message);
            return got;
          },
        },
      });
      t.ok(killed, `${delay} ms: the server was killed during the finish`);
      if (committedTip) t.equal(receipt.tip_id, committedTip, `${delay} ms: the source's resume got the receipt of the tip committed before the kill`);
      else t.notOk(sent.some((x) => x.id === receipt.tip_id), `${delay} ms: the source's resume finished its upload as a new tip`);
      t.equal(receipt.size, envelope.length);
      sent.push({ id: receipt.tip_id, message, file });
    }

    const tips = await listTips(server!.staffUrl, newsroom.desk);
    t.same([...tips].sort(), sent.map((s) => s.id).sort(), 'every tip is stored exactly once, and nothing else');
    for (const s of sent) {
      const tip = await readTip(server!.staffUrl, newsroom.desk, s.id);
      t.ok(tip.message === s.message && Buffer.from(s.file).equals(tip.files[0]!.bytes), `${s.message}: decrypts whole`);
    }
    t.comment(`outcomes: ${outcomes.join('; ')}`);
    t.comment(`test took ${Date.now() - began} ms`);
  });
}
