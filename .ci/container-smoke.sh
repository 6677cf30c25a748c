#!/usr/bin/env bash
# Builds the repository's Dockerfile with podman and runs the image: read-only root file system,
# non-root, /monitoring/healthz, the image's HEALTHCHECK, and one code completion through it to a
# stand-in model. No base image can be pulled here, so the build arguments name two local images
# made from this machine's files: a runtime with glibc, libgcc_s and CA certificates (what
# distroless "cc" holds) and a builder with busybox's sh, mkdir, cp and chmod; the binary given is put at
# prebuilt/duo-gateway, which the Dockerfile then uses instead of compiling.
# Usage: .ci/container-smoke.sh <path to duo-gateway>
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$(realpath "$1")"

need=()
command -v podman > /dev/null || need+=(podman)
command -v runc > /dev/null || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v curl > /dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}"; fi

scratch="$(mktemp -d)"
model_pid=""
cleanup() {
  podman rm -f duo-ci > /dev/null 2>&1 || true
  podman rmi -f localhost/duo-gateway:ci localhost/duo-ci-runtime localhost/duo-ci-builder > /dev/null 2>&1 || true
  [ -n "$model_pid" ] && kill "$model_pid" 2> /dev/null || true
  rm -rf "$scratch" prebuilt
}
trap cleanup EXIT
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' > "$scratch/containers.conf"
export CONTAINERS_CONF="$scratch/containers.conf"

# The runtime: the binary's shared libraries, CA certificates, a non-root user, /tmp.
runtime="$scratch/runtime"
mkdir -p "$runtime/etc/ssl/certs" "$runtime/tmp" "$runtime/home/nonroot"
chmod 1777 "$runtime/tmp"
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$runtime$(dirname "$lib")"
  cp -L "$lib" "$runtime$lib"
done
cp /etc/ssl/certs/ca-certificates.crt "$runtime/etc/ssl/certs/"
echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > "$runtime/etc/passwd"
echo 'nonroot:x:65532:' > "$runtime/etc/group"
tar -C "$runtime" -c . | podman import -q - localhost/duo-ci-runtime > /dev/null
# The builder: the runtime and busybox as sh, mkdir, cp and chmod.
builder="$scratch/builder"
cp -a "$runtime" "$builder"
mkdir -p "$builder/bin" "$builder/usr/bin"
cp /bin/busybox "$builder/bin/busybox"
for applet in sh mkdir cp chmod; do ln -s busybox "$builder/bin/$applet"; done
tar -C "$builder" -c . | podman import -q - localhost/duo-ci-builder > /dev/null

mkdir -p prebuilt
cp "$binary" prebuilt/duo-gateway
podman build -q --format docker -t localhost/duo-gateway:ci \
  --build-arg BUILDER_IMAGE=localhost/duo-ci-builder \
  --build-arg RUNTIME_IMAGE=localhost/duo-ci-runtime . > /dev/null
echo "image built: $(podman image inspect --format '{{.Size}} bytes, user {{.Config.User}}, ports {{.Config.ExposedPorts}}' localhost/duo-gateway:ci)"
[ "$(podman image inspect --format '{{.Config.User}}' localhost/duo-gateway:ci)" = "65532:65532" ]

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port="$(free_port)"
metrics_port="$(free_port)"
model_port="$(free_port)"
python3 .ci/stand_in_model.py "$model_port" "return a + b" &
model_pid=$!

podman --runtime runc run -d --name duo-ci --network host --read-only \
  -e AIGW_FASTAPI__API_HOST=127.0.0.1 -e AIGW_FASTAPI__API_PORT="$api_port" \
  -e AIGW_FASTAPI__METRICS_HOST=127.0.0.1 -e AIGW_FASTAPI__METRICS_PORT="$metrics_port" \
  -e AIGW_AUTH__BYPASS_EXTERNAL=true localhost/duo-gateway:ci > /dev/null 2> "$scratch/run.log" \
  || { cat "$scratch/run.log"; exit 1; }
# (podman reports that it cannot schedule the HEALTHCHECK without systemd; it is run below.)
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$api_port/monitoring/healthz" > /dev/null 2>&1 && break
  sleep 0.2
done
health="$(curl -fsS "http://127.0.0.1:$api_port/monitoring/healthz")"
[ "$health" = '{"status":"ok"}' ] || { echo "healthz answered: $health"; podman logs duo-ci; exit 1; }
echo "healthz: $health"
podman --runtime runc healthcheck run duo-ci || { echo "HEALTHCHECK failed" >&2; exit 1; }
echo "HEALTHCHECK: healthy"
user="$(podman top duo-ci user | tail -n 1 | tr -d ' ')"
[ "$user" = 65532 ] || [ "$user" = nonroot ] || { echo "runs as $user, not 65532" >&2; exit 1; }
echo "runs as $user (65532)"

answer="$(curl -fsS "http://127.0.0.1:$api_port/v2/code/completions" -H 'content-type: application/json' -d '{
  "prompt_version": 1, "project_path": "group/project",
  "current_file": {"file_name": "add.py", "content_above_cursor": "def add(a, b):\n    ", "content_below_cursor": "\n"},
  "model_provider": "litellm", "model_name": "codestral", "model_identifier": "custom_openai/codestral",
  "model_endpoint": "http://127.0.0.1:'"$model_port"'/v1", "model_api_key": "", "stream": false}')"
echo "code completion: $answer"
python3 -c 'import json, sys; a = json.loads(sys.argv[1]); assert a["choices"][0]["text"] == "return a + b", a' "$answer"
echo "container smoke: ok"
