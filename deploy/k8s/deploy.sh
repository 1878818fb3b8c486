#!/usr/bin/env bash
# Deploys an overlay in the order the platform needs, with plain kubectl:
#
#   1. what the Jobs and servers stand on: the namespace, the service account,
#      ConfigMaps, network policies, Services, autoscalers, disruption
#      budgets (the edge's LoadBalancer among them);
#   2. a check that every Secret the pods read exists (docs/deploy.md);
#   3. the database bootstrap Job, waited for;
#   4. each service's migrations Job, waited for;
#   5. the servers, waited for until every rollout is complete.
#
# A failed Job stops the deployment with its log: the running version keeps
# serving (migrations are written to work with the version before them).
# Jobs are immutable, so the previous run's are deleted first.
#
# Usage: deploy/k8s/deploy.sh dev|prod        (KUBECTL: the kubectl to use)
set -euo pipefail

overlay=${1:?usage: deploy.sh dev|prod}
here=$(cd "$(dirname "$0")" && pwd)
kubectl=${KUBECTL:-kubectl}
job_timeout=${JOB_TIMEOUT_SECONDS:-900}
services=(auth wishlists notifier)
servers=(auth wishlists notifier gateway frontend edge)
secrets=(wishlist-database-admin wishlist-auth wishlist-wishlists wishlist-notifier wishlist-gateway wishlist-tls)

rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
"$kubectl" kustomize "$here/overlays/$overlay" >"$rendered"
# kustomize writes the Namespace first: its name is the first `name:` under metadata.
ns=$(awk '/^kind: Namespace$/ { found = 1 } found && /^  name: / { print $2; exit }' "$rendered")
[ -n "$ns" ] || { echo "deploy.sh: no Namespace in overlays/$overlay" >&2; exit 1; }

wait_for_job() {
    local job=$1 deadline=$((SECONDS + job_timeout)) conditions
    while ((SECONDS < deadline)); do
        conditions=$("$kubectl" -n "$ns" get job "$job" \
            -o 'jsonpath={.status.conditions[?(@.status=="True")].type}')
        case " $conditions " in
        *" Complete "*) echo "deploy.sh: job/$job complete"; return 0 ;;
        *" Failed "*)
            echo "deploy.sh: job/$job failed; its log:" >&2
            "$kubectl" -n "$ns" logs "job/$job" --tail=100 >&2 || true
            return 1
            ;;
        esac
        sleep 5
    done
    echo "deploy.sh: job/$job did not finish in ${job_timeout}s" >&2
    return 1
}

echo "== 1. namespace $ns: configuration, policies, Services"
"$kubectl" apply -f "$rendered" -l 'app.kubernetes.io/component notin (server,bootstrap,migrations)'

echo "== 2. Secrets"
for secret in "${secrets[@]}"; do
    "$kubectl" -n "$ns" get secret "$secret" -o name >/dev/null ||
        { echo "deploy.sh: create Secret $secret first (docs/deploy.md)" >&2; exit 1; }
done

echo "== 3. database bootstrap"
"$kubectl" -n "$ns" delete job --ignore-not-found --wait \
    -l 'app.kubernetes.io/component in (bootstrap,migrations)'
"$kubectl" apply -f "$rendered" -l app.kubernetes.io/component=bootstrap
wait_for_job wishlist-bootstrap

echo "== 4. migrations"
"$kubectl" apply -f "$rendered" -l app.kubernetes.io/component=migrations
for service in "${services[@]}"; do
    wait_for_job "$service-migrations"
done

echo "== 5. servers"
"$kubectl" apply -f "$rendered" -l app.kubernetes.io/component=server
for server in "${servers[@]}"; do
    "$kubectl" -n "$ns" rollout status "deployment/$server" --timeout=10m
done
echo "deploy.sh: overlays/$overlay is deployed in namespace $ns"
