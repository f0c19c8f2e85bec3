#!/usr/bin/env bash
# Locates or builds the two tools test/unit/helm-chart.test.ts drives: `helm` (lint, template) and
# `kubeconform` (validates the rendered manifests against the schemas vendored in deploy/helm/schemas,
# offline). Each is looked for on PATH, in .tools/bin, in $(go env GOPATH)/bin (an earlier build on
# this machine), and otherwise built with `go install` of a pinned version from the Go module proxy,
# then linked into .tools/bin. Never downloads at test time: scripts/ensure-deps.js runs this before
# `npm test`. Exits 1 naming what could not be found or built; the chart test then fails saying so.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/bin"
HELM_MODULE="helm.sh/helm/v4/cmd/helm@v4.3.2"
KUBECONFORM_MODULE="github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
# Go's official install puts it here, which a non-login shell's PATH may lack.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi

# Usable and of the pinned version (a `helm` of another major renders differently). The binaries
# built by go install report no version of their own; `go version -m` reads the module's from them.
usable() {
  local binary=$1 module=$2
  [ -x "$binary" ] || return 1
  if command -v go >/dev/null 2>&1; then
    local path="${module%@*}" version="${module##*@}"
    local mod="${path%/cmd/*}"
    go version -m "$binary" 2>/dev/null | grep -qE "^\s+mod\s+${mod//./\\.}\s+${version//./\\.}(\s|$)"
  else
    "$binary" --help >/dev/null 2>&1 || "$binary" -h >/dev/null 2>&1
  fi
}

ensure() {
  local name=$1 module=$2
  local version="${module##*@}"
  local candidate
  for candidate in "$(command -v "$name" 2>/dev/null)" "$tools/$name"; do
    if [ -n "$candidate" ] && usable "$candidate" "$module"; then
      [ "$candidate" = "$tools/$name" ] || { mkdir -p "$tools" && ln -sf "$candidate" "$tools/$name"; }
      return 0
    fi
  done
  if ! command -v go >/dev/null 2>&1; then
    echo "$name $version is needed by the Helm chart test, and Go is not installed to build it (go install $module)." >&2
    return 1
  fi
  local gobin
  gobin="$(go env GOPATH)/bin"
  if ! usable "$gobin/$name" "$module"; then
    echo "Building $name $version with go install (a few minutes, once per machine)..." >&2
    if ! nice -n 10 go install "$module" >&2; then
      echo "go install $module failed: the Helm chart test will fail until $name $version is in .tools/bin." >&2
      return 1
    fi
  fi
  mkdir -p "$tools"
  ln -sf "$gobin/$name" "$tools/$name"
}

status=0
ensure helm "$HELM_MODULE" || status=1
ensure kubeconform "$KUBECONFORM_MODULE" || status=1
exit $status
