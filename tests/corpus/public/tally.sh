#!/usr/bin/env bash
# Per program of the public corpus, what UC does with it now (`pup --exec`),
# and the counts by the construct named in the first diagnostic: what to
# build next. Usage: tests/corpus/public/tally.sh [path/to/pup]
# (default target/release/pup; build it first). Does not compare with gcc:
# the test tests/tests/public_corpus.rs does that.
set -u
here=$(cd "$(dirname "$0")" && pwd)
pup=${1:-$here/../../../target/release/pup}
[ -x "$pup" ] || { echo "no $pup: cargo build --release first" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for f in "$here"/*.c; do
  n=$(basename "$f" .c)
  timeout 60 "$pup" --exec "$f" >/dev/null 2>"$tmp/err" </dev/null
  rc=$?
  d=$(grep -m1 '^error' "$tmp/err")
  if [ -z "$d" ]; then
    what="compiles and runs (exit $rc; the test says whether it matches gcc)"; kind="(runs)"
  else
    what=$d
    # The construct: the first `quoted` thing, else the words before "are not supported".
    kind=$(printf '%s' "$d" | sed -n 's/^[^`]*`\([^`]*\)`.*/\1/p')
    [ -n "$kind" ] || kind=$(printf '%s' "$d" | sed -n 's/^error: \(.*\) \(is\|are\) not supported.*/\1/p')
    [ -n "$kind" ] || kind=$d
    case $kind in *'(...)') kind="function-like macro";; esac
  fi
  printf '%-28s %s\n' "$n" "$what"
  printf '%s\n' "$kind" >> "$tmp/kinds"
done
echo
echo "stopped by, counted:"
sort "$tmp/kinds" | uniq -c | sort -rn
