#!/usr/bin/env bash
# Validates deploy/kubernetes/ against the Kubernetes API schemas (kubernetes-validate from PyPI,
# strict: unknown fields fail) for the newest and an older supported Kubernetes, and checks the
# duo.toml its ConfigMap carries with the gateway's own check-config.
# Usage: .ci/k8s-validate.sh <path to duo-gateway>
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$(realpath "$1")"
venv=target/k8s-venv
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0
fi
manifests=()
for f in deploy/kubernetes/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f")
done
for version in 1.37.0 1.29.0; do
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "${manifests[@]}"
  echo "kubernetes $version: ${#manifests[@]} manifests valid"
done
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$venv/bin/python" - deploy/kubernetes/configmap.yaml "$scratch/duo.toml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
open(sys.argv[2], "w").write(doc["data"]["duo.toml"])
PY
env -i "$binary" --config "$scratch/duo.toml" check-config > /dev/null
echo "configmap.yaml: duo.toml passes check-config"
