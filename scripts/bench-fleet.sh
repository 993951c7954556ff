#!/usr/bin/env bash
# The fleet benchmark (issue 15; SPEC 5.5): `rollout update` of N pups
# spread over 10 loopback "hosts" (a pupmapper each on 127.0.0.11 ...
# 127.0.0.20), in rolling batches of 10, without and with a health gate.
# Reports the rollout's wall time (as ush measures it, in its summary
# line), the whole ush session's wall time, and ush's peak RSS
# (/usr/bin/time's maximum resident set size).
#
#   scripts/bench-fleet.sh [N...]      # default: 10 50 100
#
# Targets (issue 15): 100 pups in under 5 s, ush under 100 MiB.
# Not part of CI: it starts N pup processes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 50 100)
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
cargo build --release -q -p ush -p pup -p pupmapper
bin=$root/target/release

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export PODUS_COOKIE=$work/cookie HOME=$work
# The acceptance floor's fleet programs: v2 prints `v2 step N` every 20 steps.
printf '%s\n' 'int step(int n) { return n + 1; }' \
  'main() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }' >"$work/fleet1.uc"
printf '%s\n' 'int step(int n) { static int c; c++; if (c % 20 == 0) printf("v2 step %d\n", c); return n + 2; }' \
  'main() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }' >"$work/fleet2.uc"

# Waits (at most 30 s) until FILE has a line matching RE.
await() {
  local file=$1 re=$2 i
  for i in $(seq 300); do
    grep -qE "$re" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for /$re/ in $file:"; cat "$file"; exit 1
}

hosts=()
for h in $(seq 11 20); do
  ip=127.0.0.$h
  "$bin/pupmapper" --port 0 --listen "$ip" >"$work/mapper-$h.log" 2>&1 &
  pids+=($!)
  await "$work/mapper-$h.log" "listening on"
  hosts+=("$(sed -n 's/^pupmapper listening on //p' "$work/mapper-$h.log")")
done

started=0
printf '%-6s %-7s %12s %12s %12s %10s\n' pups health rollout session pups-start ush-rss
for n in "${sizes[@]}"; do
  # Start pups up to n (they stay for the next, larger size).
  t0=$(date +%s.%N)
  while [ "$started" -lt "$n" ]; do
    started=$((started + 1))
    addr=${hosts[$(( (started - 1) % 10 ))]}
    "$bin/pup" "p$started" --mapper "$addr" --quiet-output >"$work/pup-$started.log" 2>&1 &
    pids+=($!)
  done
  for i in $(seq "$n"); do await "$work/pup-$i.log" "listening on"; done
  t1=$(date +%s.%N)
  : >"$work/fleet-$n.txt"
  for i in $(seq "$n"); do
    echo "p$i@${hosts[$(( (i - 1) % 10 ))]}" >>"$work/fleet-$n.txt"
  done
  for health in no yes; do
    gate=""
    [ $health = yes ] && gate="--health 'v2 step' --health-within 5s"
    # Versions only grow: each run loads two new ones (a pup started for
    # a larger size simply begins with them).
    run=$((${run:-0} + 1))
    va=$((2 * run - 1)) vb=$((2 * run))
    cat >"$work/b.ush" <<U
fleet --file fleet-$n.txt
set errexit off
rollout stop
set errexit on
rollout load $va fleet1.uc
rollout load $vb fleet2.uc
rollout run $va
rollout update $vb --strategy rolling 10 $gate
U
    (cd "$work" && /usr/bin/time -f '%e %M' -o "$work/time" "$bin/ush" --color never -f b.ush \
      >"$work/out-$n-$health" 2>&1) || { cat "$work/out-$n-$health"; exit 1; }
    sum=$(grep -E "^rollout: $n pups:" "$work/out-$n-$health")
    echo "$sum" | grep -q "$n updated, 0 failed" || { echo "not all updated: $sum"; exit 1; }
    rollout=$(echo "$sum" | sed -nE 's/.*\((.*)\)$/\1/p')
    read -r wall rss <"$work/time"
    printf '%-6s %-7s %12s %11ss %11.1fs %7.1fMiB\n' "$n" "$health" "$rollout" "$wall" \
      "$(echo "$t1 - $t0" | bc)" "$(echo "$rss / 1024" | bc -l)"
  done
done
