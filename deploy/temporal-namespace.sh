#!/bin/sh
# One-shot `temporal-namespace` service of docker-compose.yml (image temporalio/admin-tools): waits
# for the server, then creates the namespace the app uses with a retention of NAMESPACE_RETENTION.
# The server image (unlike the deprecated auto-setup) creates no namespace. Search attributes and
# the retention of an existing namespace are set afterwards by `rpa temporal setup` (service
# temporal-setup), which works on any cluster, Temporal Cloud included.
# Retention must be at least the app's robot row retention (ROBOT_RETENTION_DAYS, 30 days by
# default): a robot's row links to its workflow history, which must not be gone first.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-744h}"
ATTEMPTS="${TEMPORAL_SETUP_ATTEMPTS:-90}"

attempt=1
until temporal operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "temporal-namespace: no Temporal server at $ADDRESS after $ATTEMPTS attempts" >&2
    exit 1
  fi
  echo "temporal-namespace: waiting for the server at $ADDRESS ($attempt/$ATTEMPTS)"
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "temporal-namespace: namespace '$NAMESPACE' exists"
else
  temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "temporal-namespace: created namespace '$NAMESPACE' (retention $RETENTION)"
fi

# A new namespace takes a moment to reach every frontend: describe reads it from the database at
# once, while the calls rpa makes (search attributes, workflows) go through the frontend's namespace
# cache, refreshed about every 10 s. Wait until one of those answers.
attempt=1
until temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "temporal-namespace: namespace '$NAMESPACE' not available after $ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done
