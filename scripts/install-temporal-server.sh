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

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/bin"
VERSION="v1.29.1"
SERVER_MODULE="go.temporal.io/server/cmd/server@$VERSION"
SQL_TOOL_MODULE="go.temporal.io/server/cmd/tools/sql@$VERSION"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi

# Executable and built from the pinned module version (`go version -m` reads it from the binary;
# another release would apply other schema versions than the compose file's images).
usable() {
  local binary=$1
  [ -x "$binary" ] || return 1
  if command -v go >/dev/null 2>&1; then
    go version -m "$binary" 2>/dev/null | grep -qE "^\s+mod\s+go\.temporal\.io/server\s+${VERSION//./\\.}(\s|$)"
  else
    "$binary" --help >/dev/null 2>&1
  fi
}

# $1: the name it is installed as, $2: the module@version, $3: the name go install gives it
ensure() {
  local name=$1 module=$2 built=$3
  local candidate
  for candidate in "$(command -v "$name" 2>/dev/null)" "$tools/$name"; do
    if [ -n "$candidate" ] && usable "$candidate"; then
      [ "$candidate" = "$tools/$name" ] || { mkdir -p "$tools" && ln -sf "$candidate" "$tools/$name"; }
      return 0
    fi
  done
  if ! command -v go >/dev/null 2>&1; then
    echo "$name $VERSION is needed by the Temporal cluster test, and Go is not installed to build it (go install $module)." >&2
    return 1
  fi
  local gobin
  gobin="$(go env GOPATH)/bin"
  if ! usable "$gobin/$name"; then
    echo "Building $name $VERSION with go install (several minutes, once per machine)..." >&2
    local tmp
    tmp="$(mktemp -d)"
    if ! GOBIN="$tmp" nice -n 10 go install "$module" >&2 || [ ! -x "$tmp/$built" ]; then
      rm -rf "$tmp"
      echo "go install $module failed: the Temporal cluster test will fail until $name $VERSION is in .tools/bin." >&2
      return 1
    fi
    mkdir -p "$gobin"
    mv -f "$tmp/$built" "$gobin/$name"
    rm -rf "$tmp"
  fi
  mkdir -p "$tools"
  ln -sf "$gobin/$name" "$tools/$name"
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
