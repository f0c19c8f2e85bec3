#!/bin/sh
# The image's entrypoint (Dockerfile): turns Compose secrets into environment variables, then runs
# the command (node bin/rpa …). docker-compose.yml mounts each secret as /run/secrets/<NAME>, NAME
# being the variable it sets (SECRETS_KEYS, METRICS_TOKEN, SMTP_URL): the app reads its settings
# from the environment only (core/config.ts), and secrets kept as files stay out of
# `docker inspect` and of the compose file. A variable the environment already sets wins.
set -eu

dir="${RPA_SECRETS_DIR:-/run/secrets}"
if [ -d "$dir" ]; then
  for file in "$dir"/*; do
    [ -f "$file" ] || continue
    name=$(basename "$file")
    # Only names that can be variables (the Prometheus or Grafana secrets are not mounted here anyway).
    case "$name" in
      '' | [0-9]* | *[!A-Z0-9_]*) continue ;;
    esac
    eval "current=\${$name:-}"
    if [ -z "$current" ]; then
      # $(cat) drops the trailing newline an editor leaves.
      value=$(cat "$file")
      export "$name=$value"
    fi
  done
fi

exec "$@"
