#!/usr/bin/env bash
# cargo-deny over the whole graph (deny.toml): licenses, bans (duplicate versions, wildcards),
# sources, and RustSec advisories when a database can be fetched or is present locally.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$version"; then
  cargo install cargo-deny --locked --version "$version"
fi

cargo deny --locked check licenses bans sources

# The advisory database is a git repository on GitHub. Where it cannot be fetched (a machine that
# reaches only the package registries), a copy already in db-path is used; with none, the run
# says so instead of passing silently.
db_root="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if timeout 120 cargo deny fetch db > /dev/null 2>&1; then
  cargo deny --locked check advisories
elif compgen -G "$db_root/advisory-db-*/crates" > /dev/null; then
  echo "advisory database not fetchable: checking against the local copy in $db_root"
  cargo deny --locked check --disable-fetch advisories
else
  echo "ADVISORIES NOT CHECKED: the RustSec database cannot be fetched here and no copy is in $db_root"
  echo "(copy https://github.com/rustsec/advisory-db there to check offline)"
fi
