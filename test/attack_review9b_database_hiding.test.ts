// Attack (review of issue 9): whoever runs the database keeps tips longer and still gets a PASS from `tipline
// audit`, by keeping them where the audit did not look: the auditor role's search_path pointed at a schema of views
// showing only the recent rows, tips copied into large objects, a trigger or rule copying each new row, a
// publication replicating inserts to another server, auto_explain logging every statement for this database.
// Each must now FAIL, naming the cause; each change is undone before the next.
import t from 'tap';
import { deployment, lines } from './helpers/audit-deployment.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

t.test('the audit sees what is kept beside the tables', { timeout: 900_000 }, async (t) => {
  const d = await deployment(t);
  const role = new URL(d.auditorUrl).username;
  const name = new URL(d.dbUrl).pathname.slice(1);
  t.equal((await d.audit()).code, 0, 'the deployment starts clean');

  await t.test("the auditor role's search_path pointed at views of the recent rows", async (t) => {
    const old = 'b'.repeat(26);
    await d.sql('insert into tips (id, size, chunk_size, chunk_count, received_day, expires_day) values ($1, 1024, 1024, 1, $2, $3)', [old, iso(Date.now() - 400 * DAY), iso(Date.now() + 5 * DAY)]);
    await d.sql('create schema shadow');
    await d.sql('create view shadow.tips as select * from public.tips where received_day >= current_date - 30 and expires_day = received_day + 30');
    await d.sql(`alter role ${role} in database ${name} set search_path = shadow, public`);
    const r = await d.audit();
    t.equal(lines(r.stdout).retention?.status, 'FAIL', `the tip kept 400 days is seen:\n${r.stdout}`);
    t.equal(r.code, 1);
    await d.sql(`alter role ${role} in database ${name} reset search_path`);
    await d.sql('drop schema shadow cascade');
    await d.sql('delete from tips where id = $1', [old]);
  });

  await t.test('a tip copied into a large object', async (t) => {
    const oid = Number((await d.sql("select lo_from_bytea(0, 'a copy of a tip'::bytea) as oid"))[0]!.oid);
    const r = await d.audit();
    t.equal(lines(r.stdout)['database-schema']?.status, 'FAIL');
    t.match(lines(r.stdout)['database-schema']?.detail, /large object/);
    await d.sql('select lo_unlink($1)', [oid]);
  });

  await t.test('a trigger copying each new tip', async (t) => {
    await d.sql("create function keep_copy() returns trigger language plpgsql as $$ begin perform lo_from_bytea(0, convert_to(new.id, 'UTF8')); return new; end $$");
    await d.sql('create trigger keep_copy after insert on tips for each row execute function keep_copy()');
    const r = await d.audit();
    t.equal(lines(r.stdout)['database-schema']?.status, 'FAIL');
    t.match(lines(r.stdout)['database-schema']?.detail, /trigger keep_copy on public\.tips/);
    await d.sql('drop trigger keep_copy on tips');
    await d.sql('drop function keep_copy()');
  });

  await t.test('a rule doing the same', async (t) => {
    await d.sql("create rule keep_copy as on insert to tips do also select lo_from_bytea(0, convert_to(new.id, 'UTF8'))");
    const r = await d.audit();
    t.match(lines(r.stdout)['database-schema']?.detail, /rule keep_copy on public\.tips/);
    await d.sql('drop rule keep_copy on tips');
  });

  await t.test('a publication of inserts only (the subscriber keeps every tip)', async (t) => {
    await d.sql("create publication keep_all for table tips with (publish = 'insert')");
    const r = await d.audit();
    t.match(lines(r.stdout)['database-schema']?.detail, /publication keep_all/);
    await d.sql('drop publication keep_all');
  });

  await t.test('auto_explain logging every statement of this database', async (t) => {
    await d.sql(`alter database ${name} set session_preload_libraries = 'auto_explain'`);
    await d.sql(`alter database ${name} set auto_explain.log_min_duration = 0`);
    const r = await d.audit();
    t.equal(lines(r.stdout)['database-logging']?.status, 'FAIL');
    t.match(lines(r.stdout)['database-logging']?.detail, /auto_explain/);
    await d.sql(`alter database ${name} reset session_preload_libraries`);
    await d.sql(`alter database ${name} reset auto_explain.log_min_duration`);
  });

  const end = await d.audit();
  t.equal(end.code, 0, `passes again once all is undone:\n${end.stdout}`);
});
