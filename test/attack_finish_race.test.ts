// Race: finishing is meant to be repeatable (a source whose receipt was lost on a dropped circuit sends the last
// chunk or the finish again and gets the same receipt). Sent while the first finish is still committing, on
// PostgreSQL, the repeat waited for the upload's row lock, found the row gone, and was told 404 "no such upload"
// although the tip was stored: the source is told its tip failed, and sends it again as a second tip.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { bin, makeEnvelope, openUpload } from './helpers/fixtures.js';

const ROUNDS = 8;

for (const dialect of await dialects()) {
  t.test(`concurrent finishes of one upload on ${dialect.name} all get the receipt`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect);
    const statuses: Record<string, number> = {};
    for (let k = 0; k < ROUNDS; k++) {
      const envelope = await makeEnvelope(newsroom, `race ${k}`);
      const u = await openUpload(server.url, envelope);
      const finish = () => fetch(`${server.url}/api/v1/uploads/${u.id}/finish`, { method: 'POST' });
      const lastChunk = () => fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/0?finish=1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(envelope) });
      const answers = await Promise.all([finish(), lastChunk(), finish(), lastChunk()]);
      const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ tip_id?: string; error?: { code: string } }>));
      answers.forEach((r, i) => {
        const key = `${r.status}${bodies[i]!.error ? ` ${bodies[i]!.error!.code}` : ''}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      });
      const tipId = bodies[0]!.tip_id;
      t.ok(tipId !== undefined && tipId !== u.id && bodies.every((b) => b.tip_id === tipId), `round ${k}: every finisher is given the receipt (a tip id that is not the upload id)`);
    }
    t.same(statuses, { 201: ROUNDS * 4 }, 'no finisher is told the upload is unknown');
    t.equal((await store.db.selectFrom('tips').select('id').execute()).length, ROUNDS, 'one tip per upload');
  });
}
