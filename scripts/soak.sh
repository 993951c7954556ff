#!/usr/bin/env bash
# The soak (issue 7; RELIABILITY.md): a release pupmapper and pup, a
# program running in the pup, and successive updates of it for DURATION,
# while the program's output, the pup's RSS (VmRSS in /proc/PID/status),
# open file descriptors and threads are checked. Exits non-zero on the
# first violation.
#
#   scripts/soak.sh [DURATION]        # default 30m; e.g. 90s, 2h
#
# Environment: PODUS_SOAK_RSS_SLACK_MIB (default 16) is how far the pup's
# RSS may grow past its level after warm-up.
#
# The driver is tests/tests/soak.rs, the same test `cargo test` runs for
# one minute in CI; built in release, it starts target/release/pupmapper
# and target/release/pup. It is not part of CI at 30 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-30m}
echo "== building release binaries"
cargo build --release --workspace --bins
echo "== soaking for $duration"
PODUS_SOAK_DURATION="$duration" \
  cargo test --release -p podus-tests --test soak -- --nocapture --test-threads=1
