#!/usr/bin/env bash
# Builds every fuzz target (cargo-fuzz, libFuzzer, ASan) on the stable toolchain and runs each
# for a short smoke on its seeds; fails on any crash, timeout or leak. The grown corpus and any
# artifact go to a temporary directory: the checkout is left as it was. See fuzz/README.md.
#
#   FUZZ_SECONDS=10   how long each target runs (default 10)
#   FUZZ_PROFILE=dev  dev (default: unoptimised, about a third of the release build's compile
#                     time, which dominated CI) or release (what real fuzzing runs, README.md)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

CARGO_FUZZ_VERSION=0.13.2
SECONDS_EACH="${FUZZ_SECONDS:-10}"

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

# cargo-fuzz wants nightly flags (-Zsanitizer); stable accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

profile=()
if [ "${FUZZ_PROFILE:-dev}" = dev ]; then profile=(--dev); fi

cargo fuzz build "${profile[@]}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$scratch/$target/corpus" "$scratch/$target/artifacts"
  seeds=()
  if [ -d "seeds/$target" ]; then seeds=("seeds/$target"); fi
  printf '\n--> %s (%ss)\n' "$target" "$SECONDS_EACH"
  # The first corpus directory receives new inputs: the scratch one, never the seeds.
  if ! cargo fuzz run "${profile[@]}" "$target" "$scratch/$target/corpus" "${seeds[@]}" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$scratch/$target/artifacts/" 2> "$scratch/$target.log"; then
    tail -n 60 "$scratch/$target.log"
    trap - EXIT # keep the artifacts
    echo "fuzz smoke: $target failed; the input is in the log above and in $scratch/$target/artifacts" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+[[:space:]]+DONE' "$scratch/$target.log" | tail -n 2
done
echo "fuzz smoke: every target ran ${SECONDS_EACH}s without a crash"
