#!/usr/bin/env bash
# Every test: the native core, lints, the MVP build, the wasm boundary in
# Node and Chromium, and the built package in its three hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n=== %s (%ss) ===\n' "$*" "$(( $(date +%s) - started ))"; }

step "cargo test: core on a virtual clock"
cargo test --quiet
step "clippy -D warnings (native and wasm32)"
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --all-targets -- -D warnings
# The client builds' feature sets, which compile code out (see Cargo.toml).
cargo clippy --quiet --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --lib --no-default-features --features token-store -- -D warnings
step "build pkg/ (nightly build-std, MVP features only)"
node scripts/build.mjs --if-stale
step "wasm-bindgen-test: one body in Node and headless Chromium"
timeout 1200 bash scripts/wasm-tests.sh
step "node --test: the built package (mini-program sandbox, node, web in Chromium)"
# A test that fails before its cleanup can leave a socket open; force-exit ends
# the file once its tests are done, and the timeout bounds any single test.
timeout 2400 node --test --test-concurrency=1 --test-force-exit --test-timeout=180000 tests/
