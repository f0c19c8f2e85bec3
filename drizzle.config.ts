import { defineConfig } from 'drizzle-kit';

// Only `npm run db:generate` uses this file; migrations are applied by `rpa migrate` (db/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
});
