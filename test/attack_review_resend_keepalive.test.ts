// Review attack (flood controls, idle expiry): "an upload that receives nothing expires in minutes". Sending a
// chunk AGAIN (same index, already stored, charged nothing) still pushes the idle expiry forward, up to the 24 h
// cap. So one PoW and one chunk hold their bytes in the in-progress quota for a whole day, kept alive by
// re-sending the smallest chunk (the last one, a few bytes with a chosen size) every few minutes. 20 GiB of
// openings (one chunk each) kept alive this way deny every source for 24 h per round of PoW. Here: an upload
// whose only progress was at minute 0 is re-sent its last chunk every 8 minutes and is still open, and still
// charged, an hour later.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { bin, makeEnvelope, openUpload } from './helpers/fixtures.js';
import { quotaState } from '../server/store/uploads.js';
import { purgeExpired } from '../server/retention.js';

const CHUNK = 128 * 1024;

const [dialect] = await dialects();
t.test('re-sending a stored chunk keeps an idle upload alive', { skip: dialect!.skip }, async (t) => {
  let clock = Date.parse('2026-05-04T10:00:00Z');
  const { store, newsroom, server } = await newsroomServer(t, dialect!, { load: { loopDelaySoftMs: 1e9, loopDelayHardMs: 1e9 }, now: () => new Date(clock), uploadChunkSize: CHUNK });
  const envelope = await makeEnvelope(newsroom, 'held', [{ name: 'a.bin', bytes: new Uint8Array(150_000) }]);
  const u = await openUpload(server.url, envelope);
  const last = u.chunk_count - 1;
  const body = envelope.subarray(last * CHUNK);
  const put = () => fetch(`${server.url}/api/v1/uploads/${u.id}/chunks/${last}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin(body) });
  t.equal((await put()).status, 200, `chunk ${last} (${body.length} bytes) sent once: new bytes`);
  const charged = (await quotaState(store.db)).pending;
  for (let minute = 8; minute <= 64; minute += 8) {
    clock += 8 * 60_000;
    await put(); // the same bytes again: nothing new received
    await purgeExpired(store.db, new Date(clock));
  }
  const status = await fetch(`${server.url}/api/v1/uploads/${u.id}`);
  t.equal(status.status, 404, `an hour with nothing new received: the upload has expired (got ${status.status})`);
  t.equal((await quotaState(store.db)).pending, 0, `and its ${charged} bytes left the in-progress quota`);
});
