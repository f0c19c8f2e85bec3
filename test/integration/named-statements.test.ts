import { createPostgresPool } from '../../db/client';
import { ADMIN_DATABASE_URL } from '../support/test-env';

// Embedded PGlite serves all connections from one session, so the launcher sends hot reads unnamed.
describe('named statements switch', () => {
  it.each([
    [true, 1],
    [false, 0],
  ])(
    'with namedStatements=%s a named query leaves %i prepared statements on its connection',
    async (named, left) => {
      const pool = createPostgresPool(ADMIN_DATABASE_URL, 1, 'test', named);
      try {
        const config = { name: 'probe_statement', text: 'select $1::int as n', values: [7] };
        expect((await pool.query(config)).rows[0]).toEqual({ n: 7 });
        expect((await pool.query(config)).rows[0]).toEqual({ n: 7 });
        const prepared = await pool.query(
          "select count(*)::int as n from pg_prepared_statements where name = 'probe_statement'",
        );
        expect(prepared.rows[0].n).toBe(left);
      } finally {
        await pool.end();
      }
    },
  );
});
