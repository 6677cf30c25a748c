#!/usr/bin/env bash
# Checks deploy/systemd/duo-gateway.service with systemd's own tools: `systemd-analyze verify`
# must print nothing (it exits 0 on unknown keys, so any output fails here), and the sandbox's
# exposure (`systemd-analyze security`, 0–10) must stay at or below 2.0. The unit's ExecStart is
# pointed at the binary given, which verify requires to exist.
# Usage: .ci/systemd-verify.sh <path to duo-gateway>
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$(realpath "$1")"
command -v systemd-analyze > /dev/null || { apt-get update -qq && apt-get install -y -qq systemd; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/duo-gateway|$binary|g" deploy/systemd/duo-gateway.service > "$dir/duo-gateway.service"
out="$(systemd-analyze verify "$dir/duo-gateway.service" 2>&1)"
if [ -n "$out" ]; then
  echo "$out"
  echo "systemd-verify: systemd-analyze verify reported the above" >&2
  exit 1
fi
systemd-analyze security --offline=yes --threshold=20 "$dir/duo-gateway.service" | tail -n 1
