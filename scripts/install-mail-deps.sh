#!/usr/bin/env bash
# Installs Dovecot (Debian dovecot-imapd), the IMAP server the email-intake tests start privately
# on a loopback port (test/support/dovecot.ts). The system service is not used.
# Does nothing when /usr/sbin/dovecot exists; installs only as root (npm test must not prompt for sudo).
set -euo pipefail

DOVECOT_BIN="${DOVECOT_BIN:-/usr/sbin/dovecot}"
if [ -x "$DOVECOT_BIN" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-mail-deps: $DOVECOT_BIN missing; install dovecot-imapd (sudo apt-get install -y dovecot-imapd)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# From the current package lists; stale or missing ones are refreshed once.
apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
}
# The package may start the system service; the tests run their own instance, so stop it.
service dovecot stop >/dev/null 2>&1 || true
[ -x "$DOVECOT_BIN" ]
