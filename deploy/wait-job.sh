#!/usr/bin/env bash
# Wait for a Job to end, at most SECONDS: exit 0 when it completed, 1 as soon as it failed (with
# its pods' last log lines) or when it outlived the wait. `kubectl wait --for=condition=complete`
# cannot do this: a failed Job never completes, and the wait ran out its whole timeout.
# Usage: bash deploy/wait-job.sh NAMESPACE JOB SECONDS   (KUBECTL: the kubectl to use)
set -euo pipefail
kubectl=${KUBECTL:-kubectl}
namespace=$1 job=$2 seconds=$3
deadline=$(( $(date +%s) + seconds ))
while :; do
    ended=$("$kubectl" -n "$namespace" get job "$job" \
        -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
    case " $ended " in
        *" Complete "*) echo "job/$job completed"; exit 0 ;;
        *" Failed "*)
            echo "job/$job failed; its logs end:" >&2
            "$kubectl" -n "$namespace" logs "job/$job" --tail=40 >&2 || true
            exit 1 ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "job/$job did not end within $seconds s" >&2
        exit 1
    fi
    sleep "${POLL_SECONDS:-10}"
done
