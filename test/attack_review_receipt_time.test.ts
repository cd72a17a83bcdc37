// Review attack (invariant 2: times about sources are coarsened to the UTC day). Finishing an upload writes an
// upload_receipts row that joins the TIP ID to the upload's idle expiry, which is the source's last chunk + 10 min
// rounded to 5 minutes: the row dates the tip to a 5-minute window (a seized database, or a dead tuple / WAL
// page left of it, says "this tip arrived between 10:15 and 10:20"). The open upload's rows do the same for the
// source's activity (expires_at: 5 min; hard_expires_at: the opening to the hour).
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope, openUpload, uploadEnvelope } from './helpers/fixtures.js';

const load = { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 };
const DAY = 86_400_000;
const msOfDay = (v: unknown) => new Date(v as string | Date).getTime() % DAY;

for (const dialect of await dialects()) {
  t.test(`stored transient times are no finer than the day on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const clock = Date.parse('2026-05-04T10:17:23Z');
    const { store, newsroom, server } = await newsroomServer(t, dialect, { load, now: () => new Date(clock) });
    const receipt = await uploadEnvelope(server.url, await makeEnvelope(newsroom, 'a tip finished at 10:17'));
    const rows = await store.db.selectFrom('upload_receipts').selectAll().execute();
    t.equal(rows.length, 1, 'one receipt row');
    const row = rows[0]!;
    t.equal(row.tip_id, receipt.tip_id, 'the receipt row names the tip');
    t.equal(msOfDay(row.expires_at), 0, `the row next to the tip id holds ${new Date(row.expires_at as string | Date).toISOString()}, which dates the tip to 5 minutes`);

    await openUpload(server.url, await makeEnvelope(newsroom, 'open', [{ name: 'a.bin', bytes: new Uint8Array(1_500_000) }]));
    const open = await store.db.selectFrom('uploads').select(['expires_at', 'hard_expires_at']).execute();
    t.equal(msOfDay(open[0]!.expires_at), 0, `an open upload's expires_at (${new Date(open[0]!.expires_at as string | Date).toISOString()}) dates the source's last chunk`);
    t.equal(msOfDay(open[0]!.hard_expires_at), 0, `its hard_expires_at (${new Date(open[0]!.hard_expires_at as string | Date).toISOString()}) dates its opening to the hour`);
  });
}
