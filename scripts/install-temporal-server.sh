#!/usr/bin/env bash
# Locates or builds the two Temporal server tools test/e2e/temporal-cluster.test.ts drives: the
# server itself (`temporal-server`, go.temporal.io/server/cmd/server) with Postgres persistence, and
# `temporal-sql-tool` (cmd/tools/sql), which deploy/temporal-schema.sh uses to create and upgrade
# its schemas. The same release as the compose file's temporalio/server and admin-tools images and
# as the dev server of the Temporal CLI the other tests use (ADR 0060).
# Each is looked for on PATH, in .tools/bin and in $(go env GOPATH)/bin (an earlier build on this
# machine) at the pinned module version, and otherwise built with `go install` from the Go module
# proxy, then linked into .tools/bin. go install names the binaries after their directories
# (`server`, `sql`), so they are built into a temporary GOBIN and moved to GOPATH/bin under these
# names. Never downloads at test time: scripts/ensure-deps.js runs this before `npm test`.
# Exits 1 naming what could not be found or built; the cluster test then fails saying so.
set -uo pipefail
# shellcheck source=go-tool.sh
. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"

VERSION="v1.29.1"
SERVER_MODULE="go.temporal.io/server/cmd/server@$VERSION"
SQL_TOOL_MODULE="go.temporal.io/server/cmd/tools/sql@$VERSION"
WHAT="the Temporal cluster test"

# Built from the pinned release: another would apply other schema versions than the compose file's
# images.
usable() { go_tool_built_from "$1" go.temporal.io/server "$VERSION"; }

# $1: the name it is installed as, $2: the module@version, $3: the name go install gives it
ensure() {
  go_tool_find "$1" usable && return 0
  go_tool_require_go "$1 $VERSION" "$WHAT" || return 1
  go_tool_install "$1" "$2" "$3" "$WHAT"
}

# The release's schema files, which the test also applies from a directory (SCHEMA_ROOT) as the
# admin-tools image does: in the module cache after a build, downloaded here when the tools came
# from elsewhere.
schemas() {
  command -v go >/dev/null 2>&1 || return 1
  [ -d "$(go env GOMODCACHE)/go.temporal.io/server@$VERSION/schema/postgresql/v12" ] && return 0
  if ! go mod download "go.temporal.io/server@$VERSION" >&2; then
    echo "go mod download go.temporal.io/server@$VERSION failed: the Temporal cluster test needs its schema files." >&2
    return 1
  fi
}

status=0
ensure temporal-server "$SERVER_MODULE" server || status=1
ensure temporal-sql-tool "$SQL_TOOL_MODULE" sql || status=1
schemas || status=1
exit $status
