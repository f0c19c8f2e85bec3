#!/usr/bin/env bash
# Locates or builds the Temporal CLI (dev server + Web UI) and prints its path on stdout.
# Order: `temporal` on PATH, .tools/bin, $(go env GOPATH)/bin (an earlier build on this machine),
# then `go install` of a tag whose go.mod has no `replace` directive. Never downloads at test time:
# run it once during install (npm start / npm test / .ci/run do).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/bin"
versions=("v1.5.1" "v1.4.1")

usable() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if command -v temporal >/dev/null 2>&1 && usable "$(command -v temporal)"; then
  command -v temporal
  exit 0
fi
if usable "$tools/temporal"; then
  echo "$tools/temporal"
  exit 0
fi

if command -v go >/dev/null 2>&1; then
  gobin="$(go env GOPATH)/bin"
  if usable "$gobin/temporal"; then
    mkdir -p "$tools"
    ln -sf "$gobin/temporal" "$tools/temporal"
    echo "$tools/temporal"
    exit 0
  fi
  for version in "${versions[@]}"; do
    echo "Building the Temporal CLI $version with go install (a few minutes, once per machine)..." >&2
    if go install "github.com/temporalio/cli/cmd/temporal@$version" >&2; then
      mkdir -p "$tools"
      ln -sf "$gobin/temporal" "$tools/temporal"
      echo "$tools/temporal"
      exit 0
    fi
    echo "go install of the Temporal CLI $version failed." >&2
  done
fi

cat >&2 <<'MSG'
The Temporal CLI is needed (it runs the Temporal dev server and Web UI) and could not be found or built.
Install it one of the official ways, then run this again:
  - Go 1.22+:  go install github.com/temporalio/cli/cmd/temporal@v1.5.1
  - macOS:     brew install temporal
  - Linux/macOS: curl -sSf https://temporal.download/cli.sh | sh
  - Releases:  https://github.com/temporalio/cli/releases (put `temporal` on PATH or in .tools/bin)
MSG
exit 1
