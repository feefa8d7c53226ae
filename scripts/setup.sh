#!/usr/bin/env bash
# Installs whatever the build, tests and demo need and is missing. Every step
# checks before it acts, so running it again costs seconds, not minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'setup: %s\n' "$*"; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

apt_pkgs=()
command -v chromium >/dev/null || apt_pkgs+=(chromium)
command -v chromedriver >/dev/null || apt_pkgs+=(chromium-driver)
command -v redis-server >/dev/null || apt_pkgs+=(redis-server)   # the Token Store's Redis backend tests
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  log "apt-get install ${apt_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
fi

if ! rustup toolchain list | grep -q '^nightly'; then
  log "rustup toolchain install nightly"
  rustup toolchain install nightly --profile minimal
fi
rustup component list --toolchain nightly --installed | grep -q '^rust-src' || { log "rust-src (nightly)"; rustup component add rust-src --toolchain nightly; }
rustup target list --installed | grep -q '^wasm32-unknown-unknown' || { log "wasm32 target"; rustup target add wasm32-unknown-unknown; }
rustup component list --installed | grep -q '^clippy' || { log "clippy"; rustup component add clippy; }

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "cargo install wasm-bindgen-cli $want (takes several minutes once)"
  cargo install wasm-bindgen-cli --version "$want"
fi
command -v wasm-pack >/dev/null || { log "cargo install wasm-pack (takes a few minutes once)"; cargo install wasm-pack; }

# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "ready"
