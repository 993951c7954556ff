#!/usr/bin/env bash
# Short libFuzzer runs of podus's fuzz targets (issue 7; RELIABILITY.md).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default: 30 s for each of frame_pupmapper, frame_pup, uc_compile,
# changes_parse, object_load (object bytes loaded into a VM), uc_preprocess
# and pointer_run (generated pointer programs run in a VM).
#
# First the saved crashes in fuzz/regressions/TARGET/ are replayed (each
# must now pass), then each target runs from seeds written by
# `make_seeds` plus its own growing corpus in fuzz/corpus/TARGET/.
# A crash leaves its input in fuzz/artifacts/TARGET/ and makes the script
# exit 1 once every target has run. Turn each one into a regression: fix
# it, copy the input to fuzz/regressions/TARGET/ (replayed by
# tests/tests/faults.rs in the normal test suite), and describe it in
# RELIABILITY.md. (`cargo fuzz tmin -O TARGET INPUT` shrinks an input first.)
#
# cargo-fuzz needs nightly compiler flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. The first build of the instrumented
# targets takes several minutes (Cranelift and the LALRPOP parser).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=(frame_pupmapper frame_pup uc_compile changes_parse object_load uc_preprocess pointer_run)
fi
case "$secs" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

cd fuzz
echo "== seeds"
cargo run --quiet --example make_seeds
echo "== building the instrumented targets"
cargo fuzz build -O

dict_for() {
  case "$1" in
    uc_compile) echo "-dict=uc.dict" ;;
    changes_parse) echo "-dict=changes.dict" ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  if [ -d "regressions/$t" ] && [ -n "$(ls -A "regressions/$t")" ]; then
    echo "== $t: replaying regressions/$t"
    # -runs=0 over files: each input is executed once.
    if ! cargo fuzz run -O "$t" "regressions/$t" -- -runs=0; then
      failed+=("$t (regression)")
      continue
    fi
  fi
  echo "== $t: fuzzing for ${secs}s"
  # shellcheck disable=SC2046 # the dictionary flag is one word or none
  if ! cargo fuzz run -O "$t" -- -max_total_time="$secs" -print_final_stats=1 $(dict_for "$t"); then
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "== crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "== no crashes in: ${targets[*]}"
