#!/usr/bin/env bash
# A short run of the soak benchmark (benches/src/bin/soak.rs): the duo-gateway binary in
# front of a slow fake vLLM upstream, 100 concurrent streams with random disconnects, then 2 000
# sequential requests, two rounds; fails when descriptors, RSS (jemalloc preloaded so RSS follows
# the live heap), the in-flight gauge or the upstream do not return to the idle baseline, or a
# stream does not finish properly. Honours CARGO_TARGET_DIR. Usage: .ci/soak-smoke.sh [soak flags]
#
#   SOAK_PROFILE=debug   which build to soak (default: debug, the build CI already has; the
#                        smoke checks what returns to baseline, not speed; `release` for figures)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

if ! ls /usr/lib/*/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq libjemalloc2
fi
profile=${SOAK_PROFILE:-debug}
if [ "$profile" = release ]; then flag=--release; else flag=; fi
cargo build $flag --locked -p duo-gateway --bin duo-gateway -p duo-benches --bin soak
"$target/$profile/soak" --gateway "$target/$profile/duo-gateway" \
  --concurrent 100 --sequential 2000 --chunks 20 --chunk-ms 50 --rounds 2 "$@"
