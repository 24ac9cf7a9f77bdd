#!/usr/bin/env bash
# Measures what closing many sessions at once costs a router: N WebSocket
# sessions join (pings on, so every connection has a liveness deadline),
# then the generator is killed, so the kernel closes every connection at
# once. The router's CPU time (all threads, from /proc schedstat, in ns)
# over the 3 s after the kill, less what it spends in 3 s of holding the
# idle sessions, is the cost of the close storm.
#
#   loadtest/close_storm.sh ROUTER SESSIONS [LOADGEN]
#
# The router runs on core 0 (1 shard), the generator on core 1.
set -euo pipefail
router=$1 sessions=$2
load=${3:-$(dirname "$0")/../target/release/switchyard-load}
cpu() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {print ns}'; }
taskset -c 0 "$router" --shards 1 --placement unpinned --log-level warn >/dev/null &
rp=$!
sleep 0.5
taskset -c 1 "$load" connect --url ws://127.0.0.1:8080/ws --sessions "$sessions" \
  --concurrency 256 --sources 64 --hold 600 --quiet >/dev/null 2>&1 &
lp=$!
# Joined when the router's RSS stops growing for a second.
prev=0
while :; do
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$rp/status")
  [ "$rss" = "$prev" ] && break
  prev=$rss
done
idle0=$(cpu "$rp"); sleep 3; idle=$(( $(cpu "$rp") - idle0 ))
before=$(cpu "$rp")
kill -9 "$lp"
wait "$lp" 2>/dev/null || true
sleep 3
closing=$(( $(cpu "$rp") - before - idle ))
echo "$router: $sessions sessions closed at once: $((closing / 1000000)) ms router CPU" \
  "($((closing / 1000 / sessions)) us per session; idle holding: $((idle / 3000000)) ms/s)"
kill "$rp"; wait "$rp" 2>/dev/null || true
