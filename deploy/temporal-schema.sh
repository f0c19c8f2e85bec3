#!/bin/sh
# One-shot `temporal-schema` service of docker-compose.yml (image temporalio/admin-tools, whose
# temporal-sql-tool and schema files match the server's version): creates Temporal's two databases
# in temporal-db, the default store and the visibility store, and brings both schemas to the
# version this image ships. The server starts only after this succeeded.
# Safe to run again, and the way to upgrade: a newer admin-tools image applies only the versions
# the databases lack (update-schema), so bump the server and admin-tools tags together.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_ROOT="${SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"
}

# $1: database, $2: schema directory under SCHEMA_ROOT
setup() {
  if output=$(sql_tool --db "$1" create 2>&1); then
    echo "temporal-schema: created database $1"
  elif printf '%s' "$output" | grep -qi 'already exists'; then
    echo "temporal-schema: database $1 exists"
  else
    printf 'temporal-schema: creating database %s failed:\n%s\n' "$1" "$output" >&2
    exit 1
  fi
  # Version 0.0 (the schema_version table) on a new database; nothing on an existing one.
  sql_tool --db "$1" setup-schema -v 0.0
  sql_tool --db "$1" update-schema -d "$SCHEMA_ROOT/$2/versioned"
  echo "temporal-schema: $1 is up to date"
}

setup "$DBNAME" temporal
setup "$VISIBILITY_DBNAME" visibility
