#!/bin/sh
# One-shot `temporal-setup` service of docker-compose.yml (image temporalio/admin-tools: busybox sh
# and the `temporal` CLI). Registers the robots' custom search attributes on the namespace and raises
# its retention to RETENTION_DAYS (never lowers it), as `rpa temporal setup` does where Node runs
# (docs/adr/0050-retention.md). Safe to run again: an attribute that already exists with the same
# type is not an error.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
ATTEMPTS="${TEMPORAL_SETUP_ATTEMPTS:-90}"
# The longest robot retention (ROBOT_RETENTION_DAYS, or a robot type's longer retentionDays).
RETENTION_DAYS="${RETENTION_DAYS:-30}"
# Must match SEARCH_ATTRIBUTE_NAMES in core/domain/search-attributes.ts (test/unit/docker-compose.test.ts checks it).
SEARCH_ATTRIBUTES="RobotType RobotStatus ModuleName RobotPriority"

# auto-setup creates the namespace only after the server is up; wait for both.
attempt=1
until temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "temporal-setup: namespace '$NAMESPACE' not available at $ADDRESS after $ATTEMPTS attempts" >&2
    exit 1
  fi
  echo "temporal-setup: waiting for namespace '$NAMESPACE' at $ADDRESS ($attempt/$ATTEMPTS)"
  attempt=$((attempt + 1))
  sleep 2
done

for name in $SEARCH_ATTRIBUTES; do
  if output=$(temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
    --name "$name" --type Keyword 2>&1); then
    echo "temporal-setup: search attribute $name (Keyword) is registered"
  elif printf '%s' "$output" | grep -qi 'different type'; then
    # Registered with another type: starting robots would fail, so say so loudly.
    printf 'temporal-setup: %s\n' "$output" >&2
    exit 1
  elif printf '%s' "$output" | grep -qi 'already exists'; then
    echo "temporal-setup: search attribute $name already exists"
  else
    printf 'temporal-setup: registering %s failed:\n%s\n' "$name" "$output" >&2
    exit 1
  fi
done

case "$RETENTION_DAYS" in
  '' | *[!0-9]*)
    echo "temporal-setup: RETENTION_DAYS must be a whole number of days, not '$RETENTION_DAYS'" >&2
    exit 1
    ;;
esac
current=$(temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" -o json |
  sed -n 's/.*"workflowExecutionRetentionTtl": *"\([0-9]*\)s".*/\1/p')
wanted=$((RETENTION_DAYS * 86400))
if [ "${current:-0}" -ge "$wanted" ]; then
  echo "temporal-setup: retention of '$NAMESPACE' is $((${current:-0} / 86400)) days, at least $RETENTION_DAYS"
else
  temporal operator namespace update --address "$ADDRESS" --namespace "$NAMESPACE" \
    --retention "$((RETENTION_DAYS * 24))h" >/dev/null
  echo "temporal-setup: retention of '$NAMESPACE' raised to $RETENTION_DAYS days"
fi

temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE"
