#!/bin/sh
# Make one service's root key on its claim, once, before its first start (deploy/README.md,
# "Replicas"): a one-off pod of the image with the claim mounted runs `lifeline seal init` on
# your terminal (passphrase asked twice, trustees' shares printed once), then goes away.
#   deploy/k8s/seal-init.sh <sharing|intake|alerts> <registry>/lifeline:<tag> [seal init options]
# e.g. --kms-url https://vault.internal:8200 --kms-key lifeline-seal --kms-token-file <path in the pod>
set -eu
[ $# -ge 2 ] || { echo "usage: $0 sharing|intake|alerts <image> [seal init options]" >&2; exit 2; }
service=$1
image=$2
shift 2
case $service in
sharing | intake | alerts) ;;
*) echo "$0: no service $service" >&2; exit 2 ;;
esac
args=""
for arg in "$@"; do
    case $arg in *[\"\\]*) echo "$0: quotes and backslashes are not passed on" >&2; exit 2 ;; esac
    args="$args, \"$arg\""
done
# The namespace enforces the restricted Pod Security Standard: the same context as the services.
overrides=$(cat <<JSON
{"spec": {
  "automountServiceAccountToken": false,
  "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001,
                      "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
  "containers": [{
    "name": "seal-init", "image": "$image", "stdin": true, "tty": true,
    "command": ["lifeline", "seal", "init", "--data-dir", "/var/lib/lifeline"$args],
    "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                        "capabilities": {"drop": ["ALL"]}},
    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/lifeline"},
                     {"name": "tmp", "mountPath": "/tmp"}]}],
  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "$service-data"}},
              {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}]}}
JSON
)
exec kubectl -n lifeline run "seal-init-$service" --rm -it --restart=Never \
    --image="$image" --overrides="$overrides"
