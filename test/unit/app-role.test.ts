import { parseConfig } from '../../core/config';
import { migrationTarget } from '../../db/app-role';

// Which URL migrates and which role is granted (db/app-role.ts, ADR 0033); the grants themselves
// are tested on a real Postgres in test/integration/audit-app-role.test.ts.

const app = 'postgres://rpa_app:secret@db:5432/rpa';
const owner = 'postgres://rpa:owner@db:5432/rpa';

describe('migrationTarget', () => {
  it('migrates as DATABASE_MIGRATION_URL and grants DATABASE_URL its role', () => {
    expect(migrationTarget({ DATABASE_URL: app, DATABASE_MIGRATION_URL: owner })).toEqual({
      url: owner,
      appRole: 'rpa_app',
    });
  });

  it('one role for both: DATABASE_URL migrates, nothing is granted', () => {
    expect(migrationTarget({ DATABASE_URL: app })).toEqual({ url: app, appRole: undefined });
    expect(migrationTarget({ DATABASE_URL: app, DATABASE_MIGRATION_URL: app })).toEqual({
      url: app,
      appRole: undefined,
    });
  });

  it('no Postgres: the embedded PGlite', () => {
    expect(migrationTarget({})).toBeUndefined();
  });
});

describe('DATABASE_MIGRATION_URL', () => {
  it('is refused without DATABASE_URL (the embedded PGlite has one user)', () => {
    expect(() => parseConfig({ DATABASE_MIGRATION_URL: owner })).toThrow(/DATABASE_MIGRATION_URL/);
  });
});
