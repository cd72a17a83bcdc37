// Attack (review of issue 10): a hostile or broken server lists one tip id twice (or with two different days).
// `tipline fetch` fetches it once, but `tipline list` printed it twice, counting it twice in "N tips": a desk
// would think two tips arrived. The listing keeps one row a tip id (the first the server gave).
import t from 'tap';
import { listTips, formatLines } from '../client/cli/commands/list.js';
import type { TipSummary } from '../schema/wire.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbbbb';

t.test('a tip id listed twice shows once', async (t) => {
  const tip = (id: string, day: string): TipSummary => ({ id, size: 1000, received_day: day, expires_day: '2026-12-30' }) as TipSummary;
  const listed = await listTips([tip(A, '2026-11-20'), tip(B, '2026-11-21'), tip(A, '2026-11-20'), tip(A, '2026-11-25')], undefined, undefined, false);
  t.same(listed.map((l) => l.id).sort(), [A, B]);
  t.equal(formatLines(listed, false).length, 3, 'a header and two rows');
});
