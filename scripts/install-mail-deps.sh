#!/usr/bin/env bash
# Installs Dovecot (Debian dovecot-imapd), the IMAP server the email-intake tests start privately
# on a loopback port (test/support/dovecot.ts). The system service is not used.
# Does nothing when /usr/sbin/dovecot exists; needs root (or sudo) otherwise.
set -euo pipefail

DOVECOT_BIN="${DOVECOT_BIN:-/usr/sbin/dovecot}"
if [ -x "$DOVECOT_BIN" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-mail-deps: $DOVECOT_BIN missing; install dovecot-imapd with your package manager" >&2
  exit 1
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
# The package starts the system service; the tests run their own instance, so leave it stopped.
"${sudo_cmd[@]}" service dovecot stop >/dev/null 2>&1 || true
[ -x "$DOVECOT_BIN" ]
