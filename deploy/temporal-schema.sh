#!/bin/sh
# One-shot `temporal-schema` service of docker-compose.yml (image temporalio/admin-tools, whose
# temporal-sql-tool and schema files match the server's version): creates Temporal's two databases
# in temporal-db, the default store and the visibility store, and brings both schemas to the
# version this image ships. The server starts only after this succeeded.
# Safe to run again, and the way to upgrade: a newer admin-tools image applies only the versions
# the databases lack (update-schema), so bump the server and admin-tools tags together.
# Without containers (docs/deploy.md, "A Temporal cluster without containers") the same script runs
# with temporal-sql-tool on PATH: SCHEMA_ROOT names a directory of schema files (a release's
# schema/postgresql/v12); unset, and without the image's directory, it applies the schemas built into
# temporal-sql-tool (--schema-name). test/e2e/temporal-cluster.test.ts runs it both ways.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}"
# Empty where Postgres trusts the connection (trust or peer auth on a private host).
POSTGRES_PWD="${POSTGRES_PWD-}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
IMAGE_SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12
if [ -z "${SCHEMA_ROOT:-}" ] && [ -d "$IMAGE_SCHEMA_ROOT" ]; then SCHEMA_ROOT="$IMAGE_SCHEMA_ROOT"; fi
SCHEMA_ROOT="${SCHEMA_ROOT:-}"
if [ -n "$SCHEMA_ROOT" ] && [ ! -d "$SCHEMA_ROOT" ]; then
  echo "temporal-schema: SCHEMA_ROOT $SCHEMA_ROOT is not a directory" >&2
  exit 1
fi

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"
}

# $1: database, $2: schema under SCHEMA_ROOT (or postgresql/v12/ of the embedded ones)
setup() {
  # The postgres12 plugin's create succeeds on an existing database too (it ignores "already
  # exists"), so it cannot tell which it was.
  if ! output=$(sql_tool --db "$1" create 2>&1); then
    printf 'temporal-schema: creating database %s failed:\n%s\n' "$1" "$output" >&2
    exit 1
  fi
  echo "temporal-schema: database $1 exists (created if it was missing)"
  # Version 0.0 (the schema_version table) on a new database; nothing on an existing one.
  sql_tool --db "$1" setup-schema -v 0.0
  if [ -n "$SCHEMA_ROOT" ]; then
    sql_tool --db "$1" update-schema -d "$SCHEMA_ROOT/$2/versioned"
  else
    sql_tool --db "$1" update-schema --schema-name "postgresql/v12/$2"
  fi
  echo "temporal-schema: $1 is up to date"
}

setup "$DBNAME" temporal
setup "$VISIBILITY_DBNAME" visibility
