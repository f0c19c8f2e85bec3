import { describeStatement } from '../../db/metered-pool';

// The labels of rpa_db_query_duration_seconds: bounded (a verb, a table), and a writing CTE counted as
// its write, so the create path's one statement (ADR 0042) still shows as an insert into robots.

test('plain statements: their verb and the first table they name', () => {
  expect(describeStatement('select * from "robots" where id = $1')).toEqual({
    operation: 'select',
    table: 'robots',
  });
  expect(describeStatement('insert into "audit_log" (a) values ($1)')).toEqual({
    operation: 'insert',
    table: 'audit_log',
  });
  expect(describeStatement('update robots set status = $1')).toEqual({
    operation: 'update',
    table: 'robots',
  });
  expect(describeStatement('begin')).toEqual({ operation: 'begin', table: 'none' });
  expect(describeStatement('vacuum')).toEqual({ operation: 'other', table: 'none' });
});

test('a CTE that writes is counted as its first write; one that only reads stays a "with" of its table', () => {
  const create = `with cap as (select count(*)::int as unfinished from "robots" where x),
    ins as (insert into "robots" (robot_id) select $1 returning *),
    audited as (insert into "audit_log" (key_id) select $2 from ins)
    select * from (select 1) as one left join ins on true`;
  expect(describeStatement(create)).toEqual({ operation: 'insert', table: 'robots' });
  expect(describeStatement('with gone as (delete from documents where id = $1) select 1')).toEqual({
    operation: 'delete',
    table: 'documents',
  });
  expect(describeStatement('with recent as (select * from robots) select * from recent')).toEqual({
    operation: 'with',
    table: 'robots',
  });
});
