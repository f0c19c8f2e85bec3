#!/usr/bin/env bash
# Locates or builds the two tools test/unit/helm-chart.test.ts drives: `helm` (lint, template) and
# `kubeconform` (validates the rendered manifests against the schemas vendored in deploy/helm/schemas,
# offline), each at a pinned version (a `helm` of another major renders differently), built with
# `go install` from the Go module proxy when this machine has none (scripts/go-tool.sh). Exits 1
# naming what could not be found or built; the chart test then fails saying so.
set -uo pipefail
# shellcheck source=go-tool.sh
. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"

HELM_MODULE="helm.sh/helm/v4/cmd/helm@v4.3.2"
KUBECONFORM_MODULE="github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
WHAT="the Helm chart test"

helm_usable() { go_tool_built_from "$1" helm.sh/helm/v4 v4.3.2; }
kubeconform_usable() { go_tool_built_from "$1" github.com/yannh/kubeconform v0.8.0; }

# $1: the tool, $2: its module@version
ensure() {
  go_tool_find "$1" "$1_usable" && return 0
  go_tool_require_go "$1 ${2##*@}" "$WHAT" || return 1
  go_tool_install "$1" "$2" "$1" "$WHAT"
}

status=0
ensure helm "$HELM_MODULE" || status=1
ensure kubeconform "$KUBECONFORM_MODULE" || status=1
exit $status
