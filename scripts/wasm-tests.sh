#!/usr/bin/env bash
# Runs the wasm-bindgen-test suites (tests/wasm_boundary.rs) twice, with one
# and the same test binary: in Node.js and in headless Chromium.
#
# How the host is chosen: the suites contain no wasm_bindgen_test_configure!,
# so wasm-bindgen-test-runner runs them in Node.js by default and in a browser
# when WASM_BINDGEN_USE_BROWSER=1 is set. Without that variable,
# `wasm-pack test --chrome` (which sets WASM_BINDGEN_TEST_ONLY_WEB) would skip
# the suite and still exit 0, so this script also checks, from the test output,
# that the tests really ran and in which host.
#
# Nothing is downloaded: `--mode no-install` makes wasm-pack use the
# wasm-bindgen / wasm-bindgen-test-runner on PATH (their version must equal
# the one in Cargo.lock) and fail rather than fetch one; chromedriver is given
# explicitly. `wasm-pack test` never runs wasm-opt.
#
# Every run must pass exactly the #[wasm_bindgen_test] functions the suite
# has: a filter, a skipped host or a test that silently vanished fails the
# script, not only a failing test.
#
# Chromium's flags (no sandbox as root, no GPU, no background networking) are
# in webdriver.json, which wasm-bindgen-test-runner merges into the WebDriver
# capabilities.
#
# Usage: scripts/wasm-tests.sh [node|chrome]...   (default: both)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

hosts=("$@")
[ ${#hosts[@]} -gt 0 ] || hosts=(node chrome)

die() { echo "wasm-tests: $*" >&2; exit 1; }

# --- preflight ---------------------------------------------------------------
for tool in cargo wasm-pack wasm-bindgen wasm-bindgen-test-runner; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH (see scripts/setup.sh)"
done
locked="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[ -n "$locked" ] || die "no wasm-bindgen in Cargo.lock"
for tool in wasm-bindgen wasm-bindgen-test-runner; do
  have="$("$tool" --version | awk '{ print $2 }')"
  [ "$have" = "$locked" ] ||
    die "$tool on PATH is $have but Cargo.lock pins wasm-bindgen $locked; wasm-pack would try to download $locked"
done
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  die "the wasm32-unknown-unknown target is not installed"

# Start from a clean slate: these variables would change which host runs.
unset WASM_BINDGEN_USE_BROWSER WASM_BINDGEN_USE_NODE_EXPERIMENTAL WASM_BINDGEN_USE_DENO \
  WASM_BINDGEN_USE_DEDICATED_WORKER WASM_BINDGEN_USE_SHARED_WORKER \
  WASM_BINDGEN_USE_SERVICE_WORKER WASM_BINDGEN_TEST_ONLY_NODE WASM_BINDGEN_TEST_ONLY_WEB \
  NO_HEADLESS CHROMEDRIVER_REMOTE GECKODRIVER GECKODRIVER_REMOTE
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$root/webdriver.json"

# wasm-pack hands what follows its `--` to cargo, and cargo what follows the
# second `--` to wasm-bindgen-test-runner: --nocapture lets the
# suite print which host it runs in.
runner_args=(-- -- --nocapture)

expected="$(grep -cE '^[[:space:]]*#\[wasm_bindgen_test\]' tests/wasm_boundary.rs)"
[ "$expected" -gt 0 ] || die "no #[wasm_bindgen_test] functions found in tests/wasm_boundary.rs"

# --- one host ----------------------------------------------------------------
# run_host <label> <expected host as the suite reports it> <command...>
run_host() {
  local label="$1" expect="$2"
  shift 2
  local log start end rc=0
  log="$(mktemp -t wasm-tests.XXXXXX)"
  echo
  echo "=================================================================="
  echo "wasm-tests: HOST = $label"
  echo "wasm-tests: \$ $*"
  echo "=================================================================="
  start=$(date +%s.%N)
  # The runner prints "Invoking test: …" before every test under --nocapture; drop that noise.
  "$@" 2>&1 | tee "$log" | sed -u '/^Invoking test: /d' || rc=$?
  end=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

  local why=""
  if [ "$rc" -ne 0 ]; then
    why="wasm-pack exited with $rc"
  elif grep -q "so skipping" "$log"; then
    why="the runner skipped the suite (wrong host selection)"
  elif ! grep -q "^wasm_boundary: running in $expect " "$log"; then
    why="the suite did not report running in $expect"
  else
    # Summed over every test binary (the others hold no wasm tests).
    local passed
    passed="$(grep -E '^test result: ' "$log" | sed -nE 's/.* ([0-9]+) passed.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')"
    if [ "$passed" -ne "$expected" ]; then
      why="$passed tests passed, but tests/wasm_boundary.rs has $expected"
    fi
  fi
  local summary
  summary="$(grep -E '^test result: ' "$log" | grep -v ' 0 passed; 0 failed' | tail -n 1 || true)"
  rm -f "$log"
  if [ -n "$why" ]; then
    echo "wasm-tests: HOST = $label: FAILED ($why) after ${secs}s"
    return 1
  fi
  echo "wasm-tests: HOST = $label: passed in ${secs}s: ${summary#test result: }"
}

failed=()
for host in "${hosts[@]}"; do
  case "$host" in
    node)
      run_host "Node.js $(node --version)" node \
        wasm-pack test --mode no-install --node "${runner_args[@]}" || failed+=(node)
      ;;
    chrome)
      chromedriver="$(command -v chromedriver || true)"
      if [ -z "$chromedriver" ]; then
        echo "wasm-tests: HOST = headless Chromium: FAILED (chromedriver not on PATH)"
        failed+=(chrome)
        continue
      fi
      run_host "headless Chromium ($("$chromedriver" --version | awk '{ print $1, $2 }'))" browser \
        env WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="$chromedriver" \
        wasm-pack test --mode no-install --headless --chrome --chromedriver "$chromedriver" \
        "${runner_args[@]}" || failed+=(chrome)
      ;;
    *) die "unknown host $host (use node or chrome)" ;;
  esac
done

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "wasm-tests: FAILED in: ${failed[*]}"
  exit 1
fi
echo "wasm-tests: all hosts passed: ${hosts[*]}"
