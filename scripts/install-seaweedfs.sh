#!/usr/bin/env bash
# Locates or builds `weed` (SeaweedFS), the S3-compatible server test/integration/documents-s3.test.ts
# runs on loopback ports (ADR 0057). Looked for on PATH, in .tools/bin, in $(go env GOPATH)/bin, and
# otherwise built from the pinned pseudo-version on the Go module proxy. `go install module@version`
# refuses it (its go.mod has replace directives), so the module is downloaded, copied out of the
# read-only module cache and built with `go build` there. Never downloads at test time:
# scripts/ensure-deps.js runs this before `npm test`. Exits 1 saying what could not be found or built.
set -uo pipefail
# shellcheck source=go-tool.sh
. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"

MODULE="github.com/seaweedfs/seaweedfs"
VERSION="v0.0.0-20261109003541-7506e5f91cd6"

usable() { [ -x "$1" ] && "$1" version >/dev/null 2>&1; }

go_tool_find weed usable && exit 0
go_tool_require_go "weed (SeaweedFS)" "the S3 document store test" || exit 1
echo "Building weed (SeaweedFS $VERSION) with go build (several minutes, once per machine)..." >&2
dir="$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$dir" ]; then
  echo "go mod download $MODULE@$VERSION failed: the S3 document store test will fail until weed is in .tools/bin." >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
gobin="$(go env GOPATH)/bin"
mkdir -p "$gobin"
if ! (cd "$work/src" && nice -n 10 go build -o "$gobin/weed" ./weed >&2); then
  echo "go build of weed failed: the S3 document store test will fail until weed is in .tools/bin." >&2
  exit 1
fi
go_tool_link weed
