-- The application's role in the compose stack's Postgres (README "Database roles", ADR 0033): it logs
-- in and owns nothing; `rpa migrate` (as the owner, DATABASE_MIGRATION_URL) grants it the app's
-- privileges. Postgres runs this once, when it initialises an empty data volume: on an existing
-- volume run it yourself (docker compose exec postgres psql -U rpa -d rpa -f /docker-entrypoint-initdb.d/10-app-role.sql).
CREATE ROLE rpa_app LOGIN PASSWORD 'rpa_app';
