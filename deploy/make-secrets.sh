#!/bin/sh
# Writes the secret files docker-compose.yml reads (deploy/secrets/, git-ignored), once:
#   sh deploy/make-secrets.sh
# Existing files are kept, so a re-run never replaces a key that sealed robot secrets; rotating is
# a deliberate edit (docs/deploy.md "Secrets"). Needs only sh, od and head (no openssl).
set -eu

dir="${1:-$(dirname "$0")/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"
# The files themselves must be readable inside the containers (the app runs as uid 1000, Prometheus
# as nobody): bind-mounted Compose secrets keep the host file's mode. The directory guards them here.
umask 022

random_base64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

write() {
  if [ -e "$dir/$1" ]; then
    echo "make-secrets: $dir/$1 exists, kept"
  else
    # No trailing newline: every reader gets the value exactly (Prometheus, Grafana, the entrypoint).
    printf '%s' "$2" >"$dir/$1"
    echo "make-secrets: wrote $dir/$1"
  fi
}

# Robot secrets (ADR 0014): id:base64 of 32 random bytes; the first key of the list encrypts.
write SECRETS_KEYS "k$(date +%Y%m%d):$(random_base64 32)"
# Bearer token for /metrics on the API and the workers (Prometheus reads the same file).
write METRICS_TOKEN "$(random_hex 32)"
# The send-email step's relay: replace with yours (smtp://user:pass@host:587 or smtps://…). Left
# empty, the app treats SMTP_URL as unset and send-email steps fail with a clear error.
write SMTP_URL ""
# The observability profile's Grafana admin (user admin).
write grafana_admin_password "$(random_hex 16)"
