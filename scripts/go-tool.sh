# Sourced by the scripts that locate or build a tool from the Go module proxy for the tests
# (install-helm-tools.sh, install-temporal-server.sh, install-seaweedfs.sh): each tool is looked for
# on PATH, in .tools/bin and in $(go env GOPATH)/bin (an earlier build on this machine), accepted
# only when its own check passes (the pinned version), otherwise built once per machine, then linked
# into .tools/bin where the tests look. Never downloads at test time: scripts/ensure-deps.js runs the
# scripts before `npm test`.

go_tool_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
go_tool_bin="$go_tool_root/.tools/bin"
# Go's official install puts it here, which a non-login shell's PATH may lack.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi

# True when BINARY was built from MODULE (the main module's path) at VERSION: `go version -m` reads
# it from the binary (go-installed binaries report no version of their own). Without Go, runnable.
go_tool_built_from() {
  local binary=$1 module=$2 version=$3
  [ -x "$binary" ] || return 1
  if command -v go >/dev/null 2>&1; then
    go version -m "$binary" 2>/dev/null | grep -qE "^\s+mod\s+${module//./\\.}\s+${version//./\\.}(\s|$)"
  else
    "$binary" --help >/dev/null 2>&1 || "$binary" -h >/dev/null 2>&1
  fi
}

# go_tool_find NAME CHECK: NAME on PATH or in .tools/bin that passes `CHECK <binary>`, linked into
# .tools/bin. Then GOPATH/bin. Returns 1 when none is usable.
go_tool_find() {
  local name=$1 check=$2 candidate
  for candidate in "$(command -v "$name" 2>/dev/null)" "$go_tool_bin/$name"; do
    if [ -n "$candidate" ] && "$check" "$candidate"; then
      [ "$candidate" = "$go_tool_bin/$name" ] || { mkdir -p "$go_tool_bin" && ln -sf "$candidate" "$go_tool_bin/$name"; }
      return 0
    fi
  done
  command -v go >/dev/null 2>&1 || return 1
  candidate="$(go env GOPATH)/bin/$name"
  "$check" "$candidate" || return 1
  go_tool_link "$name"
}

# Links GOPATH/bin/NAME into .tools/bin.
go_tool_link() {
  mkdir -p "$go_tool_bin"
  ln -sf "$(go env GOPATH)/bin/$1" "$go_tool_bin/$1"
}

# go_tool_require_go NAME WHAT: says NAME cannot be built without Go (WHAT: the test that needs it).
go_tool_require_go() {
  command -v go >/dev/null 2>&1 && return 0
  echo "$1 is needed by $2, and Go is not installed to build it." >&2
  return 1
}

# go_tool_install NAME MODULE@VERSION [BUILT] WHAT: `go install` into a temporary GOBIN, moved to
# GOPATH/bin/NAME (go install names a binary after its directory, BUILT, e.g. `server`), linked.
go_tool_install() {
  local name=$1 module=$2 built=${3:-$1} what=$4 tmp
  echo "Building $name (${module##*@}) with go install (a few minutes, once per machine)..." >&2
  tmp="$(mktemp -d)"
  if ! GOBIN="$tmp" nice -n 10 go install "$module" >&2 || [ ! -x "$tmp/$built" ]; then
    rm -rf "$tmp"
    echo "go install $module failed: $what will fail until $name is in .tools/bin." >&2
    return 1
  fi
  mkdir -p "$(go env GOPATH)/bin"
  mv -f "$tmp/$built" "$(go env GOPATH)/bin/$name"
  rm -rf "$tmp"
  go_tool_link "$name"
}
